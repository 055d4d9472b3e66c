package kubeconfig

import (
	"crypto/x509"
	encpem "encoding/pem"
)

func pem(c *x509.Certificate) []byte {
	return encpem.EncodeToMemory(&encpem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

package authn

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
)

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestLoadKeys(t *testing.T) {
	testKeys(t)
	ca := newTestCA(t, "ca")
	cert, _ := ca.issue(t, certOpts{cn: "x"})
	rsaPKIX, _ := x509.MarshalPKIXPublicKey(rsaKey.Public())
	ecPKIX, _ := x509.MarshalPKIXPublicKey(p256Key.Public())
	ecSEC1, _ := x509.MarshalECPrivateKey(p384Key)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(p256Key)
	ecParams := pemBlock("EC PARAMETERS", []byte{0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22})

	dir := t.TempDir()
	write := func(name string, parts ...[]byte) string {
		var data []byte
		for _, p := range parts {
			data = append(data, p...)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}

	pubTests := []struct {
		name    string
		path    string
		want    []crypto.PublicKey
		wantErr bool
	}{
		{name: "several public keys", path: write("pub.pem", pemBlock("PUBLIC KEY", rsaPKIX), pemBlock("PUBLIC KEY", ecPKIX)),
			want: []crypto.PublicKey{rsaKey.Public(), p256Key.Public()}},
		{name: "pkcs1 public", path: write("pkcs1.pem", pemBlock("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey))),
			want: []crypto.PublicKey{rsaKey.Public()}},
		{name: "certificate", path: write("cert.pem", pemBlock("CERTIFICATE", cert.Raw)), want: []crypto.PublicKey{cert.PublicKey}},
		{name: "rsa private key", path: write("rsa.key", pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey))),
			want: []crypto.PublicKey{rsaKey.Public()}},
		{name: "ec private key with params", path: write("ec.key", ecParams, pemBlock("EC PRIVATE KEY", ecSEC1)),
			want: []crypto.PublicKey{p384Key.Public()}},
		{name: "garbage", path: write("garbage", []byte("hello")), wantErr: true},
		{name: "missing", path: filepath.Join(dir, "nope"), wantErr: true},
	}
	for _, tt := range pubTests {
		t.Run("public/"+tt.name, func(t *testing.T) {
			got, err := LoadPublicKeys(tt.path)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d keys, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if !got[i].(interface{ Equal(crypto.PublicKey) bool }).Equal(tt.want[i]) {
					t.Fatalf("key %d differs", i)
				}
			}
		})
	}

	privTests := []struct {
		name    string
		path    string
		want    crypto.PublicKey
		wantErr bool
	}{
		{name: "pkcs1", path: write("p1.key", pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey))), want: rsaKey.Public()},
		{name: "sec1 with params", path: write("sec1.key", ecParams, pemBlock("EC PRIVATE KEY", ecSEC1)), want: p384Key.Public()},
		{name: "pkcs8", path: write("p8.key", pemBlock("PRIVATE KEY", pkcs8)), want: p256Key.Public()},
		{name: "public only", path: write("pubonly.pem", pemBlock("PUBLIC KEY", ecPKIX)), wantErr: true},
	}
	for _, tt := range privTests {
		t.Run("private/"+tt.name, func(t *testing.T) {
			got, err := LoadPrivateKey(tt.path)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				return
			}
			switch got.(type) {
			case *rsa.PrivateKey, *ecdsa.PrivateKey:
			default:
				t.Fatalf("type %T", got)
			}
			if !got.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(tt.want) {
				t.Fatal("public key differs")
			}
			if _, err := NewSigner(got, testIssuer); err != nil {
				t.Fatal(err)
			}
		})
	}
}

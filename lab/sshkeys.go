package lab

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// keyPair is an ed25519 key in OpenSSH's file formats.
type keyPair struct {
	private []byte // PEM "OPENSSH PRIVATE KEY"
	public  ssh.PublicKey
	signer  ssh.Signer
}

func newKeyPair(comment string) (*keyPair, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("lab: generate ed25519 key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return nil, fmt.Errorf("lab: encode ed25519 key: %w", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("lab: encode ed25519 public key: %w", err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, fmt.Errorf("lab: ed25519 signer: %w", err)
	}
	return &keyPair{private: pem.EncodeToMemory(block), public: sshPub, signer: signer}, nil
}

// authorizedLine is the public key as one authorized_keys / .pub line.
func (k *keyPair) authorizedLine(comment string) []byte {
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k.public)))
	if comment != "" {
		line += " " + comment
	}
	return []byte(line + "\n")
}

// writeKeyFiles writes the private key (0600) to path and the public key to path.pub.
func (k *keyPair) writeKeyFiles(path, comment string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("lab: create key dir: %w", err)
	}
	if err := os.WriteFile(path, k.private, 0o600); err != nil {
		return fmt.Errorf("lab: write key: %w", err)
	}
	if err := os.WriteFile(path+".pub", k.authorizedLine(comment), 0o644); err != nil {
		return fmt.Errorf("lab: write public key: %w", err)
	}
	return nil
}

// knownHostsLine records a machine's host key under its address and name.
func knownHostsLine(name, address string, key ssh.PublicKey) string {
	return knownhosts.Line([]string{address, name}, key)
}

// loadSigner reads the lab's private key.
func loadSigner(path string) (ssh.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("lab: read SSH key: %w", err)
	}
	s, err := ssh.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("lab: parse SSH key %s: %w", path, err)
	}
	return s, nil
}

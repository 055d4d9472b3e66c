package encryption

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/nacl/secretbox"
)

const (
	gcmNonceSize       = 12
	secretboxNonceSize = 24
)

// gcmCodec is the aesgcm provider: nonce || Seal(plaintext, ad=etcd key).
type gcmCodec struct {
	aead   cipher.AEAD
	random io.Reader
}

func newGCM(key []byte, random io.Reader) (*gcmCodec, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("creating AES cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("creating AES-GCM: %w", err)
	}
	if aead.NonceSize() != gcmNonceSize {
		// Every stored value depends on this size; never write a different one.
		return nil, fmt.Errorf("AES-GCM nonce size is %d, want %d", aead.NonceSize(), gcmNonceSize)
	}
	return &gcmCodec{aead: aead, random: random}, nil
}

func (c *gcmCodec) seal(plaintext, dataCtx []byte) ([]byte, error) {
	out := make([]byte, gcmNonceSize, gcmNonceSize+len(plaintext)+c.aead.Overhead())
	if _, err := io.ReadFull(c.random, out); err != nil {
		return nil, fmt.Errorf("reading random nonce: %w", err)
	}
	return c.aead.Seal(out, out[:gcmNonceSize], plaintext, dataCtx), nil
}

func (c *gcmCodec) open(payload, dataCtx []byte) ([]byte, error) {
	if len(payload) < gcmNonceSize+c.aead.Overhead() {
		return nil, errShort
	}
	out, err := c.aead.Open(nil, payload[:gcmNonceSize], payload[gcmNonceSize:], dataCtx)
	if err != nil {
		return nil, fmt.Errorf("%w: the key does not match the one that wrote the value, or the value or its etcd key was changed", err)
	}
	return out, nil
}

// cbcCodec is the aescbc provider: IV || CBC(PKCS#7 padded plaintext). It
// has no integrity protection and ignores the etcd key, like kube-apiserver.
type cbcCodec struct {
	block  cipher.Block
	random io.Reader
}

func newCBC(key []byte, random io.Reader) (*cbcCodec, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("creating AES cipher: %w", err)
	}
	return &cbcCodec{block: block, random: random}, nil
}

var (
	errCBCBlockSize = errors.New("stored value is not a whole number of AES blocks; it is truncated or corrupt")
	errCBCPadding   = errors.New("invalid PKCS#7 padding after decryption: the key does not match the one that wrote the value, or the value is corrupt")
)

func (c *cbcCodec) seal(plaintext, _ []byte) ([]byte, error) {
	bs := aes.BlockSize
	pad := bs - len(plaintext)%bs
	out := make([]byte, bs+len(plaintext)+pad)
	if _, err := io.ReadFull(c.random, out[:bs]); err != nil {
		return nil, fmt.Errorf("reading random IV: %w", err)
	}
	copy(out[bs:], plaintext)
	for i := bs + len(plaintext); i < len(out); i++ {
		out[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(c.block, out[:bs]).CryptBlocks(out[bs:], out[bs:])
	return out, nil
}

func (c *cbcCodec) open(payload, _ []byte) ([]byte, error) {
	bs := aes.BlockSize
	// At least the IV and one block: PKCS#7 always adds at least one byte.
	if len(payload) < 2*bs {
		return nil, errShort
	}
	if len(payload)%bs != 0 {
		return nil, errCBCBlockSize
	}
	out := make([]byte, len(payload)-bs)
	cipher.NewCBCDecrypter(c.block, payload[:bs]).CryptBlocks(out, payload[bs:])
	pad := int(out[len(out)-1])
	if pad == 0 || pad > bs || pad > len(out) {
		return nil, errCBCPadding
	}
	for _, b := range out[len(out)-pad:] {
		if int(b) != pad {
			return nil, errCBCPadding
		}
	}
	return out[:len(out)-pad], nil
}

// secretboxCodec is the secretbox provider: nonce || secretbox.Seal. It
// ignores the etcd key, like kube-apiserver.
type secretboxCodec struct {
	key    [32]byte
	random io.Reader
}

func newSecretbox(key []byte, random io.Reader) *secretboxCodec {
	c := &secretboxCodec{random: random}
	copy(c.key[:], key)
	return c
}

func (c *secretboxCodec) seal(plaintext, _ []byte) ([]byte, error) {
	var nonce [secretboxNonceSize]byte
	if _, err := io.ReadFull(c.random, nonce[:]); err != nil {
		return nil, fmt.Errorf("reading random nonce: %w", err)
	}
	out := make([]byte, secretboxNonceSize, secretboxNonceSize+len(plaintext)+secretbox.Overhead)
	copy(out, nonce[:])
	return secretbox.Seal(out, plaintext, &nonce, &c.key), nil
}

func (c *secretboxCodec) open(payload, _ []byte) ([]byte, error) {
	if len(payload) < secretboxNonceSize+secretbox.Overhead {
		return nil, errShort
	}
	var nonce [secretboxNonceSize]byte
	copy(nonce[:], payload)
	out, ok := secretbox.Open(nil, payload[secretboxNonceSize:], &nonce, &c.key)
	if !ok {
		return nil, errors.New("secretbox authentication failed: the key does not match the one that wrote the value, or the value is corrupt")
	}
	return out, nil
}

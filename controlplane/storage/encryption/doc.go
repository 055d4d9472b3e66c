// Package encryption implements encryption of resources at rest (most
// importantly Secrets) so that a copy of the etcd data directory, a backup or
// a snapshot does not reveal their contents.
//
// The configuration file and the bytes written to storage are compatible with
// kube-apiserver's --encryption-provider-config: an EncryptionConfiguration
// written for kube-apiserver works unchanged here, data encrypted by
// kube-apiserver can be read by kforge, and data written by kforge can be read
// by kube-apiserver. This matters for migrations in both directions and lets
// operators reuse existing key-rotation runbooks.
//
// Stored values look like
//
//	k8s:enc:<provider>:v1:<key name>:<provider specific payload>
//
// where the payload is
//
//	aesgcm:    12-byte nonce || AES-GCM ciphertext and tag, with the etcd key as additional authenticated data
//	aescbc:    16-byte IV || AES-CBC ciphertext of the PKCS#7 padded value
//	secretbox: 24-byte nonce || NaCl secretbox (XSalsa20-Poly1305) output
//
// Values written through the identity provider are stored unchanged.
//
// New values are always written with the first provider (and, for providers
// with several keys, its first key) of the matching resource entry. Reads try
// every configured provider and key, matched by prefix, and report the value
// as stale when it was not read through the write provider, so the storage
// layer can rewrite it and complete a key rotation.
//
// KMS providers are deliberately not supported.
package encryption

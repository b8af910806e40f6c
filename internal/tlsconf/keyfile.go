package tlsconf

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"strings"

	"golang.org/x/crypto/scrypt"
)

// Encrypted private keys (Redis's tls-key-file-pass): a key file may be a
// PKCS#8 "ENCRYPTED PRIVATE KEY" (what `openssl genpkey -aes256` and
// `openssl pkcs8 -topk8` write: PBES2 with PBKDF2 or scrypt, AES-CBC or
// 3DES-CBC) or a legacy OpenSSL PEM with "Proc-Type: 4,ENCRYPTED" (`openssl
// rsa -aes256 -traditional`). decryptKeyPEM turns either into an
// unencrypted PEM key; other keys pass through.

var (
	oidPBES2  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidScrypt = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 4, 11}

	prfs = map[string]func() hash.Hash{
		"1.2.840.113549.2.7":  sha1.New, // hmacWithSHA1, PKCS#5's default
		"1.2.840.113549.2.8":  sha256.New224,
		"1.2.840.113549.2.9":  sha256.New,
		"1.2.840.113549.2.10": sha512.New384,
		"1.2.840.113549.2.11": sha512.New,
	}
	// ciphers by OID: key length, block cipher.
	pbeCiphers = map[string]struct {
		keyLen int
		block  func([]byte) (cipher.Block, error)
	}{
		"2.16.840.1.101.3.4.1.2":  {16, aes.NewCipher},
		"2.16.840.1.101.3.4.1.22": {24, aes.NewCipher},
		"2.16.840.1.101.3.4.1.42": {32, aes.NewCipher},
		"1.2.840.113549.3.7":      {24, des.NewTripleDESCipher},
	}
)

type encryptedPrivateKeyInfo struct {
	Algo pkix.AlgorithmIdentifier
	Data []byte
}

type pbes2Params struct {
	KDF    pkix.AlgorithmIdentifier
	Scheme pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt      []byte
	Iter      int
	KeyLength int                      `asn1:"optional"`
	PRF       pkix.AlgorithmIdentifier `asn1:"optional"`
}

type scryptParams struct {
	Salt      []byte
	N, R, P   int
	KeyLength int `asn1:"optional"`
}

// errNeedPass is returned for an encrypted key without a password.
var errNeedPass = errors.New("the private key is encrypted: give its password (tls-key-file-pass)")

// decryptKeyPEM returns the first private key block of keyPEM, decrypted
// with pass if it is encrypted, as unencrypted PEM.
func decryptKeyPEM(keyPEM []byte, pass string) ([]byte, error) {
	rest := keyPEM
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return keyPEM, nil // no key block: let the TLS library say what is wrong
		}
		switch {
		case b.Type == "ENCRYPTED PRIVATE KEY":
			if pass == "" {
				return nil, errNeedPass
			}
			der, err := decryptPKCS8(b.Bytes, []byte(pass))
			if err != nil {
				return nil, err
			}
			return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
		case x509.IsEncryptedPEMBlock(b): // deprecated as weak, but such files exist
			if pass == "" {
				return nil, errNeedPass
			}
			der, err := x509.DecryptPEMBlock(b, []byte(pass))
			if err == nil && !parsesAsKey(der) {
				// A wrong password leaves valid padding about once in 256.
				err = x509.IncorrectPasswordError
			}
			if err != nil {
				return nil, fmt.Errorf("decrypt the private key: %w", err)
			}
			return pem.EncodeToMemory(&pem.Block{Type: b.Type, Bytes: der}), nil
		case strings.HasSuffix(b.Type, "PRIVATE KEY"):
			return keyPEM, nil // not encrypted: the password, if any, is not needed
		}
	}
}

// decryptPKCS8 decrypts an EncryptedPrivateKeyInfo (PBES2) and checks that
// the result is a PKCS#8 key: a wrong password shows as bad padding or as
// a structure that does not parse.
func decryptPKCS8(der, pass []byte) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("encrypted private key: not PKCS#8: %v", err)
	}
	if !info.Algo.Algorithm.Equal(oidPBES2) {
		return nil, fmt.Errorf("encrypted private key: scheme %v not supported (PBES2 is; re-encrypt with openssl pkcs8 -topk8 -v2 aes256)", info.Algo.Algorithm)
	}
	var p pbes2Params
	if _, err := asn1.Unmarshal(info.Algo.Parameters.FullBytes, &p); err != nil {
		return nil, fmt.Errorf("encrypted private key: PBES2 parameters: %w", err)
	}
	c, ok := pbeCiphers[p.Scheme.Algorithm.String()]
	if !ok {
		return nil, fmt.Errorf("encrypted private key: cipher %v not supported (AES-CBC and 3DES-CBC are)", p.Scheme.Algorithm)
	}
	var iv []byte
	if _, err := asn1.Unmarshal(p.Scheme.Parameters.FullBytes, &iv); err != nil {
		return nil, fmt.Errorf("encrypted private key: cipher IV: %w", err)
	}
	key, err := deriveKey(p.KDF, pass, c.keyLen)
	if err != nil {
		return nil, err
	}
	block, err := c.block(key)
	if err != nil {
		return nil, err
	}
	bs := block.BlockSize()
	if len(iv) != bs || len(info.Data) == 0 || len(info.Data)%bs != 0 {
		return nil, errors.New("encrypted private key: bad IV or data length")
	}
	out := make([]byte, len(info.Data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, info.Data)
	pad := int(out[len(out)-1])
	wrong := errors.New("decrypt the private key: wrong password (or a damaged key)")
	if pad == 0 || pad > bs {
		return nil, wrong
	}
	for _, b := range out[len(out)-pad:] {
		if int(b) != pad {
			return nil, wrong
		}
	}
	out = out[:len(out)-pad]
	if _, err := x509.ParsePKCS8PrivateKey(out); err != nil {
		return nil, wrong
	}
	return out, nil
}

// deriveKey runs PBES2's key derivation: PBKDF2 or scrypt.
func deriveKey(kdf pkix.AlgorithmIdentifier, pass []byte, keyLen int) ([]byte, error) {
	switch {
	case kdf.Algorithm.Equal(oidPBKDF2):
		var p pbkdf2Params
		if _, err := asn1.Unmarshal(kdf.Parameters.FullBytes, &p); err != nil {
			return nil, fmt.Errorf("encrypted private key: PBKDF2 parameters: %w", err)
		}
		h := sha1.New
		if len(p.PRF.Algorithm) > 0 {
			var ok bool
			if h, ok = prfs[p.PRF.Algorithm.String()]; !ok {
				return nil, fmt.Errorf("encrypted private key: PBKDF2 PRF %v not supported", p.PRF.Algorithm)
			}
		}
		if p.Iter < 1 || p.Iter > 1<<24 || p.KeyLength != 0 && p.KeyLength != keyLen {
			return nil, errors.New("encrypted private key: bad PBKDF2 parameters")
		}
		return pbkdf2.Key(h, string(pass), p.Salt, p.Iter, keyLen)
	case kdf.Algorithm.Equal(oidScrypt):
		var p scryptParams
		if _, err := asn1.Unmarshal(kdf.Parameters.FullBytes, &p); err != nil {
			return nil, fmt.Errorf("encrypted private key: scrypt parameters: %w", err)
		}
		// Bounded so that a hostile file cannot ask for gigabytes: scrypt
		// takes 128*N*r bytes, here at most 256 MB (openssl's default is
		// N=16384, r=8: 16 MB).
		if p.N < 2 || p.N > 1<<20 || p.R < 1 || p.R > 32 || 128*p.N*p.R > 256<<20 || p.P < 1 || p.P > 16 ||
			p.KeyLength != 0 && p.KeyLength != keyLen {
			return nil, errors.New("encrypted private key: scrypt parameters out of range")
		}
		return scrypt.Key(pass, p.Salt, p.N, p.R, p.P, keyLen)
	}
	return nil, fmt.Errorf("encrypted private key: key derivation %v not supported (PBKDF2 and scrypt are)", kdf.Algorithm)
}

// parsesAsKey reports whether der is a private key in one of the forms a
// legacy PEM holds.
func parsesAsKey(der []byte) bool {
	if _, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return true
	}
	if _, err := x509.ParseECPrivateKey(der); err == nil {
		return true
	}
	_, err := x509.ParsePKCS8PrivateKey(der)
	return err == nil
}

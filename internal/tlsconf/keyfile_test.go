package tlsconf

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/raftcache/raftcache/internal/testtool"
)

// TestEncryptedKeys: keys encrypted by openssl in each form it writes load
// with the password, and are refused without it or with a wrong one.
func TestEncryptedKeys(t *testing.T) {
	ossl := testtool.Need(t, "openssl")
	d, err := GenerateDev(t.TempDir(), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	forms := map[string][]string{
		"pkcs8 pbkdf2-sha256 aes256": {"pkcs8", "-topk8", "-v2", "aes256"},
		"pkcs8 pbkdf2-sha1 aes128":   {"pkcs8", "-topk8", "-v2", "aes128", "-v2prf", "hmacWithSHA1"},
		"pkcs8 pbkdf2 3des":          {"pkcs8", "-topk8", "-v2", "des3"},
		"pkcs8 scrypt aes256":        {"pkcs8", "-topk8", "-scrypt"},
		"traditional aes256":         {"pkey", "-traditional", "-aes256"},
		"traditional 3des":           {"pkey", "-traditional", "-des3"},
	}
	for name, args := range forms {
		t.Run(name, func(t *testing.T) {
			key := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".pem")
			cmd := exec.Command(ossl, append(args, "-in", d.Node.Key, "-passout", "pass:s3cret p", "-out", key)...)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("openssl %v: %v\n%s", args, err, out)
			}
			f := Files{Cert: d.Node.Cert, Key: key, CA: d.Node.CA, KeyPass: "s3cret p"}
			c, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			// The decrypted key serves a handshake.
			if serr, cerr := handshake(t, c.ClientServer(), c.PeerClient()); serr != nil || cerr != nil {
				t.Fatalf("handshake: server %v, client %v", serr, cerr)
			}
			f.KeyPass = ""
			if _, err := Load(f); err == nil || !strings.Contains(err.Error(), "tls-key-file-pass") {
				t.Fatalf("without the password: %v", err)
			}
			f.KeyPass = "wrong"
			if _, err := Load(f); err == nil || !strings.Contains(err.Error(), "decrypt") {
				t.Fatalf("with a wrong password: %v", err)
			}
		})
	}
	// A password for a key that is not encrypted is not needed, and harmless.
	f := d.Node
	f.KeyPass = "unused"
	if _, err := Load(f); err != nil {
		t.Fatal(err)
	}
}

// TestEncryptedKeyLimits: a file asking for an unknown scheme or absurd
// scrypt costs is refused with the reason, without the work.
func TestEncryptedKeyLimits(t *testing.T) {
	alg := func(oid asn1.ObjectIdentifier, params any) pkix.AlgorithmIdentifier {
		b, err := asn1.Marshal(params)
		if err != nil {
			t.Fatal(err)
		}
		return pkix.AlgorithmIdentifier{Algorithm: oid, Parameters: asn1.RawValue{FullBytes: b}}
	}
	iv := make([]byte, 16)
	aes256 := alg(asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}, iv)
	file := func(a pkix.AlgorithmIdentifier) []byte {
		b, err := asn1.Marshal(encryptedPrivateKeyInfo{Algo: a, Data: make([]byte, 32)})
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: b})
	}
	tests := []struct {
		name string
		algo pkix.AlgorithmIdentifier
		want string
	}{
		{"PBES1", pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 3}}, "not supported (PBES2 is"},
		{"scrypt 128*N*r over 256 MB", alg(oidPBES2, pbes2Params{KDF: alg(oidScrypt, scryptParams{Salt: []byte("s"), N: 1 << 20, R: 8, P: 1}), Scheme: aes256}), "out of range"},
		{"scrypt N 2^30", alg(oidPBES2, pbes2Params{KDF: alg(oidScrypt, scryptParams{Salt: []byte("s"), N: 1 << 30, R: 8, P: 1}), Scheme: aes256}), "out of range"},
		{"PBKDF2 2^30 rounds", alg(oidPBES2, pbes2Params{KDF: alg(oidPBKDF2, pbkdf2Params{Salt: []byte("s"), Iter: 1 << 30}), Scheme: aes256}), "bad PBKDF2"},
		{"unknown cipher", alg(oidPBES2, pbes2Params{KDF: alg(oidPBKDF2, pbkdf2Params{Salt: []byte("s"), Iter: 1}), Scheme: alg(asn1.ObjectIdentifier{1, 2, 3}, iv)}), "cipher 1.2.3 not supported"},
		{"wrong password", alg(oidPBES2, pbes2Params{KDF: alg(oidPBKDF2, pbkdf2Params{Salt: []byte("s"), Iter: 1}), Scheme: aes256}), "wrong password"},
	}
	for _, tc := range tests {
		if _, err := decryptKeyPEM(file(tc.algo), "pw"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

// TestCADir: tls-ca-cert-dir alone, or beside tls-ca-cert-file; files that
// hold no certificate are skipped; a directory without any is refused.
func TestCADir(t *testing.T) {
	d, err := GenerateDev(t.TempDir(), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	other, err := GenerateDev(t.TempDir(), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	caDir := t.TempDir()
	ca, err := os.ReadFile(d.Node.CA)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"5f2a3b1c.0": ca, "README": []byte("CA certificates\n")} {
		if err := os.WriteFile(filepath.Join(caDir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(caDir, "old"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(Files{Cert: d.Node.Cert, Key: d.Node.Key, CADir: caDir}); err != nil {
		t.Fatalf("CA directory alone: %v", err)
	}
	// The file names another CA; the directory's signs the certificate.
	if _, err := Load(Files{Cert: d.Node.Cert, Key: d.Node.Key, CA: other.Node.CA, CADir: caDir}); err != nil {
		t.Fatalf("CA file and directory: %v", err)
	}
	empty := t.TempDir()
	if _, err := Load(Files{Cert: d.Node.Cert, Key: d.Node.Key, CADir: empty}); err == nil || !strings.Contains(err.Error(), "holds no PEM certificate") {
		t.Fatalf("empty CA directory: %v", err)
	}
	if _, err := Load(Files{Cert: d.Node.Cert, Key: d.Node.Key}); err == nil || !strings.Contains(err.Error(), "--tls-ca-cert-dir") {
		t.Fatalf("no CA: %v", err)
	}
}

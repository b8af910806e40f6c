package tlsconf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// DevFiles are what Generate writes: a CA, one certificate every dev node
// uses, a client certificate (for --tls-auth-clients yes) and a gossip key.
type DevFiles struct {
	Dir        string
	Node       Files
	ClientCert string
	ClientKey  string
	GossipKey  string
}

// DevPaths names the files of a dev cluster's TLS directory.
func DevPaths(dir string) DevFiles {
	p := func(name string) string { return filepath.Join(dir, name) }
	return DevFiles{
		Dir:        dir,
		Node:       Files{Cert: p("node.crt"), Key: p("node.key"), CA: p("ca.crt")},
		ClientCert: p("client.crt"), ClientKey: p("client.key"),
		GossipKey: p("gossip.key"),
	}
}

// GenerateDev writes a throwaway CA and certificates into dir for a local
// cluster (raftcache dev --tls), unless they are already there (a dev
// cluster restarted on its data directory keeps them). The node
// certificate names localhost, 127.0.0.1, ::1 and hosts. The CA's key is
// not kept: nothing else is ever signed with it.
func GenerateDev(dir string, hosts []string, now time.Time) (DevFiles, error) {
	d := DevPaths(dir)
	if _, err := os.Stat(d.Node.Cert); err == nil {
		return d, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return d, fmt.Errorf("tls: %w", err)
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return d, err
	}
	ca := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "raftcache dev CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return d, err
	}
	if ca, err = x509.ParseCertificate(caDER); err != nil {
		return d, err
	}
	leaf := func(cn string, names []string) ([]byte, *ecdsa.PrivateKey, error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		t := &x509.Certificate{
			SerialNumber: serial(),
			Subject:      pkix.Name{CommonName: cn},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.AddDate(1, 0, 0),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		}
		for _, h := range names {
			if ip := net.ParseIP(h); ip != nil {
				t.IPAddresses = append(t.IPAddresses, ip)
			} else {
				t.DNSNames = append(t.DNSNames, h)
			}
		}
		der, err := x509.CreateCertificate(rand.Reader, t, ca, &key.PublicKey, caKey)
		return der, key, err
	}
	nodeDER, nodeKey, err := leaf("raftcache dev node", append([]string{"localhost", "127.0.0.1", "::1"}, hosts...))
	if err != nil {
		return d, err
	}
	clientDER, clientKey, err := leaf("raftcache dev client", nil)
	if err != nil {
		return d, err
	}
	gossip := make([]byte, 32)
	if _, err := rand.Read(gossip); err != nil {
		return d, err
	}
	// The node certificate last: its presence marks the set complete.
	steps := []struct {
		path string
		data func() ([]byte, error)
	}{
		{d.Node.CA, func() ([]byte, error) { return pemBlock("CERTIFICATE", caDER), nil }},
		{d.Node.Key, func() ([]byte, error) { return keyPEM(nodeKey) }},
		{d.ClientCert, func() ([]byte, error) { return pemBlock("CERTIFICATE", clientDER), nil }},
		{d.ClientKey, func() ([]byte, error) { return keyPEM(clientKey) }},
		{d.GossipKey, func() ([]byte, error) { return []byte(base64.StdEncoding.EncodeToString(gossip) + "\n"), nil }},
		{d.Node.Cert, func() ([]byte, error) { return pemBlock("CERTIFICATE", nodeDER), nil }},
	}
	for _, s := range steps {
		b, err := s.data()
		if err != nil {
			return d, err
		}
		if err := os.WriteFile(s.path, b, 0o600); err != nil {
			return d, fmt.Errorf("tls: %w", err)
		}
	}
	return d, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		return big.NewInt(time.Now().UnixNano())
	}
	return n
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func keyPEM(k *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, errors.Join(errors.New("tls: encode key"), err)
	}
	return pemBlock("PRIVATE KEY", der), nil
}

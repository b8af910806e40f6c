// Package tlsconf builds the TLS settings of a node's three TCP ports
// (RESP clients, Raft peers, gRPC) from PEM files, and the shared key that
// encrypts gossip.
//
// One certificate serves every port, as with Redis's tls-cert-file. Nodes
// authenticate each other by the certificate chain alone (any certificate
// the cluster's CA signed), not by host name: nodes reach each other by
// advertised IP address, and Redis checks peers the same way. Clients of
// the RESP port verify the server as they choose (redis-cli --cacert).
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Files names the PEM files of a node's TLS identity.
type Files struct {
	Cert string // certificate chain (leaf first)
	Key  string // private key of the leaf
	CA   string // CA certificate(s) that sign every node's certificate
	// KeyPass is Redis's tls-key-file-pass: the password of an encrypted
	// Key (keyfile.go).
	KeyPass string
	// CADir is Redis's tls-ca-cert-dir: every PEM certificate of the
	// files in it is a CA too (with CA, or instead of it).
	CADir string
	// AuthClients is Redis's tls-auth-clients for the RESP port: "no"
	// (default: clients need no certificate), "yes" (a certificate signed
	// by CA is required) or "optional" (verified if presented).
	AuthClients string
}

// Enabled reports whether any TLS file is named.
func (f Files) Enabled() bool { return f.Cert != "" || f.Key != "" || f.CA != "" || f.CADir != "" }

// Config is a node's loaded TLS identity. The certificate is re-read by
// Reload (certificate rotation without a restart), and SetFiles and
// SetAuthClients change the files and the client-certificate policy (CONFIG
// SET tls-*); connections made after them use the new settings.
type Config struct {
	update sync.Mutex // serialises Reload, SetFiles and SetAuthClients

	mu         sync.RWMutex
	files      Files // AuthClients always one of no, yes, optional
	clientAuth tls.ClientAuthType
	cert       *tls.Certificate
	pool       *x509.CertPool
	pol        policy // tls-protocols and tls-ciphers
}

// Load reads and checks the files: all three are required, the key must
// match the certificate and the CA must parse.
func Load(f Files) (*Config, error) {
	c := &Config{pol: defaultPolicy}
	if err := c.SetFiles(f); err != nil {
		return nil, err
	}
	return c, nil
}

// parseAuthClients turns tls-auth-clients into the server's policy and the
// value's canonical spelling.
func parseAuthClients(v string) (tls.ClientAuthType, string, error) {
	switch v = strings.ToLower(v); v {
	case "", "no":
		return tls.NoClientCert, "no", nil
	case "yes":
		return tls.RequireAnyClientCert, v, nil
	case "optional":
		return tls.RequestClientCert, v, nil
	}
	return 0, "", fmt.Errorf("tls: --tls-auth-clients %q: want no, yes or optional", v)
}

// Reload re-reads the certificate, key and CA files; on error the loaded
// ones stay in use.
func (c *Config) Reload() error {
	c.update.Lock()
	defer c.update.Unlock()
	f := c.Files()
	cert, pool, err := readFiles(f)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.cert, c.pool = cert, pool
	c.mu.Unlock()
	return nil
}

// SetFiles reads and checks the files f names, as Load does (even those
// already in use: they are re-read as by Reload), then puts them and
// f.AuthClients in use together; on error nothing changes.
func (c *Config) SetFiles(f Files) error {
	if f.Cert == "" || f.Key == "" || f.CA == "" && f.CADir == "" {
		return errors.New("tls: --tls-cert-file, --tls-key-file and --tls-ca-cert-file (or --tls-ca-cert-dir) are all required")
	}
	auth, name, err := parseAuthClients(f.AuthClients)
	if err != nil {
		return err
	}
	f.AuthClients = name
	c.update.Lock()
	defer c.update.Unlock()
	cert, pool, err := readFiles(f)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pol.ciphers != "" {
		// The suites chosen must still suit the new certificate's key.
		if _, err := parsePolicy(c.pol.protocols, c.pol.ciphers, cert.Leaf.PublicKeyAlgorithm); err != nil {
			return err
		}
	}
	c.files, c.clientAuth, c.cert, c.pool = f, auth, cert, pool
	return nil
}

// SetPolicy puts tls-protocols and tls-ciphers (parsePolicy) in use for
// the handshakes that start after it, on every port this node accepts
// TLS connections on; on error nothing changes.
func (c *Config) SetPolicy(protocols, ciphers string) error {
	c.update.Lock()
	defer c.update.Unlock()
	cert, _ := c.current()
	p, err := parsePolicy(protocols, ciphers, cert.Leaf.PublicKeyAlgorithm)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.pol = p
	c.mu.Unlock()
	return nil
}

// Policy returns tls-protocols and tls-ciphers as set ("": the defaults,
// TLS 1.2 and 1.3 with Go's suites).
func (c *Config) Policy() (protocols, ciphers string) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.pol.protocols, c.pol.ciphers
}

func (c *Config) currentPolicy() policy {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.pol
}

// SetAuthClients changes the RESP port's client-certificate policy
// (tls-auth-clients: no, yes or optional) for new connections.
func (c *Config) SetAuthClients(v string) error {
	auth, name, err := parseAuthClients(v)
	if err != nil {
		return err
	}
	c.update.Lock()
	defer c.update.Unlock()
	c.mu.Lock()
	c.clientAuth, c.files.AuthClients = auth, name
	c.mu.Unlock()
	return nil
}

// Files returns the files and the client-certificate policy in use.
func (c *Config) Files() Files {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.files
}

// readFiles loads f's certificate and key (decrypting the key with
// f.KeyPass if it is encrypted) and checks them against its CAs.
func readFiles(f Files) (*tls.Certificate, *x509.CertPool, error) {
	certPEM, err := os.ReadFile(f.Cert)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(f.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: key: %w", err)
	}
	if keyPEM, err = decryptKeyPEM(keyPEM, f.KeyPass); err != nil {
		return nil, nil, fmt.Errorf("tls: key %s: %w", f.Key, err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("tls: certificate %s / key %s: %w", f.Cert, f.Key, err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, nil, fmt.Errorf("tls: certificate %s: %w", f.Cert, err)
	}
	cert.Leaf = leaf
	pool, err := loadCAs(f.CA, f.CADir)
	if err != nil {
		return nil, nil, err
	}
	if _, err := leaf.Verify(verifyOptions(pool, cert.Certificate[1:])); err != nil {
		return nil, nil, fmt.Errorf("tls: certificate %s is not signed by the CA in %s: %w", f.Cert, strings.Trim(f.CA+" "+f.CADir, " "), err)
	}
	return &cert, pool, nil
}

// loadCAs reads the CA file and every file of the CA directory (either may
// be empty) into one pool. A directory file holding no PEM certificate
// (OpenSSL's hash links point at ones that do; a README) is skipped; the
// directory must yield at least one.
func loadCAs(file, dir string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if file != "" {
		p, err := LoadPool(file)
		if err != nil {
			return nil, err
		}
		pool = p
	}
	if dir == "" {
		return pool, nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("tls: CA directory: %w", err)
	}
	found := false
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("tls: CA directory: %w", err)
		}
		if pool.AppendCertsFromPEM(b) {
			found = true
		}
	}
	if !found {
		return nil, fmt.Errorf("tls: CA directory %s holds no PEM certificate", dir)
	}
	return pool, nil
}

// LoadPool reads PEM CA certificates into a pool.
func LoadPool(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tls: CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("tls: CA file %s holds no PEM certificate", path)
	}
	return pool, nil
}

func (c *Config) current() (*tls.Certificate, *x509.CertPool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.cert, c.pool
}

// NotAfter is when the loaded certificate expires.
func (c *Config) NotAfter() time.Time {
	cert, _ := c.current()
	return cert.Leaf.NotAfter
}

// ClientAuth is the RESP port's client certificate policy.
func (c *Config) ClientAuth() string { return c.Files().AuthClients }

func (c *Config) currentClientAuth() tls.ClientAuthType {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.clientAuth
}

func verifyOptions(pool *x509.CertPool, intermediates [][]byte) x509.VerifyOptions {
	opts := x509.VerifyOptions{Roots: pool, Intermediates: x509.NewCertPool(),
		// One certificate serves as server and as client (Redis's model):
		// do not insist on a particular extended key usage.
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	for _, der := range intermediates {
		if ic, err := x509.ParseCertificate(der); err == nil {
			opts.Intermediates.AddCert(ic)
		}
	}
	return opts
}

// verifyPeer checks a peer's chain against the CA, without a host name.
// required: a peer without a certificate is refused.
func (c *Config) verifyPeer(required bool) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			if required {
				return errors.New("tls: peer presented no certificate")
			}
			return nil
		}
		_, pool := c.current()
		raw := make([][]byte, 0, len(cs.PeerCertificates)-1)
		for _, ic := range cs.PeerCertificates[1:] {
			raw = append(raw, ic.Raw)
		}
		if _, err := cs.PeerCertificates[0].Verify(verifyOptions(pool, raw)); err != nil {
			return fmt.Errorf("tls: peer certificate: %w", err)
		}
		return nil
	}
}

func (c *Config) server(auth tls.ClientAuthType) *tls.Config {
	cfg := &tls.Config{
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			cert, _ := c.current()
			return cert, nil
		},
		// The chain is checked in VerifyConnection against the CA loaded
		// now (Reload may change it), so the library only asks for it.
		ClientAuth:       auth,
		VerifyConnection: c.verifyPeer(auth == tls.RequireAnyClientCert),
	}
	c.currentPolicy().apply(cfg)
	return cfg
}

// perHandshake returns a server configuration whose every handshake uses
// the versions, suites and client-certificate policy (auth, called then)
// in force when it starts, with the application protocols alpn.
// Session tickets stay valid across changes: a returned config without
// keys of its own uses base's. Go does not resume a session whose client
// certificate (or its absence) the policy now refuses.
func (c *Config) perHandshake(auth func() tls.ClientAuthType, alpn ...string) *tls.Config {
	base := c.server(auth())
	base.NextProtos = alpn
	base.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		cfg := c.server(auth())
		cfg.NextProtos = alpn
		return cfg, nil
	}
	return base
}

// ClientServer is the RESP port's server side: a client certificate as
// --tls-auth-clients says, or SetAuthClients since.
func (c *Config) ClientServer() *tls.Config { return c.perHandshake(c.currentClientAuth) }

// PeerServer is the Raft port's server side: only nodes holding a
// certificate signed by the CA may connect (Raft has no other
// authentication).
func (c *Config) PeerServer() *tls.Config {
	return c.perHandshake(func() tls.ClientAuthType { return tls.RequireAnyClientCert })
}

// GRPCServer is the gRPC port's server side: raftcachectl need not present
// a certificate (the gRPC token authenticates calls); one presented is
// verified. gRPC needs ALPN's h2, which its credentials add to this
// config but not to the per-handshake ones.
func (c *Config) GRPCServer() *tls.Config {
	return c.perHandshake(func() tls.ClientAuthType { return tls.RequestClientCert }, "h2")
}

// PeerClient is the client side of node-to-node connections (Raft, gRPC):
// it presents the node's certificate and accepts a server whose chain the
// CA signed, whatever address it was reached at.
// Its versions and suites are the policy's when it is built (a node's
// outgoing connections; the peer's server side applies its own).
func (c *Config) PeerClient() *tls.Config {
	cfg := &tls.Config{
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			cert, _ := c.current()
			return cert, nil
		},
		// Host names are not checked (see the package comment); the chain
		// is, in VerifyConnection.
		InsecureSkipVerify: true, //nolint:gosec // verified by VerifyConnection
		VerifyConnection:   c.verifyPeer(true),
	}
	c.currentPolicy().apply(cfg)
	return cfg
}

// ClientOptions configure a tool's TLS connection to a node (raftcachectl).
type ClientOptions struct {
	CA         string // CA file; empty = the system's roots
	Cert, Key  string // client certificate, if the server asks for one
	ServerName string // name to verify instead of the dialled host
	// ChainOnly verifies the server's chain against CA but not its name
	// (a probe of a local node, as the nodes check each other).
	ChainOnly bool
}

// Client builds a client configuration that verifies the server by CA and
// host name, as any TLS client does.
func Client(o ClientOptions) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: o.ServerName}
	if o.CA != "" {
		pool, err := LoadPool(o.CA)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if (o.Cert == "") != (o.Key == "") {
		return nil, errors.New("tls: a client certificate needs both --tls-cert-file and --tls-key-file")
	}
	if o.Cert != "" {
		cert, err := tls.LoadX509KeyPair(o.Cert, o.Key)
		if err != nil {
			return nil, fmt.Errorf("tls: client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if o.ChainOnly {
		if o.CA == "" {
			return nil, errors.New("tls: verifying the chain alone needs a CA file")
		}
		pool := cfg.RootCAs
		cfg.InsecureSkipVerify = true //nolint:gosec // verified by VerifyConnection
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("tls: server presented no certificate")
			}
			raw := make([][]byte, 0, len(cs.PeerCertificates)-1)
			for _, ic := range cs.PeerCertificates[1:] {
				raw = append(raw, ic.Raw)
			}
			_, err := cs.PeerCertificates[0].Verify(verifyOptions(pool, raw))
			return err
		}
	}
	return cfg, nil
}

// ReadGossipKey reads memberlist's symmetric key: the file holds a
// base64 string of 16, 24 or 32 bytes (AES-128, -192 or -256), as
// `openssl rand -base64 32` prints.
func ReadGossipKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("gossip key: %w", err)
	}
	return ParseGossipKey(strings.TrimSpace(string(b)))
}

// ParseGossipKey decodes a base64 gossip key of 16, 24 or 32 bytes.
func ParseGossipKey(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("gossip key: not base64: %w", err)
	}
	switch len(key) {
	case 16, 24, 32:
		return key, nil
	}
	return nil, fmt.Errorf("gossip key: %d bytes, want 16, 24 or 32 (openssl rand -base64 32)", len(key))
}

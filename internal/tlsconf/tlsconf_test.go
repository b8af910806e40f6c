package tlsconf

import (
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// handshake runs a TLS handshake between the two configurations over
// loopback TCP (a net.Pipe has no buffer: a client's alert and the server's
// next record would block each other) and returns the server's and the
// client's errors.
func handshake(t *testing.T, server, client *tls.Config) (error, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	b, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	a, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer b.Close()
	deadline := time.Now().Add(10 * time.Second)
	_ = a.SetDeadline(deadline)
	_ = b.SetDeadline(deadline)
	srv := tls.Server(a, server)
	errc := make(chan error, 1)
	go func() {
		err := srv.Handshake()
		if err != nil {
			a.Close() // unblock the client waiting for the server's reply
		}
		errc <- err
	}()
	cli := tls.Client(b, client)
	cerr := cli.Handshake()
	if cerr == nil {
		// TLS 1.3: the client finishes before the server has checked
		// the client's certificate; a read surfaces the server's verdict.
		_ = b.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		one := make([]byte, 1)
		if _, err := cli.Read(one); err != nil && !isTimeout(err) {
			cerr = err
		}
	}
	if cerr != nil {
		b.Close()
	}
	return <-errc, cerr
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func devSet(t *testing.T, hosts ...string) DevFiles {
	t.Helper()
	d, err := GenerateDev(t.TempDir(), hosts, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func load(t *testing.T, f Files) *Config {
	t.Helper()
	c, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPeerAuthentication(t *testing.T) {
	a, b := devSet(t), devSet(t)
	ca, cb := load(t, a.Node), load(t, b.Node)
	noCert, err := Client(ClientOptions{CA: a.Node.CA, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		server  *tls.Config
		client  *tls.Config
		wantErr bool
	}{
		{"same CA", ca.PeerServer(), ca.PeerClient(), false},
		{"client of another CA", ca.PeerServer(), cb.PeerClient(), true},
		{"server of another CA", cb.PeerServer(), ca.PeerClient(), true},
		{"client without certificate", ca.PeerServer(), noCert, true},
		{"grpc: tool without certificate", ca.GRPCServer(), noCert, false},
		{"grpc: node of another CA", ca.GRPCServer(), cb.PeerClient(), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			serr, cerr := handshake(t, tc.server, tc.client)
			if failed := serr != nil || cerr != nil; failed != tc.wantErr {
				t.Fatalf("server err %v, client err %v; want failure %v", serr, cerr, tc.wantErr)
			}
		})
	}
}

func TestAuthClients(t *testing.T) {
	a, b := devSet(t), devSet(t)
	plain, err := Client(ClientOptions{CA: a.Node.CA, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	withCert, err := Client(ClientOptions{CA: a.Node.CA, Cert: a.ClientCert, Key: a.ClientKey})
	if err != nil {
		t.Fatal(err)
	}
	foreignCert, err := Client(ClientOptions{CA: a.Node.CA, Cert: b.ClientCert, Key: b.ClientKey})
	if err != nil {
		t.Fatal(err)
	}
	withCert.ServerName, foreignCert.ServerName = "localhost", "localhost"
	tests := []struct {
		auth    string
		client  *tls.Config
		wantErr bool
	}{
		{"no", plain, false},
		{"no", withCert, false},
		{"yes", plain, true},
		{"yes", withCert, false},
		{"yes", foreignCert, true},
		{"optional", plain, false},
		{"optional", withCert, false},
		{"optional", foreignCert, true},
	}
	for _, tc := range tests {
		f := a.Node
		f.AuthClients = tc.auth
		c := load(t, f)
		if c.ClientAuth() != tc.auth {
			t.Fatalf("ClientAuth() = %q, want %q", c.ClientAuth(), tc.auth)
		}
		serr, cerr := handshake(t, c.ClientServer(), tc.client)
		if failed := serr != nil || cerr != nil; failed != tc.wantErr {
			t.Errorf("auth %s: server err %v, client err %v; want failure %v", tc.auth, serr, cerr, tc.wantErr)
		}
	}
}

func TestServerNameChecked(t *testing.T) {
	a := devSet(t, "node1.example")
	c := load(t, a.Node)
	for _, tc := range []struct {
		name    string
		wantErr bool
	}{{"localhost", false}, {"127.0.0.1", false}, {"node1.example", false}, {"elsewhere.example", true}} {
		cl, err := Client(ClientOptions{CA: a.Node.CA, ServerName: tc.name})
		if err != nil {
			t.Fatal(err)
		}
		_, cerr := handshake(t, c.ClientServer(), cl)
		if (cerr != nil) != tc.wantErr {
			t.Errorf("server name %s: client err %v, want failure %v", tc.name, cerr, tc.wantErr)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	a, b := devSet(t), devSet(t)
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("not a pem\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    Files
		want string
	}{
		{"missing key", Files{Cert: a.Node.Cert, CA: a.Node.CA}, "all required"},
		{"key of another cert", Files{Cert: a.Node.Cert, Key: b.Node.Key, CA: a.Node.CA}, "private key does not match"},
		{"CA not PEM", Files{Cert: a.Node.Cert, Key: a.Node.Key, CA: junk}, "no PEM certificate"},
		{"CA absent", Files{Cert: a.Node.Cert, Key: a.Node.Key, CA: filepath.Join(dir, "nope")}, "no such file"},
		{"cert not signed by CA", Files{Cert: a.Node.Cert, Key: a.Node.Key, CA: b.Node.CA}, "not signed by the CA"},
		{"bad auth-clients", Files{Cert: a.Node.Cert, Key: a.Node.Key, CA: a.Node.CA, AuthClients: "maybe"}, "want no, yes or optional"},
	}
	for _, tc := range tests {
		_, err := Load(tc.f)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
}

// TestReload: a rotated certificate is used by the next handshake; a bad
// one leaves the old in place.
func TestReload(t *testing.T) {
	a, b := devSet(t), devSet(t)
	dir := t.TempDir()
	f := Files{Cert: filepath.Join(dir, "n.crt"), Key: filepath.Join(dir, "n.key"), CA: filepath.Join(dir, "ca.crt")}
	cp := func(src, dst string) {
		t.Helper()
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cp(a.Node.Cert, f.Cert)
	cp(a.Node.Key, f.Key)
	cp(a.Node.CA, f.CA)
	c := load(t, f)
	before := c.NotAfter()
	trustsB, err := Client(ClientOptions{CA: b.Node.CA, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	if _, cerr := handshake(t, c.ClientServer(), trustsB); cerr == nil {
		t.Fatal("a client trusting only CA b accepted the CA a certificate")
	}
	// Half a rotation (new certificate, old CA) fails and changes nothing.
	cp(b.Node.Cert, f.Cert)
	cp(b.Node.Key, f.Key)
	if err := c.Reload(); err == nil {
		t.Fatal("Reload accepted a certificate the CA did not sign")
	}
	cp(b.Node.CA, f.CA)
	if err := c.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, cerr := handshake(t, c.ClientServer(), trustsB); cerr != nil {
		t.Fatalf("after rotation: %v", cerr)
	}
	if c.NotAfter().IsZero() || before.IsZero() {
		t.Fatal("NotAfter is zero")
	}
}

func TestGenerateDevKeepsExisting(t *testing.T) {
	dir := t.TempDir()
	d1, err := GenerateDev(dir, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(d1.Node.Cert)
	d2, err := GenerateDev(dir, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(d2.Node.Cert)
	if string(first) != string(second) {
		t.Fatal("GenerateDev replaced an existing certificate")
	}
	if _, err := ReadGossipKey(d1.GossipKey); err != nil {
		t.Fatal(err)
	}
}

func TestParseGossipKey(t *testing.T) {
	tests := []struct {
		in      string
		wantLen int
	}{
		{"AAAAAAAAAAAAAAAAAAAAAA==", 16},
		{"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 24},
		{"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 32},
		{"AAAA", 0},
		{"not base64!", 0},
		{"", 0},
	}
	for _, tc := range tests {
		k, err := ParseGossipKey(tc.in)
		if tc.wantLen == 0 {
			if err == nil {
				t.Errorf("%q: accepted", tc.in)
			}
			continue
		}
		if err != nil || len(k) != tc.wantLen {
			t.Errorf("%q: len %d err %v, want %d", tc.in, len(k), err, tc.wantLen)
		}
	}
}

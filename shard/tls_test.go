package shard

import (
	"crypto/tls"
	"github.com/hashicorp/raft"
	"io"
	"net"
	"testing"
	"time"

	"github.com/raftcache/raftcache/internal/tlsconf"
)

func devTLS(t *testing.T) (*tlsconf.Config, tlsconf.DevFiles) {
	t.Helper()
	d, err := tlsconf.GenerateDev(t.TempDir(), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c, err := tlsconf.Load(d.Node)
	if err != nil {
		t.Fatal(err)
	}
	return c, d
}

// TestTLSTransport: a shard replicates over mutual TLS, and the Raft port
// refuses a peer without a certificate from the cluster's CA, or without
// TLS at all.
func TestTLSTransport(t *testing.T) {
	conf, _ := devTLS(t)
	c := newTCPCluster(t, 3, func(cfg *Config) {
		cfg.TLSServer, cfg.TLSClient = conf.PeerServer(), conf.PeerClient()
	}, func() {})
	c.mustWriteLeader("OK", "SET", "k", "v")
	c.mustReadLeader("v", "GET", "k")
	c.converged()

	target := raft.ServerAddress(c.members[0].addr)
	foreign, _ := devTLS(t)
	noCert := &tls.Config{InsecureSkipVerify: true}
	tests := []struct {
		name string
		conf *tls.Config // nil = plain TCP
		ok   bool
	}{
		{"the cluster's certificate", conf.PeerClient(), true},
		{"another CA's certificate", foreign.PeerClient(), false},
		{"another CA's certificate, server unchecked", &tls.Config{InsecureSkipVerify: true,
			GetClientCertificate: foreign.PeerClient().GetClientCertificate}, false},
		{"no certificate", noCert, false},
		{"plain TCP", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A stale heartbeat (term 0): answered without disturbing
			// the shard, so it shows whether the port serves us at all.
			err := probeAppendEntries(t, tc.conf, target)
			if (err == nil) != tc.ok {
				t.Fatalf("AppendEntries: %v, want success %v", err, tc.ok)
			}
		})
	}
	// The shard still works.
	c.mustWriteLeader("OK", "SET", "k", "w")
	c.converged()
}

// dialStream is a raft StreamLayer that dials with conf (nil = plain TCP).
type dialStream struct {
	net.Listener
	conf *tls.Config
}

func (d dialStream) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", string(addr), timeout)
	if err != nil || d.conf == nil {
		return c, err
	}
	tc := tls.Client(c, d.conf)
	if err := tc.Handshake(); err != nil {
		c.Close()
		return nil, err
	}
	return tc, nil
}

func probeAppendEntries(t *testing.T, conf *tls.Config, target raft.ServerAddress) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tr := raft.NewNetworkTransport(dialStream{Listener: ln, conf: conf}, 1, 3*time.Second, io.Discard)
	defer tr.Close()
	var resp raft.AppendEntriesResponse
	return tr.AppendEntries("n1", target, &raft.AppendEntriesRequest{
		RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, Addr: []byte(ln.Addr().String())},
	}, &resp)
}

func TestTLSTransportNeedsBothSides(t *testing.T) {
	conf, _ := devTLS(t)
	cfg := fastConfig("n1")
	cfg.Bind = freeAddr(t)
	cfg.TLSServer = conf.PeerServer()
	if _, err := New(cfg); err == nil {
		t.Fatal("New accepted TLSServer without TLSClient")
	}
}

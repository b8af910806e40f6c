package main

import (
	"strings"
	"testing"
	"time"

	"github.com/raftcache/raftcache/internal/tlsconf"
	"github.com/raftcache/raftcache/node"
)

// TestTLS: against nodes with TLS, raftcachectl needs --tls-ca-cert-file
// (a plaintext attempt fails with a hint, a wrong CA fails), and with it
// every command works, node-to-node calls and a replica's catch-up over
// Raft included.
func TestTLS(t *testing.T) {
	d, err := tlsconf.GenerateDev(t.TempDir(), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	conf, err := tlsconf.Load(d.Node)
	if err != nil {
		t.Fatal(err)
	}
	other, err := tlsconf.GenerateDev(t.TempDir(), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	nodes := startNodes(t, 3, 1, func(c *node.Config) { c.TLS = conf })
	addr := nodes[0].GRPCAddr()
	if _, errs, code := ctl(t, addr, "--timeout", "3s", "status"); code != 1 || !strings.Contains(errs, "--tls-ca-cert-file") {
		t.Fatalf("plaintext: exit %d, %q", code, errs)
	}
	if _, errs, code := ctl(t, addr, "--timeout", "3s", "--tls-ca-cert-file", other.Node.CA, "status"); code != 1 || !strings.Contains(errs, "certificate") {
		t.Fatalf("another CA: exit %d, %q", code, errs)
	}
	if out := mustCtl(t, addr, "--tls-ca-cert-file", d.Node.CA, "status"); !strings.Contains(out, "health: ok") {
		t.Fatalf("status over TLS:\n%s", out)
	}
	if out := mustCtl(t, addr, "--tls-ca-cert-file", d.Node.CA, "add-replica", "0"); !strings.Contains(out, "DONE") {
		t.Fatalf("add-replica over TLS:\n%s", out)
	}
}

// TestClosedBeforePreface: both ways a TLS port's refusal of a plaintext
// client surfaces get the --tls-ca-cert-file hint.
func TestClosedBeforePreface(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		want bool
	}{
		{`Unavailable: connection error: desc = "error reading server preface: EOF"`, true},
		{`Unavailable: connection error: desc = "error reading server preface: read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer"`, true},
		{`Unavailable: connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:2: connect: connection refused"`, false},
		{`Unavailable: connection error: desc = "transport: authentication handshake failed: tls: failed to verify certificate"`, false},
	} {
		if got := closedBeforePreface(tc.msg); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.msg, got, tc.want)
		}
	}
}

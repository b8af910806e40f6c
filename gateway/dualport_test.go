package gateway

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/raftcache/raftcache/internal/tlsconf"
	"github.com/raftcache/raftcache/raftfsm"
	"github.com/raftcache/raftcache/slots"
	"github.com/redis/go-redis/v9"
)

// dualBackend is a two-node cluster seen from node "self" (plaintext 7000,
// TLS 7100), whose peer (plaintext 7001, TLS 8001) owns slots 8192-16383.
type dualBackend struct {
	*fakeBackend
}

const (
	dualSelfID = "1111111111111111111111111111111111111111"
	dualPeerID = "2222222222222222222222222222222222222222"
)

func (d dualBackend) Topology() *slots.Topology {
	return &slots.Topology{
		Self: dualSelfID,
		Nodes: []slots.NodeInfo{
			{ID: dualSelfID, Name: "self", Host: "127.0.0.1", Port: 7000, TLSPort: 7100, BusPort: 17000, HasShard: true, Shard: 0, Leader: true, LeaderID: dualSelfID, Epoch: 1},
			{ID: dualPeerID, Name: "peer", Host: "127.0.0.1", Port: 7001, TLSPort: 8001, BusPort: 17001, HasShard: true, Shard: 1, Leader: true, LeaderID: dualPeerID, Epoch: 1},
		},
		Shards: []slots.ShardInfo{
			{ID: 0, Slots: []slots.Range{{Start: 0, End: 8191}}, LeaderID: dualSelfID, Members: []string{dualSelfID}},
			{ID: 1, Slots: []slots.Range{{Start: 8192, End: slots.Count - 1}}, LeaderID: dualPeerID, Members: []string{dualPeerID}},
		},
		Epoch: 1,
	}
}

// Write answers a write of key "engine-ask" as the engine answers a key
// already moved out of a migrating slot: with an ASK naming the shard.
func (d dualBackend) Write(ctx context.Context, cmds [][][]byte) ([]raftfsm.Reply, error) {
	if len(cmds) == 1 && len(cmds[0]) > 1 && string(cmds[0][1]) == "engine-ask" {
		return []raftfsm.Reply{raftfsm.Err(fmt.Sprintf("ASK %d @1", slots.OfString("engine-ask")))}, nil
	}
	return d.fakeBackend.Write(ctx, cmds)
}

func (d dualBackend) ResolveRedirect(msg string) string {
	return strings.Replace(msg, "@1", "127.0.0.1:7001", 1)
}

func (d dualBackend) TLSRedirectAddr(addr string) string {
	return map[string]string{"127.0.0.1:7000": "127.0.0.1:7100", "127.0.0.1:7001": "127.0.0.1:8001"}[addr]
}

// dualServer starts a gateway with a plaintext and a TLS port.
func dualServer(t *testing.T, authClients string) (*Server, dualBackend, tlsconf.DevFiles) {
	t.Helper()
	d, conf := devTLS(t, authClients)
	b := dualBackend{newFakeBackend()}
	s := mustServer(t, b, func(c *Config) {
		c.TLS, c.TLSAddr, c.TLSPort = conf, "127.0.0.1:0", 7100
	})
	if s.TLSAddr() == nil || s.TLSAddr().String() == s.Addr().String() {
		t.Fatalf("TLS address %v beside %v", s.TLSAddr(), s.Addr())
	}
	return s, b, d
}

// TestDualPort: one server, a plaintext and a TLS port; each kind of
// client is served on its own port only, and told the ports of its kind
// in CONFIG, CLUSTER SLOTS/NODES/SHARDS, MOVED and ASK.
func TestDualPort(t *testing.T) {
	s, b, d := dualServer(t, "no")
	ctx := context.Background()
	tc, err := tlsconf.Client(tlsconf.ClientOptions{CA: d.Node.CA})
	if err != nil {
		t.Fatal(err)
	}
	newClient := func(addr string, tls bool) *redis.Client {
		o := &redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second}
		if tls {
			o.TLSConfig = tc.Clone()
		}
		c := redis.NewClient(o)
		t.Cleanup(func() { c.Close() })
		return c
	}
	plain := newClient(s.Addr().String(), false)
	secure := newClient(s.TLSAddr().String(), true)

	if err := plain.Set(ctx, "k", "plain", 0).Err(); err != nil {
		t.Fatalf("plaintext SET on the plaintext port: %v", err)
	}
	if v, err := secure.Get(ctx, "k").Result(); err != nil || v != "plain" {
		t.Fatalf("TLS GET on the TLS port: %q %v", v, err)
	}
	if err := newClient(s.TLSAddr().String(), false).Ping(ctx).Err(); err == nil {
		t.Fatal("a plaintext PING on the TLS port was answered")
	}
	if err := newClient(s.Addr().String(), true).Ping(ctx).Err(); err == nil {
		t.Fatal("a TLS handshake on the plaintext port succeeded")
	}

	for name, c := range map[string]*redis.Client{"plaintext": plain, "TLS": secure} {
		cfg, err := c.ConfigGet(ctx, "*port").Result()
		if err != nil {
			t.Fatal(err)
		}
		if cfg["port"] != "7000" || cfg["tls-port"] != "7100" {
			t.Fatalf("%s CONFIG GET *port: %v", name, cfg)
		}
	}

	peerSlot := slots.Slot(9000)
	key := keyInSlot(peerSlot)
	tests := []struct {
		route     string // the backend's redirect
		plain, tl string // what each kind of client is told
	}{
		{fmt.Sprintf("MOVED %d 127.0.0.1:7001", peerSlot), fmt.Sprintf("MOVED %d 127.0.0.1:7001", peerSlot), fmt.Sprintf("MOVED %d 127.0.0.1:8001", peerSlot)},
		{fmt.Sprintf("ASK %d 127.0.0.1:7001", peerSlot), fmt.Sprintf("ASK %d 127.0.0.1:7001", peerSlot), fmt.Sprintf("ASK %d 127.0.0.1:8001", peerSlot)},
		// A node without a TLS port beside its plaintext one keeps its address.
		{fmt.Sprintf("MOVED %d 10.0.0.9:7009", peerSlot), fmt.Sprintf("MOVED %d 10.0.0.9:7009", peerSlot), fmt.Sprintf("MOVED %d 10.0.0.9:7009", peerSlot)},
		{"CLUSTERDOWN The cluster is down", "CLUSTERDOWN The cluster is down", "CLUSTERDOWN The cluster is down"},
	}
	for _, tt := range tests {
		b.setMoved(peerSlot, tt.route)
		if err := plain.Get(ctx, key).Err(); err == nil || err.Error() != tt.plain {
			t.Errorf("route %q: plaintext client told %v, want %q", tt.route, err, tt.plain)
		}
		if err := secure.Get(ctx, key).Err(); err == nil || err.Error() != tt.tl {
			t.Errorf("route %q: TLS client told %v, want %q", tt.route, err, tt.tl)
		}
	}
	b.setMoved(peerSlot, "")
	// A redirect the engine answers (resolved by the backend) too.
	askSlot := slots.OfString("engine-ask")
	if err := plain.Set(ctx, "engine-ask", "v", 0).Err(); err == nil || err.Error() != fmt.Sprintf("ASK %d 127.0.0.1:7001", askSlot) {
		t.Errorf("engine ASK, plaintext client told %v", err)
	}
	if err := secure.Set(ctx, "engine-ask", "v", 0).Err(); err == nil || err.Error() != fmt.Sprintf("ASK %d 127.0.0.1:8001", askSlot) {
		t.Errorf("engine ASK, TLS client told %v", err)
	}

	slotPorts := func(c *redis.Client) []int {
		cs, err := c.ClusterSlots(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		var ports []int
		for _, r := range cs {
			for _, n := range r.Nodes {
				_, p, _ := strings.Cut(n.Addr, ":")
				var port int
				fmt.Sscan(p, &port)
				ports = append(ports, port)
			}
		}
		return ports
	}
	if got := slotPorts(plain); fmt.Sprint(got) != "[7000 7001]" {
		t.Errorf("plaintext CLUSTER SLOTS ports %v", got)
	}
	if got := slotPorts(secure); fmt.Sprint(got) != "[7100 8001]" {
		t.Errorf("TLS CLUSTER SLOTS ports %v", got)
	}
	nodes := func(c *redis.Client) string {
		v, err := c.ClusterNodes(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if n := nodes(plain); !strings.Contains(n, " 127.0.0.1:7000@17000 myself,master") || !strings.Contains(n, " 127.0.0.1:7001@17001 master") {
		t.Errorf("plaintext CLUSTER NODES:\n%s", n)
	}
	if n := nodes(secure); !strings.Contains(n, " 127.0.0.1:7100@17000 myself,master") || !strings.Contains(n, " 127.0.0.1:8001@17001 master") {
		t.Errorf("TLS CLUSTER NODES:\n%s", n)
	}
	// CLUSTER SHARDS names both ports, whatever the connection.
	for name, c := range map[string]*redis.Client{"plaintext": plain, "TLS": secure} {
		sh, err := c.ClusterShards(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range sh {
			for _, n := range s.Nodes {
				got = append(got, fmt.Sprintf("%d/%d", n.Port, n.TLSPort))
			}
		}
		if fmt.Sprint(got) != "[7000/7100 7001/8001]" {
			t.Errorf("%s CLUSTER SHARDS port/tls-port: %v", name, got)
		}
	}
}

// TestDualPortAuthClients: tls-auth-clients applies to the TLS port only.
func TestDualPortAuthClients(t *testing.T) {
	s, _, d := dualServer(t, "yes")
	ctx := context.Background()
	dial := func(addr string, o *tlsconf.ClientOptions) error {
		ro := &redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second}
		if o != nil {
			tc, err := tlsconf.Client(*o)
			if err != nil {
				t.Fatal(err)
			}
			ro.TLSConfig = tc
		}
		c := redis.NewClient(ro)
		defer c.Close()
		return c.Ping(ctx).Err()
	}
	if err := dial(s.Addr().String(), nil); err != nil {
		t.Fatalf("plaintext port, no certificate: %v", err)
	}
	if err := dial(s.TLSAddr().String(), &tlsconf.ClientOptions{CA: d.Node.CA}); err == nil {
		t.Fatal("TLS port, tls-auth-clients yes: a client without a certificate was served")
	}
	if err := dial(s.TLSAddr().String(), &tlsconf.ClientOptions{CA: d.Node.CA, Cert: d.ClientCert, Key: d.ClientKey}); err != nil {
		t.Fatalf("TLS port with the CA's client certificate: %v", err)
	}
}

func TestDualPortConfig(t *testing.T) {
	_, err := New(Config{Addr: "127.0.0.1:0", Backend: newFakeBackend(), TLSAddr: "127.0.0.1:0"})
	if err == nil || !strings.Contains(err.Error(), "TLSAddr needs Config.TLS") {
		t.Fatalf("TLSAddr without TLS: %v", err)
	}
}

// keyInSlot returns a key that hashes to slot.
func keyInSlot(slot slots.Slot) string {
	for i := 0; ; i++ {
		k := fmt.Sprintf("k%d", i)
		if slots.OfString(k) == slot {
			return k
		}
	}
}

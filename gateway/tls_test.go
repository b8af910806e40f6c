package gateway

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/raftcache/raftcache/internal/tlsconf"
	"github.com/redis/go-redis/v9"
)

// tlsServer starts a gateway speaking TLS with freshly generated
// certificates and the given client-certificate policy.
func tlsServer(t *testing.T, authClients string) (*Server, tlsconf.DevFiles) {
	t.Helper()
	d, conf := devTLS(t, authClients)
	s := mustServer(t, newWatchBackend(), func(c *Config) { c.TLS = conf })
	return s, d
}

// devTLS generates throwaway certificates and the server side of them with
// the given client-certificate policy.
func devTLS(t *testing.T, authClients string) (tlsconf.DevFiles, *tls.Config) {
	t.Helper()
	d, err := tlsconf.GenerateDev(t.TempDir(), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	f := d.Node
	f.AuthClients = authClients
	conf, err := tlsconf.Load(f)
	if err != nil {
		t.Fatal(err)
	}
	return d, conf.ClientServer()
}

func tlsClient(t *testing.T, s *Server, o tlsconf.ClientOptions) *redis.Client {
	t.Helper()
	tc, err := tlsconf.Client(o)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: s.Addr().String(), TLSConfig: tc, MaxRetries: -1, DialTimeout: 5 * time.Second})
	t.Cleanup(func() { c.Close() })
	return c
}

func TestTLSClients(t *testing.T) {
	s, d := tlsServer(t, "no")
	ctx := context.Background()
	c := tlsClient(t, s, tlsconf.ClientOptions{CA: d.Node.CA})
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("GET: %q %v", v, err)
	}
	// TLS only, as Redis with port 0 and tls-port P.
	cfg, err := c.ConfigGet(ctx, "*port").Result()
	if err != nil {
		t.Fatal(err)
	}
	if cfg["port"] != "0" || cfg["tls-port"] != "7000" {
		t.Fatalf("CONFIG GET *port: %v", cfg)
	}
	// Pipelines and large values cross TLS records.
	big := strings.Repeat("x", 1<<20)
	pipe := c.Pipeline()
	for i := 0; i < 50; i++ {
		pipe.Set(ctx, "big", big, 0)
	}
	pipe.Get(ctx, "big")
	cmds, err := pipe.Exec(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := cmds[len(cmds)-1].(*redis.StringCmd).Val(); got != big {
		t.Fatalf("GET big: %d bytes", len(got))
	}

	// A plaintext client gets no service.
	plain := redis.NewClient(&redis.Options{Addr: s.Addr().String(), MaxRetries: -1, DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second})
	defer plain.Close()
	if err := plain.Ping(ctx).Err(); err == nil {
		t.Fatal("a plaintext PING was answered")
	}
	// A client that does not trust the CA refuses the server.
	other, err := tlsconf.GenerateDev(t.TempDir(), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := tlsClient(t, s, tlsconf.ClientOptions{CA: other.Node.CA}).Ping(ctx).Err(); err == nil {
		t.Fatal("a client trusting another CA connected")
	}
	// The server still serves.
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
}

func TestTLSAuthClients(t *testing.T) {
	s, d := tlsServer(t, "yes")
	ctx := context.Background()
	if err := tlsClient(t, s, tlsconf.ClientOptions{CA: d.Node.CA}).Ping(ctx).Err(); err == nil {
		t.Fatal("tls-auth-clients yes: a client without a certificate was served")
	}
	other, err := tlsconf.GenerateDev(t.TempDir(), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := tlsClient(t, s, tlsconf.ClientOptions{CA: d.Node.CA, Cert: other.ClientCert, Key: other.ClientKey}).Ping(ctx).Err(); err == nil {
		t.Fatal("tls-auth-clients yes: a certificate of another CA was accepted")
	}
	if err := tlsClient(t, s, tlsconf.ClientOptions{CA: d.Node.CA, Cert: d.ClientCert, Key: d.ClientKey}).Ping(ctx).Err(); err != nil {
		t.Fatalf("tls-auth-clients yes, with the CA's client certificate: %v", err)
	}
}

// TestTLSBlockedClientClosed: a blocked client that closes its TLS
// connection (close_notify, then FIN) is noticed and unblocked.
func TestTLSBlockedClientClosed(t *testing.T) {
	s, d := tlsServer(t, "no")
	tc, err := tlsconf.Client(tlsconf.ClientOptions{CA: d.Node.CA})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := tls.Dial("tcp", s.Addr().String(), tc)
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := &rawConn{t: t, c: conn, rd: bufio.NewReader(conn)}
	r.send(cmd("BLPOP", "k", "0"))
	waitBlocked(t, s, 1)
	conn.Close()
	waitBlocked(t, s, 0)
}

// TestTLSHandshakeStall: a connection that never starts its handshake
// does not keep the server from serving others or from closing.
func TestTLSHandshakeStall(t *testing.T) {
	s, d := tlsServer(t, "no")
	stall, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer stall.Close()
	c := tlsClient(t, s, tlsconf.ClientOptions{CA: d.Node.CA})
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
}

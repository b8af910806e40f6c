package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/raftcache/raftcache/gateway"
	"github.com/raftcache/raftcache/internal/testtool"
	"github.com/raftcache/raftcache/internal/tlsconf"
	"github.com/raftcache/raftcache/node"
)

// leafOf returns the first certificate of a PEM file.
func leafOf(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// presented dials addr with tc and returns the certificate the server
// presented.
func presented(addr string, tc *tls.Config) (*x509.Certificate, error) {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, tc)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0], nil
}

func clientConf(t *testing.T, o tlsconf.ClientOptions) *tls.Config {
	t.Helper()
	tc, err := tlsconf.Client(o)
	if err != nil {
		t.Fatal(err)
	}
	return tc
}

// TestConfigSetTLSFiles runs `raftcache server` with TLS, then rotates its
// certificate to one of another CA with CONFIG SET (Redis 7.0's way):
// files that do not load or do not fit together are refused with Redis's
// error and the certificate in use stays; a good set reaches new
// connections on the RESP, Raft and gRPC ports, while open connections go
// on; tls-auth-clients changes at run time too.
func TestConfigSetTLSFiles(t *testing.T) {
	base := freeBase(t, 1)
	dir := t.TempDir()
	a, err := tlsconf.GenerateDev(filepath.Join(dir, "a"), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b, err := tlsconf.GenerateDev(filepath.Join(dir, "b"), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(dir, "junk.pem")
	if err := os.WriteFile(junk, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- runServer(ctx, []string{"--node-id", "t1", "--data-dir", filepath.Join(dir, "t1"), "--port", fmt.Sprint(base),
			"--grpc-port", fmt.Sprint(base + devGRPCOffset), "--log-level", "error",
			"--tls-cert-file", a.Node.Cert, "--tls-key-file", a.Node.Key, "--tls-ca-cert-file", a.Node.CA}, out, out)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	}()
	addr := fmt.Sprintf("127.0.0.1:%d", base)
	raftAddr := fmt.Sprintf("127.0.0.1:%d", base+node.RaftPortOffset)
	grpcAddr := fmt.Sprintf("127.0.0.1:%d", base+devGRPCOffset)
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(out.String(), "serving RESP over TLS on "+addr); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("server did not start:\n%s", out.String())
		}
	}
	trustA := clientConf(t, tlsconf.ClientOptions{CA: a.Node.CA})
	trustB := clientConf(t, tlsconf.ClientOptions{CA: b.Node.CA})
	newClient := func(tc *tls.Config) *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: addr, TLSConfig: tc, MaxRetries: -1, DialTimeout: 5 * time.Second, PoolSize: 1})
		t.Cleanup(func() { c.Close() })
		return c
	}
	admin := newClient(trustA)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		err := admin.Set(ctx, "k", "v", 0).Err()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("SET: %v", err)
		}
	}
	// admin's one connection, opened under the first certificate, is used
	// throughout: an open connection keeps working across a change.
	leafA, leafB := leafOf(t, a.Node.Cert), leafOf(t, b.Node.Cert)
	wantRESP := func(want *x509.Certificate, trust *tls.Config) {
		t.Helper()
		got, err := presented(addr, trust)
		if err != nil {
			t.Fatalf("new TLS connection: %v", err)
		}
		if !got.Equal(want) {
			t.Fatalf("RESP port presents %q (serial %v), want serial %v", got.Subject, got.SerialNumber, want.SerialNumber)
		}
	}
	configTLS := func() map[string]string {
		t.Helper()
		m, err := admin.ConfigGet(ctx, "tls-*").Result()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	wantFiles := func(f tlsconf.Files, auth string) {
		t.Helper()
		m := configTLS()
		if m["tls-cert-file"] != f.Cert || m["tls-key-file"] != f.Key || m["tls-ca-cert-file"] != f.CA || m["tls-auth-clients"] != auth || m["tls-port"] != fmt.Sprint(base) {
			t.Fatalf("CONFIG GET tls-*: %v", m)
		}
	}
	wantRESP(leafA, trustA)
	wantFiles(a.Node, "no")

	refused := []struct {
		name string
		args []any
		want string // after "ERR CONFIG SET failed (possibly related to argument '...') - Unable to update TLS configuration: "
	}{
		{"certificate of another CA", []any{"tls-cert-file", b.Node.Cert, "tls-key-file", b.Node.Key}, "not signed by the CA"},
		{"missing file", []any{"tls-cert-file", filepath.Join(dir, "nope.crt")}, "no such file"},
		{"key of another certificate", []any{"tls-key-file", b.Node.Key}, "private key does not match"},
		{"CA not PEM", []any{"tls-ca-cert-file", junk}, "no PEM certificate"},
		{"CA that did not sign the certificate", []any{"tls-ca-cert-file", b.Node.CA}, "not signed by the CA"},
		{"empty name", []any{"tls-cert-file", ""}, "all required"},
		{"with another parameter", []any{"maxmemory", "10mb", "tls-cert-file", b.Node.Cert, "tls-auth-clients", "yes"}, "private key does not match"},
	}
	for _, tc := range refused {
		err := admin.Do(ctx, append([]any{"CONFIG", "SET"}, tc.args...)...).Err()
		prefix := fmt.Sprintf("ERR CONFIG SET failed (possibly related to argument '%s') - Unable to update TLS configuration: ", firstTLSArg(tc.args))
		if err == nil || !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%s: CONFIG SET: %v\nwant %q ... %q", tc.name, err, prefix, tc.want)
		}
		wantRESP(leafA, trustA)
		wantFiles(a.Node, "no")
	}
	if m, err := admin.ConfigGet(ctx, "maxmemory").Result(); err != nil || m["maxmemory"] != "0" {
		t.Fatalf("a refused CONFIG SET changed maxmemory: %v %v", m, err)
	}

	// The Raft port, before: a node holding a certificate of CA a is a peer.
	peerA, err := tlsconf.Load(a.Node)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := presented(raftAddr, peerA.PeerClient()); err != nil || !got.Equal(leafA) {
		t.Fatalf("raft port before the change: %v", err)
	}

	// A whole new identity, under a new CA, in one CONFIG SET.
	if err := admin.Do(ctx, "CONFIG", "SET", "tls-cert-file", b.Node.Cert, "tls-key-file", b.Node.Key, "tls-ca-cert-file", b.Node.CA).Err(); err != nil {
		t.Fatalf("CONFIG SET of a good set: %v", err)
	}
	wantFiles(b.Node, "no")
	wantRESP(leafB, trustB)
	if _, err := presented(addr, trustA); err == nil {
		t.Fatal("a client trusting only the old CA still connects")
	}
	if err := newClient(trustB).Ping(ctx).Err(); err != nil {
		t.Fatalf("PING over a new connection: %v", err)
	}
	if v, err := admin.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("the connection opened before the change: %q %v", v, err)
	}

	// Raft and gRPC take the new identity too: the same one SIGHUP reloads.
	peerB, err := tlsconf.Load(b.Node)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := presented(raftAddr, peerB.PeerClient()); err != nil || !got.Equal(leafB) {
		t.Fatalf("raft port after the change: %v (want the new certificate)", err)
	}
	// A peer still holding a certificate of the old CA is refused now.
	oldPeer := clientConf(t, tlsconf.ClientOptions{CA: b.Node.CA, Cert: a.Node.Cert, Key: a.Node.Key, ChainOnly: true})
	if err := peerRefused(raftAddr, oldPeer); err != nil {
		t.Fatalf("raft port, a peer certificate of the old CA: %v", err)
	}
	grpcConf := trustB.Clone()
	grpcConf.NextProtos = []string{"h2"}
	if got, err := presented(grpcAddr, grpcConf); err != nil || !got.Equal(leafB) {
		t.Fatalf("gRPC port after the change: %v (want the new certificate)", err)
	}

	// An encrypted key with its password, the CA from a directory (Redis's
	// tls-key-file-pass and tls-ca-cert-dir), in one CONFIG SET.
	encKey := encryptKey(t, b.Node.Key, "pw b")
	caDir := t.TempDir()
	if ca, err := os.ReadFile(b.Node.CA); err != nil || os.WriteFile(filepath.Join(caDir, "b.pem"), ca, 0o600) != nil {
		t.Fatalf("CA directory: %v", err)
	}
	if err := admin.Do(ctx, "CONFIG", "SET", "tls-key-file", encKey, "tls-key-file-pass", "wrong", "tls-ca-cert-file", "", "tls-ca-cert-dir", caDir).Err(); err == nil || !strings.Contains(err.Error(), "wrong password") {
		t.Fatalf("CONFIG SET with a wrong key password: %v", err)
	}
	if err := admin.Do(ctx, "CONFIG", "SET", "tls-key-file", encKey, "tls-key-file-pass", "pw b", "tls-ca-cert-file", "", "tls-ca-cert-dir", caDir).Err(); err != nil {
		t.Fatalf("CONFIG SET of an encrypted key and a CA directory: %v", err)
	}
	if m := configTLS(); m["tls-key-file"] != encKey || m["tls-key-file-pass"] != "pw b" || m["tls-ca-cert-dir"] != caDir || m["tls-ca-cert-file"] != "" {
		t.Fatalf("CONFIG GET tls-*: %v", m)
	}
	wantRESP(leafB, trustB)
	if got, err := presented(raftAddr, peerB.PeerClient()); err != nil || !got.Equal(leafB) {
		t.Fatalf("raft port with the CA directory: %v", err)
	}
	if err := admin.Do(ctx, "CONFIG", "SET", "tls-key-file", b.Node.Key, "tls-key-file-pass", "", "tls-ca-cert-file", b.Node.CA, "tls-ca-cert-dir", "").Err(); err != nil {
		t.Fatal(err)
	}
	wantFiles(b.Node, "no")

	// tls-auth-clients at run time (RESP only).
	withCert := clientConf(t, tlsconf.ClientOptions{CA: b.Node.CA, Cert: b.ClientCert, Key: b.ClientKey})
	otherCA := clientConf(t, tlsconf.ClientOptions{CA: b.Node.CA, Cert: a.ClientCert, Key: a.ClientKey})
	auth := []struct {
		value                      string
		noCert, certB, certOtherCA bool // served?
	}{
		{"yes", false, true, false},
		{"optional", true, true, false},
		{"no", true, true, true},
	}
	for _, tc := range auth {
		if err := admin.ConfigSet(ctx, "tls-auth-clients", tc.value).Err(); err != nil {
			t.Fatal(err)
		}
		wantFiles(b.Node, tc.value)
		for _, c := range []struct {
			name  string
			conf  *tls.Config
			serve bool
		}{{"no certificate", trustB, tc.noCert}, {"certificate of the CA", withCert, tc.certB}, {"certificate of another CA", otherCA, tc.certOtherCA}} {
			err := newClient(c.conf).Ping(ctx).Err()
			if (err == nil) != c.serve {
				t.Errorf("tls-auth-clients %s, %s: PING error %v, want served=%v", tc.value, c.name, err, c.serve)
			}
		}
	}
}

// firstTLSArg is the tls-* parameter a failed CONFIG SET names: the first
// in the command, as Redis names the first parameter of the failed group.
func firstTLSArg(args []any) string {
	for i := 0; i < len(args); i += 2 {
		if s := args[i].(string); strings.HasPrefix(s, "tls-") {
			return s
		}
	}
	return ""
}

// peerRefused checks that the server at addr refuses tc's client
// certificate: under TLS 1.3 the client finishes its handshake first and
// the refusal arrives as an alert on the first read.
func peerRefused(addr string, tc *tls.Config) error {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, tc)
	if err != nil {
		return nil // refused during the handshake
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = c.Read(make([]byte, 1))
	var ne net.Error
	switch {
	case err == nil:
		return errors.New("the server sent data")
	case errors.As(err, &ne) && ne.Timeout():
		return errors.New("the server kept the connection open")
	}
	return nil
}

// TestTLSControl: the node's TLS identity under CONFIG SET (tlsControl)
// and SIGHUP (Reload) together: Reload re-reads the files CONFIG SET
// named, a file broken later does not replace the certificate in use, and
// concurrent changes leave a consistent identity.
func TestTLSControl(t *testing.T) {
	dir := t.TempDir()
	a, err := tlsconf.GenerateDev(filepath.Join(dir, "a"), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b, err := tlsconf.GenerateDev(filepath.Join(dir, "b"), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// b's files at names of our own, to break one later.
	own := tlsconf.Files{Cert: filepath.Join(dir, "n.crt"), Key: filepath.Join(dir, "n.key"), CA: filepath.Join(dir, "ca.crt")}
	for src, dst := range map[string]string{b.Node.Cert: own.Cert, b.Node.Key: own.Key, b.Node.CA: own.CA} {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c, err := tlsconf.Load(a.Node)
	if err != nil {
		t.Fatal(err)
	}
	ctl := tlsControl{c: c, logger: newLogger(io.Discard, "error")}
	if got := ctl.TLSSettings(); got != (gateway.TLSSettings{CertFile: a.Node.Cert, KeyFile: a.Node.Key, CAFile: a.Node.CA, AuthClients: "no"}) {
		t.Fatalf("settings at start: %+v", got)
	}
	want := gateway.TLSSettings{CertFile: own.Cert, KeyFile: own.Key, CAFile: own.CA, AuthClients: "optional"}
	if err := ctl.SetTLSFiles(want); err != nil {
		t.Fatal(err)
	}
	if err := c.Reload(); err != nil {
		t.Fatalf("SIGHUP's reload after CONFIG SET: %v", err)
	}
	if got := ctl.TLSSettings(); got != want || c.ClientAuth() != "optional" {
		t.Fatalf("settings after the reload: %+v", got)
	}
	leafB := leafOf(t, b.Node.Cert)
	serves := func() *x509.Certificate {
		t.Helper()
		ln, err := tls.Listen("tcp", "127.0.0.1:0", c.ClientServer())
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			if s, err := ln.Accept(); err == nil {
				_ = s.(*tls.Conn).Handshake()
				s.Close()
			}
		}()
		got, err := presented(ln.Addr().String(), clientConf(t, tlsconf.ClientOptions{CA: own.CA}))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if !serves().Equal(leafB) {
		t.Fatal("not serving the certificate CONFIG SET named")
	}
	if err := os.WriteFile(own.Cert, []byte("broken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := c.Reload(); err == nil {
		t.Fatal("Reload accepted a broken certificate file")
	}
	if err := ctl.SetTLSFiles(want); err == nil {
		t.Fatal("CONFIG SET accepted a broken certificate file")
	}
	if !serves().Equal(leafB) || ctl.TLSSettings() != want {
		t.Fatal("a failed reload changed the identity in use")
	}
	// tls-auth-clients alone reads no file (the broken one stays unread).
	if err := ctl.SetTLSAuthClients("yes"); err != nil {
		t.Fatal(err)
	}
	if err := ctl.SetTLSAuthClients("maybe"); err == nil {
		t.Fatal("tls-auth-clients maybe accepted")
	}
	if c.ClientAuth() != "yes" {
		t.Fatalf("ClientAuth %q", c.ClientAuth())
	}

	// SIGHUP and CONFIG SET at once (run with -race): the identity ends
	// up as one of the sets, whole.
	setA := gateway.TLSSettings{CertFile: a.Node.Cert, KeyFile: a.Node.Key, CAFile: a.Node.CA, AuthClients: "no"}
	setB := gateway.TLSSettings{CertFile: b.Node.Cert, KeyFile: b.Node.Key, CAFile: b.Node.CA, AuthClients: "yes"}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				s := setA
				if (i+j)%2 == 0 {
					s = setB
				}
				if err := ctl.SetTLSFiles(s); err != nil {
					t.Error(err)
				}
				if err := c.Reload(); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	got := ctl.TLSSettings()
	if got != setA && got != setB {
		t.Fatalf("settings after concurrent changes: %+v", got)
	}
	leaf := leafOf(t, got.CertFile)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", c.ClientServer())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if s, err := ln.Accept(); err == nil {
			_ = s.(*tls.Conn).Handshake()
			s.Close()
		}
	}()
	cert, err := presented(ln.Addr().String(), clientConf(t, tlsconf.ClientOptions{CA: got.CAFile, Cert: b.ClientCert, Key: b.ClientKey}))
	if err != nil || !bytes.Equal(cert.Raw, leaf.Raw) {
		t.Fatalf("after concurrent changes the server presents another certificate than its settings name: %v", err)
	}
}

// TestDevTLSPerNode: dev's nodes share certificate files but not their
// TLS state: CONFIG SET tls-* on one node leaves the others as they were,
// as with separate servers.
func TestDevTLSPerNode(t *testing.T) {
	dc := startDevCluster(t, devOptions{shards: 1, replicas: 2, basePort: freeBase(t, 2), logLevel: "error", tls: true, dataDir: t.TempDir()})
	ctx := context.Background()
	trust := clientConf(t, tlsconf.ClientOptions{CA: dc.tls.Node.CA})
	one := func(i int) *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: dc.addrs()[i], TLSConfig: trust, MaxRetries: -1, DialTimeout: 5 * time.Second})
		t.Cleanup(func() { c.Close() })
		return c
	}
	if err := one(0).ConfigSet(ctx, "tls-auth-clients", "yes").Err(); err != nil {
		t.Fatal(err)
	}
	if err := one(0).Ping(ctx).Err(); err == nil {
		t.Fatal("node 1 with tls-auth-clients yes served a client without a certificate")
	}
	if m, err := one(1).ConfigGet(ctx, "tls-auth-clients").Result(); err != nil || m["tls-auth-clients"] != "no" {
		t.Fatalf("node 2's tls-auth-clients: %v %v", m, err)
	}
	if err := one(1).Ping(ctx).Err(); err != nil {
		t.Fatalf("node 2 refuses a client without a certificate after node 1's CONFIG SET: %v", err)
	}
}

// encryptKey writes key encrypted with pass (PKCS#8, PBKDF2, AES-256) by
// openssl and returns its path.
func encryptKey(t *testing.T, key, pass string) string {
	t.Helper()
	ossl := testtool.Need(t, "openssl")
	out := filepath.Join(t.TempDir(), "enc.key")
	if b, err := exec.Command(ossl, "pkcs8", "-topk8", "-v2", "aes256", "-in", key, "-passout", "pass:"+pass, "-out", out).CombinedOutput(); err != nil {
		t.Fatalf("openssl: %v\n%s", err, b)
	}
	return out
}

// TestTLSFlags: --tls-protocols/--tls-ciphers are checked at start;
// --tls-key-file-pass decrypts --tls-key-file, and --tls-ca-cert-dir stands
// in for --tls-ca-cert-file.
func TestTLSFlags(t *testing.T) {
	d, err := tlsconf.GenerateDev(t.TempDir(), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	withCert := func(protocols, ciphers string) tlsFlags {
		return tlsFlags{cert: d.Node.Cert, key: d.Node.Key, ca: d.Node.CA, protocols: protocols, ciphers: ciphers}
	}
	enc := encryptKey(t, d.Node.Key, "secret")
	caDir := filepath.Dir(d.Node.CA) // the dev directory: the CA beside other PEM files
	tests := []struct {
		name  string
		flags tlsFlags
		err   string // a part of the error; "" = starts
	}{
		{"without a certificate", tlsFlags{protocols: "TLSv1.3"}, "need --tls-cert-file"},
		{"unknown protocol", withCert("TLSv1.0", ""), `unknown protocol "TLSv1.0"`},
		{"suites that do not fit the key", withCert("", "ECDHE-RSA-AES128-GCM-SHA256"), "no TLS 1.2 client could connect"},
		{"valid", withCert("TLSv1.2 TLSv1.3", "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384"), ""},
		{"encrypted key, CA directory", tlsFlags{cert: d.Node.Cert, key: enc, keyPass: "secret", caDir: caDir}, ""},
		{"encrypted key, no password", tlsFlags{cert: d.Node.Cert, key: enc, ca: d.Node.CA}, "tls-key-file-pass"},
		{"password without TLS", tlsFlags{keyPass: "secret"}, "--tls-key-file-pass needs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sec, err := tt.flags.load(newLogger(io.Discard, "error"))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := tlsControl{c: sec.tls, logger: newLogger(io.Discard, "error")}.TLSSettings()
			f := tt.flags
			if got.Protocols != f.protocols || got.Ciphers != f.ciphers || got.KeyFile != f.key || got.KeyPass != f.keyPass || got.CADir != f.caDir {
				t.Fatalf("settings %+v", got)
			}
		})
	}
}

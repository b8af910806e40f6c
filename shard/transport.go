package shard

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
)

const (
	tcpMaxPool = 5 // pooled outbound connections per peer
	tcpTimeout = 10 * time.Second
	logCache   = 512 // recent entries kept in memory for replication
)

// newTransport opens the TCP transport unless cfg supplies one; the TCP
// stream layer is returned too (nil for a supplied transport), for fencing.
func newTransport(cfg Config, logger *hclogAdapter) (raft.Transport, *tcpStream, error) {
	if cfg.Transport != nil {
		return cfg.Transport, nil, nil
	}
	ln, err := net.Listen("tcp", cfg.Bind)
	if err != nil {
		return nil, nil, fmt.Errorf("shard: raft transport: %w", err)
	}
	adv := ln.Addr()
	if cfg.Advertise != "" {
		a, err := net.ResolveTCPAddr("tcp", cfg.Advertise)
		if err != nil {
			ln.Close()
			return nil, nil, fmt.Errorf("shard: advertise address %q: %w", cfg.Advertise, err)
		}
		adv = a
	}
	if a, ok := adv.(*net.TCPAddr); !ok || a.IP == nil || a.IP.IsUnspecified() {
		ln.Close()
		return nil, nil, fmt.Errorf("shard: raft transport: %v is not advertisable; set Advertise", adv)
	}
	if (cfg.TLSServer == nil) != (cfg.TLSClient == nil) {
		ln.Close()
		return nil, nil, errors.New("shard: raft transport: TLSServer and TLSClient go together")
	}
	tcp := &tcpStream{ln: ln, adv: adv, conns: make(map[*trackedConn]struct{}), dialed: make(map[*trackedConn]struct{}),
		tlsServer: cfg.TLSServer, tlsClient: cfg.TLSClient}
	var stream raft.StreamLayer = tcp
	if cfg.Faults != nil {
		stream = cfg.Faults.wrap(stream)
	}
	return raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  stream,
		MaxPool: tcpMaxPool,
		Timeout: tcpTimeout,
		Logger:  logger.Named("transport"),
	}), tcp, nil
}

// tcpStream is raft's StreamLayer over TCP. Unlike raft.TCPStreamLayer it
// closes the connections it accepted when closed: raft's handler goroutines
// for them otherwise block until the peer drops its pooled connection,
// which may be never while the peer runs (a leak for in-process clusters
// and tests).
type tcpStream struct {
	ln  net.Listener
	adv net.Addr

	// TLS on both sides of every connection (nil = plain TCP).
	tlsServer, tlsClient *tls.Config

	mu       sync.Mutex
	conns    map[*trackedConn]struct{} // accepted connections, closed by Close
	closed   bool
	fenced   bool                      // no more dials (disk failure: Replica.fence)
	dialed   map[*trackedConn]struct{} // outbound connections, closed by fence
	handlers sync.WaitGroup            // accepted connections whose handler has not closed them
}

// trackedConn is a connection the stream keeps in set (conns or dialed)
// until it is closed, so that Close and fence can close it; done, when
// set, runs once then (an accepted connection's handlers.Done: raft's
// handler defers Close as it exits).
type trackedConn struct {
	net.Conn
	s    *tcpStream
	set  map[*trackedConn]struct{}
	done func()
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.s.mu.Lock()
		delete(c.set, c)
		c.s.mu.Unlock()
		if c.done != nil {
			c.done()
		}
	})
	return c.Conn.Close()
}

// listLocked copies the connections of set; under s.mu.
func listLocked(set map[*trackedConn]struct{}) []*trackedConn {
	out := make([]*trackedConn, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	return out
}

func (s *tcpStream) Accept() (net.Conn, error) {
	c, err := s.ln.Accept()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Close()
		return nil, net.ErrClosed
	}
	tc := &trackedConn{Conn: c, s: s, set: s.conns, done: s.handlers.Done}
	s.conns[tc] = struct{}{}
	s.handlers.Add(1)
	if s.tlsServer != nil {
		// The handshake runs on the first read, in raft's handler for
		// this connection, not in its accept loop.
		return tls.Server(tc, s.tlsServer), nil
	}
	return tc, nil
}

func (s *tcpStream) Close() error {
	s.mu.Lock()
	s.closed = true
	conns := listLocked(s.conns)
	s.mu.Unlock()
	err := s.ln.Close()
	for _, c := range conns {
		c.Conn.Close() // the handler sees the error, exits and calls Close
	}
	// Wait for the handlers: one still processing a heartbeat would write
	// the term to the stable store, which the replica closes next (raft
	// panics when that write fails).
	done := make(chan struct{})
	go func() { s.handlers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(handlerExitWait):
		// Leave the waiter: it ends with the last handler.
	}
	return err
}

// handlerExitWait bounds how long closing the transport waits for raft's
// connection handlers to return.
const handlerExitWait = 5 * time.Second

func (s *tcpStream) Addr() net.Addr { return s.adv }

// fence refuses every later dial and closes the outbound connections: a
// replica whose disk failed sends nothing more. Dropping the transport's
// pool is not enough: raft's pipelined replication keeps a connection of
// its own and sends on it every CommitTimeout, so followers would keep
// hearing from a leader stuck on its disk.
func (s *tcpStream) fence() {
	s.mu.Lock()
	s.fenced = true
	out := listLocked(s.dialed)
	s.mu.Unlock()
	for _, c := range out {
		_ = c.Close()
	}
}

func (s *tcpStream) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	s.mu.Lock()
	refused := s.closed || s.fenced
	s.mu.Unlock()
	if refused {
		return nil, fmt.Errorf("dial %s: %w", addr, net.ErrClosed)
	}
	d := net.Dialer{Timeout: timeout}
	raw, err := d.Dial("tcp", string(addr))
	if err != nil {
		return nil, err
	}
	c := &trackedConn{Conn: raw, s: s, set: s.dialed}
	s.mu.Lock()
	if s.fenced {
		s.mu.Unlock()
		raw.Close()
		return nil, fmt.Errorf("dial %s: %w", addr, net.ErrClosed)
	}
	s.dialed[c] = struct{}{}
	s.mu.Unlock()
	if s.tlsClient == nil {
		return c, nil
	}
	// Handshake now, within the dial timeout, so that a peer refusing
	// our certificate is a dial error, not a failed first RPC.
	if timeout <= 0 {
		timeout = tcpTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tc := tls.Client(c, s.tlsClient)
	if err := tc.HandshakeContext(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("raft tls handshake with %s: %w", addr, err)
	}
	return tc, nil
}

type stores struct {
	logs    raft.LogStore
	stable  raft.StableStore
	snaps   raft.SnapshotStore
	closers []io.Closer
}

// openStores opens the log, stable and snapshot stores: caller-supplied
// ones, in-memory ones when Dir is empty, otherwise raft-boltdb v2 (one bbolt
// file, fsync on every commit) and a FileSnapshotStore under Dir.
func openStores(cfg Config, logger *hclogAdapter) (*stores, error) {
	s := &stores{logs: cfg.LogStore, stable: cfg.StableStore, snaps: cfg.SnapshotStore}
	if cfg.Dir == "" {
		if s.logs == nil || s.stable == nil {
			mem := raft.NewInmemStore()
			if s.logs == nil {
				s.logs = mem
			}
			if s.stable == nil {
				s.stable = mem
			}
		}
		if s.snaps == nil {
			s.snaps = raft.NewInmemSnapshotStore()
		}
		return s, nil
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("shard: data dir: %w", err)
	}
	if s.logs == nil || s.stable == nil {
		bolt, err := raftboltdb.New(raftboltdb.Options{
			Path: filepath.Join(cfg.Dir, "raft.db"),
			BoltOptions: &bbolt.Options{
				Timeout:        time.Second, // fail instead of hanging when another process holds the file
				NoFreelistSync: true,
				FreelistType:   bbolt.FreelistMapType,
			},
		})
		if err != nil {
			return nil, fmt.Errorf("shard: open raft log: %w", err)
		}
		s.closers = append(s.closers, bolt)
		if s.logs == nil {
			cache, err := raft.NewLogCache(logCache, bolt)
			if err != nil {
				bolt.Close()
				return nil, fmt.Errorf("shard: log cache: %w", err)
			}
			s.logs = cache
		}
		if s.stable == nil {
			s.stable = bolt
		}
	}
	if s.snaps == nil {
		snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.Dir, cfg.SnapshotRetain, logger.Named("snapshot"))
		if err != nil {
			s.close()
			return nil, fmt.Errorf("shard: snapshot store: %w", err)
		}
		s.snaps = snaps
	}
	return s, nil
}

func (s *stores) close() error {
	var first error
	for _, c := range s.closers {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	s.closers = nil
	return first
}

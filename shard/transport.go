package shard

import (
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

// newTransport opens the TCP transport unless cfg supplies one.
func newTransport(cfg Config, logger *hclogAdapter) (raft.Transport, error) {
	if cfg.Transport != nil {
		return cfg.Transport, nil
	}
	ln, err := net.Listen("tcp", cfg.Bind)
	if err != nil {
		return nil, fmt.Errorf("shard: raft transport: %w", err)
	}
	adv := ln.Addr()
	if cfg.Advertise != "" {
		a, err := net.ResolveTCPAddr("tcp", cfg.Advertise)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("shard: advertise address %q: %w", cfg.Advertise, err)
		}
		adv = a
	}
	if a, ok := adv.(*net.TCPAddr); !ok || a.IP == nil || a.IP.IsUnspecified() {
		ln.Close()
		return nil, fmt.Errorf("shard: raft transport: %v is not advertisable; set Advertise", adv)
	}
	var stream raft.StreamLayer = &tcpStream{ln: ln, adv: adv, conns: make(map[*trackedConn]struct{})}
	if cfg.Faults != nil {
		stream = cfg.Faults.wrap(stream)
	}
	return raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  stream,
		MaxPool: tcpMaxPool,
		Timeout: tcpTimeout,
		Logger:  logger.Named("transport"),
	}), nil
}

// tcpStream is raft's StreamLayer over TCP. Unlike raft.TCPStreamLayer it
// closes the connections it accepted when closed: raft's handler goroutines
// for them otherwise block until the peer drops its pooled connection,
// which may be never while the peer runs (a leak for in-process clusters
// and tests).
type tcpStream struct {
	ln  net.Listener
	adv net.Addr

	mu     sync.Mutex
	conns  map[*trackedConn]struct{}
	closed bool
}

type trackedConn struct {
	net.Conn
	s    *tcpStream
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.s.mu.Lock()
		delete(c.s.conns, c)
		c.s.mu.Unlock()
	})
	return c.Conn.Close()
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
	tc := &trackedConn{Conn: c, s: s}
	s.conns[tc] = struct{}{}
	return tc, nil
}

func (s *tcpStream) Close() error {
	s.mu.Lock()
	s.closed = true
	conns := make([]*trackedConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	err := s.ln.Close()
	for _, c := range conns {
		c.Close()
	}
	return err
}

func (s *tcpStream) Addr() net.Addr { return s.adv }

func (s *tcpStream) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	return d.Dial("tcp", string(addr))
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

// Package gateway is raftcache's RESP front end: it speaks the Redis protocol
// (RESP2 and RESP3) on top of tidwall/redcon, keeps per-connection state
// (protocol version, MULTI, READONLY, ASKING, name), routes keyed commands
// through the Backend (serve here, MOVED, CLUSTERDOWN ...) and turns a
// pipeline into as few Backend calls as possible.
package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/raftcache/raftcache/raftfsm"
	"github.com/raftcache/raftcache/slots"
	"github.com/tidwall/redcon"
)

// slotWaiter is an optional Backend method: wait (at most max) until a
// migration no longer freezes slot on this node.
type slotWaiter interface {
	WaitSlotUnfrozen(ctx context.Context, slot slots.Slot, max time.Duration)
}

// frozenHold bounds how long a reply that answers TRYAGAIN for a frozen
// slot is held back: clients (go-redis: 3 retries, 8-32 ms apart) retry
// TRYAGAIN quickly, and the freeze lasts a few log commits; held until it
// ends, their retry finds the slot moved (MOVED) instead of failing.
const frozenHold = 250 * time.Millisecond

// Backend is what the gateway needs from the node. Implemented by node; a fake in tests.
type Backend interface {
	// Route decides where a command on slot is served: "" = serve here, otherwise the full RESP
	// error text to reply (e.g. "MOVED 866 127.0.0.1:7001", "CLUSTERDOWN The cluster is down").
	// write: the command writes; readonly: the connection sent READONLY.
	// asking: the connection sent ASKING just before (one-shot; a slot being imported serves it).
	Route(slot slots.Slot, write, readonly, asking bool) string
	// ResolveRedirect rewrites a redirect produced by the engine, which names
	// a shard ("ASK 866 @2", "MOVED 866 @2"), into the one clients expect
	// with the shard leader's address; other texts are returned unchanged.
	ResolveRedirect(msg string) string
	// Write proposes the commands (each is full args incl. the name) as ONE log entry and returns
	// one reply per command, in order. All commands are engine commands (raftfsm.Lookup != nil).
	Write(ctx context.Context, cmds [][][]byte) ([]raftfsm.Reply, error)
	// Read runs fn with the engine under its read lock once the read is allowed (linearizable on the
	// leader; stale=true: a replica read after READONLY, no barrier). now is the Unix ms to use.
	Read(ctx context.Context, stale bool, fn func(db *raftfsm.DB, now int64)) error
	// IsLeader reports whether this node leads its shard (INFO role, HELLO role).
	IsLeader() bool
	// InfoSection returns extra "key:value" lines for INFO sections the node owns:
	// "replication", "persistence", "cluster" (the gateway writes the "# Name" header and CRLFs).
	InfoSection(name string) []string
	// Topology returns the node's current cluster view for the CLUSTER
	// commands. The returned value is never mutated afterwards.
	Topology() *slots.Topology
	// WaitKeys blocks until a write touching one of keys has been applied
	// on this node, or ctx ends (blocking commands such as BLPOP).
	WaitKeys(ctx context.Context, keys [][]byte) error
	// Publish fans a PUBLISH out to every other node, which delivers it
	// to its subscribers (Server.DeliverRemote). It must not block: the
	// node queues the message per destination, preserving publish order.
	Publish(channel, message []byte)
	// PublishShard fans an SPUBLISH out to the other nodes of this node's
	// shard (DeliverRemote with sharded=true). It must not block.
	PublishShard(channel, message []byte)
	// OverMemory reports whether commands that may grow memory must be
	// refused with Redis's OOM error (over maxmemory with noeviction, or
	// with nothing the policy may evict). Called per such command: cheap.
	OverMemory() bool
}

// Config configures a Server.
type Config struct {
	Addr    string // listen address, e.g. "127.0.0.1:6379"
	Backend Backend
	Logger  *slog.Logger // nil: discard
	NodeID  string
	Port    int // advertised RESP port (INFO tcp_port)
	RunID   string
	// Password, when set, is the default user's (Redis's requirepass):
	// a connection runs nothing but AUTH, HELLO ... AUTH, QUIT and RESET
	// until it authenticates (authCmd, helloCmd; checked in dispatch).
	Password string
	// ACLFile, when set, is Redis's aclfile: the users are loaded from it
	// at start (New fails on errors) and by ACL LOAD, written by ACL SAVE.
	ACLFile string
	// TLS, when set, makes the port speak TLS only (Redis's tls-port with
	// port 0): the certificate and the client-certificate policy.
	TLS *tls.Config
	// TLSAddr, with TLS, is a second listen address that speaks TLS while
	// Addr stays plaintext (Redis with both port and tls-port), and
	// TLSPort its advertised port (CONFIG GET tls-port). Clients are sent
	// to the peers' ports of their own kind (redirect.go).
	TLSAddr string
	TLSPort int
}

// writeTimeout bounds one Backend.Write; running out of it is an unknown
// outcome (UNCERTAIN), never a clean failure.
const writeTimeout = 10 * time.Second

// Server is a RESP server in front of a Backend.
type Server struct {
	cfg     Config
	log     *slog.Logger
	backend Backend
	tab     *table
	acl     *aclStore
	conf    *configStore
	pubsub  *hub
	trk     *tracker // client-side caching (tracking.go)
	started time.Time

	ctx    context.Context // cancelled by Close: unblocks backend calls
	cancel context.CancelFunc

	mu      sync.Mutex
	rs      *redcon.Server
	ln      net.Listener
	tlsRS   *redcon.Server // the TLS port beside the plaintext one (TLSAddr)
	tlsLn   net.Listener
	clients map[int64]*client
	closed  bool
	conns   sync.WaitGroup // one per accepted connection
	bg      sync.WaitGroup // serve loop and sampler
	stop    chan struct{}

	nextID      atomic.Int64
	maxBulk     atomic.Int64
	maxQuery    atomic.Int64
	idleTimeout atomic.Int64
	stats       stats
	mem         memCache
	scripts     scriptCache
	memLimit    atomic.Pointer[memoryLimit]
	// engineParams: the values this node stamps into its writes
	// (engineparams.go); nil = Redis's defaults.
	engineParams atomic.Pointer[raftfsm.Params]
	notifyMask   atomic.Uint32 // notify-keyspace-events (notify.go)
	slowlog      slowlog
	mon          monitors
	latency      latencyMonitor
	// slowlog-log-slower-than and latency-monitor-threshold, read for
	// every command group (config.go keeps them current).
	slowlogSlower    atomic.Int64
	latencyThreshold atomic.Int64
	// latency-tracking and latency-tracking-info-percentiles (latencyhist.go)
	latencyTracking atomic.Bool
	saving          atomic.Bool // a SAVE or BGSAVE snapshot is running (servercmds.go)
	pause           pauseState  // CLIENT PAUSE (pause.go)
	infoPercentiles atomic.Pointer[[]float64]
	tlsHook         atomic.Pointer[tlsHook] // CONFIG tls-* (SetTLSControl, tls.go); nil: no TLS
}

// New validates cfg and returns a server; Start makes it listen.
func New(cfg Config) (*Server, error) {
	if cfg.Backend == nil {
		return nil, errors.New("gateway: Config.Backend is nil")
	}
	if cfg.Addr == "" {
		return nil, errors.New("gateway: Config.Addr is empty")
	}
	if cfg.TLSAddr != "" && cfg.TLS == nil {
		return nil, errors.New("gateway: Config.TLSAddr needs Config.TLS")
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	acl, err := newACLStore(cfg.Password, cfg.ACLFile)
	if err != nil {
		return nil, err
	}
	acl.origin = cfg.NodeID
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg:     cfg,
		log:     lg,
		backend: cfg.Backend,
		tab:     commandTable(),
		pubsub:  newHub(),
		trk:     newTracker(),
		acl:     acl,
		started: time.Now(),
		ctx:     ctx,
		cancel:  cancel,
		clients: make(map[int64]*client),
		stop:    make(chan struct{}),
	}
	assignACLIDs(s.tab)
	s.maxBulk.Store(defaultMaxBulk)
	s.maxQuery.Store(defaultMaxQuery)
	s.stats.init()
	s.conf = newConfigStore(s)
	s.slowlogSlower.Store(s.conf.int("slowlog-log-slower-than"))
	s.latencyThreshold.Store(s.conf.int("latency-monitor-threshold"))
	s.trk.maxKeys.Store(s.conf.int("tracking-table-max-keys"))
	s.latencyTracking.Store(true)
	applyPercentiles(s, "50 99 99.9")
	updateMemoryLimit(s, "")
	if w, ok := s.backend.(writePauser); ok {
		w.SetWriteHold(s.writesPaused)
	}
	return s, nil
}

// Start binds the listener and serves in the background. It returns once the
// listener is bound.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("gateway: server closed")
	}
	if s.ln != nil {
		return errors.New("gateway: already started")
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("gateway: listen %s: %w", s.cfg.Addr, err)
	}
	var tlsLn net.Listener
	if s.cfg.TLS != nil {
		// The handshake runs on the connection's first read, in its own
		// goroutine; a client that never completes it is cut by the
		// handshake timeout (tlsListener).
		if s.cfg.TLSAddr == "" {
			ln = &tlsListener{Listener: ln, conf: s.cfg.TLS}
		} else {
			l, err := net.Listen("tcp", s.cfg.TLSAddr)
			if err != nil {
				_ = ln.Close()
				return fmt.Errorf("gateway: listen %s (TLS): %w", s.cfg.TLSAddr, err)
			}
			tlsLn = &guardListener{Listener: &tlsListener{Listener: l, conf: s.cfg.TLS}, srv: s}
		}
	}
	s.ln = &guardListener{Listener: ln, srv: s}
	s.rs = redcon.NewServerNetwork("tcp", s.cfg.Addr, s.serveRESP, s.accept, s.connClosed)
	s.bg.Add(2)
	go func() {
		defer s.bg.Done()
		if err := s.rs.Serve(s.ln); err != nil {
			s.log.Error("resp serve loop stopped", "err", err)
		}
	}()
	go func() {
		defer s.bg.Done()
		s.sampleOps()
	}()
	if tlsLn != nil {
		s.tlsLn = tlsLn
		s.tlsRS = redcon.NewServerNetwork("tcp", s.cfg.TLSAddr, s.serveRESP, s.accept, s.connClosed)
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			if err := s.tlsRS.Serve(s.tlsLn); err != nil {
				s.log.Error("resp TLS serve loop stopped", "err", err)
			}
		}()
		s.log.Info("resp listening (TLS)", "addr", tlsLn.Addr().String(), "node_id", s.cfg.NodeID)
	}
	s.log.Info("resp listening", "addr", ln.Addr().String(), "node_id", s.cfg.NodeID)
	return nil
}

// Addr returns the bound address (nil before Start).
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// TLSAddr returns the bound address of the TLS port beside the plaintext
// one (nil before Start or without Config.TLSAddr).
func (s *Server) TLSAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tlsLn == nil {
		return nil
	}
	return s.tlsLn.Addr()
}

// Close stops accepting, closes every client connection and waits for the
// server's goroutines. It is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	ln, tlsLn := s.ln, s.tlsLn
	close(s.stop)
	s.cancel()
	var raws []net.Conn
	for _, c := range s.clients {
		raws = append(raws, c.raw)
	}
	s.mu.Unlock()
	var err error
	if ln != nil {
		// redcon's serve loop returns on the closed listener and then closes
		// the connections it still tracks.
		err = ln.Close()
	}
	if tlsLn != nil {
		if e := tlsLn.Close(); err == nil {
			err = e
		}
	}
	for _, r := range raws {
		_ = r.Close()
	}
	s.bg.Wait()
	s.conns.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// accept registers a new connection (redcon calls it before starting the
// connection's goroutine, so conns.Add happens before Close can wait).
func (s *Server) accept(rc redcon.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if max := s.conf.int("maxclients"); max > 0 && int64(len(s.clients)) >= max {
		raw := rc.NetConn()
		if g, ok := raw.(*guardConn); ok {
			if tc, ok := g.Conn.(*tlsConn); ok {
				// This runs in the accept loop: do not let a client that
				// is slow to handshake hold it for long.
				_ = tc.handshake(time.Second)
			}
		}
		_, _ = raw.Write([]byte("-ERR max number of clients reached\r\n"))
		s.stats.rejectedConns.Add(1)
		return false
	}
	c := newClient(s, s.nextID.Add(1), rc.NetConn())
	rc.SetContext(c)
	s.clients[c.id] = c
	s.conns.Add(1)
	s.stats.totalConns.Add(1)
	return true
}

func (s *Server) connClosed(rc redcon.Conn, err error) {
	c, _ := rc.Context().(*client)
	if c == nil {
		return
	}
	if err != nil && !errors.Is(err, errGuardClosed) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, os.ErrDeadlineExceeded) {
		s.log.Debug("client connection closed", "client_id", c.id, "err", err)
	}
	s.monitorStop(c)
	s.trackingClosed(c)
	s.pubsubClosed(c)
	s.mu.Lock()
	delete(s.clients, c.id)
	s.mu.Unlock()
	s.conns.Done()
}

// clientList returns the connected clients in id order.
func (s *Server) clientList() []*client {
	s.mu.Lock()
	out := make([]*client, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, c)
	}
	s.mu.Unlock()
	sortClients(out)
	return out
}

func sortClients(cs []*client) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].id < cs[j-1].id; j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

// SetTLSControl connects CONFIG GET/SET of tls-cert-file, tls-key-file,
// tls-key-file-pass, tls-ca-cert-file, tls-ca-cert-dir, tls-auth-clients,
// tls-protocols and tls-ciphers to the node's TLS identity (the
// one SIGHUP reloads). Without it, as on a node without TLS, CONFIG SET
// refuses them.
func (s *Server) SetTLSControl(ctl TLSControl) {
	if ctl == nil {
		s.tlsHook.Store(nil)
		return
	}
	s.tlsHook.Store(&tlsHook{ctl: ctl})
}

// ConfigValue returns a CONFIG parameter's current value, for the node
// (maxmemory, maxmemory-policy ...).
func (s *Server) ConfigValue(name string) (string, bool) { return s.conf.get(name) }

// sampleOps feeds instantaneous_ops_per_sec (Redis samples every 100 ms).
func (s *Server) sampleOps() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			s.stats.sample(now)
			s.trackingLimit() // Redis checks in serverCron too
		}
	}
}

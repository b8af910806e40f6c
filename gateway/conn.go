package gateway

import (
	"context"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/raftcache/raftcache/raftfsm"
	"github.com/raftcache/raftcache/slots"
)

// replyMode is CLIENT REPLY's state.
type replyMode uint8

const (
	replyOn replyMode = iota
	replyOff
	replySkipNext // skip the reply of the next command
	replySkipThis // skipping the reply of the current command
)

// queued is one command of a MULTI transaction.
type queued struct {
	cmd  *command
	args [][]byte
}

// pending is an engine command waiting in the current read or write group.
type pending struct {
	cmd      *command
	args     [][]byte
	slot     int   // -1 for keyless commands
	nameCase uint8 // how args[0] was written before lowering (dispatch)
	track    bool  // a read whose keys client tracking remembers
}

// client is the state of one connection. Only the connection's own goroutine
// mutates it; fields that CLIENT LIST/KILL read from other goroutines are
// guarded by mu (written under mu, read under mu by others) or atomic.
type client struct {
	srv   *Server
	id    int64
	addr  string
	laddr string
	fd    int
	raw   net.Conn // for CLIENT KILL from other connections
	born  time.Time
	tls   bool // came in on a TLS port: told the peers' TLS ports (redirect.go)

	// handlerErrs counts error replies not tied to a command (replyError
	// with none): runHandler makes the handler's call a failed one.
	handlerErrs int

	// frozen: a reply of the current group is a frozen slot's TRYAGAIN
	// (frozenSlot); flushGroup holds the replies back until it thaws.
	frozen     bool
	frozenSlot slots.Slot

	mu        sync.Mutex
	name      string
	monitor   bool     // MONITOR is on (connection goroutine only)
	misses    [][]byte // keys a read group missed (keymiss events)
	inExec    bool     // EXEC is running a queued handler command
	resp      int
	readonly  bool
	multi     bool
	queue     []queued
	libName   string
	libVer    string
	noEvict   bool
	lastInter atomic.Int64 // unix seconds of the last command
	lastCmd   atomic.Pointer[command]
	cur       *command // command being dispatched (owner only)

	asking bool
	authed bool     // AUTH done, or the default user needs no password
	user   *aclUser // written by the owner under mu (CLIENT LIST reads it)
	// multiAsking: ASKING came right before MULTI, so the transaction may
	// run on a slot this node is importing (Redis clients follow an ASK
	// for a transaction that way).
	multiAsking bool
	multiDirty  bool // a command failed while queueing: EXEC aborts
	reply       replyMode
	closeAfter  bool // QUIT, CLIENT KILL of itself
	killed      atomic.Bool
	// unblock ends a blocking command early (CLIENT UNBLOCK); set while
	// the client is blocked.
	unblock atomic.Pointer[context.CancelCauseFunc]
	ps      *psClient // pub/sub state, nil until the first (P|S)SUBSCRIBE
	// psState and psink publish ps and its writer to other goroutines
	// (tracking invalidations for a REDIRECT target).
	psState atomic.Pointer[psClient]
	psink   atomic.Pointer[pushSink]
	// trk is the tracking state (nil: CLIENT TRACKING off) and trkCaching
	// the CLIENT CACHING flag for the next command (tracking.go).
	trk        *trackState
	trkCaching bool
	trkShared  atomic.Pointer[trackState] // trk, for CLIENT LIST from other goroutines

	out      []byte // replies of the pipeline being served
	group    []pending
	groupW   bool // the group holds writes (else reads)
	writeBuf [][][]byte
	readFn   func(db *raftfsm.DB, now int64) // bound once: no closure per batch
	rctx     raftfsm.Ctx
	seed     uint64
	readDone bool
	markOut  int
}

func newClient(s *Server, id int64, raw net.Conn) *client {
	c := &client{srv: s, id: id, raw: raw, resp: 2, born: time.Now()}
	c.setDefaultAuth()
	if raw != nil {
		c.addr = raw.RemoteAddr().String()
		c.laddr = raw.LocalAddr().String()
		c.fd = connFD(raw)
		c.tls = isTLSConn(raw)
	}
	c.lastInter.Store(c.born.Unix())
	c.seed = uint64(id)*0x9e3779b97f4a7c15 + uint64(c.born.UnixNano())
	c.readFn = c.runReads
	return c
}

// connFD returns the socket's file descriptor for CLIENT LIST (fd=...).
func connFD(c net.Conn) int {
	if g, ok := c.(*guardConn); ok {
		c = g.Conn
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return -1
	}
	fd := -1
	if rc, err := tc.SyscallConn(); err == nil {
		_ = rc.Control(func(f uintptr) { fd = int(f) })
	}
	return fd
}

// setDefaultAuth makes c the default user's, authenticated when that user
// needs no password (clientSetDefaultAuth).
func (c *client) setDefaultAuth() {
	def := c.srv.acl.def
	c.setUser(def)
	r := def.rules.Load()
	c.authed = r.nopass && r.enabled
}

func (c *client) setUser(u *aclUser) {
	c.mu.Lock()
	c.user = u
	c.mu.Unlock()
}

func (c *client) getUser() *aclUser {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.user
}

func (c *client) setName(n string) {
	c.mu.Lock()
	c.name = n
	c.mu.Unlock()
}

func (c *client) setResp(v int) {
	c.mu.Lock()
	c.resp = v
	c.mu.Unlock()
}

func (c *client) setReadonly(v bool) {
	c.mu.Lock()
	c.readonly = v
	c.mu.Unlock()
}

func (c *client) startMulti() {
	c.mu.Lock()
	c.multi = true
	c.queue = c.queue[:0]
	c.mu.Unlock()
	c.multiAsking = c.asking
	c.multiDirty = false
}

func (c *client) endMulti() {
	c.mu.Lock()
	c.multi = false
	c.queue = nil
	c.mu.Unlock()
	c.multiDirty = false
}

func (c *client) enqueue(q queued) {
	c.mu.Lock()
	c.queue = append(c.queue, q)
	c.mu.Unlock()
}

// reset is RESET: the state of a fresh connection.
func (c *client) reset() {
	c.mu.Lock()
	c.name = ""
	c.resp = 2
	c.readonly = false
	c.multi = false
	c.queue = nil
	c.noEvict = false
	c.mu.Unlock()
	c.multiDirty = false
	c.asking = false
	c.reply = replyOn
}

// info renders the CLIENT LIST line of c (Redis 7.0 catClientInfoString).
func (c *client) info(now time.Time) string {
	c.mu.Lock()
	name, resp, ro, multi, nq, noEvict, user := c.name, c.resp, c.readonly, c.multi, len(c.queue), c.noEvict, c.user
	c.mu.Unlock()
	flags := ""
	if multi {
		flags += "x"
	}
	redir := int64(-1)
	if st := c.trkShared.Load(); st != nil {
		flags += "t"
		if c.srv.trackingBroken(st) {
			flags += "R"
		}
		if st.bcast {
			flags += "B"
		}
		redir = st.redirect
	}
	if ro {
		flags += "r"
	}
	if noEvict {
		flags += "e"
	}
	if flags == "" {
		flags = "N"
	}
	cmd := "NULL"
	if p := c.lastCmd.Load(); p != nil {
		cmd = p.name
	}
	multiN := -1
	if multi {
		multiN = nq
	}
	var b strings.Builder
	b.Grow(256)
	b.WriteString("id=")
	b.WriteString(strconv.FormatInt(c.id, 10))
	b.WriteString(" addr=")
	b.WriteString(c.addr)
	b.WriteString(" laddr=")
	b.WriteString(c.laddr)
	b.WriteString(" fd=")
	b.WriteString(strconv.Itoa(c.fd))
	b.WriteString(" name=")
	b.WriteString(name)
	b.WriteString(" age=")
	b.WriteString(strconv.FormatInt(int64(now.Sub(c.born)/time.Second), 10))
	b.WriteString(" idle=")
	b.WriteString(strconv.FormatInt(max(0, now.Unix()-c.lastInter.Load()), 10))
	b.WriteString(" flags=")
	b.WriteString(flags)
	b.WriteString(" db=0 sub=0 psub=0 ssub=0 multi=")
	b.WriteString(strconv.Itoa(multiN))
	b.WriteString(" qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=")
	b.WriteString(cmd)
	b.WriteString(" user=")
	b.WriteString(user.name)
	b.WriteString(" redir=")
	b.WriteString(strconv.FormatInt(redir, 10))
	b.WriteString(" resp=")
	b.WriteString(strconv.Itoa(resp))
	return b.String()
}

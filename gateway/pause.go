package gateway

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/raftcache/raftcache/raftfsm"
)

// CLIENT PAUSE / UNPAUSE, per node as in Redis. While a pause lasts, this
// node's clients are held before a command runs (Redis's postponed
// clients, counted in INFO blocked_clients): every command in ALL mode,
// in WRITE mode those that may change data (writes, scripts other than
// read-only ones, PUBLISH, SPUBLISH, PFCOUNT, and EXEC of a transaction
// holding one). Commands queued in MULTI are not held; their EXEC is.
// Commands with a syntax error are answered at once (checked before).

const (
	pauseOff = iota
	pauseWrite
	pauseAll
)

type pauseState struct {
	kind    atomic.Int32 // pauseOff, pauseWrite or pauseAll (fast path)
	waiting atomic.Int64 // clients held now

	mu    sync.Mutex
	until time.Time
	wake  chan struct{} // closed when the pause ends or changes
}

// mayReplicate lists the commands Redis 7.0 flags may_replicate besides
// its writes: held in WRITE mode.
var mayReplicate = map[string]bool{"eval": true, "evalsha": true, "fcall": true, "pfcount": true,
	"publish": true, "spublish": true}

func clientPauseCmd(s *Server, c *client, args [][]byte) {
	kind := pauseAll
	if len(args) == 4 {
		switch strings.ToLower(string(args[3])) {
		case "write":
			kind = pauseWrite
		case "all":
		default:
			s.replyError(c, nil, "ERR CLIENT PAUSE mode must be WRITE or ALL")
			return
		}
	} else if len(args) != 3 {
		s.replyError(c, nil, "ERR syntax error")
		return
	}
	ms, ok := s.timeoutArg(c, args[2])
	if !ok {
		return
	}
	s.setPause(kind, time.Now().Add(time.Duration(min(ms, int64(1<<62)/int64(time.Millisecond)))*time.Millisecond))
	c.out = append(c.out, "+OK\r\n"...)
}

func clientUnpauseCmd(s *Server, c *client, args [][]byte) {
	s.setPause(pauseOff, time.Time{})
	if w, ok := s.backend.(writePauser); ok {
		// The expiry the pause held runs before the reply, as the keys
		// it concerns would have gone already without the pause.
		ctx, cancel := context.WithTimeout(s.ctx, unpauseExpiryWait)
		if err := w.WritesResumed(ctx); err != nil {
			s.log.Debug("expiry after CLIENT UNPAUSE", "err", err)
		}
		cancel()
	}
	c.out = append(c.out, "+OK\r\n"...)
}

// writePauser is a backend whose active expiry and eviction follow this
// node's CLIENT PAUSE (Redis holds both while writes are paused).
type writePauser interface {
	// SetWriteHold installs the check the backend polls.
	SetWriteHold(held func() bool)
	// WritesResumed runs the held expiry now (CLIENT UNPAUSE).
	WritesResumed(ctx context.Context) error
}

// unpauseExpiryWait bounds how long CLIENT UNPAUSE waits for the held
// expiry (one log round trip normally; it proceeds without it after).
const unpauseExpiryWait = 2 * time.Second

// writesPaused reports whether a WRITE or ALL pause is in force now.
func (s *Server) writesPaused() bool {
	p := &s.pause
	if p.kind.Load() == pauseOff {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.kind.Load() != pauseOff && time.Now().Before(p.until)
}

// setPause replaces the pause and wakes the held clients, which check
// again whether they are still held.
func (s *Server) setPause(kind int, until time.Time) {
	p := &s.pause
	p.mu.Lock()
	defer p.mu.Unlock()
	p.until = until
	p.kind.Store(int32(kind))
	if p.wake != nil {
		close(p.wake)
	}
	p.wake = make(chan struct{})
}

// pauseHolds reports whether the pause in force holds cmd (args).
func (s *Server) pauseHolds(c *client, cmd *command, args [][]byte) bool {
	switch s.pause.kind.Load() {
	case pauseOff:
		return false
	case pauseAll:
		return true
	}
	if cmd.name == "exec" {
		for _, q := range c.queue {
			if s.changesData(q.cmd, q.args) {
				return true
			}
		}
		return false
	}
	return s.changesData(cmd, args)
}

// changesData: a write, or a may_replicate command (a script unless it
// declares no-writes).
func (s *Server) changesData(cmd *command, args [][]byte) bool {
	if !mayReplicate[cmd.name] {
		return cmd.isWrite()
	}
	// Scripts run as log writes here; what counts is their flags.
	switch cmd.name {
	case "eval":
		return len(args) < 2 || !raftfsm.ScriptDeclaresNoWrites(args[1])
	case "evalsha":
		body, ok := s.scripts.get(args[1])
		return !ok || !raftfsm.ScriptDeclaresNoWrites(body)
	case "fcall":
		// The function's flags live in the engine: one read, only while
		// a WRITE pause is on.
		noWrites := false
		err := s.backend.Read(s.ctx, true, func(db *raftfsm.DB, _ int64) {
			noWrites = len(args) > 1 && db.FunctionDeclaresNoWrites(args[1])
		})
		return err != nil || !noWrites
	}
	return true
}

// waitPause holds c while the pause holds cmd: until it ends, is lifted or
// changes (then checked again), or the server closes.
func (s *Server) waitPause(c *client, cmd *command, args [][]byte) {
	p := &s.pause
	p.waiting.Add(1)
	defer p.waiting.Add(-1)
	for s.pauseHolds(c, cmd, args) {
		p.mu.Lock()
		left, wake := time.Until(p.until), p.wake
		p.mu.Unlock()
		if left <= 0 {
			// Expired: the first client to notice lifts it for everyone.
			p.mu.Lock()
			if p.wake == wake {
				p.kind.Store(pauseOff)
			}
			p.mu.Unlock()
			continue
		}
		t := time.NewTimer(left)
		select {
		case <-wake:
		case <-t.C:
		case <-s.stop:
			t.Stop()
			return
		}
		t.Stop()
	}
}

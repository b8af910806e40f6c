package gateway

import (
	"bytes"
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/raftcache/raftcache/raftfsm"
	"github.com/raftcache/raftcache/slots"
	"github.com/tidwall/redcon"
)

// serveRESP is redcon's handler. redcon calls it once per command of a
// pipeline; the first call takes the rest of the pipeline so that the whole
// batch is served together: consecutive engine writes become one
// Backend.Write (one log entry), consecutive engine reads one Backend.Read
// (one read barrier), and all replies go out with one WriteRaw.
func (s *Server) serveRESP(rc redcon.Conn, first redcon.Command) {
	c, _ := rc.Context().(*client)
	if c == nil {
		rc.WriteError("ERR internal error")
		rc.Close()
		return
	}
	rest := rc.ReadPipeline()
	s.pubsubBegin(c)
	s.serveBatch(c, first.Args, rest)
	// A subscriber's output goes through its push sink (pubsub.go).
	if !s.pubsubEnd(c) && len(c.out) > 0 {
		rc.WriteRaw(c.out)
	}
	if cap(c.out) > 1<<20 {
		c.out = nil // do not pin a huge reply buffer on an idle connection
	} else {
		c.out = c.out[:0]
	}
	if c.closeAfter || c.killed.Load() {
		s.pubsubDrain(c)
		_ = rc.Close()
	}
}

// serveBatch runs first and rest in order, appending replies to c.out.
func (s *Server) serveBatch(c *client, first [][]byte, rest []redcon.Command) {
	n := 1
	s.runOne(c, first)
	for i := range rest {
		if c.closeAfter {
			break
		}
		n++
		s.runOne(c, rest[i].Args)
	}
	s.flushGroup(c)
	s.stats.totalCmds.Add(int64(n))
	c.lastInter.Store(time.Now().Unix())
	if c.cur != nil {
		c.lastCmd.Store(c.cur)
	}
}

// runOne dispatches one command: lookup, arity, keys and slot, routing, then
// either joins the pending engine group or runs a gateway handler.
func (s *Server) runOne(c *client, args [][]byte) {
	if len(args) == 0 {
		return
	}
	mark := len(c.out)
	skip := c.reply != replyOn
	if skip {
		// Replies must be cut precisely, so nothing is left pending.
		s.flushGroup(c)
		mark = len(c.out)
	}
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic in command handler", "cmd", commandName(args), "panic", fmt.Sprint(r),
				"stack", string(debug.Stack()))
			c.group = c.group[:0]
			if len(c.out) > mark {
				c.out = c.out[:mark]
			}
			s.replyError(c, nil, "ERR internal error")
		}
		if skip || c.reply != replyOn {
			// (Un)subscribe confirmations are pushed like messages: Redis
			// 7.0 sends them even under CLIENT REPLY OFF/SKIP, in RESP2 too.
			if isSubscribeFamily(args[0]) {
				keep := len(c.out)
				s.finishReplyMode(c, keep)
			} else {
				s.finishReplyMode(c, mark)
			}
		}
	}()
	s.dispatch(c, args)
	c.endCaching(args[0])
}

func isSubscribeFamily(name []byte) bool {
	for _, n := range []string{"subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ssubscribe", "sunsubscribe"} {
		if raftfsm.EqFold(name, n) {
			return true
		}
	}
	return false
}

// finishReplyMode applies CLIENT REPLY OFF/SKIP to the reply just produced.
func (s *Server) finishReplyMode(c *client, mark int) {
	s.flushGroup(c)
	switch c.reply {
	case replyOff:
		c.out = c.out[:mark]
	case replySkipThis:
		c.out = c.out[:mark]
		c.reply = replyOn
	case replySkipNext:
		// Set by this very command (CLIENT REPLY SKIP): it is not answered
		// either, and the next one is skipped.
		c.out = c.out[:mark]
		c.reply = replySkipThis
	}
}

func commandName(args [][]byte) string {
	if len(args) == 0 {
		return ""
	}
	n := args[0]
	if len(n) > 64 {
		n = n[:64]
	}
	return string(n)
}

func (s *Server) dispatch(c *client, args [][]byte) {
	cmd := s.tab.lookup(args[0])
	if !c.authed && (cmd == nil || cmd.extra&rfNoAuth == 0) && s.acl.authRequired() {
		// Before the command is known to exist, as Redis does: an
		// unauthenticated client learns nothing about the server.
		s.reject(c, cmd, "NOAUTH Authentication required.")
		return
	}
	if cmd == nil {
		s.reject(c, nil, unknownCommandError(args))
		return
	}
	if cmd.subs != nil && len(args) >= 2 {
		sub := cmd.sub(args[1])
		if sub == nil {
			s.reject(c, nil, fmt.Sprintf("ERR unknown subcommand '%.128s'. Try %s HELP.",
				args[1], strings.ToUpper(string(args[0]))))
			return
		}
		cmd = sub
	}
	c.cur = cmd
	if !cmd.arityOK(len(args)) {
		s.reject(c, cmd, "ERR wrong number of arguments for '"+cmd.name+"' command")
		return
	}
	rules := c.user.rules.Load()
	if !rules.full && !s.aclPermits(c, rules, cmd, args) {
		return // the default user with every right pays one load above
	}
	monCmd, monArgs := cmd, args // MONITOR shows EVALSHA, not the EVAL it becomes
	if cmd.rewrite != nil {
		var msg string
		rewritten, msg := cmd.rewrite(s, args)
		if msg != "" {
			if c.multi {
				// Redis queues EVALSHA and runs it at EXEC: a SCRIPT LOAD
				// queued before it may define it (resolveScripts).
				s.queueCommand(c, cmd, args)
				return
			}
			// EVALSHA's NOSCRIPT: Redis runs the command and it fails.
			s.flushGroup(c)
			cmd.calls.Add(1)
			s.replyError(c, cmd, msg)
			return
		}
		args = rewritten
		cmd = s.tab.lookup(args[0])
		c.cur = cmd
	} else if cmd.name == "eval" || cmd.name == "eval_ro" {
		s.noteEval(args)
	}
	if cmd.flags&raftfsm.FlagDenyOOM != 0 && s.backend.OverMemory() {
		s.reject(c, cmd, "OOM command not allowed when used memory > 'maxmemory'.")
		return
	}
	if msg := pubsubContextError(c, cmd); msg != "" {
		s.reject(c, cmd, msg)
		return
	}
	if s.pause.kind.Load() != pauseOff && (!c.multi || cmd.immediate) && s.pauseHolds(c, cmd, args) {
		s.flushGroup(c) // what the pipeline sent before runs first
		s.waitPause(c, cmd, args)
	}
	if cmd.engine != nil && !c.multi {
		// Shown as accepted; handlers once they ran (EXEC after the
		// commands it ran, as Redis), queued commands when EXEC runs them.
		s.monitorFeed(c, monCmd, monArgs)
	}
	var nameCase uint8
	if cmd.engine != nil {
		// Lower-case the name in place (the argument bytes are this
		// command's own copy) so that the engine's Lookup in Backend.Write
		// never allocates for "SET" or "GET"; the slow log and MONITOR
		// show the name as sent (nameCase).
		nameCase = lowerInPlace(args[0])
	}
	if c.multi && !cmd.immediate {
		s.queueCommand(c, cmd, args)
		return
	}
	if cmd.engine == nil {
		s.flushGroup(c)
		if cmd.handler == nil {
			// A container called without subcommand whose arity allows it.
			s.reject(c, cmd, "ERR wrong number of arguments for '"+cmd.name+"' command")
			return
		}
		asking := c.asking
		cmd.calls.Add(1)
		start := time.Now()
		s.runHandler(c, cmd, args)
		s.monitorFeed(c, cmd, args)
		dur := time.Since(start)
		cmd.usec.Add(dur.Microseconds())
		s.slowlogMaybe(c, cmd, args, dur)
		if asking && cmd.name != "asking" {
			c.asking = false
		}
		if cmd.name == "reset" {
			unwatchAll(c) // RESET also forgets WATCHed keys
		}
		return
	}
	slot := -1
	if cmd.hasKeys() {
		sl, has, cross := cmd.keySlot(args)
		if cross {
			s.reject(c, cmd, "CROSSSLOT Keys in request don't hash to the same slot")
			return
		}
		if has {
			if msg := s.backend.Route(sl, cmd.isWrite(), c.readonly, c.asking); msg != "" {
				s.reject(c, cmd, msg)
				return
			}
			slot = int(sl)
		}
	}
	c.asking = false
	if raftfsm.BlocksWith(cmd.flags, args) {
		// Blocks the connection: runs alone, after what is pending.
		s.flushGroup(c)
		s.runBlocking(c, cmd, args, slot)
		return
	}
	w := cmd.isWrite()
	if len(c.group) > 0 && c.groupW != w {
		s.flushGroup(c)
	}
	c.groupW = w
	if !rules.full {
		args = stampScript(rules, cmd, args) // a script carries its user's rules
	}
	track := c.trackReads() && (!w || isScriptCall(cmd.name))
	c.group = append(c.group, pending{cmd: cmd, args: args, slot: slot, nameCase: nameCase, track: track})
}

// queueCommand handles a command sent inside MULTI: checked now (keys,
// routing, as Redis does before queueing), executed by EXEC.
func (s *Server) queueCommand(c *client, cmd *command, args [][]byte) {
	if cmd.engine != nil && cmd.hasKeys() {
		sl, has, cross := cmd.keySlot(args)
		if cross {
			s.reject(c, cmd, "CROSSSLOT Keys in request don't hash to the same slot")
			return
		}
		if has {
			if msg := s.backend.Route(sl, cmd.isWrite(), c.readonly, c.multiAsking || c.asking); msg != "" {
				s.reject(c, cmd, msg)
				return
			}
		}
	}
	// redcon's argument slices live in a per-command allocation, but the
	// queue outlives this batch only by reference: copy to be independent.
	cp := make([][]byte, len(args))
	for i, a := range args {
		cp[i] = bytes.Clone(a)
	}
	c.enqueue(queued{cmd: cmd, args: cp})
	s.flushGroup(c)
	c.out = append(c.out, "+QUEUED\r\n"...)
}

// reject answers a command with an error before running it. Inside MULTI it
// also dooms the transaction (EXECABORT), as Redis's rejectCommand does.
func (s *Server) reject(c *client, cmd *command, msg string) {
	s.flushGroup(c)
	if cmd != nil {
		cmd.rejected.Add(1)
	}
	if c.multi {
		c.multiDirty = true
	}
	s.replyError(c, nil, msg)
}

// replyError appends an error reply and counts it: as a failed call of cmd,
// or, with cmd nil (a handler's own error), in c.handlerErrs, which the
// dispatcher turns into one failed call of the handler's command.
func (s *Server) replyError(c *client, cmd *command, msg string) {
	if cmd != nil {
		cmd.failed.Add(1)
	} else {
		c.handlerErrs++
	}
	msg = s.redirectFor(c, msg)
	s.stats.countErrorText(msg)
	c.out = appendError(c.out, msg)
}

// runHandler runs a gateway command's handler; an error reply it gives
// (replyError with no command) makes the call a failed one, as Redis
// counts a command whose reply is an error (INFO commandstats).
func (s *Server) runHandler(c *client, cmd *command, args [][]byte) {
	before := c.handlerErrs
	cmd.handler(s, c, args)
	if c.handlerErrs != before {
		cmd.failed.Add(1)
		c.handlerErrs = before
	}
}

// unknownCommandError renders Redis 7.0's unknown command error.
func unknownCommandError(args [][]byte) string {
	name := args[0]
	if len(name) > 128 {
		name = name[:128]
	}
	var b strings.Builder
	b.WriteString("ERR unknown command '")
	b.Write(name)
	b.WriteString("', with args beginning with: ")
	n := 0
	for i := 1; i < len(args) && n < 128; i++ {
		a := args[i]
		if len(a) > 128-n {
			a = a[:128-n]
		}
		b.WriteByte('\'')
		b.Write(a)
		b.WriteString("' ")
		n += len(a) + 3
	}
	return b.String()
}

// flushGroup executes the pending engine commands.
func (s *Server) flushGroup(c *client) {
	if len(c.group) == 0 {
		return
	}
	start := time.Now()
	if c.groupW {
		s.runWrites(c)
	} else {
		s.runReads(c)
	}
	if c.frozen {
		c.frozen = false
		if w, ok := s.backend.(slotWaiter); ok {
			w.WaitSlotUnfrozen(s.ctx, c.frozenSlot, frozenHold)
		}
	}
	perD := time.Since(start) / time.Duration(len(c.group))
	per := perD.Microseconds()
	s.latencyMaybe(c.group[0].cmd, time.Duration(per)*time.Microsecond)
	if th := s.slowlogThreshold(); th >= 0 && per >= th {
		for i := range c.group {
			p := &c.group[i]
			s.slowlogAdd(c, p.cmd, p.origArgs(), per)
		}
	}
	// Count runs of the same command with one atomic add each: pipelines are
	// mostly one command repeated, and the counters are shared by every
	// connection.
	run, n := c.group[0].cmd, int64(0)
	for i := range c.group {
		p := &c.group[i]
		if p.cmd != run {
			run.calls.Add(n)
			if per > 0 {
				run.usec.Add(per * n)
			}
			s.recordLatency(run, perD, n)
			run, n = p.cmd, 0
		}
		n++
		p.args = nil
	}
	run.calls.Add(n)
	if per > 0 {
		run.usec.Add(per * n)
	}
	s.recordLatency(run, perD, n)
	c.group = c.group[:0]
}

// Letter case of a command name lowered in place.
const (
	nameLower uint8 = iota // as sent, or no letters changed
	nameUpper              // every letter was upper case
	nameMixed              // both: the original is lost (logged lower-cased)
)

func lowerInPlace(b []byte) uint8 {
	upper, lower := false, false
	for i, ch := range b {
		switch {
		case 'A' <= ch && ch <= 'Z':
			b[i] = ch + 'a' - 'A'
			upper = true
		case 'a' <= ch && ch <= 'z':
			lower = true
		}
	}
	switch {
	case upper && lower:
		return nameMixed
	case upper:
		return nameUpper
	}
	return nameLower
}

// origArgs returns the command line as the client sent it (for the slow
// log and MONITOR); it allocates only for a name sent in upper case.
func (p *pending) origArgs() [][]byte {
	if p.nameCase != nameUpper {
		return p.args
	}
	out := make([][]byte, len(p.args))
	copy(out, p.args)
	out[0] = bytes.ToUpper(p.args[0])
	return out
}

// runWrites proposes the group as one log entry.
func (s *Server) runWrites(c *client) {
	cmds := c.writeBuf[:0]
	for i := range c.group {
		if p := &c.group[i]; p.track {
			s.rememberKeys(c.id, p.cmd.engine, p.args) // a script's keys
		}
		cmds = append(cmds, c.group[i].args)
	}
	loop := s.noloopBegin(c, cmds)
	replies, err := s.proposeWrites(cmds)
	if loop {
		s.noloopEnd(c, err == nil)
	}
	clear(cmds)
	c.writeBuf = cmds[:0]
	if err != nil {
		for i := range c.group {
			p := &c.group[i]
			s.replyError(c, p.cmd, errorText(err, true, p.slot))
		}
		return
	}
	for i := range replies {
		c.noteFrozen(&c.group[i], &replies[i])
		s.appendEngineReply(c, c.group[i].cmd, &replies[i])
	}
}

// safeWrite calls Backend.Write, turning a panic into errInternal.
// proposeWrites is the one write path for pipelines, EXEC and MIGRATE:
// clients blocked on the keys take their turn first, the commands go to
// the backend as one log entry (bounded by writeTimeout), and on success the
// blocked clients they may feed are woken. It checks the reply count.
func (s *Server) proposeWrites(cmds [][][]byte) ([]raftfsm.Reply, error) {
	s.beforeWrites(cmds)
	ctx, cancel := context.WithTimeout(s.ctx, writeTimeout)
	defer cancel()
	replies, err := s.safeWrite(ctx, cmds)
	if err != nil {
		return nil, err
	}
	if len(replies) != len(cmds) {
		s.log.Error("backend returned a wrong number of replies", "want", len(cmds), "got", len(replies))
		return nil, errInternal
	}
	s.wakeBlocked(cmds)
	return replies, nil
}

func (s *Server) safeWrite(ctx context.Context, cmds [][][]byte) (replies []raftfsm.Reply, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic in backend write", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			replies, err = nil, errInternal
		}
	}()
	return s.backend.Write(ctx, cmds)
}

// runReads serves the group under one Backend.Read.
func (s *Server) runReads(c *client) {
	c.markOut = len(c.out)
	c.readDone = false
	err := s.safeRead(c)
	if err == nil && !c.readDone {
		err = errInternal
	}
	if len(c.misses) > 0 {
		// keymiss events, published outside the engine's read lock.
		evs := make([]raftfsm.KeyEvent, len(c.misses))
		for i, k := range c.misses {
			evs[i] = raftfsm.KeyEvent{Class: raftfsm.NotifyKeyMiss, Event: "keymiss", Key: k}
		}
		c.misses = c.misses[:0]
		s.KeyEvents(evs)
	}
	if err != nil {
		c.out = c.out[:c.markOut]
		for i := range c.group {
			p := &c.group[i]
			s.replyError(c, p.cmd, errorText(err, false, p.slot))
		}
	}
}

func (s *Server) safeRead(c *client) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic in backend read", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = errInternal
		}
	}()
	return s.backend.Read(s.ctx, c.readonly, c.readFn)
}

// runReads is the Backend.Read callback: it executes the pending reads under
// the engine's read lock and encodes the replies (they may alias engine
// memory, which stays valid as the engine never mutates strings in place).
func (c *client) runReads(db *raftfsm.DB, now int64) {
	c.seed = c.seed*6364136223846793005 + 1442695040888963407
	c.rctx = *raftfsm.NewCtx(db, now, false, c.seed)
	if c.srv.KeyEventMask()&raftfsm.NotifyKeyMiss != 0 {
		c.rctx.CollectMisses(&c.misses)
	}
	for i := range c.group {
		p := &c.group[i]
		r := c.execRead(p)
		if p.track {
			c.srv.rememberKeys(c.id, p.cmd.engine, p.args)
		}
		c.noteFrozen(p, &r)
		c.srv.appendEngineReply(c, p.cmd, &r)
	}
	c.readDone = true
}

// execRead runs one read; a panic answers ERR internal error without
// unwinding through the backend's lock.
func (c *client) execRead(p *pending) (r raftfsm.Reply) {
	defer func() {
		if x := recover(); x != nil {
			c.srv.log.Error("panic in engine read", "cmd", p.cmd.name, "panic", fmt.Sprint(x),
				"stack", string(debug.Stack()))
			r = raftfsm.Err("ERR internal error")
		}
	}()
	args := c.rctx.Unstamp(p.args) // EVAL_RO of a user with limited rights
	if r, ok := raftfsm.CheckRead(&c.rctx, p.slot, args); !ok {
		return r
	}
	return p.cmd.engine.Exec(&c.rctx, args)
}

// noteFrozen records a frozen slot's TRYAGAIN (flushGroup waits it out).
func (c *client) noteFrozen(p *pending, r *raftfsm.Reply) {
	if p.slot >= 0 && r.Kind == raftfsm.KindError && raftfsm.IsFrozenReply(r.Str) {
		c.frozen, c.frozenSlot = true, slots.Slot(p.slot)
	}
}

func (s *Server) appendEngineReply(c *client, cmd *command, r *raftfsm.Reply) {
	if r.Denied != nil {
		s.logScriptDenials(c, cmd, r.Denied) // calls the script was refused (scriptacl.go)
	}
	if r.Kind == raftfsm.KindError {
		if raftfsm.IsShardRedirect(r.Str) {
			rr := *r
			rr.Str = s.redirectFor(c, s.backend.ResolveRedirect(r.Str))
			r = &rr
		}
		cmd.failed.Add(1)
		if !r.ErrCounted { // else counted as the script's call that failed (ScriptCall)
			s.stats.countErrorText(r.Str)
		}
	}
	c.out = appendReply(c.out, r, c.resp)
}

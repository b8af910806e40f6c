package gateway

import (
	"strings"
	"time"

	"github.com/raftcache/raftcache/raftfsm"
	"github.com/raftcache/raftcache/slots"
)

// MULTI/EXEC: commands are checked and queued per connection; EXEC proposes
// every queued engine command as ONE Backend.Write, so the transaction is a
// single log entry applied atomically (reads inside it are applied from the
// log too). Gateway commands queued in a transaction (PING, ECHO ...) are
// answered in place after the entry applied.

func multiCmd(s *Server, c *client, args [][]byte) {
	if c.multi {
		s.replyError(c, nil, "ERR MULTI calls can not be nested")
		return
	}
	c.startMulti()
	c.out = append(c.out, "+OK\r\n"...)
}

func discardCmd(s *Server, c *client, args [][]byte) {
	if !c.multi {
		s.replyError(c, nil, "ERR DISCARD without MULTI")
		return
	}
	c.endMulti()
	unwatchAll(c)
	c.out = append(c.out, "+OK\r\n"...)
}

// WATCH records the keys' versions; EXEC re-checks them inside its log
// entry (see blocking.go and raftfsm/watch.go).
func watchCmd(s *Server, c *client, args [][]byte) {
	if c.multi {
		s.replyError(c, nil, "ERR WATCH inside MULTI is not allowed")
		return
	}
	s.watchKeys(c, args)
}

func unwatchCmd(s *Server, c *client, args [][]byte) {
	unwatchAll(c)
	c.out = append(c.out, "+OK\r\n"...)
}

func execCmd(s *Server, c *client, args [][]byte) {
	if !c.multi {
		s.replyError(c, nil, "ERR EXEC without MULTI")
		return
	}
	c.mu.Lock()
	q := c.queue
	c.mu.Unlock()
	dirty := c.multiDirty
	c.endMulti()
	ws := watchesOf(c)
	unwatchAll(c)
	if dirty {
		s.replyError(c, nil, "EXECABORT Transaction discarded because of previous errors.")
		return
	}
	rules := c.user.rules.Load()
	denied := s.execDenied(c, rules, q)
	q, denied = s.resolveScripts(q, denied)
	// Redis routes EXEC with the keys of every queued command.
	var slot slots.Slot
	has, write := false, false
	var engine [][][]byte
	for i, qc := range q {
		if qc.cmd.engine == nil || (denied != nil && denied[i] != "") {
			continue
		}
		engine = append(engine, stampScript(rules, qc.cmd, qc.args))
		write = write || qc.cmd.isWrite()
		if !qc.cmd.hasKeys() {
			continue
		}
		sl, h, cross := qc.cmd.keySlot(qc.args)
		if cross || (h && has && sl != slot) {
			s.replyError(c, nil, "CROSSSLOT Keys in request don't hash to the same slot")
			return
		}
		if h {
			slot, has = sl, true
		}
	}
	if has {
		if msg := s.backend.Route(slot, write, c.readonly, c.multiAsking); msg != "" {
			s.replyError(c, nil, msg)
			return
		}
	}
	slotArg := -1
	if has {
		slotArg = int(slot)
	}
	if ws != nil && len(engine) == 0 {
		ok, err := s.watchedUnchanged(ws)
		if err != nil {
			s.replyError(c, nil, errorText(err, false, slotArg))
			return
		}
		if !ok {
			c.out = appendNullArray(c.out, c.resp)
			return
		}
	}
	if len(engine) > 0 {
		// The check opens the entry: the transaction applies only if no
		// watched key changed and no command would be redirected (a slot
		// moving away), atomically on every replica. Without WATCH it is
		// an empty check.
		var keys [][]byte
		var vers []uint64
		if ws != nil {
			keys, vers = ws.keys, ws.vers
		}
		engine = append([][][]byte{raftfsm.WatchCheck(keys, vers)}, engine...)
	}
	if c.trackReads() {
		// Client tracking: the keys of the queued reads are remembered
		// before the transaction applies (at worst one extra invalidation
		// for a key the transaction itself writes before reading it).
		for i, qc := range q {
			if qc.cmd.engine != nil && (denied == nil || denied[i] == "") {
				s.rememberKeys(c.id, qc.cmd.engine, qc.args)
			}
		}
	}
	engStart := time.Now()
	engReplies := s.execEngine(c, engine, slotArg)
	var enginePer time.Duration // each engine command's share, for the slow log
	if n := len(engine) - 1; n > 0 {
		enginePer = time.Since(engStart) / time.Duration(n)
	}
	if engReplies.err != "" {
		s.replyError(c, nil, engReplies.err)
		return
	}
	if len(engine) > 0 {
		if raftfsm.WatchAborted(engReplies.replies) {
			c.out = appendNullArray(c.out, c.resp)
			return
		}
		if r := engReplies.replies[0]; r.Kind == raftfsm.KindError {
			// Redirected as a whole (ASK / MOVED / TRYAGAIN).
			s.replyError(c, nil, s.backend.ResolveRedirect(r.Str))
			return
		}
		engReplies.replies = engReplies.replies[1:]
	}
	c.out = appendArrayLen(c.out, len(q))
	ei := 0
	for i, qc := range q {
		if denied != nil && denied[i] != "" {
			if qc.cmd.rewrite != nil {
				qc.cmd.calls.Add(1) // NOSCRIPT: Redis ran the EVALSHA and it failed
			}
			s.replyError(c, qc.cmd, denied[i])
			continue
		}
		qc.cmd.calls.Add(1)
		s.monitorFeed(c, qc.cmd, qc.args)
		if qc.cmd.engine != nil {
			s.appendEngineReply(c, qc.cmd, &engReplies.replies[ei])
			ei++
			// EXEC is not logged; the commands it ran are.
			s.slowlogMaybe(c, qc.cmd, qc.args, enginePer)
			continue
		}
		start := time.Now()
		c.inExec = true                  // WAIT answers at once inside EXEC, as in Redis
		s.runHandler(c, qc.cmd, qc.args) // its failure is its own, not EXEC's
		c.inExec = false
		s.slowlogMaybe(c, qc.cmd, qc.args, time.Since(start))
	}
}

// resolveScripts turns each EVALSHA queued with a digest unknown at the
// time into its EVAL, the script having been loaded since by a SCRIPT
// LOAD queued before it in this transaction or by another client. One
// still unknown fails alone at EXEC with NOSCRIPT (its denied entry), as
// in Redis, where EXEC runs it and it fails. q is copied before a change.
func (s *Server) resolveScripts(q []queued, denied []string) ([]queued, []string) {
	var loads map[string][]byte // digest -> body, this transaction's SCRIPT LOADs so far
	copied := false
	for i, qc := range q {
		switch {
		case qc.cmd.name == "script|load" && len(qc.args) == 3:
			if loads == nil {
				loads = map[string][]byte{}
			}
			loads[raftfsm.ScriptSHA(qc.args[2])] = qc.args[2]
			continue
		case qc.cmd.rewrite == nil || (denied != nil && denied[i] != ""):
			continue
		}
		args, msg := qc.cmd.rewrite(s, qc.args)
		if msg != "" {
			body, ok := loads[strings.ToLower(string(qc.args[1]))]
			if !ok {
				if denied == nil {
					denied = make([]string, len(q))
				}
				denied[i] = msg
				continue
			}
			args = evalArgs(evalOf[qc.cmd.name], body, qc.args)
		}
		if !copied {
			q, copied = append([]queued(nil), q...), true
		}
		q[i] = queued{cmd: s.tab.lookup(args[0]), args: args}
	}
	return q, denied
}

// execDenied re-checks the queued commands against the user's current
// rules r, as Redis's EXEC does: rules may have changed since queueing
// (scripts carry r, the rules at EXEC).
// nil: every command may run.
func (s *Server) execDenied(c *client, r *userRules, q []queued) []string {
	if r.full {
		return nil
	}
	out := make([]string, len(q))
	for i, qc := range q {
		res, pos, name := r.check(qc.cmd, qc.args)
		if res == aclOK {
			continue
		}
		s.logDenied(c, name, qc.args, res, pos, true)
		reason := "no permission to execute the command or subcommand"
		switch res {
		case aclDeniedKey:
			reason = "no permission to touch the specified keys"
		case aclDeniedChannel:
			reason = "no permission to access one of the channels used as arguments"
		}
		out[i] = "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: " + reason
	}
	return out
}

type execResult struct {
	replies []raftfsm.Reply
	err     string
}

// execEngine proposes the transaction's engine commands as one entry.
func (s *Server) execEngine(c *client, cmds [][][]byte, slot int) execResult {
	if len(cmds) == 0 {
		return execResult{}
	}
	replies, err := s.proposeWrites(cmds)
	if err != nil {
		return execResult{err: errorText(err, true, slot)}
	}
	return execResult{replies: replies}
}

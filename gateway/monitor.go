package gateway

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// MONITOR: every command this node receives, as Redis prints it, pushed to
// the monitoring clients through their pub/sub writer (never blocking the
// sender). Like Redis: admin commands and those flagged skip_monitor are
// not shown, secrets are redacted, queued commands show when EXEC runs
// them; a command is shown when it is accepted (after the checks that may
// refuse it), before it runs. Commands that scripts run are not shown
// (they run inside every replica's engine).
type monitors struct {
	mu    sync.Mutex
	sinks map[*client]*pushSink
	n     atomic.Int32
}

func monitorCmd(s *Server, c *client, args [][]byte) {
	if c.monitor {
		return // already monitoring: Redis answers nothing
	}
	if c.multi {
		s.replyError(c, nil, "ERR MONITOR isn't allowed for DENY BLOCKING client")
		return
	}
	p := s.pubsubFor(c)
	m := &s.mon
	m.mu.Lock()
	if m.sinks == nil {
		m.sinks = map[*client]*pushSink{}
	}
	m.sinks[c] = p.sink
	m.n.Store(int32(len(m.sinks)))
	m.mu.Unlock()
	c.monitor = true
	s.setIdleGuard(c) // Redis does not time out monitors
	c.out = append(c.out, "+OK\r\n"...)
}

// monitorStop takes c out of the monitors (RESET, disconnect).
func (s *Server) monitorStop(c *client) {
	if !c.monitor {
		return
	}
	c.monitor = false
	m := &s.mon
	m.mu.Lock()
	delete(m.sinks, c)
	m.n.Store(int32(len(m.sinks)))
	m.mu.Unlock()
}

// monitorFeed shows a command to the monitors, if any.
func (s *Server) monitorFeed(c *client, cmd *command, args [][]byte) {
	if s.mon.n.Load() == 0 || (cmd.meta != nil && cmd.meta.flags&(rfAdmin|rfSkipMonitor) != 0 && !scriptCommand[cmd.name]) {
		// Scripts are skip_monitor in Redis only because they show
		// themselves, before the commands they run: so do we.
		return
	}
	s.monitorLine(c.addr, cmd, args)
}

// ScriptCall is told each command a script called on this replica
// (raftfsm.FSM.SetScriptCallSink). As in Redis, it counts in INFO
// commandstats (a call, and a failed call when it answered an error, one
// the script caught with pcall included; a refused one as a rejected
// call) and in errorstats, and MONITOR shows a command that ran as a
// "[0 lua]" line. Every replica runs a write's script, so each node of the
// shard counts and shows its commands, as Redis's replicas count the
// writes they apply.
func (s *Server) ScriptCall(args [][]byte, errText string, rejected bool) {
	if len(args) == 0 {
		return
	}
	cmd := s.tab.lookup(args[0])
	if cmd != nil && cmd.subs != nil && len(args) >= 2 {
		if sub := cmd.sub(args[1]); sub != nil {
			cmd = sub
		}
	}
	switch {
	case cmd == nil:
	case rejected:
		cmd.rejected.Add(1)
	default:
		cmd.calls.Add(1)
		if errText != "" {
			cmd.failed.Add(1)
		}
	}
	if errText != "" {
		s.stats.countErrorText(errText)
	}
	if !rejected && s.mon.n.Load() != 0 {
		s.monitorLine("lua", cmd, args)
	}
}

func (s *Server) monitorLine(source string, cmd *command, args [][]byte) {
	now := time.Now()
	b := make([]byte, 0, 64)
	b = append(b, '+')
	b = strconv.AppendInt(b, now.Unix(), 10)
	b = append(b, '.')
	us := strconv.Itoa(now.Nanosecond() / 1000)
	for i := len(us); i < 6; i++ {
		b = append(b, '0')
	}
	b = append(b, us...)
	b = append(b, " [0 "...)
	b = append(b, source...)
	b = append(b, ']')
	red := redactedArgs(cmd, args)
	for i, a := range args {
		b = append(b, ' ')
		if red[i] {
			a = []byte("(redacted)")
		}
		b = appendRepr(b, a)
	}
	b = append(b, "\r\n"...)
	m := &s.mon
	m.mu.Lock()
	for _, k := range m.sinks {
		k.push(b)
	}
	m.mu.Unlock()
}

// appendRepr quotes a string as Redis's sdscatrepr does.
func appendRepr(b, s []byte) []byte {
	b = append(b, '"')
	for _, ch := range s {
		switch ch {
		case '\\', '"':
			b = append(b, '\\', ch)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\a':
			b = append(b, '\\', 'a')
		case '\b':
			b = append(b, '\\', 'b')
		default:
			if ch >= 0x20 && ch < 0x7f {
				b = append(b, ch)
			} else {
				b = append(b, '\\', 'x', "0123456789abcdef"[ch>>4], "0123456789abcdef"[ch&15])
			}
		}
	}
	return append(b, '"')
}

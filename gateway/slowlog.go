package gateway

import (
	"bytes"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SLOWLOG: Redis's slow log, per node. A command is logged when its
// execution took at least slowlog-log-slower-than microseconds (0 logs
// every command, -1 none). Engine commands run in groups (a pipeline's
// writes are one Raft entry); each command of a group is timed at the
// group's time divided by its size, as INFO commandstats counts them, and
// a write's time includes its commit (replication and fsync), which is
// what the client waited for. Blocking commands count the time of their
// attempts, not the time spent waiting.

const (
	slowlogMaxArgc = 32  // SLOWLOG_ENTRY_MAX_ARGC
	slowlogMaxStr  = 128 // SLOWLOG_ENTRY_MAX_STRING
)

type slowEntry struct {
	id       int64
	time     int64 // Unix seconds
	duration int64 // microseconds
	args     [][]byte
	peer     string
	name     string
}

type slowlog struct {
	mu      sync.Mutex
	entries []slowEntry // oldest first
	nextID  int64
}

// slowlogThreshold is slowlog-log-slower-than in microseconds (-1: off).
func (s *Server) slowlogThreshold() int64 { return s.slowlogSlower.Load() }

// slowlogMaybe logs a command that took dur, if it is slow enough.
func (s *Server) slowlogMaybe(c *client, cmd *command, args [][]byte, dur time.Duration) {
	s.latencyMaybe(cmd, dur)
	s.recordLatency(cmd, dur, 1)
	th := s.slowlogThreshold()
	us := dur.Microseconds()
	if th < 0 || us < th || (cmd != nil && cmd.extra&rfSkipSlowlog != 0) {
		return
	}
	s.slowlogAdd(c, cmd, args, us)
}

func (s *Server) slowlogAdd(c *client, cmd *command, args [][]byte, us int64) {
	e := slowEntry{time: time.Now().Unix(), duration: us, args: slowlogArgs(cmd, args), peer: c.addr}
	c.mu.Lock()
	e.name = c.name
	c.mu.Unlock()
	max := int(s.conf.int("slowlog-max-len"))
	sl := &s.slowlog
	sl.mu.Lock()
	defer sl.mu.Unlock()
	e.id = sl.nextID
	sl.nextID++
	sl.entries = append(sl.entries, e)
	if over := len(sl.entries) - max; over > 0 {
		sl.entries = append(sl.entries[:0:0], sl.entries[over:]...)
	}
}

// slowlogArgs copies what the log keeps of a command line: at most 32
// arguments and 128 bytes of each, secrets redacted as Redis does.
func slowlogArgs(cmd *command, args [][]byte) [][]byte {
	red := redactedArgs(cmd, args)
	n := min(len(args), slowlogMaxArgc)
	out := make([][]byte, n)
	for i := 0; i < n; i++ {
		switch a := args[i]; {
		case n != len(args) && i == n-1:
			out[i] = []byte("... (" + strconv.Itoa(len(args)-n+1) + " more arguments)")
		case red[i]:
			out[i] = []byte("(redacted)")
		case len(a) > slowlogMaxStr:
			out[i] = append(bytes.Clone(a[:slowlogMaxStr]), "... ("+strconv.Itoa(len(a)-slowlogMaxStr)+" more bytes)"...)
		default:
			out[i] = bytes.Clone(a)
		}
	}
	return out
}

// sensitiveConfigs are the parameters whose CONFIG SET value is redacted.
var sensitiveConfigs = map[string]bool{"requirepass": true, "masterauth": true, "masteruser": true, "tls-key-file-pass": true}

// redactedArgs marks the arguments Redis redacts from its slow log and
// MONITOR (redactClientCommandArgument): passwords of AUTH, HELLO AUTH and
// MIGRATE AUTH/AUTH2, every argument of ACL SETUSER after the subcommand,
// and the values of sensitive CONFIG SET parameters.
func redactedArgs(cmd *command, args [][]byte) []bool {
	red := make([]bool, len(args))
	if cmd == nil {
		return red
	}
	from := func(i int) {
		for ; i < len(args); i++ {
			red[i] = true
		}
	}
	switch cmd.name {
	case "auth":
		from(1)
	case "acl|setuser":
		from(2)
	case "hello":
		for i := 2; i+2 < len(args); i++ {
			if strings.EqualFold(string(args[i]), "auth") {
				red[i+1], red[i+2] = true, true
				i += 2
			}
		}
	case "migrate":
		for i := 6; i < len(args); i++ {
			switch strings.ToLower(string(args[i])) {
			case "auth":
				if i+1 < len(args) {
					red[i+1] = true
				}
			case "auth2":
				if i+2 < len(args) {
					red[i+1], red[i+2] = true, true
				}
			}
		}
	case "config|set":
		for i := 2; i+1 < len(args); i += 2 {
			if sensitiveConfigs[strings.ToLower(string(args[i]))] {
				red[i+1] = true
			}
		}
	}
	return red
}

// introspectionCommands are SLOWLOG, MONITOR, WAIT and LATENCY.
func introspectionCommands() []*command {
	return []*command{
		{name: "slowlog", arity: -2, subs: map[string]*command{
			"get":   {arity: -2, handler: slowlogGetCmd},
			"len":   {arity: 2, handler: slowlogLenCmd},
			"reset": {arity: 2, handler: slowlogResetCmd},
			"help":  {arity: 2, handler: slowlogHelpCmd},
		}},
		{name: "monitor", arity: 1, handler: monitorCmd},
		{name: "wait", arity: 3, handler: waitCmd},
		{name: "latency", arity: -2, subs: map[string]*command{
			"latest":    {arity: 2, handler: latencyLatestCmd},
			"history":   {arity: 3, handler: latencyHistoryCmd},
			"reset":     {arity: -2, handler: latencyResetCmd},
			"doctor":    {arity: 2, handler: latencyDoctorCmd},
			"help":      {arity: 2, handler: latencyHelpCmd},
			"graph":     {arity: 3, handler: latencyGraphCmd},
			"histogram": {arity: -2, handler: latencyHistogramCmd},
		}},
	}
}

// slowlogGetCmd implements SLOWLOG GET [count].
func slowlogGetCmd(s *Server, c *client, args [][]byte) {
	count := int64(10)
	if len(args) == 3 {
		n, err := strconv.ParseInt(string(args[2]), 10, 64)
		if err != nil {
			s.replyError(c, nil, "ERR value is not an integer or out of range")
			return
		}
		if n < -1 {
			s.replyError(c, nil, "ERR count should be greater than or equal to -1")
			return
		}
		count = n
	}
	sl := &s.slowlog
	sl.mu.Lock()
	entries := sl.entries
	if count == -1 || count > int64(len(entries)) {
		count = int64(len(entries))
	}
	// Newest first.
	picked := make([]slowEntry, 0, count)
	for i := len(entries) - 1; i >= 0 && int64(len(picked)) < count; i-- {
		picked = append(picked, entries[i])
	}
	sl.mu.Unlock()
	c.out = appendArrayLen(c.out, len(picked))
	for _, e := range picked {
		c.out = appendArrayLen(c.out, 6)
		c.out = appendInt(c.out, e.id)
		c.out = appendInt(c.out, e.time)
		c.out = appendInt(c.out, e.duration)
		c.out = appendArrayLen(c.out, len(e.args))
		for _, a := range e.args {
			c.out = appendBulkBytes(c.out, a)
		}
		c.out = appendBulk(c.out, e.peer)
		c.out = appendBulk(c.out, e.name)
	}
}

func slowlogLenCmd(s *Server, c *client, args [][]byte) {
	s.slowlog.mu.Lock()
	n := len(s.slowlog.entries)
	s.slowlog.mu.Unlock()
	c.out = appendInt(c.out, int64(n))
}

func slowlogResetCmd(s *Server, c *client, args [][]byte) {
	s.slowlog.mu.Lock()
	s.slowlog.entries = nil
	s.slowlog.mu.Unlock()
	c.out = append(c.out, "+OK\r\n"...)
}

func slowlogHelpCmd(s *Server, c *client, args [][]byte) {
	helpReply(c, "SLOWLOG", []string{
		"GET [<count>]",
		"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
		"    Entries are made of:",
		"    id, timestamp, time in microseconds, arguments array, client IP and port,",
		"    client name",
		"LEN",
		"    Return the length of the slowlog.",
		"RESET",
		"    Reset the slowlog.",
	})
}

package gateway

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/raftcache/raftcache/raftfsm"
	"github.com/raftcache/raftcache/slots"
)

// handlerFunc runs a gateway command; it appends its reply to c.out.
type handlerFunc func(s *Server, c *client, args [][]byte)

// command is one entry of the merged table: an engine command (served through
// Backend.Read/Write and raftfsm) or a gateway command (connection-level,
// answered here).
type command struct {
	name      string // lower case; "client|list" for subcommands
	arity     int
	flags     raftfsm.Flag
	first     int
	last      int
	step      int
	keys      func(args [][]byte) []int // movable keys
	engine    *raftfsm.Command
	handler   handlerFunc
	subs      map[string]*command
	meta      *cmdMeta
	extra     redisFlag // Redis flags beyond raftfsm's (noscript, loading, stale ...)
	immediate bool      // runs at once inside MULTI instead of being queued
	aclID     int       // the command's identity in ACL rules (acl_rules.go)
	// rewrite turns the command into another before it is routed (EVALSHA
	// into EVAL); a non-empty message rejects it instead.
	rewrite func(s *Server, args [][]byte) ([][]byte, string)

	calls    atomic.Int64
	usec     atomic.Int64
	rejected atomic.Int64
	failed   atomic.Int64
	hist     atomic.Pointer[latencyHist] // nil until the command runs (latencyhist.go)
}

func (cmd *command) resetStats() {
	cmd.hist.Store(nil)
	cmd.calls.Store(0)
	cmd.usec.Store(0)
	cmd.rejected.Store(0)
	cmd.failed.Store(0)
}

func (cmd *command) isWrite() bool { return cmd.flags&raftfsm.FlagWrite != 0 }

func (cmd *command) arityOK(n int) bool {
	if cmd.arity > 0 {
		return n == cmd.arity
	}
	return n >= -cmd.arity
}

// hasKeys reports whether the command may take keys (and so is routed).
func (cmd *command) hasKeys() bool {
	return (cmd.engine != nil && cmd.first > 0) || cmd.keys != nil
}

// keySlot computes the slot of the command's keys without allocating for
// fixed key positions. has is false for keyless calls; cross is true when the
// keys span several slots.
func (cmd *command) keySlot(args [][]byte) (slot slots.Slot, has, cross bool) {
	if cmd.keys != nil {
		for _, i := range cmd.keys(args) {
			if i <= 0 || i >= len(args) {
				continue
			}
			s := slots.Of(args[i])
			if has && s != slot {
				return slot, true, true
			}
			slot, has = s, true
		}
		return slot, has, false
	}
	if cmd.first <= 0 {
		return 0, false, false
	}
	last := cmd.last
	if last < 0 {
		last = len(args) + last
	}
	step := cmd.step
	if step <= 0 {
		step = 1
	}
	for i := cmd.first; i <= last && i < len(args); i += step {
		s := slots.Of(args[i])
		if has && s != slot {
			return slot, true, true
		}
		slot, has = s, true
	}
	return slot, has, false
}

// keyPositions lists the key argument positions (COMMAND GETKEYS).
func (cmd *command) keyPositions(args [][]byte) []int {
	if cmd.keys != nil {
		return cmd.keys(args)
	}
	if cmd.engine != nil {
		return cmd.engine.KeyPositions(args)
	}
	return nil
}

// redisFlags returns the flags COMMAND reports.
func (cmd *command) redisFlags() redisFlag {
	f := cmd.extra
	if cmd.flags&raftfsm.FlagWrite != 0 {
		f |= rfWrite
	}
	if cmd.flags&raftfsm.FlagReadOnly != 0 {
		f |= rfReadonly
	}
	if cmd.flags&raftfsm.FlagDenyOOM != 0 {
		f |= rfDenyoom
	}
	if cmd.flags&raftfsm.FlagAdmin != 0 {
		f |= rfAdmin
	}
	if cmd.flags&raftfsm.FlagFast != 0 {
		f |= rfFast
	}
	if cmd.flags&raftfsm.FlagMovableKeys != 0 || cmd.keys != nil {
		f |= rfMovableKeys
	}
	return f
}

// table is the merged command table.
type table struct {
	m   map[string]*command
	all []*command // top-level commands sorted by name

	once  sync.Once
	cache [2][]byte // encoded COMMAND replies for RESP2 and RESP3
}

// commandTable builds a server's table (each server keeps its own command
// statistics). The engine registers its commands in init functions, so they
// are all known by the time a server is created.
func commandTable() *table {
	return buildTable(raftfsm.Commands(), append(append(append(append(append(gatewayCommands(), pubsubCommands()...), scriptCommands()...), aclCommands()...), introspectionCommands()...), serverCommands()...))
}

// coreFlagMask is the part of Redis's flags that raftfsm.Flag also expresses.
const coreFlagMask = rfWrite | rfReadonly | rfDenyoom | rfAdmin | rfFast | rfMovableKeys

func buildTable(engine []*raftfsm.Command, own []*command) *table {
	t := &table{m: make(map[string]*command)}
	for _, cmd := range own {
		if _, dup := t.m[cmd.name]; dup {
			panic("gateway: command " + cmd.name + " registered twice")
		}
		finishCommand(cmd, "")
		t.m[cmd.name] = cmd
	}
	for _, ec := range engine {
		if _, own := t.m[ec.Name]; own {
			// A connection-level command of the gateway takes precedence;
			// TestTableNoOverlap reports such a clash.
			continue
		}
		cmd := &command{name: ec.Name, arity: ec.Arity, flags: ec.Flags, first: ec.First, last: ec.Last,
			step: ec.Step, keys: ec.Keys, engine: ec}
		if ec.Flags&raftfsm.FlagMovableKeys == 0 {
			cmd.keys = nil
		}
		cmd.meta = redisMeta[cmd.name]
		if cmd.meta != nil {
			cmd.extra = cmd.meta.flags &^ coreFlagMask
		}
		cmd.subs = engineSubs(cmd)
		t.m[cmd.name] = cmd
	}
	for _, cmd := range t.m {
		t.all = append(t.all, cmd)
	}
	sort.Slice(t.all, func(i, j int) bool { return t.all[i].name < t.all[j].name })
	return t
}

// engineSubs gives an engine command that has subcommands in Redis
// (XGROUP, XINFO, OBJECT, MEMORY, FUNCTION) an entry per subcommand, run
// by the same engine command with the same flags and key positions:
// dispatch then checks a subcommand's name and arity as Redis does, and
// each has its own statistics (cmdstat_xgroup|createconsumer) and COMMAND
// INFO entry.
func engineSubs(parent *command) map[string]*command {
	prefix := parent.name + "|"
	var subs map[string]*command
	for name, m := range redisMeta {
		sub, ok := strings.CutPrefix(name, prefix)
		if !ok {
			continue
		}
		if subs == nil {
			subs = map[string]*command{}
		}
		sc := &command{name: name, arity: m.arity, flags: parent.flags, first: parent.first, last: parent.last,
			step: parent.step, keys: parent.keys, engine: parent.engine, meta: m, extra: m.flags &^ coreFlagMask}
		if sc.first == 0 && sc.keys == nil {
			// A container without keys of its own (MEMORY): the
			// subcommand's fixed key range (MEMORY USAGE key) routes it.
			sc.first, sc.last, sc.step = m.keyRange()
		}
		subs[sub] = sc
	}
	return subs
}

// keyRange returns the first, last and step of the key positions of a
// command whose only key spec is a fixed range (Redis's legacy triple; a
// negative last counts from the end), or zeros.
func (m *cmdMeta) keyRange() (first, last, step int) {
	if len(m.keySpecs) != 1 {
		return 0, 0, 0
	}
	ks := m.keySpecs[0]
	if ks.bs != bsIndex || ks.fk != fkRange || ks.limit > 1 {
		return 0, 0, 0
	}
	last = ks.lastKey
	if last >= 0 {
		last += ks.bsIndex
	}
	return ks.bsIndex, last, max(ks.keyStep, 1)
}

// finishCommand fills a gateway command's metadata from Redis's, and its
// subcommands' names.
func finishCommand(cmd *command, parent string) {
	if parent != "" {
		cmd.name = parent + "|" + cmd.name
	}
	cmd.meta = redisMeta[cmd.name]
	if cmd.meta != nil {
		cmd.extra = cmd.meta.flags &^ coreFlagMask
		if cmd.flags == 0 {
			cmd.flags = flagsFromRedis(cmd.meta.flags)
		}
	}
	for name, sub := range cmd.subs {
		sub.name = name
		finishCommand(sub, cmd.name)
	}
}

func flagsFromRedis(f redisFlag) raftfsm.Flag {
	var out raftfsm.Flag
	if f&rfWrite != 0 {
		out |= raftfsm.FlagWrite
	}
	if f&rfReadonly != 0 {
		out |= raftfsm.FlagReadOnly
	}
	if f&rfDenyoom != 0 {
		out |= raftfsm.FlagDenyOOM
	}
	if f&rfAdmin != 0 {
		out |= raftfsm.FlagAdmin
	}
	if f&rfFast != 0 {
		out |= raftfsm.FlagFast
	}
	return out
}

// lookup finds a command by name ignoring case, without allocating.
func (t *table) lookup(name []byte) *command {
	if len(name) > 64 {
		return nil
	}
	var buf [64]byte
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return t.m[string(buf[:len(name)])]
}

// sub finds a subcommand of cmd.
func (cmd *command) sub(name []byte) *command {
	if len(name) > 64 {
		return nil
	}
	var buf [64]byte
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return cmd.subs[string(buf[:len(name)])]
}

// lookupFull resolves "client|list" style or plain names (COMMAND INFO/DOCS).
func (t *table) lookupFull(name []byte) *command {
	for i, c := range name {
		if c == '|' {
			parent := t.lookup(name[:i])
			if parent == nil || parent.subs == nil {
				return nil
			}
			return parent.sub(name[i+1:])
		}
	}
	return t.lookup(name)
}

// gatewayCommands lists the connection-level commands answered by the
// gateway itself. Arity and flags follow Redis 7.0.
func gatewayCommands() []*command {
	return []*command{
		{name: "ping", arity: -1, handler: pingCmd},
		{name: "echo", arity: 2, handler: echoCmd},
		{name: "select", arity: 2, handler: selectCmd},
		{name: "quit", arity: -1, handler: quitCmd, immediate: true},
		{name: "reset", arity: 1, handler: resetCmd, immediate: true},
		{name: "hello", arity: -1, handler: helloCmd},
		{name: "auth", arity: -2, handler: authCmd},
		{name: "time", arity: 1, handler: timeCmd},
		{name: "readonly", arity: 1, handler: readonlyCmd},
		{name: "readwrite", arity: 1, handler: readwriteCmd},
		{name: "asking", arity: 1, handler: askingCmd},
		{name: "multi", arity: 1, handler: multiCmd, immediate: true},
		{name: "exec", arity: 1, handler: execCmd, immediate: true},
		{name: "discard", arity: 1, handler: discardCmd, immediate: true},
		{name: "watch", arity: -2, handler: watchCmd, immediate: true},
		{name: "unwatch", arity: 1, handler: unwatchCmd},
		{name: "info", arity: -1, handler: infoCmd},
		{name: "cluster", arity: -2, subs: clusterSubcommands()},
		{name: "command", arity: -1, handler: commandCmd, subs: map[string]*command{
			"count":           {arity: 2, handler: commandCountCmd},
			"docs":            {arity: -2, handler: commandDocsCmd},
			"getkeys":         {arity: -4, handler: commandGetKeysCmd},
			"getkeysandflags": {arity: -4, handler: commandGetKeysAndFlagsCmd},
			"help":            {arity: 2, handler: commandHelpCmd},
			"info":            {arity: -2, handler: commandInfoCmd},
			"list":            {arity: -2, handler: commandListCmd},
		}},
		{name: "client", arity: -2, subs: map[string]*command{
			"id":           {arity: 2, handler: clientIDCmd},
			"setname":      {arity: 3, handler: clientSetNameCmd},
			"getname":      {arity: 2, handler: clientGetNameCmd},
			"list":         {arity: -2, handler: clientListCmd},
			"info":         {arity: 2, handler: clientInfoCmd},
			"kill":         {arity: -3, handler: clientKillCmd},
			"unblock":      {arity: -3, handler: clientUnblockCmd},
			"setinfo":      {arity: 4, handler: clientSetInfoCmd},
			"no-evict":     {arity: 3, handler: clientNoEvictCmd},
			"no-touch":     {arity: 3, handler: clientNoTouchCmd},
			"pause":        {arity: -3, handler: clientPauseCmd},
			"unpause":      {arity: 2, handler: clientUnpauseCmd},
			"reply":        {arity: 3, handler: clientReplyCmd},
			"tracking":     {arity: -3, handler: clientTrackingCmd},
			"caching":      {arity: 3, handler: clientCachingCmd},
			"getredir":     {arity: 2, handler: clientGetRedirCmd},
			"trackinginfo": {arity: 2, handler: clientTrackingInfoCmd},
			"help":         {arity: 2, handler: clientHelpCmd},
		}},
		{name: "migrate", arity: -6, handler: migrateCmd, keys: migrateKeys},
		{name: "config", arity: -2, subs: map[string]*command{
			"get":       {arity: -3, handler: configGetCmd},
			"set":       {arity: -4, handler: configSetCmd},
			"resetstat": {arity: 2, handler: configResetStatCmd},
			"rewrite":   {arity: 2, handler: configRewriteCmd},
			"help":      {arity: 2, handler: configHelpCmd},
		}},
	}
}

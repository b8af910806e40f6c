package gateway

import (
	"sort"
	"strings"

	"github.com/raftcache/raftcache/raftfsm"
)

// COMMAND and its subcommands, in Redis 7.0's 10-element entry shape:
// name, arity, flags (set), first key, last key, step, ACL categories (set),
// tips (set), key specs (set of maps), subcommands (array of entries).

func sortedSubs(cmd *command) []*command {
	if len(cmd.subs) == 0 {
		return nil
	}
	out := make([]*command, 0, len(cmd.subs))
	for _, s := range cmd.subs {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// eachCommand calls fn for every command of the table, each followed by
// its subcommands in name order (INFO commandstats' order).
func (t *table) eachCommand(fn func(*command)) {
	for _, cmd := range t.all {
		fn(cmd)
		for _, sub := range sortedSubs(cmd) {
			fn(sub)
		}
	}
}

// legacyRange returns COMMAND's first/last/step.
func (cmd *command) legacyRange() (int, int, int) {
	if cmd.first <= 0 {
		return 0, 0, 0
	}
	step := cmd.step
	if step <= 0 {
		step = 1
	}
	return cmd.first, cmd.last, step
}

func (cmd *command) aclCats() aclCat {
	var explicit aclCat
	if cmd.meta != nil {
		explicit = cmd.meta.acl
	}
	return implicitACL(explicit, cmd.redisFlags())
}

// keySpecs returns Redis's key specs, or one synthesized from the legacy
// range for engine commands Redis 7.0 does not have.
func (cmd *command) keySpecs() []keySpec {
	if cmd.meta != nil {
		return cmd.meta.keySpecs
	}
	first, last, step := cmd.legacyRange()
	if first == 0 {
		return nil
	}
	ks := keySpec{bs: bsIndex, bsIndex: first, fk: fkRange, keyStep: step}
	if last < 0 {
		ks.lastKey = last
	} else {
		ks.lastKey = last - first
	}
	if cmd.isWrite() {
		ks.flags = kfRw | kfUpdate
	} else {
		ks.flags = kfRo | kfAccess
	}
	return []keySpec{ks}
}

func appendStatusSet(b []byte, items []string, resp int) []byte {
	b = appendSetLen(b, len(items), resp)
	for _, it := range items {
		b = appendStatus(b, it)
	}
	return b
}

func appendKeySpec(b []byte, ks *keySpec, resp int) []byte {
	n := 3
	if ks.notes != "" {
		n++
	}
	b = appendMapLen(b, n, resp)
	if ks.notes != "" {
		b = appendBulk(b, "notes")
		b = appendBulk(b, ks.notes)
	}
	b = appendBulk(b, "flags")
	var fl []string
	for i, name := range keyFlagNames {
		if ks.flags&(1<<i) != 0 {
			fl = append(fl, name)
		}
	}
	b = appendStatusSet(b, fl, resp)
	b = appendBulk(b, "begin_search")
	b = appendMapLen(b, 2, resp)
	b = appendBulk(b, "type")
	switch ks.bs {
	case bsIndex:
		b = appendBulk(b, "index")
		b = appendBulk(b, "spec")
		b = appendMapLen(b, 1, resp)
		b = appendBulk(b, "index")
		b = appendInt(b, int64(ks.bsIndex))
	case bsKeyword:
		b = appendBulk(b, "keyword")
		b = appendBulk(b, "spec")
		b = appendMapLen(b, 2, resp)
		b = appendBulk(b, "keyword")
		b = appendBulk(b, ks.bsKeyword)
		b = appendBulk(b, "startfrom")
		b = appendInt(b, int64(ks.bsStart))
	default:
		b = appendBulk(b, "unknown")
		b = appendBulk(b, "spec")
		b = appendMapLen(b, 0, resp)
	}
	b = appendBulk(b, "find_keys")
	b = appendMapLen(b, 2, resp)
	b = appendBulk(b, "type")
	switch ks.fk {
	case fkRange:
		b = appendBulk(b, "range")
		b = appendBulk(b, "spec")
		b = appendMapLen(b, 3, resp)
		b = appendBulk(b, "lastkey")
		b = appendInt(b, int64(ks.lastKey))
		b = appendBulk(b, "keystep")
		b = appendInt(b, int64(ks.keyStep))
		b = appendBulk(b, "limit")
		b = appendInt(b, int64(ks.limit))
	case fkKeynum:
		b = appendBulk(b, "keynum")
		b = appendBulk(b, "spec")
		b = appendMapLen(b, 3, resp)
		b = appendBulk(b, "keynumidx")
		b = appendInt(b, int64(ks.keynumIdx))
		b = appendBulk(b, "firstkey")
		b = appendInt(b, int64(ks.firstKey))
		b = appendBulk(b, "keystep")
		b = appendInt(b, int64(ks.keyStep))
	default:
		b = appendBulk(b, "unknown")
		b = appendBulk(b, "spec")
		b = appendMapLen(b, 0, resp)
	}
	return b
}

func appendCommandInfo(b []byte, cmd *command, resp int) []byte {
	if cmd == nil {
		return appendNull(b, resp)
	}
	b = appendArrayLen(b, 10)
	b = appendBulk(b, cmd.name)
	b = appendInt(b, int64(cmd.arity))
	b = appendStatusSet(b, cmd.redisFlags().names(), resp)
	first, last, step := cmd.legacyRange()
	b = appendInt(b, int64(first))
	b = appendInt(b, int64(last))
	b = appendInt(b, int64(step))
	b = appendStatusSet(b, cmd.aclCats().names(), resp)
	var tips []string
	if cmd.meta != nil {
		tips = cmd.meta.tips
	}
	b = appendSetLen(b, len(tips), resp)
	for _, t := range tips {
		b = appendBulk(b, t)
	}
	specs := cmd.keySpecs()
	b = appendSetLen(b, len(specs), resp)
	for i := range specs {
		b = appendKeySpec(b, &specs[i], resp)
	}
	subs := sortedSubs(cmd)
	if len(subs) == 0 {
		return appendSetLen(b, 0, resp)
	}
	b = appendArrayLen(b, len(subs))
	for _, sc := range subs {
		b = appendCommandInfo(b, sc, resp)
	}
	return b
}

func (t *table) commandReply(resp int) []byte {
	t.once.Do(func() {
		for i, r := range []int{2, 3} {
			b := appendArrayLen(nil, len(t.all))
			for _, cmd := range t.all {
				b = appendCommandInfo(b, cmd, r)
			}
			t.cache[i] = b
		}
	})
	if resp >= 3 {
		return t.cache[1]
	}
	return t.cache[0]
}

func commandCmd(s *Server, c *client, args [][]byte) {
	c.out = append(c.out, s.tab.commandReply(c.resp)...)
}

func commandCountCmd(s *Server, c *client, args [][]byte) {
	c.out = appendInt(c.out, int64(len(s.tab.all)))
}

func commandInfoCmd(s *Server, c *client, args [][]byte) {
	if len(args) == 2 {
		c.out = append(c.out, s.tab.commandReply(c.resp)...)
		return
	}
	c.out = appendArrayLen(c.out, len(args)-2)
	for _, a := range args[2:] {
		c.out = appendCommandInfo(c.out, s.tab.lookupFull(a), c.resp)
	}
}

func appendCommandDocs(b []byte, cmd *command, resp int) []byte {
	m := cmd.meta
	if m == nil {
		m = &cmdMeta{group: "generic"}
	}
	type kv struct{ k, v string }
	var fields []kv
	if m.summary != "" {
		fields = append(fields, kv{"summary", m.summary})
	}
	if m.since != "" {
		fields = append(fields, kv{"since", m.since})
	}
	fields = append(fields, kv{"group", docGroup(m.group)})
	if m.complexity != "" {
		fields = append(fields, kv{"complexity", m.complexity})
	}
	n := len(fields)
	if m.docFlags != 0 {
		n++
	}
	if m.deprecatedSince != "" {
		n++
	}
	if m.replacedBy != "" {
		n++
	}
	subs := sortedSubs(cmd)
	if len(subs) > 0 {
		n++
	}
	b = appendMapLen(b, n, resp)
	for _, f := range fields {
		b = appendBulk(b, f.k)
		b = appendBulk(b, f.v)
	}
	if m.docFlags != 0 {
		b = appendBulk(b, "doc_flags")
		var fl []string
		if m.docFlags&docDeprecated != 0 {
			fl = append(fl, "deprecated")
		}
		if m.docFlags&docSyscmd != 0 {
			fl = append(fl, "syscmd")
		}
		b = appendStatusSet(b, fl, resp)
	}
	if m.deprecatedSince != "" {
		b = appendBulk(b, "deprecated_since")
		b = appendBulk(b, m.deprecatedSince)
	}
	if m.replacedBy != "" {
		b = appendBulk(b, "replaced_by")
		b = appendBulk(b, m.replacedBy)
	}
	if len(subs) > 0 {
		b = appendBulk(b, "subcommands")
		b = appendMapLen(b, len(subs), resp)
		for _, sc := range subs {
			b = appendBulk(b, sc.name)
			b = appendCommandDocs(b, sc, resp)
		}
	}
	return b
}

func commandDocsCmd(s *Server, c *client, args [][]byte) {
	var list []*command
	if len(args) == 2 {
		list = s.tab.all
	} else {
		for _, a := range args[2:] {
			if cmd := s.tab.lookupFull(a); cmd != nil {
				list = append(list, cmd)
			}
		}
	}
	c.out = appendMapLen(c.out, len(list), c.resp)
	for _, cmd := range list {
		c.out = appendBulk(c.out, cmd.name)
		c.out = appendCommandDocs(c.out, cmd, c.resp)
	}
}

// getKeys resolves COMMAND GETKEYS's target and its key positions; it
// returns an error text when there are none.
func (s *Server) getKeys(args [][]byte) (*command, []int, string) {
	target := args[2:]
	cmd := s.tab.lookup(target[0])
	if cmd != nil && cmd.subs != nil && len(target) >= 2 {
		cmd = cmd.sub(target[1])
	}
	if cmd == nil {
		return nil, nil, "ERR Invalid command specified"
	}
	if !cmd.hasKeys() {
		return nil, nil, "ERR The command has no key arguments"
	}
	if !cmd.arityOK(len(target)) {
		return nil, nil, "ERR Invalid number of arguments specified for command"
	}
	var pos []int
	for _, p := range cmd.keyPositions(target) {
		if p > 0 && p < len(target) {
			pos = append(pos, p)
		}
	}
	if len(pos) == 0 {
		if cmd.extra&rfNoMandatoryKeys != 0 {
			return cmd, nil, ""
		}
		return nil, nil, "ERR Invalid arguments specified for command"
	}
	return cmd, pos, ""
}

func commandGetKeysCmd(s *Server, c *client, args [][]byte) {
	_, pos, msg := s.getKeys(args)
	if msg != "" {
		s.replyError(c, nil, msg)
		return
	}
	c.out = appendArrayLen(c.out, len(pos))
	for _, p := range pos {
		c.out = appendBulkBytes(c.out, args[2+p])
	}
}

func commandGetKeysAndFlagsCmd(s *Server, c *client, args [][]byte) {
	cmd, pos, msg := s.getKeys(args)
	if msg != "" {
		s.replyError(c, nil, msg)
		return
	}
	// Each key's flags as ACL checks resolve them: its own key spec, or
	// for commands whose access depends on the arguments (SET ... GET,
	// SORT ... STORE) what this call does, as Redis's getkeys procs tell.
	target := args[2:]
	byPos := map[int]keyFlag{}
	for _, r := range aclKeys(cmd, aclResolve(cmd, target), target) {
		byPos[r.pos] = r.flags
	}
	fallback := kfRo | kfAccess
	if cmd.isWrite() {
		fallback = kfRw | kfUpdate
	}
	c.out = appendArrayLen(c.out, len(pos))
	for _, p := range pos {
		f, ok := byPos[p]
		if !ok {
			f = fallback
		}
		var flags []string
		for i, name := range keyFlagNames {
			if f&(1<<i) != 0 && keyFlag(1<<i) != kfVariableFlags {
				flags = append(flags, name)
			}
		}
		c.out = appendArrayLen(c.out, 2)
		c.out = appendBulkBytes(c.out, args[2+p])
		c.out = appendStatusSet(c.out, flags, c.resp)
	}
}

func commandListCmd(s *Server, c *client, args [][]byte) {
	var match func(cmd *command) bool
	switch {
	case len(args) == 2:
		match = func(*command) bool { return true }
	case len(args) == 5 && raftfsm.EqFold(args[2], "filterby"):
		arg := string(args[4])
		switch {
		case raftfsm.EqFold(args[3], "module"):
			match = func(*command) bool { return false }
		case raftfsm.EqFold(args[3], "aclcat"):
			cat := aclCat(0)
			for i, n := range aclNames {
				if strings.EqualFold(n, arg) {
					cat = 1 << i
				}
			}
			match = func(cmd *command) bool { return cat != 0 && cmd.aclCats()&cat != 0 }
		case raftfsm.EqFold(args[3], "pattern"):
			match = func(cmd *command) bool { return raftfsm.GlobMatch(arg, cmd.name, true) }
		default:
			s.replyError(c, nil, "ERR syntax error")
			return
		}
	default:
		s.replyError(c, nil, "ERR syntax error")
		return
	}
	var names []string
	for _, cmd := range s.tab.all {
		if match(cmd) {
			names = append(names, cmd.name)
		}
		for _, sc := range sortedSubs(cmd) {
			if match(sc) {
				names = append(names, sc.name)
			}
		}
	}
	c.out = appendArrayLen(c.out, len(names))
	for _, n := range names {
		c.out = appendBulk(c.out, n)
	}
}

func commandHelpCmd(s *Server, c *client, args [][]byte) {
	helpReply(c, "COMMAND", []string{
		"(no subcommand)",
		"    Return details about all Redis commands.",
		"COUNT",
		"    Return the total number of commands in this Redis server.",
		"LIST",
		"    Return a list of all commands in this Redis server.",
		"INFO [<command-name> ...]",
		"    Return details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"DOCS [<command-name> ...]",
		"    Return documentation details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"GETKEYS <full-command>",
		"    Return the keys from a full Redis command.",
		"GETKEYSANDFLAGS <full-command>",
		"    Return the keys and the access flags from a full Redis command.",
	})
}

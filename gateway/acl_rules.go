package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
	"sync"

	"github.com/raftcache/raftcache/raftfsm"
)

// ACL rules as Redis 7.0 parses and describes them (acl.c: ACLSetUser,
// ACLSetSelector, ACLDescribeUser). A user's rules are an immutable value:
// ACL SETUSER builds a modified copy and publishes it, so dispatch reads a
// user's rules with one atomic load and never takes a lock.

// aclPerm is what a key pattern grants (%R~, %W~, %RW~ or ~).
type aclPerm uint8

const (
	aclPermRead aclPerm = 1 << iota
	aclPermWrite
	aclPermAll = aclPermRead | aclPermWrite
)

type keyPattern struct {
	pat  string
	perm aclPerm
}

func (p keyPattern) String() string {
	switch p.perm {
	case aclPermRead:
		return "%R~" + p.pat
	case aclPermWrite:
		return "%W~" + p.pat
	}
	return "~" + p.pat
}

// aclSelector is one set of command, key and channel permissions; a user
// has a root selector and any number of (...) selectors.
type aclSelector struct {
	allCmds     bool     // every bit is set: the command check is skipped
	future      bool     // +@all was given and not undone by -@all
	cmds        []uint64 // one bit per aclCommand.id
	firstArgs   map[int][]string
	allKeys     bool
	keys        []keyPattern
	allChannels bool
	channels    []string
}

func newSelector() *aclSelector {
	return &aclSelector{cmds: make([]uint64, (aclCmds().n+63)/64)}
}

func (s *aclSelector) clone() *aclSelector {
	c := *s
	c.cmds = append([]uint64(nil), s.cmds...)
	c.keys = append([]keyPattern(nil), s.keys...)
	c.channels = append([]string(nil), s.channels...)
	if s.firstArgs != nil {
		c.firstArgs = make(map[int][]string, len(s.firstArgs))
		for k, v := range s.firstArgs {
			c.firstArgs[k] = append([]string(nil), v...)
		}
	}
	return &c
}

func (s *aclSelector) bit(id int) bool { return s.cmds[id/64]&(1<<(id%64)) != 0 }

func (s *aclSelector) setBit(id int, on bool) {
	if on {
		s.cmds[id/64] |= 1 << (id % 64)
	} else {
		s.cmds[id/64] &^= 1 << (id % 64)
		s.allCmds = false
	}
}

// changePerm allows or denies a command; a container's subcommands follow.
func (s *aclSelector) changePerm(cmd *aclCommand, on bool) {
	s.setBit(cmd.id, on)
	delete(s.firstArgs, cmd.id)
	for _, sub := range cmd.subs {
		s.setBit(sub.id, on)
	}
}

func (s *aclSelector) setCategory(cat aclCat, on bool) {
	var walk func(cmds []*aclCommand)
	walk = func(cmds []*aclCommand) {
		for _, cmd := range cmds {
			if cmd.cats&cat != 0 {
				s.changePerm(cmd, on)
			}
			walk(cmd.subs)
		}
	}
	walk(aclCmds().top)
}

func (s *aclSelector) setAll(on bool) {
	v := uint64(0)
	if on {
		v = ^v
	}
	for i := range s.cmds {
		s.cmds[i] = v
	}
	s.allCmds, s.future = on, on
	s.firstArgs = nil
}

// aclErr is an ACLSetUser failure; its text follows ACLSetUserStringError.
type aclErr uint8

const (
	aclErrSyntax aclErr = iota + 1
	aclErrUnknown
	aclErrKeysAfterAll
	aclErrChannelsAfterAll
	aclErrNoSuchPass
	aclErrBadHash
	aclErrFirstArgOfSub
)

func (e aclErr) String() string {
	switch e {
	case aclErrUnknown:
		return "Unknown command or category name in ACL"
	case aclErrSyntax:
		return "Syntax error"
	case aclErrKeysAfterAll:
		return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
	case aclErrChannelsAfterAll:
		return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
	case aclErrNoSuchPass:
		return "The password you are trying to remove from the user does not exist"
	case aclErrBadHash:
		return "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
	case aclErrFirstArgOfSub:
		return "Allowing first-arg of a subcommand is not supported"
	}
	return "Wrong format"
}

func hasSpaces(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\v', '\f', '\r', 0:
			return true
		}
	}
	return false
}

// apply runs one selector rule (ACLSetSelector).
func (s *aclSelector) apply(op string) aclErr {
	switch {
	case strings.EqualFold(op, "allkeys") || op == "~*":
		s.allKeys, s.keys = true, nil
	case strings.EqualFold(op, "resetkeys"):
		s.allKeys, s.keys = false, nil
	case strings.EqualFold(op, "allchannels") || op == "&*":
		s.allChannels, s.channels = true, nil
	case strings.EqualFold(op, "resetchannels"):
		s.allChannels, s.channels = false, nil
	case strings.EqualFold(op, "allcommands") || strings.EqualFold(op, "+@all"):
		s.setAll(true)
	case strings.EqualFold(op, "nocommands") || strings.EqualFold(op, "-@all"):
		s.setAll(false)
	case op[0] == '~' || op[0] == '%':
		return s.addKeyPattern(op)
	case op[0] == '&':
		if s.allChannels {
			return aclErrChannelsAfterAll
		}
		if hasSpaces(op[1:]) {
			return aclErrSyntax
		}
		if !contains(s.channels, op[1:]) {
			s.channels = append(s.channels, op[1:])
		}
		s.allChannels = false
	case len(op) >= 2 && (op[0] == '+' || op[0] == '-') && op[1] == '@':
		cat, ok := aclCategory(op[2:])
		if !ok {
			return aclErrUnknown
		}
		s.setCategory(cat, op[0] == '+')
	case op[0] == '+':
		return s.allowCommand(op[1:])
	case op[0] == '-':
		cmd := aclCmds().lookup(op[1:])
		if cmd == nil {
			return aclErrUnknown
		}
		s.changePerm(cmd, false)
	default:
		return aclErrSyntax
	}
	return 0
}

func (s *aclSelector) addKeyPattern(op string) aclErr {
	if s.allKeys {
		return aclErrKeysAfterAll
	}
	perm, off := aclPermAll, 1
	if op[0] == '%' {
		perm = 0
		for ; off < len(op); off++ {
			ch := op[off]
			if (ch == 'R' || ch == 'r') && perm&aclPermRead == 0 {
				perm |= aclPermRead
			} else if (ch == 'W' || ch == 'w') && perm&aclPermWrite == 0 {
				perm |= aclPermWrite
			} else if ch == '~' {
				off++
				break
			} else {
				return aclErrSyntax
			}
		}
	}
	pat := op[min(off, len(op)):]
	if hasSpaces(pat) {
		return aclErrSyntax
	}
	for i := range s.keys {
		if s.keys[i].pat == pat {
			s.keys[i].perm |= perm
			return 0
		}
	}
	s.keys = append(s.keys, keyPattern{pat: pat, perm: perm})
	s.allKeys = false
	return 0
}

// allowCommand is +name, +container|sub or +command|first-arg.
func (s *aclSelector) allowCommand(name string) aclErr {
	u := aclCmds()
	bar := strings.LastIndexByte(name, '|')
	if bar < 0 {
		cmd := u.lookup(name)
		if cmd == nil {
			return aclErrUnknown
		}
		s.changePerm(cmd, true)
		return 0
	}
	parent, sub := name[:bar], name[bar+1:]
	cmd := u.lookup(parent)
	if cmd == nil {
		return aclErrUnknown
	}
	if cmd.parent != nil {
		return aclErrFirstArgOfSub
	}
	if sub == "" {
		return aclErrSyntax
	}
	if len(cmd.subs) > 0 {
		full := u.lookup(name)
		if full == nil {
			return aclErrUnknown
		}
		s.changePerm(full, true)
		return 0
	}
	// SELECT|0 style: a first argument of a command without subcommands
	// (deprecated in Redis, still accepted).
	if s.firstArgs == nil {
		s.firstArgs = map[int][]string{}
	}
	for _, a := range s.firstArgs[cmd.id] {
		if strings.EqualFold(a, sub) {
			return 0
		}
	}
	s.firstArgs[cmd.id] = append(s.firstArgs[cmd.id], sub)
	return 0
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func aclCategory(name string) (aclCat, bool) {
	for i, n := range aclNames {
		if strings.EqualFold(n, name) {
			return 1 << i, true
		}
	}
	return 0, false
}

// userRules is an immutable snapshot of a user's settings.
type userRules struct {
	enabled   bool // "on" ("off" otherwise)
	flagSet   bool // on/off was ever given (a new user shows "off")
	nopass    bool
	sanitize  int8 // 0 none, 1 sanitize-payload, -1 skip-sanitize-payload
	passwords []string
	selectors []*aclSelector // [0] is the root selector
	// full: the root selector allows every command, key and channel, so
	// dispatch skips all checks (the default user's fast path).
	full bool
	// stamp is the rule string stamped into the log entry of a script this
	// user runs (scriptacl.go); nil for a full user.
	stamp []byte
}

func newUserRules() *userRules {
	return &userRules{selectors: []*aclSelector{newSelector()}}
}

func (r *userRules) clone() *userRules {
	c := *r
	c.passwords = append([]string(nil), r.passwords...)
	c.selectors = make([]*aclSelector, len(r.selectors))
	for i, s := range r.selectors {
		c.selectors[i] = s.clone()
	}
	return &c
}

func (r *userRules) root() *aclSelector { return r.selectors[0] }

func (r *userRules) finish() *userRules {
	root := r.root()
	r.full = root.allCmds && root.allKeys && root.allChannels
	r.stamp = nil
	if !r.full {
		r.stamp = []byte(r.describePerms())
	}
	return r
}

func hashPassword(p string) string {
	h := sha256.Sum256([]byte(p))
	return hex.EncodeToString(h[:])
}

func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// apply runs one user rule (ACLSetUser).
func (r *userRules) apply(op string) aclErr {
	if op == "" {
		return 0
	}
	switch {
	case strings.EqualFold(op, "on"):
		r.enabled, r.flagSet = true, true
	case strings.EqualFold(op, "off"):
		r.enabled, r.flagSet = false, true
	case strings.EqualFold(op, "skip-sanitize-payload"):
		r.sanitize = -1
	case strings.EqualFold(op, "sanitize-payload"):
		r.sanitize = 1
	case strings.EqualFold(op, "nopass"):
		r.nopass, r.passwords = true, nil
	case strings.EqualFold(op, "resetpass"):
		r.nopass, r.passwords = false, nil
	case op[0] == '>' || op[0] == '#':
		h := op[1:]
		if op[0] == '>' {
			h = hashPassword(h)
		} else if !validHash(h) {
			return aclErrBadHash
		}
		if !contains(r.passwords, h) {
			r.passwords = append(r.passwords, h)
		}
		r.nopass = false
	case op[0] == '<' || op[0] == '!':
		h := op[1:]
		if op[0] == '<' {
			h = hashPassword(h)
		} else if !validHash(h) {
			return aclErrBadHash
		}
		i := indexOf(r.passwords, h)
		if i < 0 {
			return aclErrNoSuchPass
		}
		r.passwords = append(r.passwords[:i:i], r.passwords[i+1:]...)
	case op[0] == '(' && op[len(op)-1] == ')':
		sel := newSelector()
		args, ok := splitArgs(op[1 : len(op)-1])
		if !ok {
			return aclErrSyntax
		}
		for _, a := range args {
			if a == "" {
				continue
			}
			if e := sel.apply(a); e != 0 {
				return e
			}
		}
		r.selectors = append(r.selectors, sel)
	case strings.EqualFold(op, "clearselectors"):
		r.selectors = r.selectors[:1]
	case strings.EqualFold(op, "reset"):
		r.nopass, r.passwords = false, nil
		root := r.root()
		root.allKeys, root.keys = false, nil
		root.allChannels, root.channels = false, nil
		r.enabled, r.flagSet = false, true
		r.sanitize = 1
		r.selectors = r.selectors[:1]
		root.setAll(false)
	default:
		return r.root().apply(op)
	}
	return 0
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// mergeSelectorArgs joins "(~a" "+get)" into one "(~a +get)" argument as
// ACLMergeSelectorArguments does; bad is the index of an unclosed "(".
func mergeSelectorArgs(args []string) (out []string, bad int) {
	open := -1
	var cur string
	for j, op := range args {
		if open < 0 && len(op) > 0 && op[0] == '(' && op[len(op)-1] != ')' {
			cur, open = op, j
			continue
		}
		if open >= 0 {
			cur += " " + op
			if len(op) > 0 && op[len(op)-1] == ')' {
				out = append(out, cur)
				open = -1
			}
			continue
		}
		out = append(out, op)
	}
	if open >= 0 {
		return nil, open
	}
	return out, -1
}

// applyAll applies rules to a copy of r (all or nothing, as
// ACLStringSetUser); the error text is the one ACL SETUSER replies.
func (r *userRules) applyAll(args []string) (*userRules, string) {
	merged, bad := mergeSelectorArgs(args)
	if bad >= 0 {
		return nil, "ERR Unmatched parenthesis in acl selector starting at '" + args[bad] + "'."
	}
	n := r.clone()
	for _, op := range merged {
		if e := n.apply(op); e != 0 {
			return nil, "ERR Error in ACL SETUSER modifier '" + op + "': " + e.String()
		}
	}
	return n.finish(), ""
}

// describe renders the user's rules as ACL LIST and the ACL file show them
// (ACLDescribeUser).
func (r *userRules) describe() string {
	var parts []string
	for _, f := range r.flagNames() {
		parts = append(parts, f)
	}
	for _, p := range r.passwords {
		parts = append(parts, "#"+p)
	}
	b := strings.Join(parts, " ")
	if b != "" {
		b += " "
	}
	return b + r.describePerms()
}

// describePerms renders the selectors alone: what the user may run, without
// its flags and passwords.
func (r *userRules) describePerms() string {
	var b string
	for i, s := range r.selectors {
		if i == 0 {
			b += s.describe()
		} else {
			b += " (" + s.describe() + ")"
		}
	}
	return b
}

// flagNames lists the user flags in Redis's order (ACLUserFlags).
func (r *userRules) flagNames() []string {
	var out []string
	if r.enabled {
		out = append(out, "on")
	} else {
		out = append(out, "off")
	}
	if r.nopass {
		out = append(out, "nopass")
	}
	switch r.sanitize {
	case -1:
		out = append(out, "skip-sanitize-payload")
	case 1:
		out = append(out, "sanitize-payload")
	}
	return out
}

func (s *aclSelector) keysString() string {
	if s.allKeys {
		return "~*"
	}
	parts := make([]string, len(s.keys))
	for i, k := range s.keys {
		parts[i] = k.String()
	}
	return strings.Join(parts, " ")
}

func (s *aclSelector) channelsString() string {
	if s.allChannels {
		return "&*"
	}
	parts := make([]string, len(s.channels))
	for i, c := range s.channels {
		parts[i] = "&" + c
	}
	return strings.Join(parts, " ")
}

func (s *aclSelector) describe() string {
	var b strings.Builder
	if s.allKeys {
		b.WriteString("~* ")
	} else {
		for _, k := range s.keys {
			b.WriteString(k.String())
			b.WriteByte(' ')
		}
	}
	if s.allChannels {
		b.WriteString("&* ")
	} else {
		b.WriteString("resetchannels ")
		for _, c := range s.channels {
			b.WriteString("&" + c + " ")
		}
	}
	b.WriteString(s.describeCommands())
	return b.String()
}

// describeCommands finds category rules that rebuild the command bitmap,
// then single commands for the rest (ACLDescribeSelectorCommandRules).
func (s *aclSelector) describeCommands() string {
	u := aclCmds()
	var rules []string
	fake := newSelector()
	additive := !s.future
	if additive {
		rules = append(rules, "-@all")
	} else {
		rules = append(rules, "+@all")
		fake.setAll(true)
	}
	temp := newSelector()
	copy(temp.cmds, s.cmds)
	applied := make([]bool, len(aclNames))
	for {
		best, minDiff, maxSame := -1, int(^uint(0)>>1), 0
		for j := range aclNames {
			if applied[j] {
				continue
			}
			on, off := temp.countCategory(1 << j)
			diff, same := on, off
			if additive {
				diff, same = off, on
			}
			if same > diff && (diff < minDiff || (diff == minDiff && same > maxSame)) {
				best, minDiff, maxSame = j, diff, same
			}
		}
		if best < 0 {
			break
		}
		fake.setCategory(1<<best, additive)
		temp.setCategory(1<<best, !additive)
		sign := "-@"
		if additive {
			sign = "+@"
		}
		rules = append(rules, sign+aclNames[best])
		applied[best] = true
	}
	var walk func(cmds []*aclCommand)
	walk = func(cmds []*aclCommand) {
		for _, cmd := range cmds {
			ub, fb := s.bit(cmd.id), fake.bit(cmd.id)
			if ub != fb {
				if ub {
					rules = append(rules, "+"+cmd.name)
				} else {
					rules = append(rules, "-"+cmd.name)
				}
				fake.changePerm(cmd, ub)
			}
			walk(cmd.subs)
			if !ub {
				for _, a := range s.firstArgs[cmd.id] {
					rules = append(rules, "+"+cmd.name+"|"+a)
				}
			}
		}
	}
	walk(u.top)
	return strings.Join(rules, " ")
}

func (s *aclSelector) countCategory(cat aclCat) (on, off int) {
	for _, cmd := range aclCmds().list {
		if cmd.cats&cat != 0 {
			if s.bit(cmd.id) {
				on++
			} else {
				off++
			}
		}
	}
	return on, off
}

// splitArgs splits a line as sdssplitargs does (quotes, escapes); ok is
// false for unbalanced quotes.
func splitArgs(line string) ([]string, bool) {
	var out []string
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i >= len(line) {
			return out, true
		}
		var cur []byte
		inq, insq := false, false
		for done := false; !done; {
			if i >= len(line) {
				if inq || insq {
					return nil, false
				}
				break
			}
			ch := line[i]
			switch {
			case inq:
				if ch == '\\' && i+3 < len(line) && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]) {
					v, _ := hex.DecodeString(line[i+2 : i+4])
					cur = append(cur, v...)
					i += 3
				} else if ch == '\\' && i+1 < len(line) {
					i++
					switch line[i] {
					case 'n':
						cur = append(cur, '\n')
					case 'r':
						cur = append(cur, '\r')
					case 't':
						cur = append(cur, '\t')
					case 'b':
						cur = append(cur, '\b')
					case 'a':
						cur = append(cur, '\a')
					default:
						cur = append(cur, line[i])
					}
				} else if ch == '"' {
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, false
					}
					done = true
				} else {
					cur = append(cur, ch)
				}
			case insq:
				if ch == '\\' && i+1 < len(line) && line[i+1] == '\'' {
					i++
					cur = append(cur, '\'')
				} else if ch == '\'' {
					if i+1 < len(line) && !isSpace(line[i+1]) {
						return nil, false
					}
					done = true
				} else {
					cur = append(cur, ch)
				}
			default:
				switch {
				case isSpace(ch):
					done = true
				case ch == '"':
					inq = true
				case ch == '\'':
					insq = true
				default:
					cur = append(cur, ch)
				}
			}
			if i < len(line) {
				i++
			}
		}
		out = append(out, string(cur))
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// aclCommand is a command as ACL rules name it: Redis 7.0's command table
// (so that rules written for Redis load here) plus any command of ours
// Redis lacks.
type aclCommand struct {
	id     int
	name   string // "get", "config|get"
	cats   aclCat
	parent *aclCommand
	subs   []*aclCommand
}

type aclUniverse struct {
	byName map[string]*aclCommand
	top    []*aclCommand // top-level commands by name
	list   []*aclCommand // every command and subcommand
	n      int
}

// lookup resolves "name" or "container|sub" ignoring case
// (lookupCommandBySds).
func (u *aclUniverse) lookup(name string) *aclCommand {
	if strings.Count(name, "|") > 1 {
		return nil
	}
	return u.byName[strings.ToLower(name)]
}

var (
	aclOnce sync.Once
	aclUniv *aclUniverse
)

// aclCmds returns the command universe, built on first use (the command
// table it reads lists the ACL command itself).
func aclCmds() *aclUniverse {
	aclOnce.Do(func() { aclUniv = buildACLUniverse() })
	return aclUniv
}

func buildACLUniverse() *aclUniverse {
	u := &aclUniverse{byName: map[string]*aclCommand{}}
	cats := map[string]aclCat{}
	for name, m := range redisMeta {
		cats[name] = implicitACL(m.acl, m.flags)
	}
	// Commands of ours that Redis 7.0 lacks get their categories from
	// their flags; Redis's own keep Redis's, so rules mean the same here.
	t := commandTable()
	for name, cmd := range t.m {
		if _, ok := cats[name]; !ok {
			cats[name] = cmd.aclCats()
		}
		for _, sub := range cmd.subs {
			if _, ok := cats[sub.name]; !ok {
				cats[sub.name] = sub.aclCats()
			}
		}
	}
	names := make([]string, 0, len(cats))
	for n := range cats {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if strings.Contains(n, "|") {
			continue
		}
		c := &aclCommand{id: len(u.list), name: n, cats: cats[n]}
		u.byName[n] = c
		u.list = append(u.list, c)
		u.top = append(u.top, c)
	}
	for _, n := range names {
		p, _, ok := strings.Cut(n, "|")
		if !ok {
			continue
		}
		parent := u.byName[p]
		if parent == nil {
			continue
		}
		c := &aclCommand{id: len(u.list), name: n, cats: cats[n], parent: parent}
		u.byName[n] = c
		u.list = append(u.list, c)
		parent.subs = append(parent.subs, c)
	}
	u.n = len(u.list)
	return u
}

// aclKeyRef is a key argument and its key-spec flags.
type aclKeyRef struct {
	pos   int
	flags keyFlag
}

// aclKeys lists the keys of a call with their access flags, from Redis's
// key specs when they are complete and reliable, else from our key
// positions (getKeysFromCommandWithSpecs).
func aclKeys(cmd *command, ac *aclCommand, args [][]byte) []aclKeyRef {
	var specs []keySpec
	if m := redisMeta[ac.name]; m != nil {
		specs = m.keySpecs // OBJECT ENCODING's, though we serve OBJECT flat
	} else if cmd.meta != nil {
		specs = cmd.meta.keySpecs
	}
	var all keyFlag
	real := false
	for _, sp := range specs {
		all |= sp.flags
		if sp.flags&kfNotKey == 0 {
			real = true
		}
	}
	if real && all&kfVariableFlags == 0 {
		if refs, ok := keysFromSpecs(specs, args); ok {
			return refs
		}
	}
	if len(specs) > 0 && !real {
		return nil // channels only (SSUBSCRIBE, SPUBLISH)
	}
	pos := cmd.keyPositions(args)
	if len(pos) == 0 {
		return nil
	}
	flags := variableKeyFlags(cmd, args, all)
	refs := make([]aclKeyRef, 0, len(pos))
	for i, p := range pos {
		if p > 0 && p < len(args) {
			f := flags
			if cmd.name == "sort" || cmd.name == "sort_ro" {
				// The sorted key is read; a STORE destination written.
				f = kfRo | kfAccess
				if i > 0 {
					f = kfOw | kfUpdate
				}
			}
			refs = append(refs, aclKeyRef{p, f})
		}
	}
	return refs
}

// variableKeyFlags gives the flags of commands whose key access depends on
// the arguments (SET ... GET, BITFIELD with only GET), else every flag
// their specs mention.
func variableKeyFlags(cmd *command, args [][]byte, all keyFlag) keyFlag {
	switch cmd.name {
	case "set":
		// Overwritten unless GET reads the old value (Redis's setGetKeys).
		for _, a := range args[min(3, len(args)):] {
			if raftfsm.EqFold(a, "get") {
				return kfRw | kfAccess | kfUpdate
			}
		}
		return kfOw | kfUpdate
	case "bitfield":
		for i := 2; i < len(args); i++ {
			if raftfsm.EqFold(args[i], "set") || raftfsm.EqFold(args[i], "incrby") {
				return kfRw | kfAccess | kfUpdate
			}
		}
		return kfRo | kfAccess
	}
	if all == 0 {
		return kfRw | kfAccess | kfUpdate | kfInsert | kfDelete
	}
	return all &^ (kfVariableFlags | kfIncomplete | kfNotKey)
}

// keysFromSpecs evaluates key specs (getKeysUsingKeySpecs); ok is false
// when a spec is incomplete or does not fit the arguments.
func keysFromSpecs(specs []keySpec, args [][]byte) (refs []aclKeyRef, ok bool) {
	argc := len(args)
	for _, sp := range specs {
		if sp.flags&kfNotKey != 0 {
			continue
		}
		first := 0
		switch sp.bs {
		case bsIndex:
			first = sp.bsIndex
		case bsKeyword:
			start, end := sp.bsStart, argc-1
			if start <= 0 {
				start, end = argc+sp.bsStart, 1
			}
			for i := start; i != end; {
				if i >= argc || i < 1 {
					break
				}
				if strings.EqualFold(string(args[i]), sp.bsKeyword) {
					first = i + 1
					break
				}
				if start <= end {
					i++
				} else {
					i--
				}
			}
			if first == 0 {
				continue
			}
		default:
			return nil, false
		}
		var last, step int
		switch sp.fk {
		case fkRange:
			step = sp.keyStep
			switch {
			case sp.lastKey >= 0:
				last = first + sp.lastKey
			case sp.limit == 0:
				last = argc + sp.lastKey
			default:
				last = first + ((argc-first)/sp.limit + sp.lastKey)
			}
		case fkKeynum:
			step = sp.keyStep
			if first+sp.keynumIdx >= argc {
				return nil, false
			}
			n, okn := raftfsm.ParseInt(args[first+sp.keynumIdx])
			if !okn || n < 0 || n > int64(argc) {
				return nil, false
			}
			first += sp.firstKey
			last = first + int(n) - 1
		default:
			return nil, false
		}
		if last >= argc || last < first || first >= argc {
			if sp.fk == fkKeynum && last == first-1 {
				// numkeys 0: no keys from this spec.
				if sp.flags&kfIncomplete != 0 {
					return nil, false
				}
				continue
			}
			return nil, false
		}
		if step <= 0 {
			step = 1
		}
		for i := first; i <= last; i += step {
			refs = append(refs, aclKeyRef{i, sp.flags})
		}
		if sp.flags&kfIncomplete != 0 {
			return nil, false
		}
	}
	return refs, true
}

// aclResult is why a command is refused (ACL_DENIED_*), in Redis's order
// of relevance.
type aclResult uint8

const (
	aclOK aclResult = iota
	aclDeniedCmd
	aclDeniedKey
	aclDeniedChannel
	aclDeniedAuth
)

// checkKey is ACLSelectorCheckKey.
func (s *aclSelector) checkKey(key []byte, flags keyFlag) bool {
	if s.allKeys {
		return true
	}
	var need aclPerm
	if flags&kfAccess != 0 {
		need |= aclPermRead
	}
	if flags&(kfInsert|kfDelete|kfUpdate) != 0 {
		need |= aclPermWrite
	}
	for _, p := range s.keys {
		if p.perm&need != need {
			continue
		}
		if raftfsm.GlobMatch(p.pat, string(key), false) {
			return true
		}
	}
	return false
}

func (s *aclSelector) checkChannel(ch []byte, pattern bool) bool {
	if s.allChannels {
		return true
	}
	for _, p := range s.channels {
		if pattern && p == string(ch) || !pattern && raftfsm.GlobMatch(p, string(ch), false) {
			return true
		}
	}
	return false
}

// aclChannels returns the channel arguments of a pub/sub command and
// whether they are patterns; only publishing and subscribing are checked.
func aclChannels(cmd *command, args [][]byte) (first, last int, pattern bool) {
	switch cmd.name {
	case "subscribe", "ssubscribe":
		return 1, len(args) - 1, false
	case "psubscribe":
		return 1, len(args) - 1, true
	case "publish", "spublish":
		return 1, 1, false
	}
	return 0, -1, false
}

// aclCheck is one call's check against a user's selectors
// (ACLCheckAllUserCommandPerm); pos is the refused key's or channel's
// argument index.
type aclCheck struct {
	cmd  *command
	ac   *aclCommand
	args [][]byte
	keys []aclKeyRef
	got  bool
}

func (s *aclSelector) checkCmd(k *aclCheck) (aclResult, int) {
	if !s.allCmds && k.cmd.extra&rfNoAuth == 0 && !s.bit(k.ac.id) {
		idx := 1
		if k.ac.parent != nil {
			idx = 2
		}
		allowed := false
		if len(k.args) > idx {
			for _, a := range s.firstArgs[k.ac.id] {
				if raftfsm.EqFold(k.args[idx], a) {
					allowed = true
					break
				}
			}
		}
		if !allowed {
			return aclDeniedCmd, 0
		}
	}
	if !s.allKeys {
		if !k.got {
			k.keys, k.got = aclKeys(k.cmd, k.ac, k.args), true
		}
		for _, ref := range k.keys {
			if !s.checkKey(k.args[ref.pos], ref.flags) {
				return aclDeniedKey, ref.pos
			}
		}
	}
	if !s.allChannels {
		first, last, pat := aclChannels(k.cmd, k.args)
		for i := first; i <= last && i > 0; i++ {
			if !s.checkChannel(k.args[i], pat) {
				return aclDeniedChannel, i
			}
		}
	}
	return aclOK, 0
}

// aclResolve finds the ACL identity of a call: a command we serve flat
// (FUNCTION, OBJECT, MEMORY ...) is a container in Redis, whose rules name
// its subcommands.
func aclResolve(cmd *command, args [][]byte) *aclCommand {
	u := aclCmds()
	ac := u.list[cmd.aclID]
	if len(ac.subs) > 0 && cmd.subs == nil && len(args) >= 2 && len(args[1]) <= 64 {
		if sub := u.byName[ac.name+"|"+strings.ToLower(string(args[1]))]; sub != nil {
			return sub
		}
	}
	return ac
}

// check decides whether r's user may run cmd with args; name is the
// command as the refusal names it.
func (r *userRules) check(cmd *command, args [][]byte) (res aclResult, pos int, name string) {
	ac := aclResolve(cmd, args)
	res, pos = r.checkAs(cmd, ac, args)
	return res, pos, ac.name
}

func (r *userRules) checkAs(cmd *command, ac *aclCommand, args [][]byte) (aclResult, int) {
	k := aclCheck{cmd: cmd, ac: ac, args: args}
	res, pos := aclDeniedCmd, 0
	for _, s := range r.selectors {
		got, p := s.checkCmd(&k)
		if got == aclOK {
			return aclOK, 0
		}
		if got > res || (got == res && p > pos) {
			res, pos = got, p
		}
	}
	return res, pos
}

package gateway

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/raftcache/raftcache/raftfsm"
)

// ACL users, per node as in Redis Cluster: every node holds its own users
// (an --aclfile given to every node keeps them alike). Users are Redis 7.0
// ACL users (ElastiCache RBAC users are the same thing).

// aclUser is a user; its rules are replaced as a whole by ACL SETUSER.
type aclUser struct {
	name  string
	rules atomic.Pointer[userRules]
	stamp ACLStamp // its last change (aclsync.go; under aclStore.mu); zero: none since start
}

// line is the user as ACL LIST and the ACL file show it.
func (u *aclUser) line() string { return "user " + u.name + " " + u.rules.Load().describe() }

func newACLUser(name string, r *userRules) *aclUser {
	u := &aclUser{name: name}
	u.rules.Store(r.finish())
	return u
}

type aclLogEntry struct {
	count    int64
	reason   aclResult
	context  aclLogContext
	object   string
	username string
	ctime    time.Time
	cinfo    string
}

// aclLogContext is where a refused command was called (ACL LOG's context).
type aclLogContext uint8

const (
	aclCtxToplevel aclLogContext = iota
	aclCtxMulti                  // queued in MULTI, or re-checked by EXEC
	aclCtxLua                    // called by a script (scriptacl.go)
)

var aclLogContextNames = [...]string{aclCtxToplevel: "toplevel", aclCtxMulti: "multi", aclCtxLua: "lua"}

// aclContext is the context of a command refused in MULTI or not.
func aclContext(multi bool) aclLogContext {
	if multi {
		return aclCtxMulti
	}
	return aclCtxToplevel
}

// aclStore holds a node's users and its ACL log.
type aclStore struct {
	mu    sync.Mutex
	users map[string]*aclUser
	def   *aclUser // "default": the same object for the server's lifetime
	// initDef is the default user a file without one falls back to
	// (nopass, or the --requirepass password).
	initDef *userRules
	file    string
	log     []*aclLogEntry // newest first
	// stamp is the newest stamp made or merged here (aclsync.go): every
	// local change takes a newer one.
	stamp ACLStamp
	// deleted holds the tombstones of deleted users, with their stamps.
	deleted map[string]ACLStamp
	// origin names this node in the stamps of its changes.
	origin string
	// fileSum is the SHA-256 of the ACL file as this node last read or
	// wrote it: users replicated from another node are saved only over a
	// file nobody else changed since (dev's nodes share one file).
	fileSum [32]byte
}

// defaultRules is the default user: "on nopass ~* &* +@all", or with the
// requirepass password instead of nopass.
func defaultRules(password string) *userRules {
	r := newUserRules()
	for _, op := range []string{"+@all", "~*", "&*", "on", "nopass"} {
		r.apply(op)
	}
	if password != "" {
		r.apply("resetpass")
		r.apply(">" + password)
	}
	return r.finish()
}

func newACLStore(password, file string) (*aclStore, error) {
	a := &aclStore{users: map[string]*aclUser{}, file: file, initDef: defaultRules(password)}
	a.def = newACLUser("default", a.initDef)
	a.users["default"] = a.def
	if file != "" {
		// The users a node starts with are no change: a stamp from now
		// would make them override what the other nodes hold.
		if msg := a.load(nil, false); msg != "" {
			return nil, fmt.Errorf("aclfile: %s", msg)
		}
	}
	return a, nil
}

func (a *aclStore) user(name string) *aclUser {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.users[name]
}

// authRequired: the default user has a password or is off, so a client
// that has not authenticated may run nothing but AUTH and HELLO.
func (a *aclStore) authRequired() bool {
	r := a.def.rules.Load()
	return !r.nopass || !r.enabled
}

// credentials checks a user/password pair (ACLCheckUserCredentials).
func (a *aclStore) credentials(name, pass []byte) *aclUser {
	u := a.user(string(name))
	if u == nil {
		return nil
	}
	r := u.rules.Load()
	if !r.enabled {
		return nil
	}
	if r.nopass {
		return u
	}
	h := hashPassword(string(pass))
	ok := false
	for _, p := range r.passwords {
		if subtle.ConstantTimeCompare([]byte(h), []byte(p)) == 1 {
			ok = true
		}
	}
	if !ok {
		return nil
	}
	return u
}

// addLog records a denied command or a failed AUTH (addACLLogEntry):
// an entry like one of the last ten within a minute is counted instead.
func (a *aclStore) addLog(e *aclLogEntry, maxLen int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := 0; i < len(a.log) && i < 10; i++ {
		m := a.log[i]
		d := e.ctime.Sub(m.ctime)
		if m.reason == e.reason && m.context == e.context && m.object == e.object && m.username == e.username &&
			d < time.Minute && d > -time.Minute {
			m.count++
			m.cinfo, m.ctime = e.cinfo, e.ctime
			copy(a.log[1:i+1], a.log[:i])
			a.log[0] = m
			return
		}
	}
	a.log = append([]*aclLogEntry{e}, a.log...)
	if int64(len(a.log)) > maxLen {
		a.log = a.log[:maxLen]
	}
}

// dropClients disconnects the clients of users that no longer exist
// (ACLFreeUserAndKillClients); the caller closes after its reply.
func (s *Server) dropClients(c *client, gone map[*aclUser]bool) {
	// A deleted user's rules deny everything: a command of its
	// connections still in flight is refused before they close.
	denied := newUserRules().finish()
	for u := range gone {
		u.rules.Store(denied)
	}
	for _, cl := range s.clientList() {
		if !gone[cl.getUser()] {
			continue
		}
		c.kill(cl)
	}
}

// load reads the ACL file (ACLLoadFromFile): all users or none; change
// stamps it as a change to pass on to the other nodes (ACL LOAD, not the
// users a node starts with). It returns Redis's error text, "" on success.
func (a *aclStore) load(onGone func(map[*aclUser]bool), change bool) string {
	raw, err := os.ReadFile(a.file)
	if err != nil {
		return fmt.Sprintf("Error loading ACLs, opening file '%s': %s", a.file, errText(err))
	}
	users, msg := parseUsers(string(raw), a.file)
	if msg != "" {
		return msg
	}
	a.mu.Lock()
	a.fileSum = sha256.Sum256(raw)
	old := a.users
	a.users = map[string]*aclUser{"default": a.def}
	for name, r := range users {
		if name != "default" {
			a.users[name] = newACLUser(name, r)
		}
	}
	if r, ok := users["default"]; ok {
		a.def.rules.Store(r.finish())
	} else {
		a.def.rules.Store(a.initDef)
	}
	if change {
		// Every user is set by the file, and those it lacks are deleted.
		st := a.bumpLocked()
		for _, u := range a.users {
			a.setLocked(u, st)
		}
		for name := range old {
			if a.users[name] == nil {
				a.tombLocked(name, st)
			}
		}
	}
	a.mu.Unlock()
	gone := map[*aclUser]bool{}
	for name, u := range old {
		if name != "default" {
			gone[u] = true
		}
	}
	if onGone != nil && len(gone) > 0 {
		onGone(gone)
	}
	return ""
}

// parseUsers parses ACL file lines ("user NAME RULE..."; source names the
// file in messages): all users, or Redis's error text for the whole set.
func parseUsers(raw, source string) (map[string]*userRules, string) {
	users := map[string]*userRules{}
	var errs strings.Builder
	for i, line := range strings.Split(raw, "\n") {
		line = strings.Trim(line, " \t\r\n")
		if line == "" {
			continue
		}
		n := i + 1
		argv := strings.Split(line, " ")
		if argv[0] != "user" || len(argv) < 2 {
			fmt.Fprintf(&errs, "%s:%d should start with user keyword followed by the username. ", source, n)
			continue
		}
		if hasSpaces(argv[1]) {
			fmt.Fprintf(&errs, "'%s:%d: username '%s' contains invalid characters. ", source, n, argv[1])
			continue
		}
		if _, dup := users[argv[1]]; dup {
			fmt.Fprintf(&errs, "WARNING: Duplicate user '%s' found on line %d. ", argv[1], n)
			continue
		}
		r := newUserRules()
		users[argv[1]] = r
		merged, bad := mergeSelectorArgs(argv[2:])
		if bad >= 0 {
			fmt.Fprintf(&errs, "%s:%d: Unmatched parenthesis in selector definition.", source, n)
		}
		syntax := false
		for _, op := range merged {
			op = strings.Trim(op, "\t\r\n")
			e := r.apply(op)
			switch {
			case e == aclErrUnknown:
				fmt.Fprintf(&errs, "%s:%d: Error in applying operation '%s': %s. ", source, n, op, e)
			case e != 0 && !syntax:
				fmt.Fprintf(&errs, "%s:%d: %s. ", source, n, e)
				syntax = true
			}
		}
	}
	if errs.Len() > 0 {
		return nil, errs.String() + "WARNING: ACL errors detected, no change to the previously active ACL rules was performed"
	}
	return users, ""
}

func errText(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		err = pe.Err
	}
	s := err.Error()
	if s != "" {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	return s
}

// sortedUsers lists the users by name (Redis keeps them in a radix tree).
func (a *aclStore) sortedUsers() []*aclUser {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sortedUsersLocked()
}

func (a *aclStore) sortedUsersLocked() []*aclUser {
	out := make([]*aclUser, 0, len(a.users))
	for _, u := range a.users {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// save writes the users to the ACL file through a temporary file.
func (a *aclStore) save() error {
	var b strings.Builder
	for _, u := range a.sortedUsers() {
		b.WriteString(u.line() + "\n")
	}
	// A temporary file of its own: in dev several nodes of one process may
	// save one shared file at the same moment (replicated users).
	f, err := os.CreateTemp(filepath.Dir(a.file), filepath.Base(a.file)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.WriteString(b.String())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, a.file)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	a.mu.Lock()
	a.fileSum = sha256.Sum256([]byte(b.String()))
	a.mu.Unlock()
	return nil
}

// aclDenied answers a refused command with Redis's NOPERM text and logs it.
func (s *Server) aclDenied(c *client, cmd *command, name string, args [][]byte, res aclResult, pos int) {
	s.logDenied(c, name, args, res, pos, c.multi)
	var msg string
	switch res {
	case aclDeniedCmd:
		msg = "NOPERM this user has no permissions to run the '" + name + "' command"
	case aclDeniedKey:
		msg = "NOPERM this user has no permissions to access one of the keys used as arguments"
	default:
		msg = "NOPERM this user has no permissions to access one of the channels used as arguments"
	}
	s.reject(c, cmd, msg)
}

func (s *Server) logDenied(c *client, name string, args [][]byte, res aclResult, pos int, multi bool) {
	c.lastCmd.Store(c.cur)
	e := &aclLogEntry{count: 1, reason: res, context: aclContext(multi), username: c.getUser().name, ctime: time.Now(),
		cinfo: c.info(time.Now())}
	switch res {
	case aclDeniedCmd:
		e.object = name
	default:
		e.object = string(args[pos])
	}
	s.acl.addLog(e, s.conf.int("acllog-max-len"))
}

// login checks credentials for AUTH and HELLO; a failure is logged.
func (s *Server) login(c *client, name, pass []byte, cmdName []byte) bool {
	u := s.acl.credentials(name, pass)
	if u == nil {
		c.lastCmd.Store(c.cur)
		s.acl.addLog(&aclLogEntry{count: 1, reason: aclDeniedAuth, context: aclContext(c.multi), object: string(cmdName),
			username: string(name), ctime: time.Now(), cinfo: c.info(time.Now())}, s.conf.int("acllog-max-len"))
		return false
	}
	c.setUser(u)
	c.authed = true
	return true
}

// aclPermits checks a call of a user with limited rights (dispatch skips
// it for users with every right), refusing it as Redis does. The commands a
// script calls are checked as it runs them (scriptacl.go).
func (s *Server) aclPermits(c *client, r *userRules, cmd *command, args [][]byte) bool {
	if res, pos, name := r.check(cmd, args); res != aclOK {
		s.aclDenied(c, cmd, name, args, res, pos)
		return false
	}
	return true
}

// assignACLIDs links the server's commands to their ACL identities.
func assignACLIDs(t *table) {
	u := aclCmds()
	for _, cmd := range t.m {
		if ac := u.byName[cmd.name]; ac != nil {
			cmd.aclID = ac.id
		}
		for _, sub := range cmd.subs {
			if ac := u.byName[sub.name]; ac != nil {
				sub.aclID = ac.id
			}
		}
	}
}

func aclCommands() []*command {
	return []*command{{name: "acl", arity: -2, subs: map[string]*command{
		"cat":     {arity: -2, handler: aclCatCmd},
		"deluser": {arity: -3, handler: aclDelUserCmd},
		"dryrun":  {arity: -4, handler: aclDryRunCmd},
		"genpass": {arity: -2, handler: aclGenPassCmd},
		"getuser": {arity: 3, handler: aclGetUserCmd},
		"help":    {arity: 2, handler: aclHelpCmd},
		"list":    {arity: 2, handler: aclListCmd},
		"load":    {arity: 2, handler: aclLoadCmd},
		"log":     {arity: -2, handler: aclLogCmd},
		"save":    {arity: 2, handler: aclSaveCmd},
		"setuser": {arity: -3, handler: aclSetUserCmd},
		"users":   {arity: 2, handler: aclUsersCmd},
		"whoami":  {arity: 2, handler: aclWhoAmICmd},
	}}}
}

func aclSyntaxError(s *Server, c *client, args [][]byte) {
	s.replyError(c, nil, fmt.Sprintf("ERR unknown subcommand or wrong number of arguments for '%.128s'. Try ACL HELP.", args[1]))
}

func aclSetUserCmd(s *Server, c *client, args [][]byte) {
	name := string(args[2])
	if hasSpaces(name) {
		s.replyError(c, nil, "ERR Usernames can't contain spaces or null characters")
		return
	}
	ops := make([]string, len(args)-3)
	for i, a := range args[3:] {
		ops[i] = string(a)
	}
	s.acl.mu.Lock()
	u := s.acl.users[name]
	base := newUserRules()
	if u != nil {
		base = u.rules.Load()
	}
	r, msg := base.applyAll(ops)
	if msg == "" {
		nu := u
		if u == nil {
			nu = newACLUser(name, r)
			s.acl.users[name] = nu
		} else {
			u.rules.Store(r)
		}
		s.acl.setLocked(nu, s.acl.bumpLocked())
	}
	s.acl.mu.Unlock()
	if msg != "" {
		s.replyError(c, nil, msg)
		return
	}
	if u != nil {
		s.killRevokedSubscribers(c, u, base, r)
	}
	c.out = append(c.out, "+OK\r\n"...)
}

// killRevokedSubscribers disconnects u's subscribers whose channels or
// patterns the new rules no longer allow (ACLKillPubsubClientsIfNeeded).
func (s *Server) killRevokedSubscribers(c *client, u *aclUser, old, cur *userRules) {
	var upcoming []string
	for _, sel := range cur.selectors {
		if sel.allChannels {
			return
		}
		upcoming = append(upcoming, sel.channels...)
	}
	kept := true
	for _, sel := range old.selectors {
		if sel.allChannels {
			kept = false
			break
		}
		for _, ch := range sel.channels {
			kept = kept && contains(upcoming, ch)
		}
	}
	if kept {
		return
	}
	allowed := &aclSelector{channels: upcoming}
	doomed := map[*client]bool{}
	h := s.pubsub
	h.mu.RLock()
	for _, m := range []struct {
		subs    map[string]map[*psClient]struct{}
		pattern bool
	}{{h.channels, false}, {h.patterns, true}, {h.shard, false}} {
		for name, ps := range m.subs {
			for p := range ps {
				if !doomed[p.c] && p.c.getUser() == u && !allowed.checkChannel([]byte(name), m.pattern) {
					doomed[p.c] = true
				}
			}
		}
	}
	h.mu.RUnlock()
	for cl := range doomed {
		c.kill(cl)
	}
}

func aclDelUserCmd(s *Server, c *client, args [][]byte) {
	for _, a := range args[2:] {
		if string(a) == "default" {
			s.replyError(c, nil, "ERR The 'default' user cannot be removed")
			return
		}
	}
	gone := map[*aclUser]bool{}
	s.acl.mu.Lock()
	for _, a := range args[2:] {
		if u := s.acl.users[string(a)]; u != nil {
			delete(s.acl.users, u.name)
			gone[u] = true
		}
	}
	if len(gone) > 0 {
		st := s.acl.bumpLocked()
		for u := range gone {
			s.acl.tombLocked(u.name, st)
		}
	}
	s.acl.mu.Unlock()
	s.dropClients(c, gone)
	c.out = appendInt(c.out, int64(len(gone)))
}

func aclGetUserCmd(s *Server, c *client, args [][]byte) {
	u := s.acl.user(string(args[2]))
	if u == nil {
		c.out = appendNull(c.out, c.resp)
		return
	}
	r := u.rules.Load()
	b := appendMapLen(c.out, 6, c.resp)
	b = appendBulk(b, "flags")
	flags := r.flagNames()
	b = appendSetLen(b, len(flags), c.resp)
	for _, f := range flags {
		b = appendBulk(b, f)
	}
	b = appendBulk(b, "passwords")
	b = appendArrayLen(b, len(r.passwords))
	for _, p := range r.passwords {
		b = appendBulk(b, p)
	}
	b = appendSelector(b, r.root())
	b = appendBulk(b, "selectors")
	b = appendArrayLen(b, len(r.selectors)-1)
	for _, sel := range r.selectors[1:] {
		b = appendMapLen(b, 3, c.resp)
		b = appendSelector(b, sel)
	}
	c.out = b
}

func appendSelector(b []byte, s *aclSelector) []byte {
	b = appendBulk(b, "commands")
	b = appendBulk(b, s.describeCommands())
	b = appendBulk(b, "keys")
	b = appendBulk(b, s.keysString())
	b = appendBulk(b, "channels")
	return appendBulk(b, s.channelsString())
}

func aclListCmd(s *Server, c *client, args [][]byte) {
	users := s.acl.sortedUsers()
	c.out = appendArrayLen(c.out, len(users))
	for _, u := range users {
		c.out = appendBulk(c.out, u.line())
	}
}

func aclUsersCmd(s *Server, c *client, args [][]byte) {
	users := s.acl.sortedUsers()
	c.out = appendArrayLen(c.out, len(users))
	for _, u := range users {
		c.out = appendBulk(c.out, u.name)
	}
}

func aclWhoAmICmd(s *Server, c *client, args [][]byte) {
	c.out = appendBulk(c.out, c.getUser().name)
}

const errNoACLFile = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."

func aclLoadCmd(s *Server, c *client, args [][]byte) {
	if s.acl.file == "" {
		s.replyError(c, nil, errNoACLFile)
		return
	}
	if msg := s.acl.load(func(gone map[*aclUser]bool) { s.dropClients(c, gone) }, true); msg != "" {
		s.replyError(c, nil, "ERR "+msg)
		return
	}
	c.out = append(c.out, "+OK\r\n"...)
}

func aclSaveCmd(s *Server, c *client, args [][]byte) {
	if s.acl.file == "" {
		s.replyError(c, nil, errNoACLFile)
		return
	}
	if err := s.acl.save(); err != nil {
		s.log.Warn("acl save", "file", s.acl.file, "err", err)
		s.replyError(c, nil, "ERR There was an error trying to save the ACLs. Please check the server logs for more information")
		return
	}
	c.out = append(c.out, "+OK\r\n"...)
}

func aclCatCmd(s *Server, c *client, args [][]byte) {
	switch len(args) {
	case 2:
		c.out = appendArrayLen(c.out, len(aclNames))
		for _, n := range aclNames {
			c.out = appendBulk(c.out, n)
		}
	case 3:
		cat, ok := aclCategory(string(args[2]))
		if !ok {
			s.replyError(c, nil, fmt.Sprintf("ERR Unknown category '%.128s'", args[2]))
			return
		}
		var names []string
		for _, cmd := range aclCmds().list {
			if cmd.cats&cat != 0 {
				names = append(names, cmd.name)
			}
		}
		c.out = appendArrayLen(c.out, len(names))
		for _, n := range names {
			c.out = appendBulk(c.out, n)
		}
	default:
		aclSyntaxError(s, c, args)
	}
}

func aclGenPassCmd(s *Server, c *client, args [][]byte) {
	if len(args) > 3 {
		aclSyntaxError(s, c, args)
		return
	}
	bits := int64(256)
	if len(args) == 3 {
		n, ok := raftfsm.ParseInt(args[2])
		if !ok {
			s.replyError(c, nil, "ERR value is not an integer or out of range")
			return
		}
		bits = n
	}
	if bits <= 0 || bits > 4096 {
		s.replyError(c, nil, "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096")
		return
	}
	chars := int((bits + 3) / 4)
	buf := make([]byte, (chars+1)/2)
	if _, err := rand.Read(buf); err != nil {
		s.replyError(c, nil, "ERR internal error")
		return
	}
	c.out = appendBulk(c.out, hex.EncodeToString(buf)[:chars])
}

func aclLogCmd(s *Server, c *client, args [][]byte) {
	if len(args) > 3 {
		aclSyntaxError(s, c, args)
		return
	}
	count := int64(10)
	if len(args) == 3 {
		if raftfsm.EqFold(args[2], "reset") {
			s.acl.mu.Lock()
			s.acl.log = nil
			s.acl.mu.Unlock()
			c.out = append(c.out, "+OK\r\n"...)
			return
		}
		n, ok := raftfsm.ParseInt(args[2])
		if !ok {
			s.replyError(c, nil, "ERR value is not an integer or out of range")
			return
		}
		count = max(n, 0)
	}
	s.acl.mu.Lock()
	entries := make([]aclLogEntry, 0, min(count, int64(len(s.acl.log))))
	for _, e := range s.acl.log {
		if int64(len(entries)) >= count {
			break
		}
		entries = append(entries, *e)
	}
	s.acl.mu.Unlock()
	now := time.Now()
	b := appendArrayLen(c.out, len(entries))
	for _, e := range entries {
		b = appendMapLen(b, 7, c.resp)
		b = appendBulk(b, "count")
		b = appendInt(b, e.count)
		b = appendBulk(b, "reason")
		b = appendBulk(b, [...]string{"unknown", "command", "key", "channel", "auth"}[e.reason])
		b = appendBulk(b, "context")
		b = appendBulk(b, aclLogContextNames[e.context])
		b = appendBulk(b, "object")
		b = appendBulk(b, e.object)
		b = appendBulk(b, "username")
		b = appendBulk(b, e.username)
		b = appendBulk(b, "age-seconds")
		b = appendFloat(b, float64(now.Sub(e.ctime).Milliseconds())/1000, c.resp)
		b = appendBulk(b, "client-info")
		b = appendBulk(b, e.cinfo)
	}
	c.out = b
}

// appendFloat is addReplyDouble: a RESP3 double, a bulk string in RESP2.
func appendFloat(b []byte, f float64, resp int) []byte {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if resp == 3 {
		return appendLine(append(b, ','), s)
	}
	return appendBulk(b, s)
}

func aclDryRunCmd(s *Server, c *client, args [][]byte) {
	u := s.acl.user(string(args[2]))
	if u == nil {
		s.replyError(c, nil, fmt.Sprintf("ERR User '%s' not found", args[2]))
		return
	}
	call := args[3:]
	cmd := s.tab.lookup(call[0])
	if cmd != nil && cmd.subs != nil && len(call) >= 2 {
		cmd = cmd.sub(call[1])
	}
	if cmd == nil {
		cmd = redisOnlyCommand(call)
	}
	if cmd == nil {
		s.replyError(c, nil, fmt.Sprintf("ERR Command '%s' not found", call[0]))
		return
	}
	if !cmd.arityOK(len(call)) {
		s.replyError(c, nil, "ERR wrong number of arguments for '"+cmd.name+"' command")
		return
	}
	res, pos, name := u.rules.Load().check(cmd, call)
	switch res {
	case aclOK:
		c.out = append(c.out, "+OK\r\n"...)
	case aclDeniedCmd:
		c.out = appendBulk(c.out, "This user has no permissions to run the '"+name+"' command")
	case aclDeniedKey:
		c.out = appendBulk(c.out, "This user has no permissions to access the '"+string(call[pos])+"' key")
	default:
		c.out = appendBulk(c.out, "This user has no permissions to access the '"+string(call[pos])+"' channel")
	}
}

// redisOnlyCommand stands for a Redis 7.0 command this server does not
// serve, so that DRYRUN answers for rules written for Redis.
func redisOnlyCommand(call [][]byte) *command {
	u := aclCmds()
	ac := u.lookup(string(call[0]))
	if ac == nil || ac.parent != nil {
		return nil
	}
	if len(ac.subs) > 0 && len(call) >= 2 {
		if sub := u.lookup(ac.name + "|" + string(call[1])); sub != nil {
			ac = sub
		}
	}
	m := redisMeta[ac.name]
	if m == nil {
		return nil
	}
	return &command{name: ac.name, arity: m.arity, meta: m, extra: m.flags, aclID: ac.id}
}

func aclHelpCmd(s *Server, c *client, args [][]byte) {
	helpReply(c, "acl", []string{
		"CAT [<category>]",
		"    List all commands that belong to <category>, or all command categories",
		"    when no category is specified.",
		"DELUSER <username> [<username> ...]",
		"    Delete a list of users.",
		"DRYRUN <username> <command> [<arg> ...]",
		"    Returns whether the user can execute the given command without executing the command.",
		"GETUSER <username>",
		"    Get the user's details.",
		"GENPASS [<bits>]",
		"    Generate a secure 256-bit user password. The optional `bits` argument can",
		"    be used to specify a different size.",
		"LIST",
		"    Show users details in config file format.",
		"LOAD",
		"    Reload users from the ACL file.",
		"LOG [<count> | RESET]",
		"    Show the ACL log entries.",
		"SAVE",
		"    Save the current config to the ACL file.",
		"SETUSER <username> <attribute> [<attribute> ...]",
		"    Create or modify a user with the specified attributes.",
		"USERS",
		"    List all the registered usernames.",
		"WHOAMI",
		"    Return the current connection username.",
	})
}

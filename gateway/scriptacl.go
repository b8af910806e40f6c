package gateway

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/raftcache/raftcache/raftfsm"
)

// ACL checks of the commands scripts run (raftfsm/scriptacl.go). A script
// runs inside every replica's engine, which knows no users, so for a user
// whose rights are limited dispatch stamps the user's rules (userRules.stamp,
// its selectors as ACL LIST shows them) into the script command it sends to
// the log or serves on the read path. Every replica compiles the stamp with
// ScriptACL, the same function in every process of the same binary, and
// checks each redis.call against it as Redis checks the calling user. A
// full user's commands go unchanged.

// ScriptACL compiles a stamped rule string into the check of the commands a
// script calls (raftfsm.ScriptACL). cmd wires it into the node's FSM before
// the log is replayed.
func ScriptACL(rules []byte) (raftfsm.ScriptCheck, error) {
	return scriptChecks.get(string(rules))
}

// scriptCheckCacheMax bounds the compiled rule strings kept: there are as
// many as distinct users' rules, but SETUSER can make any number of them.
const scriptCheckCacheMax = 1024

// scriptCheckCache holds compiled rule strings; compiling is a pure
// function of the string, so every node may share and drop entries freely.
type scriptCheckCache struct {
	mu sync.Mutex
	m  map[string]raftfsm.ScriptCheck
}

var scriptChecks scriptCheckCache

func (sc *scriptCheckCache) get(rules string) (raftfsm.ScriptCheck, error) {
	sc.mu.Lock()
	chk := sc.m[rules]
	sc.mu.Unlock()
	if chk != nil {
		return chk, nil
	}
	r, msg := newUserRules().applyAll(strings.Split(rules, " "))
	if msg != "" {
		return nil, fmt.Errorf("script acl: rules %q: %s", rules, msg)
	}
	chk = func(args [][]byte) error { return scriptCheck(r, args) }
	sc.mu.Lock()
	if sc.m == nil || len(sc.m) >= scriptCheckCacheMax {
		sc.m = make(map[string]raftfsm.ScriptCheck) // rare: compiling again is cheap
	}
	sc.m[rules] = chk
	sc.mu.Unlock()
	return chk, nil
}

var (
	scriptTabOnce sync.Once
	scriptTab     *table
)

// scriptTable is the command table scripts' calls are checked against:
// the servers' table (with ACL identities and key specs), without their
// statistics.
func scriptTable() *table {
	scriptTabOnce.Do(func() {
		scriptTab = commandTable()
		assignACLIDs(scriptTab)
	})
	return scriptTab
}

// scriptCheck is userRules.check for a command a script calls.
func scriptCheck(r *userRules, args [][]byte) error {
	cmd := scriptLookup(args)
	if cmd == nil {
		return raftfsm.ErrACLUnknownCommand
	}
	res, _ := checkScriptCall(r, cmd, args)
	return scriptACLError(res)
}

// scriptLookup finds the command (or subcommand) a script calls; nil if
// the table has no such command.
func scriptLookup(args [][]byte) *command {
	cmd := scriptTable().lookup(args[0])
	if cmd != nil && cmd.subs != nil && len(args) >= 2 {
		cmd = cmd.sub(args[1])
	}
	return cmd
}

// scriptACLError is the engine's error for an ACL check's result.
func scriptACLError(res aclResult) error {
	switch res {
	case aclOK:
		return nil
	case aclDeniedKey:
		return raftfsm.ErrACLKey
	case aclDeniedChannel:
		return raftfsm.ErrACLChannel
	}
	return raftfsm.ErrACLCommand
}

// scriptCommand lists the commands that run Lua code.
var scriptCommand = map[string]bool{
	"eval": true, "evalsha": true, "eval_ro": true, "evalsha_ro": true, "fcall": true, "fcall_ro": true,
}

// stampScript returns the arguments to send for cmd: a script command of a
// user with limited rights carries the user's rules.
func stampScript(r *userRules, cmd *command, args [][]byte) [][]byte {
	if r.full || !scriptCommand[cmd.name] {
		return args
	}
	return raftfsm.StampScriptACL(r.stamp, args)
}

// logScriptDenials adds to the ACL LOG the calls of a script that its
// user's rules refused (Reply.Denied), as Redis's scriptVerifyACL does:
// one entry per call, context "lua", with the calling user and client,
// grouped with equal recent entries like any other. Every replica ran the
// script, but only the node that served it gets its reply, so each
// refusal is logged once, here.
func (s *Server) logScriptDenials(c *client, cmd *command, d *raftfsm.ScriptDenials) {
	c.lastCmd.Store(cmd) // client-info's cmd= is the script's command
	now := time.Now()
	u := c.getUser()
	rules := u.rules.Load()
	cinfo := c.info(now)
	maxLen := s.conf.int("acllog-max-len")
	for _, call := range d.Calls {
		res, object := scriptDenialObject(rules, call)
		s.acl.addLog(&aclLogEntry{count: 1, reason: res, context: aclCtxLua, object: object,
			username: u.name, ctime: now, cinfo: cinfo}, maxLen)
	}
}

// scriptDenialObject returns the reason and the object ACL LOG shows for a
// call a script was refused: the command's full name ("object|encoding"),
// or the key or channel the rules refuse. The engine reports the reason
// and the call, so the key (which of several the rules refuse) comes from
// checking the call again against r, the user's rules: those stamped into
// the script, unless they changed since; then the call's first key or
// channel is named.
func scriptDenialObject(r *userRules, d raftfsm.ScriptDenial) (aclResult, string) {
	res := aclDeniedCmd
	switch {
	case errors.Is(d.Reason, raftfsm.ErrACLKey):
		res = aclDeniedKey
	case errors.Is(d.Reason, raftfsm.ErrACLChannel):
		res = aclDeniedChannel
	}
	args := d.Args
	if len(args) == 0 {
		return res, ""
	}
	cmd := scriptLookup(args)
	if cmd == nil {
		return res, strings.ToLower(string(args[0]))
	}
	if res == aclDeniedCmd {
		return res, aclResolve(cmd, args).name
	}
	if got, pos := checkScriptCall(r, cmd, args); got == res && pos > 0 && pos < len(args) {
		return res, string(args[pos])
	}
	pos := 1 // PUBLISH and SPUBLISH: the only channels a script names
	if res == aclDeniedKey {
		pos = 0
		if ec := raftfsm.Lookup(args[0]); ec != nil {
			if ps := ec.KeyPositions(args); len(ps) > 0 {
				pos = ps[0]
			}
		}
	}
	if pos <= 0 || pos >= len(args) {
		return res, ""
	}
	return res, string(args[pos])
}

// checkScriptCall is userRules.check for a call a script makes, and the
// position of the key or channel refused. A panic (the arguments of
// acl_check_cmd are not checked for arity, as in Redis) refuses the
// command.
func checkScriptCall(r *userRules, cmd *command, args [][]byte) (res aclResult, pos int) {
	defer func() {
		if recover() != nil {
			res, pos = aclDeniedCmd, 0
		}
	}()
	res, pos, _ = r.check(cmd, args)
	return res, pos
}

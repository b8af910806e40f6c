package gateway

import (
	"fmt"
	"strings"
	"sync"

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

// scriptCheck is userRules.check for a command a script calls. A panic
// (the arguments of acl_check_cmd are not checked for arity, as in Redis)
// refuses the command.
func scriptCheck(r *userRules, args [][]byte) (err error) {
	cmd := scriptTable().lookup(args[0])
	if cmd != nil && cmd.subs != nil && len(args) >= 2 {
		cmd = cmd.sub(args[1])
	}
	if cmd == nil {
		return raftfsm.ErrACLUnknownCommand
	}
	defer func() {
		if recover() != nil {
			err = raftfsm.ErrACLCommand
		}
	}()
	res, _, _ := r.check(cmd, args)
	return scriptACLError(res)
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

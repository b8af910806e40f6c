package raftfsm

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
)

// fakeScriptACL compiles rule strings of the form "deny:<cmd>,key:<prefix>,
// chan:<name>" (the gateway's rule parser is wired by cmd; raftfsm cannot
// import it). "bad" does not compile.
type fakeScriptACL struct{}

func (fakeScriptACL) compile(rules []byte) (ScriptCheck, error) {
	if string(rules) == "bad" {
		return nil, errors.New("bad rules")
	}
	var deny, keyPrefix, channel string
	for _, part := range strings.Split(string(rules), ",") {
		k, v, _ := strings.Cut(part, ":")
		switch k {
		case "deny":
			deny = v
		case "key":
			keyPrefix = v
		case "chan":
			channel = v
		}
	}
	return func(args [][]byte) error {
		name := Lower(args[0])
		switch {
		case name == "nosuch":
			return ErrACLUnknownCommand
		case name == deny:
			return ErrACLCommand
		case (name == "publish" || name == "spublish") && channel != "" && len(args) > 1 && string(args[1]) != channel:
			return ErrACLChannel
		}
		if cmd := Lookup(args[0]); cmd != nil && keyPrefix != "" {
			for _, p := range cmd.KeyPositions(args) {
				if p < len(args) && !strings.HasPrefix(string(args[p]), keyPrefix) {
					return ErrACLKey
				}
			}
		}
		return nil
	}, nil
}

func argv(args ...string) [][]byte {
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = []byte(a)
	}
	return out
}

// applyStamped applies one OpCommands entry of cmds (the FSM's apply path
// without raft) and returns show() of each reply.
func applyStamped(db *DB, cmds ...[][]byte) []string {
	replies := ApplyCommands(db, 1_700_000_000_000, 7, cmds, nil)
	out := make([]string, len(replies))
	for i, r := range replies {
		out[i] = show(r)
	}
	return out
}

func stamped(rules string, args ...string) [][]byte {
	return StampScriptACL([]byte(rules), argv(args...))
}

// TestScriptACLChecks: the commands a stamped script calls are checked
// against its user's rules with Redis's errors; calls allowed run, pcall
// returns the error table, redis.acl_check_cmd answers for the user, and
// the same script unstamped (a full user's) runs everything.
func TestScriptACLChecks(t *testing.T) {
	acl := fakeScriptACL{}
	db := NewDB()
	db.SetScriptACL(acl.compile)
	const setK = "return redis.call('set','k','v')"
	sha := ScriptSHA([]byte(setK))
	tests := []struct {
		name string
		cmd  [][]byte
		want string // show(); a trailing '*' matches a prefix
	}{
		{"denied command", stamped("deny:set", "eval", setK, "0"),
			"!ERR The user executing the script can't run this command or subcommand script: " + sha + ", on @user_script:1."},
		{"allowed command", stamped("deny:set", "eval", "return redis.call('get','k')", "0"), "<nil>"},
		{"pcall returns the error", stamped("deny:set", "eval", "return redis.pcall('set','k','v')['err']", "0"),
			"ERR The user executing the script can't run this command or subcommand"},
		{"denied key", stamped("key:foo", "eval", "return redis.call('set','bar','v')", "0"),
			"!ERR The user executing the script can't access at least one of the keys mentioned in the command arguments*"},
		{"allowed key", stamped("key:foo", "eval", "return redis.call('set','foo1','v')", "0"), "OK"},
		{"denied channel", stamped("chan:ch", "eval", "return redis.pcall('publish','other','m')['err']", "0"),
			"ERR The user executing the script can't publish to the channel mentioned in the command"},
		{"allowed channel", stamped("chan:ch", "eval", "return redis.call('publish','ch','m')", "0"), "(0)"},
		{"connection command", stamped("deny:ping", "eval", "return redis.pcall('ping')['err']", "0"),
			"ERR The user executing the script can't run this command or subcommand"},
		{"arity before acl", stamped("deny:set", "eval", "return redis.pcall('set','k')['err']", "0"),
			"ERR Wrong number of args calling Redis command from script"},
		{"acl before read-only", stamped("deny:set", "eval_ro", "return redis.pcall('set','k','v')['err']", "0"),
			"ERR The user executing the script can't run this command or subcommand"},
		{"acl_check_cmd denied", stamped("deny:hset", "eval", "return redis.acl_check_cmd('hset','k','f','v')", "0"), "<nil>"},
		{"acl_check_cmd allowed", stamped("deny:hset", "eval", "return redis.acl_check_cmd('set','k','v')", "0"), "(1)"},
		{"acl_check_cmd key", stamped("key:x", "eval", "return redis.acl_check_cmd('set','yy','1')", "0"), "<nil>"},
		{"acl_check_cmd unknown", stamped("deny:hset", "eval", "return redis.acl_check_cmd('nosuch')", "0"),
			"!ERR user_script:1: Invalid command passed to redis.acl_check_cmd()*"},
		{"unstamped runs everything", argv("eval", "return redis.call('hset','h','f','v')", "0"), "(1)"},
		{"unstamped acl_check_cmd", argv("eval", "return redis.acl_check_cmd('ping')", "0"), "(1)"},
		{"function", stamped("deny:set", "fcall", "setk", "0"),
			"!ERR The user executing the script can't run this command or subcommand script: *"},
		{"function allowed", stamped("deny:del", "fcall", "setk", "0"), "OK"},
		{"stamp unknown to scripts", stamped("deny:set", "eval", "return redis.pcall('"+ScriptACLName+"','x','ping')['err']", "0"),
			"ERR Unknown Redis command called from script"},
	}
	lib := "#!lua name=acl\nredis.register_function('setk', function() return redis.call('set','k','v') end)"
	if got := applyStamped(db, argv("function", "load", lib)); got[0] != "acl" {
		t.Fatalf("function load: %v", got)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := applyStamped(db, tt.cmd)[0]
			if want, prefix := strings.CutSuffix(tt.want, "*"); prefix && strings.HasPrefix(got, want) {
				return
			}
			if got != tt.want {
				t.Fatalf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestScriptACLFailSafe: a stamped entry applied without a checker, or with
// rules that do not compile, refuses every call of the script.
func TestScriptACLFailSafe(t *testing.T) {
	const refused = "ERR The user executing the script lacking the permissions for the command"
	script := "return redis.pcall('get','k')['err']"
	none := NewDB()
	if got := applyStamped(none, stamped("deny:set", "eval", script, "0"))[0]; got != refused {
		t.Fatalf("no checker: %q", got)
	}
	db := NewDB()
	db.SetScriptACL(fakeScriptACL{}.compile)
	if got := applyStamped(db, stamped("bad", "eval", script, "0"))[0]; got != refused {
		t.Fatalf("bad rules: %q", got)
	}
	// A stamp is only understood at the head of an entry's command: Exec,
	// which clients and scripts reach, knows no such command.
	if got := show(Exec(NewCtx(db, 1, true, 1), stamped("deny:set", "eval", "return 1", "0"))); !strings.HasPrefix(got, "!ERR unknown command '"+ScriptACLName+"'") {
		t.Fatalf("Exec of a stamp: %q", got)
	}
}

// TestScriptACLTransaction: a stamped script inside a transaction (EXEC's
// entry, opened by the watch check) is checked too, and an unrelated
// command of the entry is not.
func TestScriptACLTransaction(t *testing.T) {
	db := NewDB()
	db.SetScriptACL(fakeScriptACL{}.compile)
	got := applyStamped(db, WatchCheck(nil, nil), argv("set", "a", "1"),
		stamped("deny:set", "eval", "return redis.pcall('set','b','2')['err']", "0"))
	want := []string{"OK", "OK", "ERR The user executing the script can't run this command or subcommand"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestScriptACLDeterminism: the same log of stamped and unstamped scripts
// applied by two FSMs (in different batchings, one restored from the
// other's snapshot midway) gives the same replies and the same state.
func TestScriptACLDeterminism(t *testing.T) {
	var logs []*raft.Log
	add := func(cmds ...[][]byte) {
		i := uint64(len(logs) + 1)
		e := &Entry{Op: OpCommands, ReqID: i, Time: 1_700_000_000_000 + int64(i), Seed: i * 31, Cmds: cmds}
		logs = append(logs, &raft.Log{Index: i, Term: 1, Type: raft.LogCommand, Data: EncodeEntry(nil, e)})
	}
	script := `local n = 0
for i = 1, 20 do
  local k = (i % 2 == 0) and ('foo{t}' .. i) or ('bar{t}' .. i)
  if redis.pcall('set', k, math.random(1000))['err'] == nil then n = n + 1 end
end
redis.pcall('del', 'foo{t}2')
return n`
	for i := 0; i < 50; i++ {
		add(stamped("key:foo", "eval", script, "0"), argv("incr", "plain"))
		add(stamped("deny:del,key:foo", "eval", script, "0"))
		add(argv("eval", script, "0"))
	}
	acl := fakeScriptACL{}
	a, b := NewFSM(nil), NewFSM(nil)
	a.SetScriptACL(acl.compile)
	b.SetScriptACL(acl.compile)
	var ra, rb []string
	for _, l := range logs {
		ra = append(ra, show(a.Apply(l).(*ApplyResult).Replies[0]))
	}
	for i := 0; i < len(logs); i += 16 {
		for _, res := range b.ApplyBatch(logs[i:min(i+16, len(logs))]) {
			rb = append(rb, show(res.(*ApplyResult).Replies[0]))
		}
	}
	if strings.Join(ra, "|") != strings.Join(rb, "|") {
		t.Fatal("replies differ")
	}
	if ra[0] != "(10)" || ra[1] != "(10)" || ra[2] != "(20)" {
		t.Fatalf("replies %v, want 10 keys allowed for the users, 20 for the full user", ra[:3])
	}
	if a.Digest() != b.Digest() || !bytes.Equal(snapshotBytes(t, a), snapshotBytes(t, b)) {
		t.Fatal("states differ")
	}

	// A replica restored from a snapshot keeps its checker.
	half := NewFSM(nil)
	half.SetScriptACL(acl.compile)
	applyAll(half, logs[:60], 8)
	restored := NewFSM(nil)
	restored.SetScriptACL(acl.compile)
	if err := restored.Restore(io.NopCloser(bytes.NewReader(snapshotBytes(t, half)))); err != nil {
		t.Fatal(err)
	}
	applyAll(restored, logs[60:], 8)
	if restored.Digest() != a.Digest() {
		t.Fatal("replay after restore diverged")
	}
}

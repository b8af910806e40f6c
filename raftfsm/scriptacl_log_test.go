package raftfsm

import (
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
)

// showDenied renders the calls a reply says its script was refused:
// "reason:call args|...", "" for none.
func showDenied(r Reply) string {
	if r.Denied == nil {
		return ""
	}
	if len(r.Denied.Calls) == 0 {
		return "<empty>"
	}
	parts := make([]string, len(r.Denied.Calls))
	for i, d := range r.Denied.Calls {
		reason := "?"
		switch d.Reason {
		case ErrACLCommand:
			reason = "command"
		case ErrACLKey:
			reason = "key"
		case ErrACLChannel:
			reason = "channel"
		}
		words := make([]string, len(d.Args))
		for j, a := range d.Args {
			words[j] = string(a)
		}
		parts[i] = reason + ":" + strings.Join(words, " ")
	}
	return strings.Join(parts, "|")
}

// TestScriptACLDenials: the reply of a script reports each call its user's
// rules refused, in order, whether the script stops with the error or
// catches it with pcall (Redis logs both); permitted calls, calls refused
// for another reason, redis.acl_check_cmd and a full user's script report
// none. Writes (the log's apply path) and reads (EVAL_RO, FCALL_RO served
// by one node) alike.
func TestScriptACLDenials(t *testing.T) {
	db := NewDB()
	db.SetScriptACL(fakeScriptACL{}.compile)
	lib := "#!lua name=acllog\n" +
		"redis.register_function('setk', function() return redis.call('set','k','v') end)\n" +
		"redis.register_function{function_name='getbar', callback=function() return redis.pcall('get','bar')['err'] end, flags={'no-writes'}}"
	if got := applyStamped(db, argv("function", "load", lib)); got[0] != "acllog" {
		t.Fatalf("function load: %v", got)
	}
	tests := []struct {
		name  string
		read  bool // served on the read path (Unstamp + Exec outside the log)
		cmd   [][]byte
		reply string // show(); a trailing '*' matches a prefix
		want  string // showDenied()
	}{
		{"call refused", false, stamped("deny:set", "eval", "return redis.call('set','k','v')", "0"),
			"!ERR The user executing the script can't run this command or subcommand*", "command:set k v"},
		{"pcall refused", false, stamped("deny:set", "eval", "return redis.pcall('set','k','v')['err']", "0"),
			"ERR The user executing the script can't run this command or subcommand", "command:set k v"},
		{"each refusal in order", false, stamped("deny:set,key:foo", "eval",
			"redis.pcall('set','foo1','v'); redis.pcall('get','bar'); redis.pcall('incr','foo2'); return redis.pcall('set','x','y')['err']", "0"),
			"ERR The user executing the script can't run this command or subcommand",
			"command:set foo1 v|key:get bar|command:set x y"},
		{"key refused", false, stamped("key:foo", "eval", "return redis.call('mset','foo1','a','bar','b')", "0"),
			"!ERR The user executing the script can't access at least one of the keys*", "key:mset foo1 a bar b"},
		{"channel refused", false, stamped("chan:ch", "eval", "return redis.pcall('publish','other','m')['err']", "0"),
			"ERR The user executing the script can't publish to the channel mentioned in the command", "channel:publish other m"},
		{"connection command refused", false, stamped("deny:ping", "eval", "return redis.pcall('ping')['err']", "0"),
			"ERR The user executing the script can't run this command or subcommand", "command:ping"},
		{"script fails after", false, stamped("deny:set", "eval", "redis.pcall('set','k','v'); error('boom')", "0"),
			"!ERR user_script:1: boom script: *", "command:set k v"},
		{"function", false, stamped("deny:set", "fcall", "setk", "0"),
			"!ERR The user executing the script can't run this command or subcommand script: *", "command:set k v"},
		{"permitted", false, stamped("deny:set", "eval", "return redis.call('incr','n')", "0"), "(1)", ""},
		{"permitted key", false, stamped("key:foo", "eval", "return redis.call('set','foo1','v')", "0"), "OK", ""},
		{"arity before acl", false, stamped("deny:set", "eval", "return redis.pcall('set','k')['err']", "0"),
			"ERR Wrong number of args calling Redis command from script", ""},
		{"unknown command", false, stamped("deny:set", "eval", "return redis.pcall('nosuch')['err']", "0"),
			"ERR Unknown Redis command called from script", ""},
		{"acl_check_cmd is not logged", false, stamped("deny:set", "eval", "return redis.acl_check_cmd('set','k','v')", "0"), "<nil>", ""},
		{"full user", false, argv("eval", "return redis.call('set','k','v')", "0"), "OK", ""},
		{"read path", true, stamped("key:foo", "eval_ro", "return redis.pcall('get','bar')['err']", "0"),
			"ERR The user executing the script can't access at least one of the keys mentioned in the command arguments", "key:get bar"},
		{"read path function", true, stamped("key:foo", "fcall_ro", "getbar", "0"),
			"ERR The user executing the script can't access at least one of the keys mentioned in the command arguments", "key:get bar"},
		{"read path permitted", true, stamped("key:foo", "eval_ro", "return redis.call('get','foo1')", "0"), "v", ""},
		{"read path full user", true, argv("eval_ro", "return redis.call('get','bar')", "0"), "<nil>", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Reply
			if tt.read {
				c := NewCtx(db, 1_700_000_000_000, false, 1)
				args := c.Unstamp(tt.cmd)
				r = Lookup(args[0]).Exec(c, args)
			} else {
				r = ApplyCommands(db, 1_700_000_000_000, 7, [][][]byte{tt.cmd}, nil)[0]
			}
			got := show(r)
			if want, prefix := strings.CutSuffix(tt.reply, "*"); !(prefix && strings.HasPrefix(got, want)) && got != tt.reply {
				t.Fatalf("reply %q, want %q", got, tt.reply)
			}
			if d := showDenied(r); d != tt.want {
				t.Fatalf("denied %q, want %q", d, tt.want)
			}
		})
	}
}

// TestScriptACLDenialsFailSafe: without a checker every call of a stamped
// script is refused, and reported as a refused command.
func TestScriptACLDenialsFailSafe(t *testing.T) {
	r := ApplyCommands(NewDB(), 1, 1, [][][]byte{stamped("deny:set", "eval", "return redis.pcall('get','k')['err']", "0")}, nil)[0]
	if got := showDenied(r); got != "command:get k" {
		t.Fatalf("denied %q", got)
	}
}

// TestScriptACLDenialsApply: through the FSM, the ApplyResult the proposer
// gets carries the refusals (in EXEC's entry too), and every replica
// computes the same ones whatever the batching.
func TestScriptACLDenialsApply(t *testing.T) {
	var logs []*raft.Log
	add := func(cmds ...[][]byte) {
		i := uint64(len(logs) + 1)
		e := &Entry{Op: OpCommands, ReqID: i, Time: 1_700_000_000_000 + int64(i), Seed: i, Cmds: cmds}
		logs = append(logs, &raft.Log{Index: i, Term: 1, Type: raft.LogCommand, Data: EncodeEntry(nil, e)})
	}
	script := "redis.pcall('set','bar','1'); return redis.call('set','foo','2')"
	add(stamped("key:foo", "eval", script, "0"), argv("incr", "n"))
	add(WatchCheck(nil, nil), stamped("key:foo", "eval", script, "0")) // EXEC's entry
	add(argv("eval", script, "0"))
	want := []string{"key:set bar 1", "", "", "key:set bar 1", ""}

	acl := fakeScriptACL{}
	a, b := NewFSM(nil), NewFSM(nil)
	a.SetScriptACL(acl.compile)
	b.SetScriptACL(acl.compile)
	var ga, gb []string
	for _, l := range logs {
		for _, r := range a.Apply(l).(*ApplyResult).Replies {
			ga = append(ga, showDenied(r))
		}
	}
	for _, res := range b.ApplyBatch(logs) {
		for _, r := range res.(*ApplyResult).Replies {
			gb = append(gb, showDenied(r))
		}
	}
	if strings.Join(ga, ",") != strings.Join(want, ",") || strings.Join(gb, ",") != strings.Join(want, ",") {
		t.Fatalf("denials\n one by one %q\n batched    %q\n want       %q", ga, gb, want)
	}
	if a.Digest() != b.Digest() {
		t.Fatal("states differ")
	}
}

// TestScriptACLNoDenialNoAlloc: checking a permitted call and finishing a
// script nothing was refused allocate nothing for the ACL LOG.
func TestScriptACLNoDenialNoAlloc(t *testing.T) {
	c := NewCtx(NewDB(), 1, true, 1)
	c.check = func([][]byte) error { return nil }
	r := &scriptRun{c: c}
	args := argv("get", "k")
	if n := testing.AllocsPerRun(100, func() {
		if _, denied := r.aclDenied(args); denied {
			t.Fatal("denied")
		}
	}); n != 0 {
		t.Fatalf("aclDenied allocates %v times for a permitted call", n)
	}
	if r.denied != nil {
		t.Fatalf("denials recorded: %v", r.denied)
	}
	c.check = func([][]byte) error { return errors.Join(ErrACLKey) }
	if _, denied := r.aclDenied(args); !denied || len(r.denied) != 1 || r.denied[0].Reason != ErrACLKey {
		t.Fatalf("wrapped key error: %+v", r.denied)
	}
}

package gateway

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/raftcache/raftcache/raftfsm"
)

// showACLLog renders ACL LOG's entries, newest first, as
// "count reason context object username" lines joined by " | ", after
// checking what every entry must show: the client's info and an age.
func showACLLog(t *testing.T, s *Server) string {
	t.Helper()
	entries, err := newGoRedis(t, s, 2).ACLLog(context.Background(), 100).Result()
	if err != nil {
		t.Fatalf("ACL LOG: %v", err)
	}
	out := make([]string, len(entries))
	for i, e := range entries {
		if e.ClientInfo == nil || e.ClientInfo.ID == 0 || e.ClientInfo.User != e.Username || e.AgeSeconds < 0 {
			t.Fatalf("entry %d: client info %+v, age %v", i, e.ClientInfo, e.AgeSeconds)
		}
		out[i] = fmt.Sprintf("%d %s %s %s %s", e.Count, e.Reason, e.Context, e.Object, e.Username)
	}
	return strings.Join(out, " | ")
}

// TestScriptACLLog: a call a script is refused by its user's rules adds an
// ACL LOG entry as in Redis 7.0 (scriptVerifyACL): context "lua", reason
// "command", "key" or "channel", object the command's full name or the
// refused key or channel, the calling user and client, whether the script
// stops or catches the error with pcall, on every path a script takes
// (EVAL, EVALSHA, EVAL_RO and FCALL_RO on the read path, FCALL, EXEC), and
// grouped with equal entries. Permitted calls, redis.acl_check_cmd and a
// full user's scripts log nothing.
func TestScriptACLLog(t *testing.T) {
	s := mustServer(t, newFakeBackend())
	admin := mustRaw(t, s)
	lib := "#!lua name=acllog\n" +
		"redis.register_function('setk', function() return redis.call('set','k','v') end)\n" +
		"redis.register_function{function_name='getbar', callback=function() return redis.pcall('get','bar')['err'] end, flags={'no-writes'}}"
	incr := "redis.call('incr','foo')"
	setK := "return redis.call('set','k','v')"
	runSteps(t, admin, []aclStep{
		// The users of Redis's tests/unit/acl.tcl and acl-v2.tcl.
		{"antirez", cmd("ACL", "SETUSER", "antirez", ">foo", "on", "+set", "~object:1234", "+eval", "+multi", "+exec", "resetchannels", "+publish"), "+OK"},
		{"selectors", cmd("ACL", "SETUSER", "acl-log-test-selector", "on", "nopass", "+mget", "+eval", "~key", "(+mget ~key ~otherkey)"), "+OK"},
		{"noset", cmd("ACL", "SETUSER", "noset", "on", "nopass", "+@all", "-set", "-object|encoding", "~*", "&*"), "+OK"},
		{"foo keys", cmd("ACL", "SETUSER", "foo", "on", "nopass", "~foo*", "+@all", "&*"), "+OK"},
		{"one channel", cmd("ACL", "SETUSER", "ch", "on", "nopass", "resetchannels", "&ch", "+@all", "~*"), "+OK"},
		{"library", cmd("FUNCTION", "LOAD", lib), "$acllog"},
		{"script load", cmd("SCRIPT", "LOAD", setK), "$" + raftfsm.ScriptSHA([]byte(setK))},
	})
	refused := func(what, script string) string {
		return "-ERR The user executing the script " + what + " script: " + raftfsm.ScriptSHA([]byte(script)) + ", on @user_script:1."
	}
	const noCmd = "can't run this command or subcommand"
	tests := []struct {
		name, user, pass string
		steps            []aclStep
		want             string // showACLLog
	}{
		{"redis acl.tcl", "antirez", "foo", []aclStep{{"eval", cmd("EVAL", incr, "0"), refused(noCmd, incr)}},
			"1 command lua incr antirez"},
		{"evalsha", "noset", "", []aclStep{{"evalsha", cmd("EVALSHA", raftfsm.ScriptSHA([]byte(setK)), "0"), refused(noCmd, setK)}},
			"1 command lua set noset"},
		{"pcall", "noset", "", []aclStep{{"eval", cmd("EVAL", "return redis.pcall('set','k','v')['err']", "0"), "$ERR The user executing the script " + noCmd}},
			"1 command lua set noset"},
		{"subcommand", "noset", "", []aclStep{{"eval", cmd("EVAL", "return redis.pcall('object','encoding','k')['err']", "0"), "$ERR The user executing the script " + noCmd}},
			"1 command lua object|encoding noset"},
		{"key", "foo", "", []aclStep{{"eval", cmd("EVAL", "return redis.pcall('mset','foo1','a','bar','b')['err']", "0"),
			"$ERR The user executing the script can't access at least one of the keys mentioned in the command arguments"}},
			"1 key lua bar foo"},
		{"key with selectors", "acl-log-test-selector", "", []aclStep{{"eval", cmd("EVAL", "return redis.pcall('mget','key','otherkey','someotherkey')['err']", "0"),
			"$ERR The user executing the script can't access at least one of the keys mentioned in the command arguments"}},
			"1 key lua someotherkey acl-log-test-selector"},
		{"channel", "ch", "", []aclStep{{"eval", cmd("EVAL", "return redis.pcall('publish','other','m')['err']", "0"),
			"$ERR The user executing the script can't publish to the channel mentioned in the command"}},
			"1 channel lua other ch"},
		{"grouped", "noset", "", []aclStep{
			{"eval", cmd("EVAL", "redis.pcall('set','k','v'); redis.pcall('set','k','w'); redis.pcall('get','k'); return redis.pcall('set','x','y')['err']", "0"),
				"$ERR The user executing the script " + noCmd},
			{"again", cmd("EVAL", "return redis.pcall('set','k','v')['err']", "0"), "$ERR The user executing the script " + noCmd},
		}, "4 command lua set noset"},
		{"one per refusal", "foo", "", []aclStep{{"eval", cmd("EVAL", "redis.pcall('get','bar'); redis.pcall('get','baz'); return redis.call('set','foo1','v')", "0"), "+OK"}},
			"1 key lua baz foo | 1 key lua bar foo"},
		{"read path", "foo", "", []aclStep{{"eval_ro", cmd("EVAL_RO", "return redis.pcall('get','bar')['err']", "0"),
			"$ERR The user executing the script can't access at least one of the keys mentioned in the command arguments"}},
			"1 key lua bar foo"},
		{"function", "noset", "", []aclStep{{"fcall", cmd("FCALL", "setk", "0"), "-ERR The user executing the script " + noCmd + " script: *"}},
			"1 command lua set noset"},
		{"read-only function", "foo", "", []aclStep{{"fcall_ro", cmd("FCALL_RO", "getbar", "0"),
			"$ERR The user executing the script can't access at least one of the keys mentioned in the command arguments"}},
			"1 key lua bar foo"},
		{"exec", "noset", "", []aclStep{
			{"multi", cmd("MULTI"), "+OK"},
			{"queued", cmd("EVAL", "return redis.pcall('set','k','v')['err']", "0"), "+QUEUED"},
			{"exec", cmd("EXEC"), "*[$ERR The user executing the script " + noCmd + "]"},
		}, "1 command lua set noset"},
		{"permitted", "foo", "", []aclStep{{"eval", cmd("EVAL", "return redis.call('set','foo1','v')", "0"), "+OK"}}, ""},
		{"other errors", "noset", "", []aclStep{{"eval", cmd("EVAL", "return redis.pcall('set','k')['err']", "0"), "$ERR Wrong number of args calling Redis command from script"}}, ""},
		{"acl_check_cmd", "noset", "", []aclStep{{"eval", cmd("EVAL", "return redis.acl_check_cmd('set','k','v')", "0"), "$<nil>"}}, ""},
		{"full user", "default", "", []aclStep{{"eval", cmd("EVAL", "return redis.call('set','k','v')", "0"), "+OK"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runSteps(t, admin, []aclStep{{"reset", cmd("ACL", "LOG", "RESET"), "+OK"}})
			r := mustRaw(t, s)
			runSteps(t, r, append([]aclStep{{"auth", cmd("AUTH", tt.user, tt.pass), "+OK"}}, tt.steps...))
			if got := showACLLog(t, s); got != tt.want {
				t.Fatalf("ACL LOG\n got  %q\n want %q", got, tt.want)
			}
		})
	}
}

// TestScriptACLLogClient: the entry shows the client that ran the script,
// with the script command as its last command even when the pipeline went
// on with others, and is grouped with neither a top-level refusal of the
// same command nor one in MULTI (their contexts differ).
func TestScriptACLLogClient(t *testing.T) {
	s := mustServer(t, newFakeBackend())
	admin := mustRaw(t, s)
	runSteps(t, admin, []aclStep{
		{"user", cmd("ACL", "SETUSER", "noset", "on", "nopass", "+@all", "-set", "~*", "&*"), "+OK"},
		{"name", cmd("CLIENT", "SETNAME", "admin"), "+OK"},
	})
	r := mustRaw(t, s)
	runSteps(t, r, []aclStep{
		{"auth", cmd("AUTH", "noset", "x"), "+OK"},
		{"name", cmd("CLIENT", "SETNAME", "scripter"), "+OK"},
	})
	r.send(cmd("EVAL", "return redis.pcall('set','k','v')['err']", "0") + cmd("GET", "k") + cmd("PING"))
	for _, want := range []string{"$ERR The user executing the script can't run this command or subcommand", "$<nil>", "+PONG"} {
		if got := r.readReply(); got != want {
			t.Fatalf("pipeline: got %q, want %q", got, want)
		}
	}
	entries, err := newGoRedis(t, s, 3).ACLLog(context.Background(), 10).Result()
	if err != nil || len(entries) != 1 {
		t.Fatalf("ACL LOG: %v, %d entries", err, len(entries))
	}
	ci := entries[0].ClientInfo
	if ci == nil || ci.Name != "scripter" || ci.User != "noset" || ci.LastCmd != "eval" {
		t.Fatalf("client info %+v", ci)
	}
	runSteps(t, r, []aclStep{
		{"toplevel", cmd("SET", "k", "v"), "-NOPERM this user has no permissions to run the 'set' command"},
		{"multi", cmd("MULTI"), "+OK"},
		{"queued", cmd("SET", "k", "v"), "-NOPERM this user has no permissions to run the 'set' command"},
		{"discard", cmd("DISCARD"), "+OK"},
		{"script again", cmd("EVAL", "return redis.pcall('set','k','v')['err']", "0"), "$ERR The user executing the script can't run this command or subcommand"},
	})
	if got, want := showACLLog(t, s), "2 command lua set noset | 1 command multi set noset | 1 command toplevel set noset"; got != want {
		t.Fatalf("ACL LOG\n got  %q\n want %q", got, want)
	}
}

// TestScriptACLLogServingNode: only the node that served the script logs
// its refusals. Two gateways over one engine stand for two nodes of a
// shard: the engine runs the script for both, the other logs nothing.
func TestScriptACLLogServingNode(t *testing.T) {
	b := newFakeBackend()
	serving, other := mustServer(t, b), mustServer(t, b)
	for _, s := range []*Server{serving, other} {
		runSteps(t, mustRaw(t, s), []aclStep{{"user", cmd("ACL", "SETUSER", "noset", "on", "nopass", "+@all", "-set", "~*", "&*"), "+OK"}})
	}
	r := mustRaw(t, serving)
	runSteps(t, r, []aclStep{
		{"auth", cmd("AUTH", "noset", "x"), "+OK"},
		{"eval", cmd("EVAL", "return redis.pcall('set','k','v')['err']", "0"), "$ERR The user executing the script can't run this command or subcommand"},
	})
	if got := showACLLog(t, serving); got != "1 command lua set noset" {
		t.Fatalf("serving node's ACL LOG %q", got)
	}
	if got := showACLLog(t, other); got != "" {
		t.Fatalf("other node's ACL LOG %q", got)
	}
}

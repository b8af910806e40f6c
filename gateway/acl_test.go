package gateway

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/raftcache/raftcache/raftfsm"
)

// Expected strings below were checked against redis-server 7.0.15.

func TestACLSetUserRules(t *testing.T) {
	tests := []struct {
		name string
		ops  []string
		want string // describe(), or the error text
	}{
		{"new user", nil, "off resetchannels -@all"},
		{"reset", []string{"reset"}, "off sanitize-payload resetchannels -@all"},
		{"on nopass all", []string{"on", "nopass", "~*", "&*", "+@all"}, "on nopass ~* &* +@all"},
		{"password hashed", []string{"on", ">p1"}, "on #f64551fcd6f07823cb87971cfb91446425da18286b3ab1ef935e0cbd7a69f68a resetchannels -@all"},
		{"remove password", []string{">p1", "<p1"}, "off resetchannels -@all"},
		{"hash", []string{"#" + strings.Repeat("a", 64)}, "off #" + strings.Repeat("a", 64) + " resetchannels -@all"},
		{"nopass clears passwords", []string{">a", "nopass"}, "off nopass resetchannels -@all"},
		{"password clears nopass", []string{"nopass", ">p1"}, "off #f64551fcd6f07823cb87971cfb91446425da18286b3ab1ef935e0cbd7a69f68a resetchannels -@all"},
		{"key selectors", []string{"%R~r:*", "%W~w:*", "%RW~rw:*", "~a", "%R~a"}, "off %R~r:* %W~w:* ~rw:* ~a resetchannels -@all"},
		{"resetkeys", []string{"~a", "resetkeys", "~b"}, "off ~b resetchannels -@all"},
		{"allkeys", []string{"~a", "allkeys"}, "off ~* resetchannels -@all"},
		{"channels", []string{"&a", "&b", "&a"}, "off resetchannels &a &b -@all"},
		{"allchannels", []string{"&a", "allchannels"}, "off &* -@all"},
		{"commands", []string{"+get", "+set", "+config|get"}, "off resetchannels -@all +config|get +get +set"},
		{"category minus command", []string{"+@hash", "-hset"}, "off resetchannels -@all +@hash -hset"},
		{"all minus admin", []string{"allcommands", "-@admin", "+config|get"}, "off resetchannels +@all -@admin +config|get"},
		{"nocommands", []string{"+@all", "nocommands"}, "off resetchannels -@all"},
		{"first arg", []string{"+select|0"}, "off resetchannels -@all +select|0"},
		{"selectors", []string{"(~a* +get)", "(+set", "~b*)"}, "off resetchannels -@all (~a* resetchannels -@all +get) (~b* resetchannels -@all +set)"},
		{"clearselectors", []string{"(~a* +get)", "clearselectors"}, "off resetchannels -@all"},
		{"case", []string{"ON", "NOPASS", "ALLKEYS", "+GET"}, "on nopass ~* resetchannels -@all +get"},
		{"empty op", []string{""}, "off resetchannels -@all"},

		{"syntax", []string{"foo"}, "ERR Error in ACL SETUSER modifier 'foo': Syntax error"},
		{"unknown command", []string{"+nosuch"}, "ERR Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL"},
		{"unknown category", []string{"+@nosuch"}, "ERR Error in ACL SETUSER modifier '+@nosuch': Unknown command or category name in ACL"},
		{"pattern after all keys", []string{"~*", "~a"}, "ERR Error in ACL SETUSER modifier '~a': Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"},
		{"channel after all", []string{"&*", "&x"}, "ERR Error in ACL SETUSER modifier '&x': Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"},
		{"bad hash", []string{"#abc"}, "ERR Error in ACL SETUSER modifier '#abc': The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"},
		{"no such password", []string{"<nope"}, "ERR Error in ACL SETUSER modifier '<nope': The password you are trying to remove from the user does not exist"},
		{"first arg of sub", []string{"+config|get|x"}, "ERR Error in ACL SETUSER modifier '+config|get|x': Allowing first-arg of a subcommand is not supported"},
		{"empty first arg", []string{"+debug|"}, "ERR Error in ACL SETUSER modifier '+debug|': Syntax error"},
		{"bad selector flag", []string{"%X~a"}, "ERR Error in ACL SETUSER modifier '%X~a': Syntax error"},
		{"unmatched paren", []string{"(~a"}, "ERR Unmatched parenthesis in acl selector starting at '(~a'."},
		{"error in selector", []string{"(~a foo)"}, "ERR Error in ACL SETUSER modifier '(~a foo)': Syntax error"},
		{"negative first arg", []string{"-select|0"}, "ERR Error in ACL SETUSER modifier '-select|0': Unknown command or category name in ACL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, msg := newUserRules().applyAll(tt.ops)
			got := msg
			if msg == "" {
				got = r.describe()
			}
			if got != tt.want {
				t.Fatalf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestACLRulesAllOrNothing: a failing SETUSER leaves the user as it was.
func TestACLRulesAllOrNothing(t *testing.T) {
	base, _ := newUserRules().applyAll([]string{"on", "+get"})
	if _, msg := base.applyAll([]string{"+set", "bogus"}); msg == "" {
		t.Fatal("bogus rule accepted")
	}
	if got := base.describe(); got != "on resetchannels -@all +get" {
		t.Fatalf("base changed: %q", got)
	}
}

func TestACLCheck(t *testing.T) {
	tab := commandTable()
	assignACLIDs(tab)
	find := func(args []string) *command {
		cmd := tab.lookup([]byte(args[0]))
		if cmd != nil && cmd.subs != nil && len(args) > 1 {
			cmd = cmd.sub([]byte(args[1]))
		}
		if cmd == nil {
			t.Fatalf("no command %q", args[0])
		}
		return cmd
	}
	app := []string{"~app:*", "+@read", "+@write", "-@dangerous", "&news*", "+publish"}
	rw := []string{"%R~r:*", "%W~w:*", "+@all"}
	tests := []struct {
		rules []string
		call  string
		want  aclResult
		pos   int
	}{
		{app, "get app:1", aclOK, 0},
		{app, "set app:1 v", aclOK, 0},
		{app, "GET other", aclDeniedKey, 1},
		{app, "mset app:1 a other b", aclDeniedKey, 3},
		{app, "flushall", aclDeniedCmd, 0},
		{app, "keys *", aclDeniedCmd, 0},
		{app, "ping", aclDeniedCmd, 0},
		{app, "auth x", aclOK, 0}, // no_auth commands are always allowed
		{app, "publish news1 x", aclOK, 0},
		{app, "publish other x", aclDeniedChannel, 1},
		{app, "eval x 1 app:1", aclDeniedCmd, 0},
		{rw, "get r:1", aclOK, 0},
		{rw, "set r:1 x", aclDeniedKey, 1},
		{rw, "set w:1 x", aclOK, 0},
		{rw, "set w:1 x get", aclDeniedKey, 1},
		{rw, "get w:1", aclDeniedKey, 1},
		{rw, "lmove r:1 w:1 left right", aclDeniedKey, 1}, // the source is also written
		{rw, "eval x 1 r:1", aclDeniedKey, 3},             // EVAL's keys are read and written
		{[]string{"+@all", "~s:*"}, "eval x 1 s:1", aclOK, 0},
		{rw, "eval x 1 x:1", aclDeniedKey, 3},
		{rw, "eval x 0", aclOK, 0},
		{rw, "bitfield r:1 get u8 0", aclOK, 0},
		{rw, "bitfield r:1 set u8 0 1", aclDeniedKey, 1},
		{rw, "sort r:1", aclOK, 0},
		{rw, "object encoding r:1", aclOK, 0},
		{rw, "subscribe a", aclDeniedChannel, 1},
		{[]string{"+@all", "~*", "&ch*"}, "subscribe ch1 x", aclDeniedChannel, 2},
		{[]string{"+@all", "~*", "&ch*"}, "psubscribe ch*", aclOK, 0},
		{[]string{"+@all", "~*", "&ch*"}, "psubscribe ch1", aclDeniedChannel, 1}, // patterns match literally
		{[]string{"+@all", "~*", "&ch*"}, "ssubscribe ch1", aclOK, 0},
		{[]string{"+select|0"}, "select 0", aclOK, 0},
		{[]string{"+select|0"}, "select 1", aclDeniedCmd, 0},
		{[]string{"+config|get"}, "config get x", aclOK, 0},
		{[]string{"+config|get"}, "config set x y", aclDeniedCmd, 0},
		{[]string{"+config"}, "config set x y", aclOK, 0},
		{[]string{"+@all", "-config|set"}, "config set x y", aclDeniedCmd, 0},
		{[]string{"(~a* +get)", "(~b* +set)"}, "get a1", aclOK, 0},
		{[]string{"(~a* +get)", "(~b* +set)"}, "get b1", aclDeniedKey, 1},
		{[]string{"(~a* +get)", "(~b* +set)"}, "set b1 x", aclOK, 0},
		{[]string{"(~a* +get)", "(~b* +set)"}, "del a1", aclDeniedCmd, 0},
	}
	for _, tt := range tests {
		r, msg := newUserRules().applyAll(tt.rules)
		if msg != "" {
			t.Fatalf("%v: %s", tt.rules, msg)
		}
		args := strings.Fields(tt.call)
		bargs := make([][]byte, len(args))
		for i, a := range args {
			bargs[i] = []byte(a)
		}
		res, pos, _ := r.check(find(args), bargs)
		if res != tt.want || pos != tt.pos {
			t.Errorf("%v %q: got %d at %d, want %d at %d", tt.rules, tt.call, res, pos, tt.want, tt.pos)
		}
	}
}

// TestACLKeySpecs: keys come from Redis's key specs (keyword searches,
// keynum), else from our own key positions when a spec is incomplete.
func TestACLKeySpecs(t *testing.T) {
	tab := commandTable()
	assignACLIDs(tab)
	for _, tt := range []struct {
		args []string
		want []int
	}{
		{[]string{"migrate", "h", "p", "", "0", "5000", "KEYS", "a", "b"}, []int{7, 8}},
		{[]string{"migrate", "h", "p", "k", "0", "5000"}, []int{3}},
		{[]string{"eval", "s", "2", "a", "b", "x"}, []int{3, 4}},
		{[]string{"eval", "s", "0"}, nil},
		{[]string{"mset", "a", "1", "b", "2"}, []int{1, 3}},
		{[]string{"zunionstore", "d", "2", "a", "b"}, []int{1, 3, 4}},
		{[]string{"ssubscribe", "ch"}, nil},
	} {
		b := make([][]byte, len(tt.args))
		for i, a := range tt.args {
			b[i] = []byte(a)
		}
		cmd := tab.lookup(b[0])
		var got []int
		for _, r := range aclKeys(cmd, aclResolve(cmd, b), b) {
			got = append(got, r.pos)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%q: keys at %v, want %v", tt.args, got, tt.want)
		}
	}
}

func TestACLSplitArgs(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
		ok   bool
	}{
		{`~a +get`, []string{"~a", "+get"}, true},
		{`  "a b"  'c d' `, []string{"a b", "c d"}, true},
		{`"a\x41\n"`, []string{"aA\n"}, true},
		{`"abc`, nil, false},
		{`"a"b`, nil, false},
	} {
		got, ok := splitArgs(tt.in)
		if ok != tt.ok || strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%q: got %q %v", tt.in, got, ok)
		}
	}
}

type aclStep struct{ name, req, want string }

func runSteps(t *testing.T, r *rawConn, steps []aclStep) {
	t.Helper()
	for _, st := range steps {
		r.send(st.req)
		got := r.readReply()
		if strings.HasSuffix(st.want, "*") {
			if !strings.HasPrefix(got, strings.TrimSuffix(st.want, "*")) {
				t.Fatalf("%s: got %q, want prefix %q", st.name, got, st.want)
			}
			continue
		}
		if got != st.want {
			t.Fatalf("%s: got %q, want %q", st.name, got, st.want)
		}
	}
}

// TestACLServer: users authenticate, run what their rules allow, are
// refused with Redis's NOPERM texts (in MULTI too), and are disconnected
// when deleted.
func TestACLServer(t *testing.T) {
	s := mustServer(t, newFakeBackend())
	admin := mustRaw(t, s)
	runSteps(t, admin, []aclStep{
		{"whoami", cmd("ACL", "WHOAMI"), "$default"},
		{"setuser", cmd("ACL", "SETUSER", "alice", "on", ">p1", "~app:*", "+@read", "+@write", "-@dangerous", "+multi", "+exec"), "+OK"},
		{"setuser off", cmd("ACL", "SETUSER", "bob", "off", "nopass", "+@all", "~*"), "+OK"},
		{"users", cmd("ACL", "USERS"), "*[$alice $bob $default]"},
		{"getuser", cmd("ACL", "GETUSER", "bob"), "*[$flags *[$off $nopass] $passwords *[] $commands $+@all $keys $~* $channels $ $selectors *[]]"},
		{"getuser none", cmd("ACL", "GETUSER", "nobody"), "$<nil>"},
		{"deluser default", cmd("ACL", "DELUSER", "default"), "-ERR The 'default' user cannot be removed"},
		{"bad username", cmd("ACL", "SETUSER", "a b"), "-ERR Usernames can't contain spaces or null characters"},
		{"load without file", cmd("ACL", "LOAD"), "-" + errNoACLFile},
		{"cat", cmd("ACL", "CAT", "nosuch"), "-ERR Unknown category 'nosuch'"},
		{"genpass", cmd("ACL", "GENPASS", "0"), "-ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096"},
		{"dryrun ok", cmd("ACL", "DRYRUN", "alice", "get", "app:1"), "+OK"},
		{"dryrun key", cmd("ACL", "DRYRUN", "alice", "get", "x"), "$This user has no permissions to access the 'x' key"},
		{"dryrun cmd", cmd("ACL", "DRYRUN", "alice", "flushall"), "$This user has no permissions to run the 'flushall' command"},
		{"dryrun no user", cmd("ACL", "DRYRUN", "x", "get", "a"), "-ERR User 'x' not found"},
		{"dryrun no cmd", cmd("ACL", "DRYRUN", "alice", "nosuch"), "-ERR Command 'nosuch' not found"},
	})

	r := mustRaw(t, s)
	runSteps(t, r, []aclStep{
		{"wrong password", cmd("AUTH", "alice", "nope"), "-WRONGPASS invalid username-password pair or user is disabled."},
		{"disabled user", cmd("AUTH", "bob", "x"), "-WRONGPASS invalid username-password pair or user is disabled."},
		{"auth", cmd("AUTH", "alice", "p1"), "+OK"},
		{"whoami needs permission", cmd("ACL", "WHOAMI"), "-NOPERM this user has no permissions to run the 'acl|whoami' command"},
		{"allowed", cmd("SET", "app:1", "v"), "+OK"},
		{"read", cmd("GET", "app:1"), "$v"},
		{"key refused", cmd("GET", "other"), "-NOPERM this user has no permissions to access one of the keys used as arguments"},
		{"command refused", cmd("FLUSHALL"), "-NOPERM this user has no permissions to run the 'flushall' command"},
		{"channel refused", cmd("PUBLISH", "ch", "x"), "-NOPERM this user has no permissions to run the 'publish' command"},
		{"multi", cmd("MULTI"), "+OK"},
		{"queued", cmd("SET", "app:2", "v"), "+QUEUED"},
		{"refused at queue time", cmd("GET", "other"), "-NOPERM this user has no permissions to access one of the keys used as arguments"},
		{"exec aborts", cmd("EXEC"), "-EXECABORT Transaction discarded because of previous errors."},
	})
	runSteps(t, admin, []aclStep{
		{"log", cmd("ACL", "LOG", "1"), "*[*[$count :1 $reason $key $context $multi $object $other $username $alice*"},
		{"client list", cmd("CLIENT", "LIST", "ID", "2"), "$id=2 *"},
		{"dryrun default", cmd("ACL", "DRYRUN", "default", "flushall"), "+OK"},
		{"deluser", cmd("ACL", "DELUSER", "alice", "nosuch"), ":1"},
	})
	r.expectClosed()

	// HELLO AUTH, RESET and the default user with a password.
	h := mustRaw(t, s)
	// The server sets a connection's authentication when it accepts it:
	// a round trip first, so that h is accepted before the default user
	// gets a password.
	runSteps(t, h, []aclStep{{"accepted", cmd("PING"), "+PONG"}})
	runSteps(t, admin, []aclStep{
		{"carol", cmd("ACL", "SETUSER", "carol", "on", ">pw", "+@all", "~*"), "+OK"},
		{"default password", cmd("ACL", "SETUSER", "default", "resetpass", ">dpw"), "+OK"},
	})
	runSteps(t, h, []aclStep{
		{"existing default conn still authed", cmd("PING"), "+PONG"},
		{"hello auth", cmd("HELLO", "2", "AUTH", "carol", "pw"), "*[$server *"},
		{"whoami", cmd("ACL", "WHOAMI"), "$carol"},
		{"reset", cmd("RESET"), "+RESET"},
		{"noauth after reset", cmd("PING"), "-NOAUTH Authentication required."},
		{"auth default", cmd("AUTH", "dpw"), "+OK"},
		{"whoami default", cmd("ACL", "WHOAMI"), "$default"},
	})
	runSteps(t, admin, []aclStep{
		{"kill by user", cmd("CLIENT", "KILL", "USER", "nosuch"), "-ERR No such user 'nosuch'"},
		{"log auth", cmd("ACL", "LOG", "RESET"), "+OK"},
	})
}

// TestACLFile: --aclfile users load at start; ACL SAVE and ACL LOAD round-trip.
func TestACLFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "users.acl")
	if err := os.WriteFile(file, []byte("user alice on >p1 ~app:* +@read\nuser default on nopass ~* &* +@all\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := mustServer(t, newFakeBackend(), func(c *Config) { c.ACLFile = file })
	r := mustRaw(t, s)
	runSteps(t, r, []aclStep{
		{"loaded", cmd("ACL", "LIST"), "*[$user alice on #f64551fcd6f07823cb87971cfb91446425da18286b3ab1ef935e0cbd7a69f68a ~app:* resetchannels -@all +@read $user default on nopass ~* &* +@all]"},
		{"add", cmd("ACL", "SETUSER", "bob", "on", "nopass", "+get"), "+OK"},
		{"save", cmd("ACL", "SAVE"), "+OK"},
		{"del", cmd("ACL", "DELUSER", "bob"), ":1"},
		{"load", cmd("ACL", "LOAD"), "+OK"},
		{"users", cmd("ACL", "USERS"), "*[$alice $bob $default]"},
	})
	if err := os.WriteFile(file, []byte("user x bogus\nuser y +nosuch\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	runSteps(t, r, []aclStep{
		{"bad file", cmd("ACL", "LOAD"), "-ERR " + file + ":1: Syntax error. " + file + ":2: Error in applying operation '+nosuch': Unknown command or category name in ACL. WARNING: ACL errors detected, no change to the previously active ACL rules was performed"},
		{"unchanged", cmd("ACL", "USERS"), "*[$alice $bob $default]"},
	})
	if _, err := New(Config{Addr: "127.0.0.1:0", Backend: newFakeBackend(), ACLFile: filepath.Join(dir, "missing")}); err == nil {
		t.Fatal("a missing aclfile was accepted")
	}
}

// BenchmarkACLDefaultUser: the default user's check on the dispatch path.
func BenchmarkACLDefaultUser(b *testing.B) {
	s := mustServer(b, newFakeBackend())
	c := newClient(s, 1, nil)
	cmd := s.tab.lookup([]byte("get"))
	args := [][]byte{[]byte("get"), []byte("k")}
	for i := 0; i < b.N; i++ {
		if r := c.user.rules.Load(); !r.full && !s.aclPermits(c, r, cmd, args) {
			b.Fatal("refused")
		}
	}
}

// TestACLRevokedSubscriber: a subscriber whose channel its user loses is
// disconnected; one whose channel is kept stays.
func TestACLRevokedSubscriber(t *testing.T) {
	s := mustServer(t, newFakeBackend())
	admin := mustRaw(t, s)
	runSteps(t, admin, []aclStep{
		{"user", cmd("ACL", "SETUSER", "ps", "on", "nopass", "+@all", "&a", "&b"), "+OK"},
		{"log max", cmd("CONFIG", "SET", "acllog-max-len", "1"), "+OK"},
	})
	subA, subB := mustRaw(t, s), mustRaw(t, s)
	runSteps(t, subA, []aclStep{{"auth", cmd("AUTH", "ps", "x"), "+OK"}, {"sub", cmd("SUBSCRIBE", "a"), "*[$subscribe $a :1]"}})
	runSteps(t, subB, []aclStep{{"auth", cmd("AUTH", "ps", "x"), "+OK"}, {"sub", cmd("SUBSCRIBE", "b"), "*[$subscribe $b :1]"}})
	runSteps(t, admin, []aclStep{{"revoke a", cmd("ACL", "SETUSER", "ps", "resetchannels", "&b"), "+OK"}})
	subA.expectClosed()
	runSteps(t, subB, []aclStep{{"still subscribed", cmd("PING"), "*[$pong $]"}})
	runSteps(t, admin, []aclStep{
		{"denied 1", cmd("AUTH", "ps", "x", "y"), "-ERR syntax error"},
		{"denied auth", cmd("AUTH", "nobody", "x"), "-WRONGPASS invalid username-password pair or user is disabled."},
		{"denied auth 2", cmd("AUTH", "nobody2", "x"), "-WRONGPASS invalid username-password pair or user is disabled."},
		{"log kept to max", cmd("ACL", "LOG"), "*[*[$count :1 $reason $auth $context $toplevel $object $AUTH $username $nobody2 *"},
	})
}

// TestACLClientKillUser: CLIENT KILL USER closes the user's connections,
// and CLIENT LIST shows each connection's user.
func TestACLClientKillUser(t *testing.T) {
	s := mustServer(t, newFakeBackend())
	admin := mustRaw(t, s)
	runSteps(t, admin, []aclStep{{"user", cmd("ACL", "SETUSER", "kim", "on", "nopass", "+@all", "~*"), "+OK"}})
	k := mustRaw(t, s)
	runSteps(t, k, []aclStep{{"auth", cmd("AUTH", "kim", "x"), "+OK"}})
	admin.send(cmd("CLIENT", "LIST", "ID", "2"))
	if got := admin.readReply(); !strings.Contains(got, " user=kim ") {
		t.Fatalf("CLIENT LIST: %q", got)
	}
	runSteps(t, admin, []aclStep{{"kill", cmd("CLIENT", "KILL", "USER", "kim"), ":1"}})
	k.expectClosed()
	for _, c := range s.clientList() {
		if c.getUser().name == "kim" {
			t.Fatal("kim's client survived")
		}
	}
}

// TestACLExecRecheck: rules changed between queueing and EXEC refuse the
// command at EXEC with Redis's text; the rest of the transaction runs.
func TestACLExecRecheck(t *testing.T) {
	s := mustServer(t, newFakeBackend())
	admin := mustRaw(t, s)
	runSteps(t, admin, []aclStep{{"user", cmd("ACL", "SETUSER", "tx", "on", "nopass", "+@all", "~*"), "+OK"}})
	r := mustRaw(t, s)
	runSteps(t, r, []aclStep{
		{"auth", cmd("AUTH", "tx", "x"), "+OK"},
		{"multi", cmd("MULTI"), "+OK"},
		{"set", cmd("SET", "a", "1"), "+QUEUED"},
		{"incr", cmd("INCR", "a"), "+QUEUED"},
	})
	runSteps(t, admin, []aclStep{{"revoke", cmd("ACL", "SETUSER", "tx", "-incr"), "+OK"}})
	runSteps(t, r, []aclStep{
		{"exec", cmd("EXEC"), "*[+OK -NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: no permission to execute the command or subcommand]"},
	})
	runSteps(t, admin, []aclStep{{"log", cmd("ACL", "LOG", "1"), "*[*[$count :1 $reason $command $context $multi $object $incr *"}})
}

// TestACLScripts: the commands a script runs are checked against the
// calling user's rules, as Redis's scriptVerifyACL does: a refused
// redis.call raises Redis's script error, pcall returns it, allowed calls
// run, redis.acl_check_cmd answers for the user. EVAL, EVALSHA, EVAL_RO on
// the read path, FCALL and scripts inside MULTI are all checked.
func TestACLScripts(t *testing.T) {
	s := mustServer(t, newFakeBackend())
	admin := mustRaw(t, s)
	lib := "#!lua name=acl\nredis.register_function('setk', function() return redis.call('set','k','v') end)"
	runSteps(t, admin, []aclStep{
		{"noset", cmd("ACL", "SETUSER", "noset", "on", "nopass", "+@all", "-set", "~*", "&*"), "+OK"},
		{"foo keys", cmd("ACL", "SETUSER", "foo", "on", "nopass", "~foo*", "+@all", "&*"), "+OK"},
		{"one channel", cmd("ACL", "SETUSER", "ch", "on", "nopass", "resetchannels", "&ch", "+@all", "~*"), "+OK"},
		{"library", cmd("FUNCTION", "LOAD", lib), "$acl"},
		{"load script", cmd("SCRIPT", "LOAD", "return redis.call('set','k','v')"), "$*"},
	})
	setK := "return redis.call('set','k','v')"
	denied := func(what, script string) string {
		return "-ERR The user executing the script " + what + " script: " + raftfsm.ScriptSHA([]byte(script)) + ", on @user_script:1."
	}
	const noCmd = "can't run this command or subcommand"
	users := map[string][]aclStep{
		"noset": {
			{"denied", cmd("EVAL", setK, "0"), denied(noCmd, setK)},
			{"evalsha", cmd("EVALSHA", raftfsm.ScriptSHA([]byte(setK)), "0"), denied(noCmd, setK)},
			{"allowed", cmd("EVAL", "return redis.call('incr','n')", "0"), ":1"},
			{"pcall", cmd("EVAL", "return redis.pcall('set','k','v')['err']", "0"), "$ERR The user executing the script " + noCmd},
			{"check denied", cmd("EVAL", "return redis.acl_check_cmd('set','k','v')", "0"), "$<nil>"},
			{"check allowed", cmd("EVAL", "return redis.acl_check_cmd('get','k')", "0"), ":1"},
			{"check invalid", cmd("EVAL", "return redis.acl_check_cmd('invalid-cmd','arg')", "0"), "-ERR user_script:1: Invalid command passed to redis.acl_check_cmd()*"},
			{"read path", cmd("EVAL_RO", "return redis.pcall('set','k','v')['err']", "0"), "$ERR The user executing the script " + noCmd},
			{"function", cmd("FCALL", "setk", "0"), "-ERR The user executing the script " + noCmd + " script: *"},
			{"multi", cmd("MULTI"), "+OK"},
			{"queued", cmd("EVAL", setK, "0"), "+QUEUED"},
			{"exec", cmd("EXEC"), "*[" + denied(noCmd, setK) + "]"},
		},
		"foo": {
			{"denied key", cmd("EVAL", "return redis.call('set','bar','v')", "0"),
				denied("can't access at least one of the keys mentioned in the command arguments", "return redis.call('set','bar','v')")},
			{"allowed key", cmd("EVAL", "return redis.call('set','foo1','v')", "0"), "+OK"},
			{"check key", cmd("EVAL", "return redis.acl_check_cmd('set','yy',1)", "0"), "$<nil>"},
			{"read path key", cmd("EVAL_RO", "return redis.pcall('get','bar')['err']", "0"),
				"$ERR The user executing the script can't access at least one of the keys mentioned in the command arguments"},
			{"read path allowed", cmd("EVAL_RO", "return redis.call('get','foo1')", "0"), "$v"},
			{"declared key", cmd("EVAL", "return 1", "1", "bar"), "-NOPERM this user has no permissions to access one of the keys used as arguments"},
		},
		"ch": {
			{"denied channel", cmd("EVAL", "return redis.pcall('publish','other','m')['err']", "0"),
				"$ERR The user executing the script can't publish to the channel mentioned in the command"},
			{"allowed channel", cmd("EVAL", "return redis.call('publish','ch','m')", "0"), ":0"},
		},
	}
	for _, user := range []string{"noset", "foo", "ch"} {
		r := mustRaw(t, s)
		runSteps(t, r, append([]aclStep{{"auth", cmd("AUTH", user, "x"), "+OK"}}, users[user]...))
	}
	runSteps(t, admin, []aclStep{
		{"full user", cmd("EVAL", setK, "0"), "+OK"},
		{"get", cmd("GET", "foo1"), "$v"},
		{"not set by refused calls", cmd("EXISTS", "bar"), ":0"},
	})
}

// TestACLScriptStamp: only the script commands of a user with limited
// rights carry the user's rules (its selectors, never its passwords) into
// the log; a full user's entries are unchanged.
func TestACLScriptStamp(t *testing.T) {
	b := newFakeBackend()
	s := mustServer(t, b)
	admin := mustRaw(t, s)
	runSteps(t, admin, []aclStep{
		{"user", cmd("ACL", "SETUSER", "app", "on", ">secret", "+@all", "-set", "~app*", "&*"), "+OK"},
		{"full eval", cmd("EVAL", "return 1", "0"), ":1"},
	})
	r := mustRaw(t, s)
	runSteps(t, r, []aclStep{
		{"auth", cmd("AUTH", "app", "secret"), "+OK"},
		{"eval", cmd("EVAL", "return 2", "1", "app1"), ":2"},
		{"plain write", cmd("INCR", "app2"), ":1"},
	})
	b.mu.RLock()
	logged := b.logged
	b.mu.RUnlock()
	if len(logged) != 3 {
		t.Fatalf("logged %d commands, want 3", len(logged))
	}
	if string(logged[0][0]) != "eval" || string(logged[2][0]) != "incr" {
		t.Fatalf("full user's eval and plain write changed: %q %q", logged[0][0], logged[2][0])
	}
	rules, inner, ok := raftfsm.SplitScriptACL(logged[1])
	if !ok || string(inner[0]) != "eval" || string(inner[3]) != "app1" {
		t.Fatalf("restricted eval not stamped: %q", logged[1])
	}
	if want := "~app* &* +@all -set"; string(rules) != want {
		t.Fatalf("stamp %q, want %q", rules, want)
	}
}

// TestACLScriptStampForged: the pseudo-command is in no command table, so
// no client can send a stamp of its own choosing (in MULTI neither).
func TestACLScriptStampForged(t *testing.T) {
	s := mustServer(t, newFakeBackend())
	admin := mustRaw(t, s)
	runSteps(t, admin, []aclStep{{"user", cmd("ACL", "SETUSER", "app", "on", "nopass", "+@all", "-set", "~*", "&*"), "+OK"}})
	forged := cmd(raftfsm.ScriptACLName, "~* &* +@all", "eval", "return redis.call('set','k','v')", "0")
	r := mustRaw(t, s)
	runSteps(t, r, []aclStep{
		{"auth", cmd("AUTH", "app", "x"), "+OK"},
		{"forged", forged, "-ERR unknown command '" + raftfsm.ScriptACLName + "'*"},
		{"multi", cmd("MULTI"), "+OK"},
		{"forged queued", forged, "-ERR unknown command '" + raftfsm.ScriptACLName + "'*"},
		{"exec", cmd("EXEC"), "-EXECABORT Transaction discarded because of previous errors."},
	})
	runSteps(t, admin, []aclStep{
		{"default forged", forged, "-ERR unknown command '" + raftfsm.ScriptACLName + "'*"},
		{"not written", cmd("EXISTS", "k"), ":0"},
	})
}

// TestScriptACLCompile: a user's stamp compiles back into the same rules
// (checks included), for every kind of rule.
func TestScriptACLCompile(t *testing.T) {
	tab := commandTable()
	assignACLIDs(tab)
	for _, ops := range [][]string{
		{"+@all", "-set", "~*", "&*"},
		{"~foo*", "+@all", "&*"},
		{"resetchannels", "&ch", "+@all", "~*"},
		{"%R~r*", "%W~w*", "+@read", "+@write", "-@dangerous", "+select|0", "&a*"},
		{"-@all", "+get", "~a", "(+set ~b*)", "(+@hash %R~h*)"},
		{"on", ">pw", "+@all", "-@admin", "+config|get", "~*"},
	} {
		r, msg := newUserRules().applyAll(ops)
		if msg != "" {
			t.Fatal(msg)
		}
		if r.full || strings.Contains(string(r.stamp), "pw") || strings.Contains(string(r.stamp), "#") {
			t.Fatalf("%v: stamp %q", ops, r.stamp)
		}
		back, msg := newUserRules().applyAll(strings.Split(string(r.stamp), " "))
		if msg != "" || back.describePerms() != r.describePerms() {
			t.Fatalf("%v: stamp %q compiles to %q (%s)", ops, r.stamp, back.describePerms(), msg)
		}
		chk, err := ScriptACL(r.stamp)
		if err != nil {
			t.Fatal(err)
		}
		for _, call := range [][]string{{"set", "b1", "v"}, {"get", "a"}, {"hget", "h1", "f"}, {"hset", "h1", "f", "v"},
			{"publish", "ch", "m"}, {"publish", "a1", "m"}, {"config", "get", "x"}, {"flushall"}, {"ping"}} {
			args := make([][]byte, len(call))
			for i, a := range call {
				args[i] = []byte(a)
			}
			c := tab.lookup(args[0])
			if c.subs != nil {
				c = c.sub(args[1])
			}
			res, _, _ := r.check(c, args)
			if got, want := chk(args), scriptACLError(res); got != want {
				t.Fatalf("%v: %v: check %v, rules say %v", ops, call, got, want)
			}
		}
	}
	if _, err := ScriptACL([]byte("(~a")); err == nil {
		t.Fatal("bad stamp compiled")
	}
	chk, _ := ScriptACL([]byte("-@all"))
	if err := chk([][]byte{[]byte("nosuch")}); err != raftfsm.ErrACLUnknownCommand {
		t.Fatalf("unknown command: %v", err)
	}
	if err := chk([][]byte{[]byte("set")}); err != raftfsm.ErrACLCommand {
		t.Fatalf("short set: %v", err)
	}
}

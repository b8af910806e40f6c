package gateway

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/raftcache/raftcache/raftfsm"
	"github.com/raftcache/raftcache/slots"
	"github.com/redis/go-redis/v9"
)

func newGoRedis(t *testing.T, s *Server, proto int) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr().String(), Protocol: proto, DialTimeout: 5 * time.Second,
		ReadTimeout: 5 * time.Second, PoolSize: 2})
	t.Cleanup(func() { c.Close() })
	return c
}

func TestGoRedisBasics(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run("resp"+string(rune('0'+proto)), func(t *testing.T) {
			s := mustServer(t, newFakeBackend())
			rc := newGoRedis(t, s, proto)
			ctx := context.Background()
			if err := rc.Ping(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			if err := rc.Set(ctx, "k", "v", 0).Err(); err != nil {
				t.Fatal(err)
			}
			if v, err := rc.Get(ctx, "k").Result(); err != nil || v != "v" {
				t.Fatalf("GET = %q, %v", v, err)
			}
			if err := rc.Get(ctx, "missing").Err(); !errors.Is(err, redis.Nil) {
				t.Fatalf("GET missing: %v", err)
			}
			if err := rc.HSet(ctx, "h", "f1", "a", "f2", "b").Err(); err != nil {
				t.Fatal(err)
			}
			m, err := rc.HGetAll(ctx, "h").Result()
			if err != nil || len(m) != 2 || m["f1"] != "a" {
				t.Fatalf("HGETALL = %v, %v", m, err)
			}
			if v, err := rc.Echo(ctx, "hi").Result(); err != nil || v != "hi" {
				t.Fatalf("ECHO = %q, %v", v, err)
			}
			if n, err := rc.ClientID(ctx).Result(); err != nil || n <= 0 {
				t.Fatalf("CLIENT ID = %d, %v", n, err)
			}
		})
	}
}

func TestPipelineOrderAndBatching(t *testing.T) {
	b := newFakeBackend()
	s := mustServer(t, b)
	r := mustRaw(t, s)
	// One TCP write: writes and reads interleaved must be answered in order,
	// with consecutive writes in one Write and consecutive reads in one Read.
	r.send(cmd("SET", "a", "1") + cmd("SET", "b", "2") + cmd("GET", "a") + cmd("GET", "b") +
		cmd("INCR", "a") + cmd("GET", "a") + cmd("PING") + cmd("GET", "a") + cmd("DEL", "a") + cmd("GET", "a"))
	want := []string{"+OK", "+OK", "$1", "$2", ":2", "$2", "+PONG", "$2", ":1", "$<nil>"}
	for i, w := range want {
		if got := r.readReply(); got != w {
			t.Fatalf("reply %d = %q, want %q", i, got, w)
		}
	}
	if w, rd := b.writes.Load(), b.reads.Load(); w != 3 || rd != 4 {
		t.Fatalf("backend calls: %d writes, %d reads; want 3 and 4", w, rd)
	}
}

func TestInlineCommands(t *testing.T) {
	s := mustServer(t, newFakeBackend())
	r := mustRaw(t, s)
	r.send("PING\r\nECHO hello\r\nSET x 5\r\nGET x\r\n")
	for _, w := range []string{"+PONG", "$hello", "+OK", "$5"} {
		if got := r.readReply(); got != w {
			t.Fatalf("got %q, want %q", got, w)
		}
	}
}

func TestErrors(t *testing.T) {
	b := newFakeBackend()
	s := mustServer(t, b)
	b.setMoved(slots.OfString("hello"), "MOVED 866 127.0.0.1:7001")
	tests := []struct {
		name string
		req  string
		want string
	}{
		{"unknown", cmd("FOO", "a", "b"), "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' "},
		{"unknown-noargs", cmd("nope"), "-ERR unknown command 'nope', with args beginning with: "},
		{"arity", cmd("GET"), "-ERR wrong number of arguments for 'get' command"},
		{"sub-arity", cmd("CLIENT", "SETNAME"), "-ERR wrong number of arguments for 'client|setname' command"},
		{"container-arity", cmd("CLIENT"), "-ERR wrong number of arguments for 'client' command"},
		{"unknown-sub", cmd("client", "bogus"), "-ERR unknown subcommand 'bogus'. Try CLIENT HELP."},
		{"crossslot", cmd("DEL", "a", "b"), "-CROSSSLOT Keys in request don't hash to the same slot"},
		{"same-tag", cmd("DEL", "{t}a", "{t}b"), ":0"},
		{"moved", cmd("GET", "hello"), "-MOVED 866 127.0.0.1:7001"},
		{"select0", cmd("SELECT", "0"), "+OK"},
		{"select1", cmd("SELECT", "1"), "-ERR SELECT is not allowed in cluster mode"},
		{"auth", cmd("AUTH", "pw"), "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"},
		{"auth-user", cmd("AUTH", "bob", "pw"), "-WRONGPASS invalid username-password pair or user is disabled."},
		{"auth-default", cmd("AUTH", "default", "pw"), "+OK"},
		{"hello-bad", cmd("HELLO", "4"), "-NOPROTO unsupported protocol version"},
		{"watch", cmd("WATCH", "k"), "+OK"},
		{"exec-nomulti", cmd("EXEC"), "-ERR EXEC without MULTI"},
		{"discard-nomulti", cmd("DISCARD"), "-ERR DISCARD without MULTI"},
		{"readonly", cmd("READONLY"), "+OK"},
		{"readwrite", cmd("READWRITE"), "+OK"},
		{"asking", cmd("ASKING"), "+OK"},
		{"getkeys", cmd("COMMAND", "GETKEYS", "SET", "k", "v"), "*[$k]"},
		{"getkeys-nokeys", cmd("COMMAND", "GETKEYS", "ECHO", "x"), "-ERR The command has no key arguments"},
		{"getkeys-invalid", cmd("COMMAND", "GETKEYS", "NOPE", "x"), "-ERR Invalid command specified"},
		{"config-unknown", cmd("CONFIG", "SET", "nope", "1"), "-ERR Unknown option or number of arguments for CONFIG SET - 'nope'"},
		{"config-badint", cmd("CONFIG", "SET", "maxclients", "x"), "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer"},
		{"config-rewrite", cmd("CONFIG", "REWRITE"), "-ERR The server is running without a config file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustRaw(t, s)
			r.send(tt.req)
			if got := r.readReply(); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBackendErrors(t *testing.T) {
	b := newFakeBackend()
	s := mustServer(t, b)
	r := mustRaw(t, s)
	var e error = respErr{"CLUSTERDOWN The cluster is down"}
	b.writeErr.Store(&e)
	r.send(cmd("SET", "k", "v"))
	if got := r.readReply(); got != "-CLUSTERDOWN The cluster is down" {
		t.Fatalf("got %q", got)
	}
	e = context.DeadlineExceeded
	b.writeErr.Store(&e)
	r.send(cmd("SET", "k", "v"))
	if got := r.readReply(); got != "-"+uncertainText {
		t.Fatalf("got %q", got)
	}
	e = errors.New("disk on fire")
	b.writeErr.Store(&e)
	r.send(cmd("SET", "k", "v"))
	if got := r.readReply(); got != "-ERR disk on fire" {
		t.Fatalf("got %q", got)
	}
}

func TestMultiExec(t *testing.T) {
	b := newFakeBackend()
	s := mustServer(t, b)
	r := mustRaw(t, s)
	r.send(cmd("MULTI") + cmd("SET", "{x}a", "1") + cmd("INCR", "{x}a") + cmd("GET", "{x}a") + cmd("PING") + cmd("EXEC"))
	for _, w := range []string{"+OK", "+QUEUED", "+QUEUED", "+QUEUED", "+QUEUED", "*[+OK :2 $2 +PONG]"} {
		if got := r.readReply(); got != w {
			t.Fatalf("got %q, want %q", got, w)
		}
	}
	if n := b.writes.Load(); n != 1 {
		t.Fatalf("EXEC made %d writes, want 1", n)
	}
	// A queue-time error aborts the transaction.
	r.send(cmd("MULTI") + cmd("SET", "a", "1") + cmd("NOPE") + cmd("MULTI") + cmd("EXEC"))
	for _, w := range []string{"+OK", "+QUEUED", "-ERR unknown command 'NOPE', with args beginning with: ",
		"-ERR MULTI calls can not be nested", "-EXECABORT Transaction discarded because of previous errors."} {
		if got := r.readReply(); got != w {
			t.Fatalf("got %q, want %q", got, w)
		}
	}
	// Cross-slot across queued commands is found at EXEC.
	r.send(cmd("MULTI") + cmd("SET", "a", "1") + cmd("SET", "b", "1") + cmd("EXEC") + cmd("DISCARD"))
	for _, w := range []string{"+OK", "+QUEUED", "+QUEUED", "-CROSSSLOT Keys in request don't hash to the same slot",
		"-ERR DISCARD without MULTI"} {
		if got := r.readReply(); got != w {
			t.Fatalf("got %q, want %q", got, w)
		}
	}
	// go-redis transactions.
	rc := newGoRedis(t, s, 3)
	ctx := context.Background()
	cmds, err := rc.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "{t}k", "v", 0)
		p.Get(ctx, "{t}k")
		return nil
	})
	if err != nil || len(cmds) != 2 || cmds[1].(*redis.StringCmd).Val() != "v" {
		t.Fatalf("TxPipelined: %v %v", cmds, err)
	}
}

func TestHello(t *testing.T) {
	b := newFakeBackend()
	s := mustServer(t, b)
	r := mustRaw(t, s)
	r.send(cmd("HELLO", "3", "AUTH", "default", "x", "SETNAME", "me") + cmd("GET", "missing") + cmd("CLIENT", "GETNAME") + cmd("CONFIG", "GET", "maxmemory"))
	got := r.readReply()
	if !strings.HasPrefix(got, "%{$server $redis $version $7.0.15 $proto :3 $id :") ||
		!strings.HasSuffix(got, "$mode $cluster $role $master $modules *[]}") {
		t.Fatalf("HELLO 3 = %q", got)
	}
	for _, w := range []string{"_", "$me", "%{$maxmemory $0}"} {
		if got := r.readReply(); got != w {
			t.Fatalf("got %q, want %q", got, w)
		}
	}
	b.leader.Store(false)
	r.send(cmd("HELLO", "2"))
	if got := r.readReply(); !strings.HasPrefix(got, "*[$server $redis") || !strings.Contains(got, "$role $replica") {
		t.Fatalf("HELLO 2 = %q", got)
	}
}

func TestProtocolLimits(t *testing.T) {
	s := mustServer(t, newFakeBackend())
	tests := []struct {
		name, req, want string
	}{
		{"bulk", "*1\r\n$999999999999\r\n", "-ERR Protocol error: invalid bulk length"},
		{"bulk-over-limit", "*2\r\n$3\r\nGET\r\n$536870913\r\n", "-ERR Protocol error: invalid bulk length"},
		{"multibulk", "*99999999\r\n", "-ERR Protocol error: invalid multibulk length"},
		{"multibulk-nan", "*x\r\n", "-ERR Protocol error: invalid multibulk length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustRaw(t, s)
			// A valid command first: it is answered before the error.
			r.send(cmd("PING") + tt.req)
			if got := r.readReply(); got != "+PONG" {
				t.Fatalf("got %q", got)
			}
			if got := r.readReply(); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			r.expectClosed()
		})
	}
	t.Run("inline-too-big", func(t *testing.T) {
		r := mustRaw(t, s)
		r.send(strings.Repeat("a", 70*1024))
		if got := r.readReply(); got != "-ERR Protocol error: too big inline request" {
			t.Fatalf("got %q", got)
		}
		r.expectClosed()
	})
	t.Run("config-limit", func(t *testing.T) {
		r := mustRaw(t, s)
		r.send(cmd("CONFIG", "SET", "proto-max-bulk-len", "2mb"))
		if got := r.readReply(); got != "+OK" {
			t.Fatalf("got %q", got)
		}
		r.send("*2\r\n$4\r\nECHO\r\n$3000000\r\n")
		if got := r.readReply(); got != "-ERR Protocol error: invalid bulk length" {
			t.Fatalf("got %q", got)
		}
		r2 := mustRaw(t, s)
		r2.send(cmd("CONFIG", "SET", "proto-max-bulk-len", "512mb") + cmd("ECHO", strings.Repeat("z", 100000)))
		if got := r2.readReply(); got != "+OK" {
			t.Fatalf("got %q", got)
		}
		if got := r2.readReply(); got != "$"+strings.Repeat("z", 100000) {
			t.Fatalf("big echo failed")
		}
	})
}

func TestPanicRecovered(t *testing.T) {
	b := newFakeBackend()
	b.panicArg = "boom"
	s := mustServer(t, b)
	r := mustRaw(t, s)
	r.send(cmd("SET", "k", "boom") + cmd("PING") + cmd("SET", "k", "ok") + cmd("GET", "k"))
	for _, w := range []string{"-ERR internal error", "+PONG", "+OK", "$ok"} {
		if got := r.readReply(); got != w {
			t.Fatalf("got %q, want %q", got, w)
		}
	}
}

func TestInfo(t *testing.T) {
	b := newFakeBackend()
	s := mustServer(t, b)
	rc := newGoRedis(t, s, 2)
	ctx := context.Background()
	if err := rc.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	info, err := rc.Info(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# Server\r\nredis_version:7.0.15\r\n", "redis_mode:cluster\r\n", "\r\n\r\n# Cluster\r\ncluster_enabled:1\r\ncluster_state:ok\r\n",
		"role:master\r\n", "db0:keys=1,expires=0,avg_ttl=0\r\n", "rdb_changes_since_last_save:1\r\n", "connected_slaves:0\r\n"} {
		if !strings.Contains(info, want) {
			t.Fatalf("INFO lacks %q:\n%s", want, info)
		}
	}
	if strings.Contains(strings.ReplaceAll(info, "\r\n", ""), "\n") {
		t.Fatalf("INFO has bare LF")
	}
	r := mustRaw(t, s)
	r.send(cmd("HELLO", "3") + cmd("INFO", "keyspace", "commandstats"))
	r.readReply()
	got := r.readReply()
	if !strings.HasPrefix(got, "=txt:# Commandstats\r\n") || !strings.Contains(got, "\r\n\r\n# Keyspace\r\ndb0:keys=1,") ||
		!strings.Contains(got, "cmdstat_set:calls=1,") {
		t.Fatalf("INFO keyspace commandstats = %q", got)
	}
}

func TestCommandReply(t *testing.T) {
	s := mustServer(t, newFakeBackend())
	for _, proto := range []int{2, 3} {
		rc := newGoRedis(t, s, proto)
		ctx := context.Background()
		infos, err := rc.Command(ctx).Result()
		if err != nil {
			t.Fatalf("COMMAND (resp%d): %v", proto, err)
		}
		get := infos["get"]
		if get == nil || !get.ReadOnly || get.FirstKeyPos != 1 || get.Arity != 2 {
			t.Fatalf("get info = %+v", get)
		}
		if set := infos["set"]; set == nil || set.ReadOnly {
			t.Fatalf("set info = %+v", set)
		}
		if infos["client"] == nil || infos["ping"] == nil {
			t.Fatalf("gateway commands missing")
		}
		n, err := rc.Do(ctx, "COMMAND", "COUNT").Int64()
		if err != nil || int(n) != len(infos) {
			t.Fatalf("COMMAND COUNT = %d (%v), COMMAND has %d", n, err, len(infos))
		}
	}
	r := mustRaw(t, s)
	r.send(cmd("COMMAND", "INFO", "get", "nope"))
	got := r.readReply()
	if !strings.HasPrefix(got, "*[*[$get :2 *[+readonly +fast] :1 :1 :1 *[+@read +@string +@fast] *[] *[") || !strings.HasSuffix(got, " $<nil>]") {
		t.Fatalf("COMMAND INFO = %q", got)
	}
	r.send(cmd("COMMAND", "DOCS", "get"))
	if got := r.readReply(); !strings.Contains(got, "$summary $Get the value of a key $since $1.0.0 $group $string") {
		t.Fatalf("COMMAND DOCS = %q", got)
	}
}

func TestConfigRoundTrip(t *testing.T) {
	s := mustServer(t, newFakeBackend())
	rc := newGoRedis(t, s, 3)
	ctx := context.Background()
	if err := rc.ConfigSet(ctx, "maxmemory", "100mb").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rc.Do(ctx, "CONFIG", "SET", "maxmemory-policy", "allkeys-lru", "hash-max-ziplist-entries", "64").Err(); err != nil {
		t.Fatal(err)
	}
	m, err := rc.ConfigGet(ctx, "maxmemory*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if m["maxmemory"] != "104857600" || m["maxmemory-policy"] != "allkeys-lru" || m["maxmemory-samples"] != "5" {
		t.Fatalf("CONFIG GET maxmemory* = %v", m)
	}
	m, err = rc.ConfigGet(ctx, "hash-max-listpack-entries").Result()
	if err != nil || m["hash-max-listpack-entries"] != "64" {
		t.Fatalf("alias not applied: %v %v", m, err)
	}
	if v, _ := s.ConfigValue("maxmemory-policy"); v != "allkeys-lru" {
		t.Fatalf("ConfigValue = %q", v)
	}
	err = rc.ConfigSet(ctx, "maxmemory-policy", "bogus").Err()
	if err == nil || !strings.Contains(err.Error(), "argument(s) must be one of the following: volatile-lru") {
		t.Fatalf("bad enum: %v", err)
	}
	if err := rc.ConfigSet(ctx, "port", "1").Err(); err == nil || !strings.Contains(err.Error(), "can't set immutable config") {
		t.Fatalf("immutable: %v", err)
	}
	if v, err := rc.ConfigGet(ctx, "cluster-enabled").Result(); err != nil || v["cluster-enabled"] != "yes" {
		t.Fatalf("cluster-enabled = %v %v", v, err)
	}
}

func TestClientCommands(t *testing.T) {
	s := mustServer(t, newFakeBackend())
	a := mustRaw(t, s)
	bconn := mustRaw(t, s)
	a.send(cmd("CLIENT", "SETNAME", "alpha") + cmd("CLIENT", "GETNAME") + cmd("CLIENT", "SETNAME", "bad name") + cmd("CLIENT", "ID"))
	for _, w := range []string{"+OK", "$alpha", "-ERR Client names cannot contain spaces, newlines or special characters."} {
		if got := a.readReply(); got != w {
			t.Fatalf("got %q, want %q", got, w)
		}
	}
	aID := a.readReply()
	bconn.send(cmd("CLIENT", "SETINFO", "LIB-NAME", "go-redis(x)") + cmd("CLIENT", "ID"))
	if got := bconn.readReply(); got != "+OK" {
		t.Fatalf("SETINFO = %q", got)
	}
	bID := bconn.readReply()
	a.send(cmd("CLIENT", "LIST"))
	list := a.readReply()
	lines := strings.Split(strings.TrimSuffix(strings.TrimPrefix(list, "$"), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("CLIENT LIST = %q", list)
	}
	if !strings.HasPrefix(lines[0], "id="+aID[1:]+" addr=") || !strings.Contains(lines[0], " name=alpha age=") ||
		!strings.Contains(lines[0], " flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=client|list user=default redir=-1 resp=2") {
		t.Fatalf("CLIENT LIST line = %q", lines[0])
	}
	a.send(cmd("CLIENT", "KILL", "ID", bID[1:]))
	if got := a.readReply(); got != ":1" {
		t.Fatalf("CLIENT KILL = %q", got)
	}
	bconn.expectClosed()
	a.send(cmd("CLIENT", "KILL", "127.0.0.1:1"))
	if got := a.readReply(); got != "-ERR No such client" {
		t.Fatalf("CLIENT KILL old form = %q", got)
	}
	a.send(cmd("CLIENT", "REPLY", "SKIP") + cmd("PING") + cmd("ECHO", "seen"))
	if got := a.readReply(); got != "$seen" {
		t.Fatalf("CLIENT REPLY SKIP: got %q", got)
	}
	a.send(cmd("QUIT"))
	if got := a.readReply(); got != "+OK" {
		t.Fatalf("QUIT = %q", got)
	}
	a.expectClosed()
}

func TestCloseWithClients(t *testing.T) {
	b := newFakeBackend()
	s, err := New(Config{Addr: "127.0.0.1:0", Backend: b})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	r := mustRaw(t, s)
	r.send(cmd("PING"))
	r.readReply()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	r.expectClosed()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestTableNoOverlap(t *testing.T) {
	tab := commandTable()
	for _, own := range gatewayCommands() {
		if cmd := tab.m[own.name]; cmd == nil || cmd.engine != nil {
			t.Errorf("gateway command %q shadowed", own.name)
		}
	}
	for _, cmd := range tab.all {
		if cmd.arity == 0 {
			t.Errorf("%s: zero arity", cmd.name)
		}
		if cmd.engine == nil && cmd.handler == nil && cmd.subs == nil && cmd.rewrite == nil {
			t.Errorf("%s: no handler", cmd.name)
		}
		for _, sc := range cmd.subs {
			if (sc.handler == nil && sc.engine == nil) || sc.arity == 0 {
				t.Errorf("%s: incomplete subcommand", sc.name)
			}
		}
		if cmd.engine != nil && cmd.isWrite() == (cmd.flags&raftfsm.FlagReadOnly != 0) && cmd.isWrite() {
			t.Errorf("%s: both write and readonly", cmd.name)
		}
	}
}

// TestFailedCalls: INFO commandstats counts a gateway command whose reply
// is an error as a failed call (not a rejected one), a command queued in
// MULTI as its own failure and not EXEC's, and EVALSHA's NOSCRIPT as a
// failed call: the counts redis-server 7.0.15 gives (unit/info's
// errorstats tests).
func TestFailedCalls(t *testing.T) {
	s := mustServer(t, newFakeBackend())
	rc := newGoRedis(t, s, 2)
	ctx := context.Background()
	stat := func(name string) string {
		t.Helper()
		info, err := rc.Info(ctx, "commandstats").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(l, "cmdstat_"+name+":"); ok {
				return v
			}
		}
		return ""
	}
	want := func(name, calls, rejected, failed string) {
		t.Helper()
		v := stat(name)
		if !strings.HasPrefix(v, "calls="+calls+",") || !strings.HasSuffix(v, ",rejected_calls="+rejected+",failed_calls="+failed) {
			t.Fatalf("cmdstat_%s: %q, want calls=%s rejected_calls=%s failed_calls=%s", name, v, calls, rejected, failed)
		}
	}
	if err := rc.Do(ctx, "AUTH", "nopass").Err(); err == nil {
		t.Fatal("AUTH without a password set succeeded")
	}
	want("auth", "1", "0", "1")
	if err := rc.Do(ctx, "CONFIG", "RESETSTAT").Err(); err != nil {
		t.Fatal(err)
	}
	_, err := rc.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "a", "b", 0)
		p.Do(ctx, "AUTH", "a")
		return nil
	})
	if err == nil || !strings.HasPrefix(err.Error(), "ERR AUTH") {
		t.Fatalf("EXEC with a failing AUTH: %v", err)
	}
	want("auth", "1", "0", "1")
	want("exec", "1", "0", "0")
	if err := rc.Do(ctx, "EXEC").Err(); err == nil {
		t.Fatal("EXEC without MULTI succeeded")
	}
	want("exec", "2", "0", "1")
	if err := rc.Do(ctx, "EVALSHA", "NotValidShaSUM", "0").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOSCRIPT") {
		t.Fatalf("EVALSHA of an unknown digest: %v", err)
	}
	want("evalsha", "1", "0", "1")
	if err := rc.Do(ctx, "ECHO").Err(); err == nil {
		t.Fatal("ECHO without an argument succeeded")
	}
	want("echo", "0", "1", "0")
}

// TestScriptCallStats: the commands a script calls count in INFO
// commandstats and errorstats as in redis-server 7.0.15 (unit/info's
// "failed call within LUA", unit/scripting's "Consistent eval error
// reporting"): an error counts once, at the call that raised it, even when
// it ends the script; the script counts as a failed call only.
func TestScriptCallStats(t *testing.T) {
	b := newFakeBackend()
	s := mustServer(t, b)
	b.db.SetScriptCallSink(s.ScriptCall) // as cmd wires the node's FSM
	rc := newGoRedis(t, s, 2)
	ctx := context.Background()
	info := func() map[string]string {
		t.Helper()
		out, err := rc.Info(ctx, "commandstats", "errorstats", "stats").Result()
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, l := range strings.Split(out, "\r\n") {
			if k, v, ok := strings.Cut(l, ":"); ok {
				m[k] = v
			}
		}
		return m
	}
	if err := rc.Set(ctx, "str", "abc", 0).Err(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		call   []any
		err    string // prefix of the script's error, "" for none
		stats  map[string]string
		errors string // total_error_replies
	}{
		{"caught by pcall", []any{"EVAL", "redis.pcall('XGROUP', 'CREATECONSUMER', 's1', 'mygroup', 'consumer') return", "0"}, "",
			map[string]string{"cmdstat_xgroup|createconsumer": "calls=1,*,rejected_calls=0,failed_calls=1", "cmdstat_eval": "calls=1,*,rejected_calls=0,failed_calls=0", "errorstat_ERR": "count=1"}, "1"},
		{"raised by redis.call", []any{"EVAL", "return redis.call('incr', KEYS[1])", "1", "str"}, "ERR value is not an integer",
			map[string]string{"cmdstat_incr": "calls=1,*,rejected_calls=0,failed_calls=1", "cmdstat_eval": "calls=1,*,rejected_calls=0,failed_calls=1", "errorstat_ERR": "count=1"}, "1"},
		{"pcall's error returned", []any{"EVAL", "return redis.pcall('incr', KEYS[1])", "1", "str"}, "ERR value is not an integer",
			map[string]string{"cmdstat_incr": "calls=1,*,rejected_calls=0,failed_calls=1", "cmdstat_eval": "calls=1,*,rejected_calls=0,failed_calls=1", "errorstat_ERR": "count=1"}, "1"},
		{"refused: a write in a read-only script", []any{"EVAL_RO", "return redis.call('set', KEYS[1], 'y')", "1", "x"}, "ERR Write commands are not allowed from read-only scripts",
			map[string]string{"cmdstat_set": "calls=0,*,rejected_calls=1,failed_calls=0", "cmdstat_eval_ro": "calls=1,*,rejected_calls=0,failed_calls=1", "errorstat_ERR": "count=1"}, "1"},
		{"the script's own error", []any{"EVAL", "return redis.error_reply('MYERR boom')", "0"}, "MYERR boom",
			map[string]string{"cmdstat_eval": "calls=1,*,rejected_calls=0,failed_calls=1", "errorstat_MYERR": "count=1"}, "1"},
		{"calls that succeed", []any{"EVAL", "redis.call('set', KEYS[1], 'v') return redis.call('get', KEYS[1])", "1", "k"}, "",
			map[string]string{"cmdstat_set": "calls=1,*,rejected_calls=0,failed_calls=0", "cmdstat_get": "calls=1,*,rejected_calls=0,failed_calls=0", "cmdstat_eval": "calls=1,*"}, "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := rc.Do(ctx, "CONFIG", "RESETSTAT").Err(); err != nil {
				t.Fatal(err)
			}
			err := rc.Do(ctx, tt.call...).Err()
			if err == redis.Nil {
				err = nil
			}
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.err)) {
				t.Fatalf("%v: %v, want error %q", tt.call, err, tt.err)
			}
			got := info()
			for k, want := range tt.stats {
				pre, suf, wild := strings.Cut(want, "*")
				if v := got[k]; !strings.HasPrefix(v, pre) || wild && !strings.HasSuffix(v, suf) || !wild && v != want {
					t.Errorf("%s: %q, want %q", k, v, want)
				}
			}
			if v := got["total_error_replies"]; v != tt.errors {
				t.Errorf("total_error_replies: %s, want %s", v, tt.errors)
			}
		})
	}
}

// TestEngineSubcommands: the engine's containers (XGROUP, OBJECT, MEMORY
// ...) have Redis's subcommand entries: names and arity checked as Redis
// does, statistics per subcommand, and MEMORY USAGE routed by its key.
func TestEngineSubcommands(t *testing.T) {
	b := newFakeBackend()
	s := mustServer(t, b)
	r := mustRaw(t, s)
	b.setMoved(slots.Of([]byte("moved")), "MOVED {slot} 127.0.0.1:7001")
	steps := []step{
		{cmd("XADD", "st", "*", "f", "v"), "$*"},
		{cmd("XGROUP", "CREATE", "st", "g", "$"), "+OK"},
		{cmd("XGROUP", "NOPE", "st"), "-ERR unknown subcommand 'NOPE'. Try XGROUP HELP."},
		{cmd("XGROUP", "CREATE", "st"), "-ERR wrong number of arguments for 'xgroup|create' command"},
		{cmd("COMMAND", "GETKEYS", "MEMORY", "USAGE", "k"), "*[$k]"},
		{cmd("MEMORY", "USAGE", "moved"), "-MOVED *"},
		{cmd("OBJECT", "ENCODING", "moved"), "-MOVED *"},
	}
	sendSteps(t, r, steps)
	r.send(cmd("INFO", "commandstats"))
	info := r.readReply()
	for _, want := range []string{"cmdstat_xgroup|create:calls=1,", "rejected_calls=1"} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO commandstats lacks %q: %q", want, info)
		}
	}
	if strings.Contains(info, "cmdstat_xgroup:") {
		t.Errorf("XGROUP counted as a whole: %q", info)
	}
	r.send(cmd("COMMAND", "INFO", "SORT_RO"))
	if got := r.readReply(); !strings.Contains(got, "movablekeys") {
		t.Errorf("COMMAND INFO SORT_RO: %q, want movablekeys", got)
	}
}

// TestGetKeysAndFlags: COMMAND GETKEYSANDFLAGS gives each key the flags of
// what this call does with it, as redis-server 7.0.15 does (unit/
// introspection-2).
func TestGetKeysAndFlags(t *testing.T) {
	s := mustServer(t, newFakeBackend())
	r := mustRaw(t, s)
	gk := func(a ...string) string { return cmd(append([]string{"COMMAND", "GETKEYSANDFLAGS"}, a...)...) }
	sendSteps(t, r, []step{
		{gk("SET", "k1", "v1"), "*[*[$k1 *[+OW +update]]]"},
		{gk("SET", "k1", "v1", "GET"), "*[*[$k1 *[+RW +access +update]]]"},
		{gk("MSET", "k1", "v1", "k2", "v2"), "*[*[$k1 *[+OW +update]] *[$k2 *[+OW +update]]]"},
		{gk("LMOVE", "k1", "k2", "left", "right"), "*[*[$k1 *[+RW +access +delete]] *[$k2 *[+RW +insert]]]"},
		{gk("SORT", "k1", "STORE", "k2"), "*[*[$k1 *[+RO +access]] *[$k2 *[+OW +update]]]"},
		{gk("GET", "k1"), "*[*[$k1 *[+RO +access]]]"},
	})
}

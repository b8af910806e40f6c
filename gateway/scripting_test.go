package gateway

import (
	"context"
	"strings"
	"testing"

	"github.com/raftcache/raftcache/raftfsm"
	"github.com/raftcache/raftcache/slots"
	"github.com/redis/go-redis/v9"
)

func TestScriptCommands(t *testing.T) {
	b := newFakeBackend()
	s := mustServer(t, b)
	r := mustRaw(t, s)
	const body = "return redis.call('incr', KEYS[1])"
	sha := raftfsm.ScriptSHA([]byte(body))
	const body2 = "return redis.call('incrby', KEYS[1], 10)"
	sha2 := raftfsm.ScriptSHA([]byte(body2))
	steps := []step{
		{cmd("EVALSHA", sha, "1", "n"), "-NOSCRIPT No matching script. Please use EVAL."},
		{cmd("SCRIPT", "EXISTS", sha, "nope"), "*[:0 :0]"},
		{cmd("SCRIPT", "LOAD", body), "$" + sha},
		{cmd("SCRIPT", "EXISTS", sha, "nope"), "*[:1 :0]"},
		{cmd("EVALSHA", sha, "1", "n"), ":1"},
		{cmd("evalsha", strings.ToUpper(sha), "1", "n"), ":2"},
		{cmd("EVALSHA_RO", sha, "1", "n"), "-ERR Write commands are not allowed from read-only scripts. script: " + sha + ", on @user_script:1."},
		{cmd("EVAL_RO", "return redis.call('get', KEYS[1])", "1", "n"), "$2"},
		{cmd("SCRIPT", "LOAD", "return ("), "-ERR Error compiling script (new function): *"},
		{cmd("SCRIPT", "FLUSH"), "+OK"},
		{cmd("SCRIPT", "EXISTS", sha), "*[:0]"},
		// EVAL caches what it ran, as Redis does.
		{cmd("EVAL", body, "1", "n"), ":3"},
		{cmd("SCRIPT", "EXISTS", sha), "*[:1]"},
		{cmd("SCRIPT", "FLUSH", "ASYNC"), "+OK"},
		{cmd("SCRIPT", "FLUSH", "LATER"), "-ERR SCRIPT FLUSH only support SYNC|ASYNC option"},
		{cmd("SCRIPT", "KILL"), "-NOTBUSY No scripts in execution right now."},
		{cmd("SCRIPT", "NOPE"), "-ERR unknown subcommand 'NOPE'. Try SCRIPT HELP."},
		{cmd("EVAL", "return 1"), "-ERR wrong number of arguments for 'eval' command"},
		{cmd("EVAL", "return redis.call('get', KEYS[1])", "2", "a", "b"), "-CROSSSLOT Keys in request don't hash to the same slot"},
		{cmd("COMMAND", "GETKEYS", "EVALSHA", sha, "2", "{a}x", "{a}y", "arg"), "*[${a}x ${a}y]"},
		// Inside MULTI, EVALSHA is resolved when queued.
		{cmd("SCRIPT", "LOAD", body), "$" + sha},
		{cmd("MULTI"), "+OK"},
		{cmd("EVALSHA", sha, "1", "n"), "+QUEUED"},
		{cmd("EVAL", "return redis.call('get', KEYS[1])", "1", "n"), "+QUEUED"},
		{cmd("EXEC"), "*[:4 $4]"},
		// An unknown digest is queued too and fails alone at EXEC, as in
		// Redis; a SCRIPT LOAD queued before it defines it.
		{cmd("MULTI"), "+OK"},
		{cmd("EVALSHA", sha2, "1", "n"), "+QUEUED"},
		{cmd("SCRIPT", "LOAD", body2), "+QUEUED"},
		{cmd("EVALSHA", strings.ToUpper(sha2), "1", "n"), "+QUEUED"},
		{cmd("EVALSHA_RO", strings.Repeat("f", 40), "0"), "+QUEUED"},
		{cmd("GET", "n"), "+QUEUED"},
		{cmd("EXEC"), "*[-NOSCRIPT No matching script. Please use EVAL. $" + sha2 + " :14 -NOSCRIPT No matching script. Please use EVAL. $14]"},
		{cmd("EVALSHA", sha2, "1", "n"), ":24"},
	}
	sendSteps(t, r, steps)
	// A script's keys are routed like any command's: a moved slot answers
	// MOVED before the script runs.
	b.setMoved(slots.Of([]byte("moved")), "MOVED {slot} 127.0.0.1:7001")
	r.send(cmd("EVAL", "return redis.call('set', KEYS[1], 1)", "1", "moved"))
	if got := r.readReply(); !strings.HasPrefix(got, "-MOVED ") {
		t.Fatalf("EVAL on a moved slot: %q", got)
	}
	r.send(cmd("INFO", "memory"))
	if got := r.readReply(); !strings.Contains(got, "number_of_cached_scripts:4") {
		t.Fatalf("INFO memory lacks number_of_cached_scripts:4 (EVAL caches what it is sent): %q", got)
	}
}

// TestGoRedisScript: go-redis's Script.Run (EVALSHA, then EVAL on
// NOSCRIPT) and its typed replies, RESP2 and RESP3.
func TestGoRedisScript(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run("resp"+string(rune('0'+proto)), func(t *testing.T) {
			s := mustServer(t, newFakeBackend())
			rc := newGoRedis(t, s, proto)
			ctx := context.Background()
			// A fixed-window rate limiter as applications write it.
			limiter := redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if n > tonumber(ARGV[1]) then return {0, redis.call('PTTL', KEYS[1])} end
return {1, tonumber(ARGV[1]) - n}`)
			for i := 0; i < 4; i++ {
				v, err := limiter.Run(ctx, rc, []string{"rl:user1"}, 3, 60000).Int64Slice()
				if err != nil {
					t.Fatal(err)
				}
				allowed := i < 3
				if (v[0] == 1) != allowed {
					t.Fatalf("call %d: %v, want allowed=%v", i, v, allowed)
				}
				if allowed && v[1] != int64(2-i) {
					t.Fatalf("call %d: remaining %d, want %d", i, v[1], 2-i)
				}
				if !allowed && (v[1] <= 0 || v[1] > 60000) {
					t.Fatalf("call %d: retry after %d ms", i, v[1])
				}
			}
			if err := rc.ScriptFlush(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			// After a flush Run falls back to EVAL.
			if _, err := limiter.Run(ctx, rc, []string{"rl:user2"}, 3, 60000).Int64Slice(); err != nil {
				t.Fatal(err)
			}
			if ok, err := limiter.Exists(ctx, rc).Result(); err != nil || len(ok) != 1 || !ok[0] {
				t.Fatalf("SCRIPT EXISTS after EVAL: %v %v", ok, err)
			}
			v, err := rc.Eval(ctx, "return {ok='fine'}", nil).Result()
			if err != nil || v != "fine" {
				t.Fatalf("status reply: %v %v", v, err)
			}
			if err := rc.Eval(ctx, "return redis.error_reply('BUSYGROUP exists')", nil).Err(); err == nil || err.Error() != "BUSYGROUP exists" {
				t.Fatalf("error reply: %v", err)
			}
			if v, err := rc.EvalRO(ctx, "return cjson.encode({a={1,2}})", nil).Result(); err != nil || v != `{"a":[1,2]}` {
				t.Fatalf("cjson: %v %v", v, err)
			}
		})
	}
}

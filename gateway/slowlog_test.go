package gateway

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// slowArgs returns the argument lists of SLOWLOG GET -1, newest first.
func slowArgs(t *testing.T, c *redis.Client) [][]string {
	t.Helper()
	entries, err := c.Do(context.Background(), "slowlog", "get", "-1").Slice()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for _, e := range entries {
		f := e.([]any)
		if len(f) != 6 {
			t.Fatalf("entry of %d fields: %v", len(f), f)
		}
		var args []string
		for _, a := range f[3].([]any) {
			args = append(args, a.(string))
		}
		out = append(out, args)
	}
	return out
}

func TestSlowlog(t *testing.T) {
	s := mustServer(t, newWatchBackend())
	c := redis.NewClient(&redis.Options{Addr: s.Addr().String(), Protocol: 2})
	defer c.Close()
	ctx := context.Background()
	do := func(args ...any) {
		t.Helper()
		if err := c.Do(ctx, args...).Err(); err != nil && err != redis.Nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	do("config", "set", "slowlog-log-slower-than", "0")
	do("slowlog", "reset")
	do("client", "setname", "slowpoke")
	do("SET", "k", "v") // engine command, name as sent
	do("ping")
	got := slowArgs(t, c)
	want := []string{"ping", "SET k v", "client setname slowpoke", "slowlog reset"}
	if len(got) != len(want) {
		t.Fatalf("entries %v, want %v", got, want)
	}
	for i, w := range want {
		if strings.Join(got[i], " ") != w {
			t.Fatalf("entry %d: %q, want %q", i, got[i], w)
		}
	}
	e, err := c.Do(ctx, "slowlog", "get", "1").Slice()
	if err != nil || len(e) != 1 {
		t.Fatalf("SLOWLOG GET 1: %v %v", e, err)
	}
	if f := e[0].([]any); f[5] != "slowpoke" || !strings.HasPrefix(f[4].(string), "127.0.0.1:") {
		t.Fatalf("client fields: %v", f)
	}

	t.Run("trimmed and redacted", func(t *testing.T) {
		do("slowlog", "reset")
		many := []any{"sadd", "set"}
		for i := 0; i < 33; i++ {
			many = append(many, i)
		}
		do(many...)
		do("sadd", "set", strings.Repeat("A", 130))
		do("acl", "setuser", "bob", "on", ">secret", "+@all", "~*")
		// Refused (immutable here) but logged, redacted, as in Redis.
		_ = c.Do(ctx, "config", "set", "requirepass", "hunter2").Err()
		_ = c.Do(ctx, "config", "set", "tls-key-file-pass", "hunter3").Err() // refused: no TLS here
		_ = c.Do(ctx, "auth", "bob", "secret").Err()
		do("hello", "2", "auth", "bob", "secret", "setname", "x")
		got := slowArgs(t, c)
		checks := map[int]string{
			6: "sadd set 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 ... (4 more arguments)",
			5: "sadd set " + strings.Repeat("A", 128) + "... (2 more bytes)",
			4: "acl setuser (redacted) (redacted) (redacted) (redacted) (redacted)",
			3: "config set requirepass (redacted)",
			2: "config set tls-key-file-pass (redacted)",
			1: "auth (redacted) (redacted)",
			0: "hello 2 auth (redacted) (redacted) setname x",
		}
		for i, w := range checks {
			if i >= len(got) || strings.Join(got[i], " ") != w {
				t.Errorf("entry %d: %q, want %q", i, got, w)
			}
		}
	})

	t.Run("EXEC is not logged, its commands are", func(t *testing.T) {
		do("slowlog", "reset")
		pipe := c.TxPipeline()
		pipe.Set(ctx, "a", "1", 0)
		pipe.Incr(ctx, "a")
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, a := range slowArgs(t, c) {
			names = append(names, a[0])
		}
		// Newest first; a new connection's handshake may precede.
		if got := strings.Join(names, " "); !strings.HasPrefix(got, "incr set multi ") || strings.Contains(got, "exec") {
			t.Fatalf("logged %q", got)
		}
	})

	t.Run("max len, disabling, count", func(t *testing.T) {
		do("config", "set", "slowlog-max-len", "3")
		for i := 0; i < 10; i++ {
			do("ping")
		}
		if n, _ := c.Do(ctx, "slowlog", "len").Int(); n != 3 {
			t.Fatalf("SLOWLOG LEN %d, want 3", n)
		}
		if err := c.Do(ctx, "slowlog", "get", "-2").Err(); err == nil || !strings.Contains(err.Error(), "greater than or equal to -1") {
			t.Fatalf("GET -2: %v", err)
		}
		if l, _ := c.Do(ctx, "slowlog", "get", "0").Slice(); len(l) != 0 {
			t.Fatalf("GET 0: %d entries", len(l))
		}
		do("config", "set", "slowlog-log-slower-than", "-1")
		do("slowlog", "reset")
		do("ping")
		if n, _ := c.Do(ctx, "slowlog", "len").Int(); n != 0 {
			t.Fatalf("disabled, SLOWLOG LEN %d", n)
		}
		// A high threshold keeps fast commands out.
		do("config", "set", "slowlog-log-slower-than", "10000000")
		do("ping")
		if n, _ := c.Do(ctx, "slowlog", "len").Int(); n != 0 {
			t.Fatalf("fast commands logged: %d", n)
		}
	})
}

package gateway

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tidwall/redcon"
)

// fuzzServer builds a server that is never started: FuzzRESP drives its
// framer, redcon's parser and the dispatcher directly, in memory.
func fuzzServer(t testing.TB) *Server {
	s, err := New(Config{Addr: "127.0.0.1:0", Backend: newFakeBackend(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// FuzzRESP feeds arbitrary bytes through the same path as a connection: the
// guard's framer, redcon's reader and the dispatcher. It must never panic,
// and every reply batch must be well-formed RESP.
func FuzzRESP(f *testing.F) {
	seeds := []string{
		cmd("SET", "k", "v") + cmd("GET", "k"),
		cmd("MULTI") + cmd("INCR", "a") + cmd("EXEC"),
		"PING\r\nECHO \"a b\"\r\n",
		"*1\r\n$999999999999\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\n",
		cmd("HELLO", "3") + cmd("HGETALL", "h") + cmd("CONFIG", "GET", "*"),
		cmd("CLIENT", "LIST") + cmd("COMMAND", "GETKEYS", "MSET", "a", "1"),
		"*-1\r\n", "*0\r\n", "$3\r\nfoo\r\n", "\r\n\r\n", "'unbalanced\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	s := fuzzServer(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		c := newClient(s, 1, nil)
		var fr framer
		fr.maxBulk = &s.maxBulk
		fr.maxQuery = &s.maxQuery
		n, _ := fr.feed(data)
		rd := redcon.NewReader(bytes.NewReader(data[:n]))
		for i := 0; i < 64; i++ {
			cmds, err := rd.ReadCommands()
			if err != nil || len(cmds) == 0 {
				break
			}
			s.serveBatch(c, cmds[0].Args, cmds[1:])
			checkRESP(t, c.out)
			c.out = c.out[:0]
			if c.closeAfter {
				break
			}
		}
	})
}

// checkRESP fails unless b is a sequence of complete RESP values.
func checkRESP(t *testing.T, b []byte) {
	t.Helper()
	for len(b) > 0 {
		n, ok := respLen(b)
		if !ok {
			t.Fatalf("malformed reply stream %q", b)
		}
		b = b[n:]
	}
}

func respLen(b []byte) (int, bool) {
	i := bytes.Index(b, []byte("\r\n"))
	if i < 1 {
		return 0, false
	}
	line := string(b[1:i])
	switch b[0] {
	case '+', '-', ':', '_', ',', '#':
		return i + 2, true
	case '$', '=':
		n, err := strconv.Atoi(line)
		if err != nil {
			return 0, false
		}
		if n < 0 {
			return i + 2, true
		}
		end := i + 2 + n + 2
		if end > len(b) || string(b[end-2:end]) != "\r\n" {
			return 0, false
		}
		return end, true
	case '*', '%', '~':
		n, err := strconv.Atoi(line)
		if err != nil {
			return 0, false
		}
		if b[0] == '%' {
			n *= 2
		}
		pos := i + 2
		for k := 0; k < n; k++ {
			m, ok := respLen(b[pos:])
			if !ok {
				return 0, false
			}
			pos += m
		}
		return pos, true
	}
	return 0, false
}

// TestServeForBenchmark runs a gateway over the fake backend for manual
// measurements with redis-benchmark:
//
//	GATEWAY_BENCH_ADDR=127.0.0.1:7777 GATEWAY_BENCH_SECONDS=60 go test -run TestServeForBenchmark ./gateway/
func TestServeForBenchmark(t *testing.T) {
	addr := os.Getenv("GATEWAY_BENCH_ADDR")
	if addr == "" {
		t.Skip("set GATEWAY_BENCH_ADDR to run")
	}
	secs, _ := strconv.Atoi(os.Getenv("GATEWAY_BENCH_SECONDS"))
	if secs <= 0 {
		secs = 30
	}
	s, err := New(Config{Addr: addr, Backend: newFakeBackend(), Port: 7777})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Duration(secs) * time.Second)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

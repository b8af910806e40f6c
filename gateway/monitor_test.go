package gateway

import (
	"regexp"
	"testing"
)

func TestMonitor(t *testing.T) {
	s := mustServer(t, newWatchBackend())
	mon := mustRaw(t, s)
	expectRaw(t, mon, cmd("MONITOR"), "+OK")
	other := mustRaw(t, s)
	expectRaw(t, other, cmd("SET", "k", "a\x00\"b\n"), "+OK")
	expectRaw(t, other, cmd("config", "get", "maxmemory"), "*[$maxmemory $0]") // admin: not shown
	expectRaw(t, other, cmd("MULTI"), "+OK")
	expectRaw(t, other, cmd("incr", "n"), "+QUEUED")
	expectRaw(t, other, cmd("EXEC"), "*[:1]")
	other.send(cmd("auth", "nobody", "pw"))
	other.readReply()
	expectRaw(t, other, cmd("get", "k"), "$a\x00\"b\n")

	prefix := `^\+\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] `
	want := []string{
		`"SET" "k" "a\\x00\\"b\\n"$`,
		`"MULTI"$`,
		`"incr" "n"$`,
		`"EXEC"$`,
		`"auth" "\(redacted\)" "\(redacted\)"$`,
		`"get" "k"$`,
	}
	for _, w := range want {
		line, err := mon.rd.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(prefix + w).MatchString(line[:len(line)-2]) {
			t.Fatalf("monitor line %q, want %s", line, w)
		}
	}
	// RESET ends monitoring: the next command is not shown.
	expectRaw(t, mon, cmd("RESET"), "+RESET")
	expectRaw(t, other, cmd("get", "k"), "$a\x00\"b\n")
	expectRaw(t, mon, cmd("PING"), "+PONG")
}

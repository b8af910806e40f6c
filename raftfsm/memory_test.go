package raftfsm

import (
	"strconv"
	"strings"
	"testing"

	"github.com/raftcache/raftcache/slots"
)

func TestMemoryUsage(t *testing.T) {
	d := newTestDB(t)
	d.expect("OK", "SET", "s", "hello")
	d.expect("(3)", "HSET", "h", "a", "1", "b", "2", "c", "3")
	d.expect("(2)", "RPUSH", "l", "x", "y")
	d.expect("<nil>", "MEMORY", "USAGE", "missing")
	for _, k := range []string{"s", "h", "l"} {
		r := d.read("MEMORY", "USAGE", k)
		if r.Kind != KindInt || r.Int <= int64(len(k)) {
			t.Fatalf("MEMORY USAGE %s = %s", k, show(r))
		}
	}
	small := d.read("MEMORY", "USAGE", "h").Int
	d.do("HSET", "h", "big", string(make([]byte, 10000)))
	if big := d.read("MEMORY", "USAGE", "h", "SAMPLES", "0").Int; big < small+10000 {
		t.Fatalf("usage did not grow with the value: %d -> %d", small, big)
	}
	d.expect("!ERR syntax error", "MEMORY", "USAGE", "h", "FOO")
	d.expect("!ERR unknown subcommand or wrong number of arguments for 'nope'. Try MEMORY HELP.", "MEMORY", "nope")
}

func TestSlotMemory(t *testing.T) {
	d := newTestDB(t)
	d.do("SET", "{a}small", "x")
	for i := 0; i < 200; i++ {
		d.do("HSET", "{b}big", strconv.Itoa(i), strings.Repeat("v", 100))
	}
	mem := d.db.SlotMemory()
	a, b := mem[slots.Of([]byte("a"))], mem[slots.Of([]byte("b"))]
	if a == 0 || b < 200*100 || b <= a {
		t.Fatalf("slot memory a=%d b=%d", a, b)
	}
	var total uint64
	for _, m := range mem {
		total += m
	}
	if total != a+b {
		t.Fatalf("other slots hold %d bytes", total-a-b)
	}
}

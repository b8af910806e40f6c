package chaos

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// h builds ops tersely: client, op, key, arg, call, return, output.
func op(client int, name, key, arg string, call, ret int64, out Output) Op {
	o := Op{Client: client, Outcome: OK, Input: Input{Op: name, Key: key, Arg: arg}, Output: out, Call: call, Return: ret}
	if out.Unknown {
		o.Outcome, o.Return = Unknown, math.MaxInt64
	}
	return o
}

func val(s string) Output     { return Output{Val: s} }
func num(n int64) Output      { return Output{Int: n} }
func list(t ...string) Output { return Output{List: t} }

var (
	nilOut     = Output{Nil: true}
	unknownOut = Output{Unknown: true}
)

func TestCheckLinearizable(t *testing.T) {
	for _, tc := range []struct {
		name string
		ops  []Op
		want Verdict
	}{
		{"register sequential", []Op{
			op(0, "get", "reg:1", "", 0, 1, nilOut),
			op(0, "set", "reg:1", "a", 2, 3, val("OK")),
			op(1, "get", "reg:1", "", 4, 5, val("a")),
		}, Linearizable},
		{"register stale read after acknowledged write", []Op{
			op(0, "set", "reg:1", "a", 0, 1, val("OK")),
			op(0, "set", "reg:1", "b", 2, 3, val("OK")),
			op(1, "get", "reg:1", "", 4, 5, val("a")),
		}, NotLinearizable},
		{"register read of a value never written", []Op{
			op(0, "get", "reg:1", "", 0, 1, val("zzz")),
		}, NotLinearizable},
		{"register concurrent write may be seen either way", []Op{
			op(0, "set", "reg:1", "a", 0, 10, val("OK")),
			op(1, "get", "reg:1", "", 1, 2, nilOut),
			op(2, "get", "reg:1", "", 3, 4, val("a")),
		}, Linearizable},
		{"register value flips back (new then old)", []Op{
			op(0, "set", "reg:1", "a", 0, 100, val("OK")),
			op(1, "get", "reg:1", "", 1, 2, val("a")),
			op(2, "get", "reg:1", "", 3, 4, nilOut),
		}, NotLinearizable},
		{"unknown write seen later", []Op{
			op(0, "set", "reg:1", "a", 0, 0, unknownOut),
			op(1, "get", "reg:1", "", 50, 51, val("a")),
		}, Linearizable},
		{"unknown write never applied", []Op{
			op(0, "set", "reg:1", "a", 0, 0, unknownOut),
			op(1, "get", "reg:1", "", 50, 51, nilOut),
		}, Linearizable},
		{"counter increments", []Op{
			op(0, "incr", "ctr:1", "", 0, 1, num(1)),
			op(1, "incr", "ctr:1", "", 2, 3, num(2)),
			op(0, "get", "ctr:1", "", 4, 5, val("2")),
		}, Linearizable},
		{"counter lost increment", []Op{
			op(0, "incr", "ctr:1", "", 0, 1, num(1)),
			op(1, "incr", "ctr:1", "", 2, 3, num(1)),
		}, NotLinearizable},
		{"counter unknown increment applied", []Op{
			op(0, "incr", "ctr:1", "", 0, 0, unknownOut),
			op(1, "incr", "ctr:1", "", 10, 11, num(2)),
		}, Linearizable},
		{"counter read goes backwards", []Op{
			op(0, "incr", "ctr:1", "", 0, 1, num(1)),
			op(0, "incr", "ctr:1", "", 2, 3, num(2)),
			op(1, "get", "ctr:1", "", 4, 5, val("1")),
		}, NotLinearizable},
		{"append in order", []Op{
			op(0, "rpush", "app:1", "t1", 0, 1, num(1)),
			op(1, "rpush", "app:1", "t2", 2, 3, num(2)),
			op(0, "lrange", "app:1", "", 4, 5, list("t1", "t2")),
		}, Linearizable},
		{"append reordered", []Op{
			op(0, "rpush", "app:1", "t1", 0, 1, num(1)),
			op(1, "rpush", "app:1", "t2", 2, 3, num(2)),
			op(0, "lrange", "app:1", "", 4, 5, list("t2", "t1")),
		}, NotLinearizable},
		{"append lost", []Op{
			op(0, "rpush", "app:1", "t1", 0, 1, num(1)),
			op(0, "lrange", "app:1", "", 4, 5, list()),
		}, NotLinearizable},
		{"error reply is illegal", []Op{
			op(0, "incr", "ctr:1", "", 0, 1, Output{Err: "WRONGTYPE"}),
		}, NotLinearizable},
		{"keys are independent", []Op{
			op(0, "set", "reg:1", "a", 0, 1, val("OK")),
			op(1, "get", "reg:2", "", 2, 3, nilOut),
		}, Linearizable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			res := CheckLinearizable(tc.ops, 10*time.Second, dir, []Event{{Fault: "pause", Nodes: []string{"n1"}, At: 0, Healed: 3}})
			if res.Verdict != tc.want {
				t.Fatalf("verdict %s, want %s (%+v)", res.Verdict, tc.want, res)
			}
			if tc.want == NotLinearizable {
				if len(res.Visualizations) != 1 {
					t.Fatalf("visualizations %v", res.Visualizations)
				}
				b, err := os.ReadFile(res.Visualizations[0])
				if err != nil || !strings.Contains(string(b), "<html") {
					t.Fatalf("visualization %s: %v", res.Visualizations[0], err)
				}
				if filepath.Dir(res.Visualizations[0]) != dir {
					t.Fatalf("visualization outside %s", dir)
				}
			}
		})
	}
}

func TestCheckLinearizableTimeoutIsInconclusive(t *testing.T) {
	// Many concurrent unknown increments followed by reads that pin each
	// count: hard enough that a 1 ns budget cannot finish.
	var ops []Op
	for i := 0; i < 20; i++ {
		ops = append(ops, op(i, "incr", "ctr:1", "", int64(i), 0, unknownOut))
	}
	for i := 0; i < 20; i++ {
		ops = append(ops, op(100+i, "get", "ctr:1", "", int64(100+i), int64(1000+i), val("7")))
	}
	res := CheckLinearizable(ops, time.Nanosecond, "", nil)
	if res.Verdict != Inconclusive {
		t.Fatalf("verdict %s", res.Verdict)
	}
	if len(res.TimedOutKeys) != 1 {
		t.Fatalf("timed out keys %v", res.TimedOutKeys)
	}
}

func TestCheckAppends(t *testing.T) {
	ops := []Op{
		op(0, "rpush", "app:1", "a", 0, 1, num(1)),
		op(0, "rpush", "app:1", "b", 2, 3, num(2)),
		op(1, "rpush", "app:1", "c", 4, 0, unknownOut),
		op(1, "rpush", "app:1", "d", 5, 0, unknownOut),
		{Client: 2, Outcome: Failed, Input: Input{Op: "rpush", Key: "app:1", Arg: "e"}},
		op(3, "rpush", "app:2", "f", 0, 1, num(1)),
	}
	for _, tc := range []struct {
		name  string
		final map[string][]string
		check func(AppendResult) bool
	}{
		{"all there", map[string][]string{"app:1": {"a", "b", "c"}, "app:2": {"f"}},
			func(r AppendResult) bool { return r.OK() && r.Acknowledged == 3 && r.UnknownSeen == 1 }},
		{"lost", map[string][]string{"app:1": {"a", "c"}, "app:2": {"f"}},
			func(r AppendResult) bool { return !r.OK() && len(r.Lost) == 1 && r.Lost[0] == "app:1:b" }},
		{"duplicated", map[string][]string{"app:1": {"a", "b", "a"}, "app:2": {"f"}},
			func(r AppendResult) bool { return !r.OK() && len(r.Duplicated) == 1 }},
		{"unknown duplicated", map[string][]string{"app:1": {"a", "b", "d", "d"}, "app:2": {"f"}},
			func(r AppendResult) bool { return !r.OK() && len(r.Duplicated) == 1 }},
		{"definitely failed token applied", map[string][]string{"app:1": {"a", "b", "e"}, "app:2": {"f"}},
			func(r AppendResult) bool { return !r.OK() && len(r.Phantom) == 1 }},
		{"token never sent", map[string][]string{"app:1": {"a", "b", "zz"}, "app:2": {"f"}},
			func(r AppendResult) bool { return !r.OK() && len(r.Phantom) == 1 }},
		{"token on the wrong key", map[string][]string{"app:1": {"a", "b", "f"}, "app:2": {"f"}},
			func(r AppendResult) bool { return !r.OK() && len(r.Phantom) == 1 }},
		{"unread key", map[string][]string{"app:1": {"a", "b"}},
			func(r AppendResult) bool { return !r.OK() && len(r.Unread) == 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := CheckAppends(ops, tc.final); !tc.check(r) {
				t.Fatalf("unexpected result: %s %+v", r.Summary(), r)
			}
		})
	}
}

func TestDurationJSON(t *testing.T) {
	d := Duration(1234567891 * time.Nanosecond)
	b, err := d.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var back Duration
	if err := back.UnmarshalJSON(b); err != nil || back != d {
		t.Fatalf("%s -> %v, %v", b, time.Duration(back), err)
	}
	if err := back.UnmarshalJSON([]byte(`"soon"`)); err == nil {
		t.Fatal("bad duration accepted")
	}
}

func TestCheckLeaders(t *testing.T) {
	dir := t.TempDir()
	logs := map[string]string{
		"n1": `time=x level=INFO msg="election won" component=shard node_id=n1 logger=raft term=2 tally=2
time=x level=INFO msg="entering leader state" component=shard
time=x level=INFO msg="election won" component=shard node_id=n1 logger=raft term=5 tally=2
`,
		"n2": `time=x level=INFO msg="election won" component=shard node_id=n2 logger=raft term=3 tally=2
`,
		"n4": `time=x level=INFO msg="election won" component=shard node_id=n4 logger=raft term=2 tally=2
`,
	}
	for id, s := range logs {
		if err := os.WriteFile(filepath.Join(dir, id+".log"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	procs := []*Proc{{ID: "n1", Shard: 0}, {ID: "n2", Shard: 0}, {ID: "n4", Shard: 1}}
	if r := CheckLeaders(dir, procs); r.Elections != 4 || len(r.Violations) != 0 || len(r.Unreadable) != 0 {
		t.Fatalf("same term in different shards is fine: %+v", r)
	}
	if err := os.WriteFile(filepath.Join(dir, "n2.log"), []byte(logs["n2"]+
		`time=x level=INFO msg="election won" component=shard node_id=n2 logger=raft term=5 tally=2
`), 0o644); err != nil {
		t.Fatal(err)
	}
	procs = append(procs, &Proc{ID: "n9", Shard: 1})
	r := CheckLeaders(dir, procs)
	if len(r.Violations) != 1 || r.Violations[0] != "shard 0 term 5: [n1 n2]" || len(r.Unreadable) != 1 {
		t.Fatalf("two leaders in one term not found: %+v", r)
	}
}

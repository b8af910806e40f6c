package main

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/raftcache/raftcache/chaos"
	"github.com/raftcache/raftcache/shard"
)

func TestChaosFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"chaos", "--faults", "kill,meteor"}, `unknown fault "meteor"`},
		{[]string{"chaos", "--faults", ","}, "no faults"},
		{[]string{"chaos", "--nodes", "5"}, "--nodes 5"},
		{[]string{"chaos", "--runtime", "vm"}, `--runtime "vm"`},
		{[]string{"chaos", "--runtime", "docker", "--nodes", "3"}, "9-node compose cluster"},
		{[]string{"chaos", "--runtime", "docker", "--faults", "kill,partition"}, "process runtime only"},
		{[]string{"chaos", "--runtime", "docker", "--faults", "kill,disk-stall"}, "fault disk-stall breaks a node's disk"},
		{[]string{"chaos", "--faults", "kill,isolate-az"}, "use --runtime docker"},
		{[]string{"chaos", "--faults", "migrate,kill-leader"}, "needs --nodes 9"},
		{[]string{"chaos", "--runtime", "docker", "--faults", "migrate"}, "process runtime only"},
		{[]string{"chaos", "--duration", "-1s"}, "must be positive"},
		{[]string{"chaos", "extra"}, "unexpected arguments"},
		{[]string{"chaos", "--check", "/nonexistent/history.jsonl"}, "no such file"},
	} {
		var out, errb bytes.Buffer
		if code := run(tc.args, &out, &errb); code == 0 {
			t.Errorf("%v: exit 0", tc.args)
		}
		if !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: stderr %q, want %q", tc.args, errb.String(), tc.want)
		}
	}
}

// TestChaosRecheck re-checks recorded histories offline: a legal one
// passes, an illegal one exits 1 and leaves a visualisation.
func TestChaosRecheck(t *testing.T) {
	write := func(name string, ops []chaos.Op) string {
		p := filepath.Join(t.TempDir(), name)
		if err := chaos.WriteOps(p, ops); err != nil {
			t.Fatal(err)
		}
		return p
	}
	set := chaos.Op{Client: 0, Outcome: chaos.OK, Input: chaos.Input{Op: "set", Key: "reg:1", Arg: "a"}, Output: chaos.Output{Val: "OK"}, Call: 0, Return: 1}
	pending := chaos.Op{Client: 2, Outcome: chaos.Unknown, Input: chaos.Input{Op: "set", Key: "reg:1", Arg: "b"},
		Output: chaos.Output{Unknown: true}, Call: 2, Return: math.MaxInt64}
	good := chaos.Op{Client: 1, Outcome: chaos.OK, Input: chaos.Input{Op: "get", Key: "reg:1"}, Output: chaos.Output{Val: "b"}, Call: 5, Return: 6}
	stale := chaos.Op{Client: 1, Outcome: chaos.OK, Input: chaos.Input{Op: "get", Key: "reg:1"}, Output: chaos.Output{Nil: true}, Call: 5, Return: 6}

	var out, errb bytes.Buffer
	if code := run([]string{"chaos", "--check", write("ok.jsonl", []chaos.Op{set, pending, good})}, &out, &errb); code != 0 {
		t.Fatalf("legal history: exit %d\n%s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "linearizable: yes") {
		t.Fatalf("output %q", out.String())
	}
	out.Reset()
	bad := write("bad.jsonl", []chaos.Op{set, pending, stale})
	// The nemesis timeline of a report next to the history annotates the
	// visualisation.
	report := `{"events":[{"fault":"pause","nodes":["n1"],"shard":0,"leader":true,"at":"1ns","healed":"4ns","failover":"3ns","recovered":true}]}`
	if err := os.WriteFile(filepath.Join(filepath.Dir(bad), "report.json"), []byte(report), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := run([]string{"chaos", "--check", bad}, &out, &errb); code != 1 {
		t.Fatalf("illegal history: exit %d\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "linearizable: no") {
		t.Fatalf("output %q", out.String())
	}
	html, err := os.ReadFile(filepath.Join(filepath.Dir(bad), "violation-reg_1.html"))
	if err != nil {
		t.Fatalf("no visualisation: %v", err)
	}
	if !strings.Contains(string(html), "pause n1") {
		t.Fatal("the visualisation lacks the nemesis annotation")
	}
}

func TestApplyFaultFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "faults.json")
	f := shard.NewFaults()
	prev, err := applyFaultFile(path, f, nil) // missing file: no faults
	if err != nil || len(f.Spec().Cut) != 0 {
		t.Fatalf("missing file: %v %+v", err, f.Spec())
	}
	if err := os.WriteFile(path, []byte(`{"cut":[["a:1","b:2"]],"drop":0.1,"delay_ms":4,"disk_stall":["n2"],"disk_error":["n3","n1"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if prev, err = applyFaultFile(path, f, prev); err != nil {
		t.Fatal(err)
	}
	want := shard.FaultSpec{Cut: [][2]string{{"a:1", "b:2"}}, Drop: 0.1, DelayMS: 4, DiskStall: []string{"n2"}, DiskError: []string{"n1", "n3"}}
	if got := f.Spec(); !reflect.DeepEqual(got, want) {
		t.Fatalf("spec %+v, want %+v", got, want)
	}
	if err := os.WriteFile(path, []byte(`{"cut":`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := applyFaultFile(path, f, prev); err == nil {
		t.Fatal("truncated fault file accepted")
	}
	if got := f.Spec(); !reflect.DeepEqual(got, want) {
		t.Fatalf("a bad file changed the faults: %+v", got)
	}
}

// TestReplayFlags: the replay line carries every flag that shapes the run
// besides the four it always prints, and never --out, --check or --bin.
func TestReplayFlags(t *testing.T) {
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.Int64("seed", 0, "")
	fs.String("out", "", "")
	fs.String("bin", "", "")
	fs.Int("clients", 15, "")
	fs.Uint64("snapshot-threshold", 256, "")
	fs.Bool("replica-reads", false, "")
	fs.String("runtime", "process", "")
	if err := fs.Parse([]string{"--seed", "3", "--out", "/tmp/x", "--bin", "/tmp/b", "--clients", "40", "--replica-reads", "--runtime", "docker"}); err != nil {
		t.Fatal(err)
	}
	if got, want := replayFlags(fs), " --clients=40 --replica-reads=true --runtime=docker"; got != want {
		t.Fatalf("replay flags %q, want %q", got, want)
	}
}

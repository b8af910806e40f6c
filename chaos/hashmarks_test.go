package chaos

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLocateDivergence(t *testing.T) {
	dir := t.TempDir()
	line := func(idx, term, hash string) string {
		return `time=2026-12-04T20:00:00Z level=INFO msg="applied log hash" component=fsm index=` + idx + " term=" + term + " hash=" + hash + "\n"
	}
	logs := map[string]string{
		"n7": line("256", "2", "aa") + line("512", "3", "bb") + line("768", "3", "cc"),
		"n8": line("256", "2", "aa") + line("512", "3", "bb") + line("768", "3", "cc"),
		// n9 restarted after 256 (marks again), then parted before 512.
		"n9": line("256", "2", "aa") + `time=x level=INFO msg="election won" term=2` + "\n" + line("256", "2", "aa") + line("512", "2", "b9") + line("768", "3", "c9"),
	}
	var procs []*Proc
	for id, text := range logs {
		if err := os.WriteFile(filepath.Join(dir, id+".log"), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		procs = append(procs, &Proc{ID: id})
	}
	got := LocateDivergence(dir, procs)
	want := "hash marks agree at index 256 and differ at 512: [n7 n8] term 3 hash bb, [n9] term 2 hash b9"
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	// Agreeing marks, a missing log: nothing to say.
	if got := LocateDivergence(dir, []*Proc{{ID: "n7"}, {ID: "n8"}, {ID: "n0"}}); got != "" {
		t.Fatalf("agreeing replicas located at %q", got)
	}
	if !strings.Contains(hashMarkLine.String(), "applied log hash") {
		t.Fatal("the pattern does not match raftfsm.HashMarkMsg")
	}
}

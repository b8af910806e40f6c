package raftfsm

import (
	"strings"
	"testing"
	"time"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		nocase     bool
		want       bool
	}{
		{"*", "", false, true},
		{"*", "anything", false, true},
		{"h?llo", "hello", false, true},
		{"h?llo", "hllo", false, false},
		{"h*llo", "heeeello", false, true},
		{"h[ae]llo", "hallo", false, true},
		{"h[ae]llo", "hillo", false, false},
		{"h[^e]llo", "hallo", false, true},
		{"h[^e]llo", "hello", false, false},
		{"h[a-b]llo", "hbllo", false, true},
		{"h[b-a]llo", "hallo", false, true}, // reversed range, as Redis
		{"h\\*llo", "h*llo", false, true},
		{"h\\*llo", "hello", false, false},
		{"HELLO", "hello", true, true},
		{"HELLO", "hello", false, false},
		{"a*b*c", "axxbyyc", false, true},
		{"a*b*c", "axxbyy", false, false},
		{"*.txt", "file.txt", false, true},
		{"user:*:name", "user:42:name", false, true},
		{"user:*:name", "user:42:mail", false, false},
		{"[abc", "a", false, true}, // unterminated class
		{"*[*]", "x*", false, true},
		{"a", "", false, false},
		{"", "", false, true},
		{"**a", "a", false, true},
	}
	for _, tt := range tests {
		if got := GlobMatch(tt.pattern, tt.s, tt.nocase); got != tt.want {
			t.Errorf("GlobMatch(%q, %q, %v) = %v, want %v", tt.pattern, tt.s, tt.nocase, got, tt.want)
		}
	}
}

// TestGlobMatchNoBlowup is Redis's "Regression for pattern matching long
// nested loops": naive backtracking is exponential here.
func TestGlobMatchNoBlowup(t *testing.T) {
	start := time.Now()
	if GlobMatch("a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", strings.Repeat("a", 40), false) {
		t.Fatal("matched")
	}
	if time.Since(start) > time.Second {
		t.Fatalf("took %v", time.Since(start))
	}
}

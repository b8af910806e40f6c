package raftfsm

import "testing"

func TestTrimFraction(t *testing.T) {
	for in, want := range map[string]string{
		"99.900000": "99.9", "50.000000": "50", "0.000000": "0", "100": "100",
		"-0.00000000000000000": "-0", "1.50": "1.5", "120.000": "120",
	} {
		if got := TrimFraction(in); got != want {
			t.Errorf("TrimFraction(%q) = %q, want %q", in, got, want)
		}
	}
}

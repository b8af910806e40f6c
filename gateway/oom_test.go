package gateway

import "testing"

// TestOOM: over maxmemory (as the backend reports it), commands that may
// grow memory get Redis's OOM error, also inside MULTI; reads and deletes
// still work.
func TestOOM(t *testing.T) {
	b := newFakeBackend()
	s := mustServer(t, b)
	r := mustRaw(t, s)
	r.send(cmd("SET", "k", "v"))
	if got := r.readReply(); got != "+OK" {
		t.Fatal(got)
	}
	b.oom.Store(true)
	const oom = "-OOM command not allowed when used memory > 'maxmemory'."
	for _, st := range []struct{ send, want string }{
		{cmd("SET", "k2", "v"), oom},
		{cmd("RPUSH", "l", "a"), oom},
		{cmd("GET", "k"), "$v"},
		{cmd("DEL", "k"), ":1"},
		{cmd("MULTI"), "+OK"},
		{cmd("SET", "k3", "v"), oom},
		{cmd("EXEC"), "-EXECABORT Transaction discarded because of previous errors."},
	} {
		r.send(st.send)
		if got := r.readReply(); got != st.want {
			t.Fatalf("%q: got %q, want %q", st.send, got, st.want)
		}
	}
	b.oom.Store(false)
	r.send(cmd("SET", "k2", "v"))
	if got := r.readReply(); got != "+OK" {
		t.Fatal(got)
	}
}

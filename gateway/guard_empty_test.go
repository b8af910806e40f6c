package gateway

import "testing"

// Redis ignores "*0" and negative multibulk counts; so must we.
func TestEmptyMultibulkIgnored(t *testing.T) {
	s := mustServer(t, newFakeBackend())
	for _, hdr := range []string{"*-10\r\n", "*0\r\n", "*-1\r\n*0\r\n"} {
		r := mustRaw(t, s)
		r.send(hdr)
		r.send(cmd("PING"))
		if got := r.readReply(); got != "+PONG" {
			t.Fatalf("after %q: got %q, want +PONG", hdr, got)
		}
		r.send(hdr + cmd("ECHO", "x"))
		if got := r.readReply(); got != "$x" {
			t.Fatalf("after %q in one packet: got %q", hdr, got)
		}
	}
}

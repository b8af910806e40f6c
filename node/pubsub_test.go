package node

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder collects delivered messages.
type recorder struct {
	mu  sync.Mutex
	got []string
}

func (r *recorder) handler() PubSubHandler {
	return func(sharded bool, ch, msg []byte) {
		r.mu.Lock()
		defer r.mu.Unlock()
		kind := "g"
		if sharded {
			kind = "s"
		}
		r.got = append(r.got, kind+":"+string(ch)+"="+string(msg))
	}
}

func (r *recorder) list() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.got, " ")
}

func testPubSubNode(id string, inc uint64) *pubsubNode {
	return &pubsubNode{n: &Node{cfg: Config{NodeID: id}}, inc: inc, peers: map[string]*peerQueue{}, recv: map[string]*recvState{}}
}

func frameOf(p *pubsubNode, seq uint64, recs ...[]byte) []byte {
	size := 0
	for _, r := range recs {
		size += len(r)
	}
	return p.frame(seq, recs, size)[1:] // NotifyMsg strips the type byte
}

func TestPubSubFrameOrdering(t *testing.T) {
	src := testPubSubNode("a", 7)
	dst := testPubSubNode("b", 9)
	var rec recorder
	h := rec.handler()
	dst.handler.Store(&h)

	// In order, several records per frame, both kinds, binary-safe.
	dst.receive(frameOf(src, 0, encodeRecord(recGlobal, []byte("c"), []byte("1")),
		encodeRecord(recShard, []byte("s"), []byte("x\r\n\x00"))))
	// Out of order: 2 waits for 1.
	dst.receive(frameOf(src, 2, encodeRecord(recGlobal, []byte("c"), []byte("3"))))
	if got := rec.list(); got != "g:c=1 s:s=x\r\n\x00" {
		t.Fatalf("got %q", got)
	}
	dst.receive(frameOf(src, 1, encodeRecord(recGlobal, []byte("c"), []byte("2"))))
	// A duplicate is dropped.
	dst.receive(frameOf(src, 1, encodeRecord(recGlobal, []byte("c"), []byte("dup"))))
	if got := rec.list(); got != "g:c=1 s:s=x\r\n\x00 g:c=2 g:c=3" {
		t.Fatalf("got %q", got)
	}
	// A frame that never comes (send failed): the next ones are delivered
	// after gapWait.
	dst.receive(frameOf(src, 5, encodeRecord(recGlobal, []byte("c"), []byte("6"))))
	dst.receive(frameOf(src, 4, encodeRecord(recGlobal, []byte("c"), []byte("5"))))
	time.Sleep(gapWait + 100*time.Millisecond)
	if got := rec.list(); !strings.HasSuffix(got, "g:c=3 g:c=5 g:c=6") {
		t.Fatalf("got %q", got)
	}
	// A restarted sender (new incarnation) starts over at 0.
	src2 := testPubSubNode("a", 8)
	dst.receive(frameOf(src2, 0, encodeRecord(recGlobal, []byte("c"), []byte("new"))))
	if got := rec.list(); !strings.HasSuffix(got, "g:c=6 g:c=new") {
		t.Fatalf("got %q", got)
	}
	// Garbage is ignored.
	dst.receive([]byte{1, 2, 3})
	dst.receive(append(frameOf(src2, 1), 0, 200))
}

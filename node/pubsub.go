package node

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/raftcache/raftcache/raftfsm"
)

// Cluster-wide pub/sub transport. A PUBLISH on any node must reach the
// subscribers of every node (Redis Cluster broadcasts it on the bus); an
// SPUBLISH those of the nodes of the channel's shard. Messages travel as
// memberlist user messages over its reliable (TCP) stream, SendReliable.
//
// Order: memberlist opens one TCP connection per SendReliable and the
// receiver handles each connection on its own goroutine, so two messages sent
// one after the other may be handed to NotifyMsg in the opposite order. Each
// destination therefore has one queue and one sender goroutine (publishers
// never wait on the network), and every frame carries the sender's
// incarnation and a per-destination sequence number; the receiver delivers
// frames of a sender in sequence order, waiting at most gapWait for a missing
// one (a frame whose send failed is never coming).
//
// Size: SendReliable has no message size limit (memberlist allocates the
// length announced in the header and reads it from the stream), but the
// receiver must read the whole frame within memberlist's TCPTimeout (10 s in
// the LAN config, 1 s in the local one) or it drops it. Frames batch queued
// messages up to maxFrame bytes; a single message larger than that goes in a
// frame of its own (PUBLISH payloads are bounded by proto-max-bulk-len).
//
// Delivery is at most once: when a destination's queue is full, or a send
// fails, messages are dropped with a log line, as Redis Cluster drops bus
// messages to an unreachable node.

const (
	// userMsgPubSub is the first byte of a pub/sub frame; other kinds of
	// user messages get other values.
	userMsgPubSub byte = 1

	maxFrame      = 1 << 20  // batch up to this many bytes per SendReliable
	maxPeerQueue  = 64 << 20 // bytes queued per destination before dropping
	gapWait       = 200 * time.Millisecond
	maxPendingGap = 4096 // out-of-order frames held per sender before giving up on a gap

	recGlobal byte = 0
	recShard  byte = 1
)

// PubSubHandler receives a message published on another node.
type PubSubHandler func(sharded bool, channel, message []byte)

// pubsubNode is a node's pub/sub transport state.
type pubsubNode struct {
	n       *Node
	inc     uint64 // this process's incarnation, tells a restarted sender apart
	handler atomic.Pointer[PubSubHandler]

	mu    sync.Mutex
	peers map[string]*peerQueue
	recv  map[string]*recvState
}

// The transport state hangs off the gossip layer (NotifyMsg's receiver),
// which the node owns; a registry keeps it out of the Node and gossip types.
var pubsubRegistry sync.Map // *gossip -> *pubsubNode

func (n *Node) pubsub() *pubsubNode {
	if n.gossip == nil {
		return nil
	}
	if v, ok := pubsubRegistry.Load(n.gossip); ok {
		return v.(*pubsubNode)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	p := &pubsubNode{n: n, inc: binary.LittleEndian.Uint64(b[:]), peers: map[string]*peerQueue{}, recv: map[string]*recvState{}}
	v, _ := pubsubRegistry.LoadOrStore(n.gossip, p)
	return v.(*pubsubNode)
}

// SetPubSubHandler sets the function that delivers messages published on
// other nodes to this node's subscribers. Call it after Start.
func (n *Node) SetPubSubHandler(h PubSubHandler) {
	p := n.pubsub()
	if p == nil {
		return
	}
	p.handler.Store(&h)
	n.fsm.SetPublishSink(n.scriptPublished)
}

// scriptPublished sends the messages scripts published in an applied
// batch. Every replica of the shard applies the batch, so each delivers
// to its own subscribers; the leader also sends PUBLISH messages to the
// nodes of the other shards (shard channels stay in their shard). As for
// any PUBLISH, delivery is at most once: a message of a batch applied
// while leadership moves may not reach the other shards.
func (n *Node) scriptPublished(msgs []raftfsm.Published) {
	p := n.pubsub()
	if p == nil {
		return
	}
	if h := p.handler.Load(); h != nil {
		for _, m := range msgs {
			(*h)(m.Sharded, m.Channel, m.Message)
		}
	}
	f := n.form.Load()
	if f == nil || !n.IsLeader() {
		return
	}
	members, _ := n.gossip.snapshot()
	for _, m := range msgs {
		if m.Sharded {
			continue
		}
		rec := encodeRecord(recGlobal, m.Channel, m.Message)
		for _, mem := range members {
			if mem.Alive && mem.NodeID != n.cfg.NodeID && mem.Shard != f.Shard {
				p.enqueue(mem.NodeID, rec)
			}
		}
	}
}

// Publish implements the gateway's Backend: PUBLISH fans out to every other
// alive node.
func (n *Node) Publish(channel, message []byte) {
	p := n.pubsub()
	if p == nil {
		return
	}
	members, _ := n.gossip.snapshot()
	rec := encodeRecord(recGlobal, channel, message)
	for _, m := range members {
		if m.Alive && m.NodeID != n.cfg.NodeID {
			p.enqueue(m.NodeID, rec)
		}
	}
}

// PublishShard implements the gateway's Backend: SPUBLISH fans out to the
// other alive nodes of this node's shard.
func (n *Node) PublishShard(channel, message []byte) {
	p := n.pubsub()
	f := n.form.Load()
	if p == nil || f == nil {
		return
	}
	members, _ := n.gossip.snapshot()
	rec := encodeRecord(recShard, channel, message)
	for _, m := range members {
		if m.Alive && m.NodeID != n.cfg.NodeID && m.Shard == f.Shard {
			p.enqueue(m.NodeID, rec)
		}
	}
}

// encodeRecord: kind, uvarint channel length, channel, uvarint message
// length, message.
func encodeRecord(kind byte, channel, message []byte) []byte {
	b := make([]byte, 0, 1+2*binary.MaxVarintLen64+len(channel)+len(message))
	b = append(b, kind)
	b = binary.AppendUvarint(b, uint64(len(channel)))
	b = append(b, channel...)
	b = binary.AppendUvarint(b, uint64(len(message)))
	return append(b, message...)
}

// peerQueue is the outgoing queue of one destination. Its sender goroutine
// runs only while the queue is not empty, so an idle node keeps none (and
// nothing outlives Close for long).
type peerQueue struct {
	p    *pubsubNode
	name string

	mu      sync.Mutex
	recs    [][]byte
	bytes   int
	running bool
	dropped int64 // records dropped since the last log line
	seq     uint64
}

func (p *pubsubNode) enqueue(dest string, rec []byte) {
	p.mu.Lock()
	q := p.peers[dest]
	if q == nil {
		q = &peerQueue{p: p, name: dest}
		p.peers[dest] = q
	}
	p.mu.Unlock()
	q.mu.Lock()
	if q.bytes+len(rec) > maxPeerQueue {
		q.dropped++
		first := q.dropped == 1
		q.mu.Unlock()
		if first {
			p.n.cfg.Logger.Warn("pub/sub queue to node full: dropping messages", "dest", dest, "queued_bytes", maxPeerQueue)
		}
		return
	}
	q.recs = append(q.recs, rec)
	q.bytes += len(rec)
	start := !q.running
	q.running = true
	q.mu.Unlock()
	if start {
		go q.run()
	}
}

// run sends the queued records in order, batched into frames, and exits once
// the queue is empty.
func (q *peerQueue) run() {
	for {
		q.mu.Lock()
		if len(q.recs) == 0 {
			q.running = false
			q.mu.Unlock()
			return
		}
		n, size := 0, 0
		for n < len(q.recs) && (n == 0 || size+len(q.recs[n]) <= maxFrame) {
			size += len(q.recs[n])
			n++
		}
		batch := q.recs[:n:n]
		q.recs = q.recs[n:]
		q.bytes -= size
		seq := q.seq
		q.seq++ // also on failure: the receiver skips the gap after gapWait
		dropped := q.dropped
		q.dropped = 0
		q.mu.Unlock()
		if dropped > 0 {
			q.p.n.cfg.Logger.Warn("pub/sub messages to node were dropped (queue full)", "dest", q.name, "dropped", dropped)
		}
		frame := q.p.frame(seq, batch, size)
		if err := q.p.send(q.name, frame); err != nil {
			q.p.n.cfg.Logger.Warn("pub/sub send failed: messages dropped", "dest", q.name, "messages", n, "err", err)
		}
	}
}

// frame: type, incarnation, sequence, uvarint sender id length, sender id,
// then the records.
func (p *pubsubNode) frame(seq uint64, recs [][]byte, size int) []byte {
	id := p.n.cfg.NodeID
	b := make([]byte, 0, 1+16+binary.MaxVarintLen64+len(id)+size)
	b = append(b, userMsgPubSub)
	b = binary.BigEndian.AppendUint64(b, p.inc)
	b = binary.BigEndian.AppendUint64(b, seq)
	b = binary.AppendUvarint(b, uint64(len(id)))
	b = append(b, id...)
	for _, r := range recs {
		b = append(b, r...)
	}
	return b
}

var errNoMember = errors.New("not an alive gossip member")

// send delivers a frame to dest's gossip address, taken from the member's
// own metadata (memberlist's Members() hands out internal structs it
// rewrites without a lock readers could take).
func (p *pubsubNode) send(dest string, frame []byte) error {
	ml := p.n.gossip.ml
	if ml == nil {
		return errNoMember
	}
	m, ok := p.n.gossip.lookup(dest)
	if !ok || !m.Alive || m.Gossip == "" {
		return errNoMember
	}
	host, ps, err := net.SplitHostPort(m.Gossip)
	if err != nil {
		return err
	}
	port, err := strconv.Atoi(ps)
	if err != nil {
		return err
	}
	ip := net.ParseIP(host)
	if ip == nil {
		addrs, err := net.LookupIP(host)
		if err != nil || len(addrs) == 0 {
			return fmt.Errorf("resolve %s: %v", host, err)
		}
		ip = addrs[0]
	}
	return ml.SendReliable(&memberlist.Node{Name: dest, Addr: ip, Port: uint16(port)}, frame)
}

// handleUserMsg dispatches a memberlist user message by its type byte.
// memberlist may reuse buf after return, so what is kept is copied.
func handleUserMsg(g *gossip, buf []byte) {
	if len(buf) == 0 {
		return
	}
	switch buf[0] {
	case userMsgPubSub:
		v, ok := pubsubRegistry.Load(g)
		if !ok {
			return // no gateway wired yet: there are no subscribers either
		}
		v.(*pubsubNode).receive(buf[1:])
	case userMsgLeader:
		g.receiveLeader(buf[1:])
	default:
		g.logger.Debug("ignoring gossip user message of unknown type", "type", buf[0])
	}
}

// recvState orders the frames of one sender.
type recvState struct {
	mu      sync.Mutex
	inc     uint64
	next    uint64
	known   bool
	pending map[uint64][]byte
	timer   *time.Timer
}

func (p *pubsubNode) receive(b []byte) {
	if len(b) < 16 {
		return
	}
	inc := binary.BigEndian.Uint64(b)
	seq := binary.BigEndian.Uint64(b[8:])
	b = b[16:]
	l, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < l {
		return
	}
	src := string(b[k : k+int(l)])
	body := b[k+int(l):]
	p.mu.Lock()
	st := p.recv[src]
	if st == nil {
		st = &recvState{pending: map[uint64][]byte{}}
		p.recv[src] = st
	}
	p.mu.Unlock()

	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.known || st.inc != inc {
		// A sender (or this receiver) restarted: sequences start over.
		st.known, st.inc, st.next = true, inc, 0
		clear(st.pending)
		if st.timer != nil {
			st.timer.Stop()
			st.timer = nil
		}
	}
	switch {
	case seq < st.next:
		return // duplicate or given up on
	case seq > st.next:
		st.pending[seq] = append([]byte(nil), body...)
		if len(st.pending) > maxPendingGap {
			p.skipGap(st)
			return
		}
		if st.timer == nil {
			st.timer = time.AfterFunc(gapWait, func() {
				st.mu.Lock()
				defer st.mu.Unlock()
				st.timer = nil
				if st.inc == inc {
					p.skipGap(st)
				}
			})
		}
		return
	}
	p.deliver(body)
	st.next++
	p.drain(st)
}

// drain delivers the held frames that are now in sequence. st.mu is held.
func (p *pubsubNode) drain(st *recvState) {
	for {
		body, ok := st.pending[st.next]
		if !ok {
			break
		}
		delete(st.pending, st.next)
		p.deliver(body)
		st.next++
	}
	if len(st.pending) == 0 && st.timer != nil {
		st.timer.Stop()
		st.timer = nil
	}
}

// skipGap gives up on the missing frames and delivers the held ones in
// order. st.mu is held.
func (p *pubsubNode) skipGap(st *recvState) {
	if len(st.pending) == 0 {
		return
	}
	seqs := make([]uint64, 0, len(st.pending))
	for s := range st.pending {
		seqs = append(seqs, s)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	st.next = seqs[0]
	p.drain(st)
	if len(st.pending) > 0 && st.timer == nil {
		inc := st.inc
		st.timer = time.AfterFunc(gapWait, func() {
			st.mu.Lock()
			defer st.mu.Unlock()
			st.timer = nil
			if st.inc == inc {
				p.skipGap(st)
			}
		})
	}
}

// deliver hands a frame's records to the handler, in order.
func (p *pubsubNode) deliver(body []byte) {
	hp := p.handler.Load()
	for len(body) > 0 {
		kind := body[0]
		body = body[1:]
		cl, k := binary.Uvarint(body)
		if k <= 0 || uint64(len(body)-k) < cl {
			return
		}
		ch := body[k : k+int(cl)]
		body = body[k+int(cl):]
		ml, k := binary.Uvarint(body)
		if k <= 0 || uint64(len(body)-k) < ml {
			return
		}
		msg := body[k : k+int(ml)]
		body = body[k+int(ml):]
		if hp != nil {
			(*hp)(kind == recShard, ch, msg)
		}
	}
}

// closePubSub forgets the node's transport state.
func (n *Node) closePubSub() {
	if n.gossip != nil {
		pubsubRegistry.Delete(n.gossip)
	}
}

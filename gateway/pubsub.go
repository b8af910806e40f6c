package gateway

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/raftcache/raftcache/raftfsm"
	"github.com/raftcache/raftcache/slots"
)

// Pub/Sub (Redis 7.0 src/pubsub.c semantics). Subscriptions are node-local,
// held by the hub; PUBLISH delivers to this node's subscribers and hands the
// message to Backend.Publish, which fans it out to every other node, whose
// node layer calls Server.DeliverRemote. As in Redis Cluster, PUBLISH replies
// the receivers on this node and PUBSUB reports this node only. Sharded
// channels (SSUBSCRIBE/SPUBLISH) are routed by slot like keys and fanned out
// to the nodes of the owning shard only (Backend.PublishShard).
//
// Writes: redcon writes a connection's replies only from the connection's
// goroutine, but messages arrive from publishers at any time. Once a
// connection subscribes, it gets a pushSink: all its output (replies and
// messages) goes through the sink's buffer and a writer goroutine of its own.
// The connection keeps being served by redcon (no Detach), so RESP3 clients
// can run any command while subscribed. Messages that arrive while the
// connection serves a pipeline are held and written after that pipeline's
// replies, so a SUBSCRIBE's confirmation always precedes its first message.

// pubsubLimit is the hard output limit of a subscriber (Redis's default
// client-output-buffer-limit pubsub is 32mb hard): a slower reader is
// disconnected rather than let a publisher buffer without bound.
const pubsubLimit = 32 << 20

// quitDrainWait bounds how long QUIT waits for a subscriber's pending output.
const quitDrainWait = 5 * time.Second

// hub holds this node's subscriptions.
type hub struct {
	mu       sync.RWMutex
	channels map[string]map[*psClient]struct{}
	patterns map[string]map[*psClient]struct{}
	shard    map[string]map[*psClient]struct{}
	limit    atomic.Int64 // output limit per subscriber (tests lower it)
}

func newHub() *hub {
	h := &hub{
		channels: map[string]map[*psClient]struct{}{},
		patterns: map[string]map[*psClient]struct{}{},
		shard:    map[string]map[*psClient]struct{}{},
	}
	h.limit.Store(pubsubLimit)
	return h
}

// psClient is a connection's pub/sub state. Its sets change only on the
// connection's goroutine and under hub.mu, so that goroutine reads them
// without locking and others read them under hub.mu.
type psClient struct {
	c        *client
	sink     *pushSink
	channels map[string]struct{}
	patterns []string // subscription order, as Redis's list
	shard    map[string]struct{}
}

// count is what (P)SUBSCRIBE and (P)UNSUBSCRIBE report.
func (p *psClient) count() int { return len(p.channels) + len(p.patterns) }

// total decides subscribed mode (CLIENT_PUBSUB).
func (p *psClient) total() int { return p.count() + len(p.shard) }

// subscribed reports whether c is in subscribed mode.
func (c *client) subscribed() bool { return c.ps != nil && c.ps.total() > 0 }

// pubsubFor returns c's state, creating it (and its writer) on first use.
func (s *Server) pubsubFor(c *client) *psClient {
	if c.ps != nil {
		return c.ps
	}
	p := &psClient{c: c, channels: map[string]struct{}{}, shard: map[string]struct{}{}}
	p.sink = newPushSink(s, c)
	c.ps = p
	c.psState.Store(p)
	c.psink.Store(p.sink)
	return p
}

// setIdleGuard: Redis never times out subscribers (clientsCronHandleTimeout
// skips CLIENT_PUBSUB), so the idle timeout is off while subscribed. Runs on
// the connection's goroutine, the only reader of the guard's timeout.
func (s *Server) setIdleGuard(c *client) {
	g, ok := c.raw.(*guardConn)
	if !ok {
		return
	}
	if c.subscribed() || c.monitor {
		g.timeout = nil
	} else {
		g.timeout = &s.idleTimeout
	}
}

// pushSink serialises a subscriber's output: replies handed over at the end
// of each pipeline and messages from publishers.
type pushSink struct {
	srv *Server
	c   *client

	mu     sync.Mutex
	buf    []byte // ready for the writer
	held   []byte // messages that arrived during a pipeline
	busy   bool   // the connection is serving a pipeline
	closed bool   // no more output: writer exits once buf is written
	dead   bool   // output discarded (overflow or write error)
	wake   chan struct{}
	done   chan struct{}
}

func newPushSink(s *Server, c *client) *pushSink {
	k := &pushSink{srv: s, c: c, busy: true, wake: make(chan struct{}, 1), done: make(chan struct{})}
	// The connection's own count is held while it runs a command, so this
	// Add cannot race with Close's Wait reaching zero.
	s.conns.Add(1)
	go k.run()
	return k
}

func (k *pushSink) signal() {
	select {
	case k.wake <- struct{}{}:
	default:
	}
}

// begin marks the start of a pipeline.
func (k *pushSink) begin() {
	k.mu.Lock()
	k.busy = true
	k.mu.Unlock()
}

// end hands over a pipeline's replies, then what arrived meanwhile.
func (k *pushSink) end(out []byte) {
	k.mu.Lock()
	k.busy = false
	if !k.dead && !k.closed {
		k.buf = append(k.buf, out...)
		k.buf = append(k.buf, k.held...)
	}
	k.held = k.held[:0]
	over := !k.dead && len(k.buf) > int(k.srv.pubsub.limit.Load())
	k.mu.Unlock()
	if over {
		k.overflow()
		return
	}
	k.signal()
}

// push queues a message; it never blocks on the network.
func (k *pushSink) push(msg []byte) {
	k.mu.Lock()
	if k.dead || k.closed {
		k.mu.Unlock()
		return
	}
	if k.busy {
		k.held = append(k.held, msg...)
	} else {
		k.buf = append(k.buf, msg...)
	}
	over := len(k.buf)+len(k.held) > int(k.srv.pubsub.limit.Load())
	k.mu.Unlock()
	if over {
		k.overflow()
		return
	}
	k.signal()
}

// overflow disconnects a subscriber that does not keep up.
func (k *pushSink) overflow() {
	k.mu.Lock()
	if k.dead {
		k.mu.Unlock()
		return
	}
	k.dead = true
	k.buf, k.held = nil, nil
	k.mu.Unlock()
	k.srv.log.Warn("client closed for overcoming of output buffer limits", "client_id", k.c.id,
		"addr", k.c.addr, "class", "pubsub")
	k.c.killed.Store(true)
	if k.c.raw != nil {
		_ = k.c.raw.Close()
	}
	k.signal()
}

// close stops the writer once the pending output is written.
func (k *pushSink) close() {
	k.mu.Lock()
	k.closed = true
	k.mu.Unlock()
	k.signal()
}

func (k *pushSink) run() {
	defer k.srv.conns.Done()
	defer close(k.done)
	var spare []byte
	for {
		k.mu.Lock()
		for len(k.buf) == 0 && !k.closed && !k.dead {
			k.mu.Unlock()
			<-k.wake
			k.mu.Lock()
		}
		if k.dead || len(k.buf) == 0 {
			k.mu.Unlock()
			return
		}
		out := k.buf
		k.buf = spare[:0]
		k.mu.Unlock()
		if _, err := k.c.raw.Write(out); err != nil {
			k.mu.Lock()
			k.dead = true
			k.buf, k.held = nil, nil
			k.mu.Unlock()
			_ = k.c.raw.Close()
			return
		}
		if cap(out) > 1<<20 {
			out = nil // do not pin a burst's buffer
		}
		spare = out[:0]
	}
}

// pubsubBegin is called before a pipeline is served.
func (s *Server) pubsubBegin(c *client) {
	if c.ps != nil {
		c.ps.sink.begin()
	}
}

// pubsubEnd hands the pipeline's replies to the sink; false if c has none
// (redcon writes them as usual).
func (s *Server) pubsubEnd(c *client) bool {
	if c.ps == nil {
		return false
	}
	c.ps.sink.end(c.out)
	return true
}

// pubsubDrain runs before the server closes c on QUIT: the sink's writer
// must deliver the pending output (QUIT's +OK included) first.
func (s *Server) pubsubDrain(c *client) {
	if c.ps == nil || c.killed.Load() {
		return
	}
	k := c.ps.sink
	k.close()
	select {
	case <-k.done:
	case <-time.After(quitDrainWait):
	}
}

// pubsubClosed forgets a disconnected client's subscriptions.
func (s *Server) pubsubClosed(c *client) {
	if p := s.dropSubscriptions(c); p != nil {
		p.sink.close()
	}
}

// pubsubReset is RESET: drop every subscription without notifications.
func (s *Server) pubsubReset(c *client) {
	if s.dropSubscriptions(c) != nil {
		s.setIdleGuard(c)
	}
}

// dropSubscriptions removes all of c's subscriptions from the hub and
// returns its pub/sub state (nil if it never subscribed).
func (s *Server) dropSubscriptions(c *client) *psClient {
	p := c.ps
	if p == nil {
		return nil
	}
	h := s.pubsub
	h.mu.Lock()
	for ch := range p.channels {
		h.remove(h.channels, ch, p)
	}
	for _, pat := range p.patterns {
		h.remove(h.patterns, pat, p)
	}
	for ch := range p.shard {
		h.remove(h.shard, ch, p)
	}
	p.channels, p.patterns, p.shard = map[string]struct{}{}, nil, map[string]struct{}{}
	h.mu.Unlock()
	return p
}

func (h *hub) add(m map[string]map[*psClient]struct{}, name string, p *psClient) {
	set := m[name]
	if set == nil {
		set = map[*psClient]struct{}{}
		m[name] = set
	}
	set[p] = struct{}{}
}

// remove drops p from name's subscribers, and name once nobody is left (as
// Redis does, so that PUBSUB CHANNELS lists active channels only).
func (h *hub) remove(m map[string]map[*psClient]struct{}, name string, p *psClient) {
	set := m[name]
	delete(set, p)
	if len(set) == 0 {
		delete(m, name)
	}
}

// pubsubAllowed: a RESP2 connection in subscribed mode may only run these.
var pubsubAllowed = map[string]bool{"ping": true, "subscribe": true, "ssubscribe": true, "unsubscribe": true,
	"sunsubscribe": true, "psubscribe": true, "punsubscribe": true, "quit": true, "reset": true}

// pubsubContextError returns the error for cmd in subscribed mode, "" if
// cmd may run.
func pubsubContextError(c *client, cmd *command) string {
	if c.resp != 2 || !c.subscribed() || pubsubAllowed[cmd.name] {
		return ""
	}
	return "ERR Can't execute '" + cmd.name + "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
}

// pubsubPing answers PING in RESP2 subscribed mode: ["pong", msg]. It
// reports false when PING takes its usual form.
func pubsubPing(c *client, args [][]byte) bool {
	if c.resp != 2 || !c.subscribed() || len(args) > 2 {
		return false
	}
	c.out = appendArrayLen(c.out, 2)
	c.out = appendBulk(c.out, "pong")
	if len(args) == 2 {
		c.out = appendBulkBytes(c.out, args[1])
	} else {
		c.out = appendBulk(c.out, "")
	}
	return true
}

// appendPushLen writes a push header: >N in RESP3, *N in RESP2.
func appendPushLen(b []byte, n int, resp int) []byte {
	if resp >= 3 {
		return appendPrefix(b, '>', int64(n))
	}
	return appendArrayLen(b, n)
}

// appendNotice appends a (un)subscribe confirmation: [kind, name, count];
// a nil name (unsubscribe with nothing to unsubscribe) is a null.
func appendNotice(b []byte, resp int, kind string, name []byte, isNil bool, n int) []byte {
	b = appendPushLen(b, 3, resp)
	b = appendBulk(b, kind)
	if isNil {
		b = appendNull(b, resp)
	} else {
		b = appendBulkBytes(b, name)
	}
	return appendInt(b, int64(n))
}

func subscribeCmd(s *Server, c *client, args [][]byte) {
	p := s.pubsubFor(c)
	h := s.pubsub
	for _, a := range args[1:] {
		ch := string(a)
		if _, ok := p.channels[ch]; !ok {
			h.mu.Lock()
			p.channels[ch] = struct{}{}
			h.add(h.channels, ch, p)
			h.mu.Unlock()
		}
		c.out = appendNotice(c.out, c.resp, "subscribe", a, false, p.count())
	}
	s.setIdleGuard(c)
}

func unsubscribeCmd(s *Server, c *client, args [][]byte) {
	p := s.pubsubFor(c)
	h := s.pubsub
	names := args[1:]
	if len(names) == 0 {
		if len(p.channels) == 0 {
			c.out = appendNotice(c.out, c.resp, "unsubscribe", nil, true, p.count())
		}
		names = sortedNames(p.channels)
	}
	for _, a := range names {
		ch := string(a)
		if _, ok := p.channels[ch]; ok {
			h.mu.Lock()
			delete(p.channels, ch)
			h.remove(h.channels, ch, p)
			h.mu.Unlock()
		}
		c.out = appendNotice(c.out, c.resp, "unsubscribe", a, false, p.count())
	}
	s.setIdleGuard(c)
}

func psubscribeCmd(s *Server, c *client, args [][]byte) {
	p := s.pubsubFor(c)
	h := s.pubsub
	for _, a := range args[1:] {
		pat := string(a)
		if !containsString(p.patterns, pat) {
			h.mu.Lock()
			p.patterns = append(p.patterns, pat)
			h.add(h.patterns, pat, p)
			h.mu.Unlock()
		}
		c.out = appendNotice(c.out, c.resp, "psubscribe", a, false, p.count())
	}
	s.setIdleGuard(c)
}

func punsubscribeCmd(s *Server, c *client, args [][]byte) {
	p := s.pubsubFor(c)
	h := s.pubsub
	names := args[1:]
	if len(names) == 0 {
		if len(p.patterns) == 0 {
			c.out = appendNotice(c.out, c.resp, "punsubscribe", nil, true, p.count())
		}
		for _, pat := range p.patterns {
			names = append(names, []byte(pat))
		}
	}
	for _, a := range names {
		pat := string(a)
		if i := indexString(p.patterns, pat); i >= 0 {
			h.mu.Lock()
			p.patterns = append(p.patterns[:i:i], p.patterns[i+1:]...)
			h.remove(h.patterns, pat, p)
			h.mu.Unlock()
		}
		c.out = appendNotice(c.out, c.resp, "punsubscribe", a, false, p.count())
	}
	s.setIdleGuard(c)
}

// shardRoute checks that the shard channels hash to one slot served here
// (any node of the owning shard serves them, replicas included, as Redis
// 7.0 lets replicas serve sharded pub/sub). It returns the error to reply.
func (s *Server) shardRoute(names [][]byte) string {
	if len(names) == 0 {
		return ""
	}
	slot := slots.Of(names[0])
	for _, n := range names[1:] {
		if slots.Of(n) != slot {
			return "CROSSSLOT Keys in request don't hash to the same slot"
		}
	}
	return s.backend.Route(slot, false, true, false)
}

func ssubscribeCmd(s *Server, c *client, args [][]byte) {
	if msg := s.shardRoute(args[1:]); msg != "" {
		s.replyError(c, c.cur, msg)
		return
	}
	p := s.pubsubFor(c)
	h := s.pubsub
	for _, a := range args[1:] {
		ch := string(a)
		if _, ok := p.shard[ch]; !ok {
			h.mu.Lock()
			p.shard[ch] = struct{}{}
			h.add(h.shard, ch, p)
			h.mu.Unlock()
		}
		c.out = appendNotice(c.out, c.resp, "ssubscribe", a, false, len(p.shard))
	}
	s.setIdleGuard(c)
}

func sunsubscribeCmd(s *Server, c *client, args [][]byte) {
	if msg := s.shardRoute(args[1:]); msg != "" {
		s.replyError(c, c.cur, msg)
		return
	}
	p := s.pubsubFor(c)
	h := s.pubsub
	names := args[1:]
	if len(names) == 0 {
		if len(p.shard) == 0 {
			c.out = appendNotice(c.out, c.resp, "sunsubscribe", nil, true, 0)
		}
		names = sortedNames(p.shard)
	}
	for _, a := range names {
		ch := string(a)
		if _, ok := p.shard[ch]; ok {
			h.mu.Lock()
			delete(p.shard, ch)
			h.remove(h.shard, ch, p)
			h.mu.Unlock()
		}
		c.out = appendNotice(c.out, c.resp, "sunsubscribe", a, false, len(p.shard))
	}
	s.setIdleGuard(c)
}

func publishCmd(s *Server, c *client, args [][]byte) {
	n := s.pubsub.publish(args[1], args[2], false)
	s.backend.Publish(args[1], args[2])
	c.out = appendInt(c.out, int64(n))
}

func spublishCmd(s *Server, c *client, args [][]byte) {
	if msg := s.shardRoute(args[1:2]); msg != "" {
		s.replyError(c, c.cur, msg)
		return
	}
	n := s.pubsub.publish(args[1], args[2], true)
	s.backend.PublishShard(args[1], args[2])
	c.out = appendInt(c.out, int64(n))
}

// DeliverRemote delivers a message published on another node to this
// node's subscribers (sharded: a shard channel message).
func (s *Server) DeliverRemote(sharded bool, channel, message []byte) {
	s.pubsub.publish(channel, message, sharded)
}

// publish delivers to the local subscribers and returns how many received
// the message (a client matching through several patterns counts for each,
// as in Redis). The hub's read lock is held while the messages are queued, so
// two publishes of one publisher reach every subscriber in order.
func (h *hub) publish(channel, message []byte, sharded bool) int {
	var enc [2][]byte // encoded "message" per protocol, built on demand
	encode := func(resp int) []byte {
		i := 0
		if resp >= 3 {
			i = 1
		}
		if enc[i] == nil {
			kind := "message"
			if sharded {
				kind = "smessage"
			}
			b := appendPushLen(nil, 3, resp)
			b = appendBulk(b, kind)
			b = appendBulkBytes(b, channel)
			enc[i] = appendBulkBytes(b, message)
		}
		return enc[i]
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	n := 0
	m := h.channels
	if sharded {
		m = h.shard
	}
	for p := range m[string(channel)] {
		p.sink.push(encode(p.c.protocol()))
		n++
	}
	if sharded {
		return n // shard channels ignore patterns
	}
	var pb []byte
	for pat, set := range h.patterns {
		if !raftfsm.GlobMatch(pat, string(channel), false) {
			continue
		}
		for p := range set {
			resp := p.c.protocol()
			pb = appendPushLen(pb[:0], 4, resp)
			pb = appendBulk(pb, "pmessage")
			pb = appendBulk(pb, pat)
			pb = appendBulkBytes(pb, channel)
			pb = appendBulkBytes(pb, message)
			p.sink.push(pb) // push copies
			n++
		}
	}
	return n
}

// protocol reads the RESP version from another goroutine.
func (c *client) protocol() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resp
}

func pubsubChannelsCmd(s *Server, c *client, args [][]byte) {
	s.channelList(c, args, false)
}

func pubsubShardChannelsCmd(s *Server, c *client, args [][]byte) {
	s.channelList(c, args, true)
}

func (s *Server) channelList(c *client, args [][]byte, sharded bool) {
	if len(args) > 3 {
		s.replyError(c, nil, "ERR unknown subcommand or wrong number of arguments for '"+string(args[1])+"'. Try "+strings.ToUpper(string(args[0]))+" HELP.")
		return
	}
	h := s.pubsub
	var out []string
	h.mu.RLock()
	m := h.channels
	if sharded {
		m = h.shard
	}
	for ch := range m {
		if len(args) == 3 && !raftfsm.GlobMatch(string(args[2]), ch, false) {
			continue
		}
		out = append(out, ch)
	}
	h.mu.RUnlock()
	sort.Strings(out)
	c.out = appendArrayLen(c.out, len(out))
	for _, ch := range out {
		c.out = appendBulk(c.out, ch)
	}
}

func pubsubNumSubCmd(s *Server, c *client, args [][]byte) { s.numSub(c, args, false) }

func pubsubShardNumSubCmd(s *Server, c *client, args [][]byte) { s.numSub(c, args, true) }

func (s *Server) numSub(c *client, args [][]byte, sharded bool) {
	h := s.pubsub
	c.out = appendArrayLen(c.out, (len(args)-2)*2)
	h.mu.RLock()
	m := h.channels
	if sharded {
		m = h.shard
	}
	for _, a := range args[2:] {
		c.out = appendBulkBytes(c.out, a)
		c.out = appendInt(c.out, int64(len(m[string(a)])))
	}
	h.mu.RUnlock()
}

func pubsubNumPatCmd(s *Server, c *client, args [][]byte) {
	h := s.pubsub
	h.mu.RLock()
	n := len(h.patterns)
	h.mu.RUnlock()
	c.out = appendInt(c.out, int64(n))
}

func pubsubHelpCmd(s *Server, c *client, args [][]byte) {
	helpReply(c, "PUBSUB", []string{
		"CHANNELS [<pattern>]",
		"    Return the currently active channels matching a <pattern> (default: '*').",
		"NUMPAT",
		"    Return number of subscriptions to patterns.",
		"NUMSUB [<channel> ...]",
		"    Return the number of subscribers for the specified channels, excluding",
		"    pattern subscriptions(default: no channels).",
		"SHARDCHANNELS [<pattern>]",
		"    Return the currently active shard level channels matching a <pattern> (default: '*').",
		"SHARDNUMSUB [<shardchannel> ...]",
		"    Return the number of subscribers for the specified shard level channel(s)",
	})
}

// pubsubCommands lists the pub/sub commands for the gateway's table.
func pubsubCommands() []*command {
	return []*command{
		{name: "subscribe", arity: -2, handler: subscribeCmd},
		{name: "unsubscribe", arity: -1, handler: unsubscribeCmd},
		{name: "psubscribe", arity: -2, handler: psubscribeCmd},
		{name: "punsubscribe", arity: -1, handler: punsubscribeCmd},
		{name: "publish", arity: 3, handler: publishCmd},
		{name: "ssubscribe", arity: -2, first: 1, last: -1, step: 1, handler: ssubscribeCmd},
		{name: "sunsubscribe", arity: -1, first: 1, last: -1, step: 1, handler: sunsubscribeCmd},
		{name: "spublish", arity: 3, first: 1, last: 1, step: 1, handler: spublishCmd},
		{name: "pubsub", arity: -2, subs: map[string]*command{
			"channels":      {arity: -2, handler: pubsubChannelsCmd},
			"numsub":        {arity: -2, handler: pubsubNumSubCmd},
			"numpat":        {arity: 2, handler: pubsubNumPatCmd},
			"shardchannels": {arity: -2, handler: pubsubShardChannelsCmd},
			"shardnumsub":   {arity: -2, handler: pubsubShardNumSubCmd},
			"help":          {arity: 2, handler: pubsubHelpCmd},
		}},
	}
}

func sortedNames(m map[string]struct{}) [][]byte {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make([][]byte, len(names))
	for i, n := range names {
		out[i] = []byte(n)
	}
	return out
}

func containsString(list []string, s string) bool { return indexString(list, s) >= 0 }

func indexString(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// pubsubStats returns the active channel and pattern counts (for INFO stats
// pubsub_channels / pubsub_patterns).
func (s *Server) pubsubStats() (channels, patterns int) {
	h := s.pubsub
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.channels), len(h.patterns)
}

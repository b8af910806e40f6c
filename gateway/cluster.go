package gateway

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/raftcache/raftcache/raftfsm"
	"github.com/raftcache/raftcache/slots"
)

// CLUSTER: the Redis 7.0 read-only view of the cluster, rendered from the
// node's Topology. A shard's Raft leader is the Redis "master", the other
// members of the shard are its "slave"s, and a node in no shard is a master
// without slots. Membership and slot changes go through raftcachectl (Raft
// decides them), so the admin subcommands answer an honest error.

// clusterSubcommands is the CLUSTER container's subcommand table (arities as
// in Redis 7.0; flags come from Redis's metadata in finishCommand).
func clusterSubcommands() map[string]*command {
	subs := map[string]*command{
		"help":            {arity: 2, handler: clusterHelpCmd},
		"info":            {arity: 2, handler: clusterInfoCmd},
		"myid":            {arity: 2, handler: clusterMyIDCmd},
		"myshardid":       {arity: 2, handler: clusterMyShardIDCmd},
		"slots":           {arity: 2, handler: clusterSlotsCmd},
		"shards":          {arity: 2, handler: clusterShardsCmd},
		"nodes":           {arity: 2, handler: clusterNodesCmd},
		"replicas":        {arity: 3, handler: clusterReplicasCmd},
		"slaves":          {arity: 3, handler: clusterReplicasCmd},
		"keyslot":         {arity: 3, handler: clusterKeySlotCmd},
		"countkeysinslot": {arity: 3, handler: clusterCountKeysInSlotCmd},
		"getkeysinslot":   {arity: 4, handler: clusterGetKeysInSlotCmd},
		"links":           {arity: 2, handler: clusterLinksCmd},
		"failover":        {arity: -2, handler: clusterFailoverCmd},
	}
	for name, arity := range map[string]int{
		"addslots": -3, "addslotsrange": -4, "delslots": -3, "delslotsrange": -4, "setslot": -4,
		"meet": -4, "forget": 3, "reset": -2, "replicate": 3, "flushslots": 2,
		"bumpepoch": 2, "set-config-epoch": 3, "saveconfig": 2, "count-failure-reports": 3,
	} {
		subs[name] = &command{arity: arity, handler: clusterUnsupportedCmd}
	}
	return subs
}

// clusterUnsupportedCmd answers the admin subcommands: acknowledging them
// would let a tool believe it changed slots or membership when it did not.
func clusterUnsupportedCmd(s *Server, c *client, args [][]byte) {
	s.replyError(c, nil, "ERR CLUSTER "+strings.ToUpper(string(args[1]))+
		" is not supported: raftcache manages slots and membership through raftcachectl")
}

func clusterHelpCmd(s *Server, c *client, args [][]byte) {
	helpReply(c, "CLUSTER", []string{
		"COUNTKEYSINSLOT <slot>",
		"    Return the number of keys in <slot>.",
		"FAILOVER [FORCE|TAKEOVER]",
		"    Promote current replica node to being a master.",
		"GETKEYSINSLOT <slot> <count>",
		"    Return key names stored by current node in a slot.",
		"INFO",
		"    Return information about the cluster.",
		"KEYSLOT <key>",
		"    Return the hash slot for <key>.",
		"MYID",
		"    Return the node id.",
		"MYSHARDID",
		"    Return the node's shard id.",
		"NODES",
		"    Return cluster configuration seen by node. Output format:",
		"    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
		"REPLICAS <node-id>",
		"    Return <node-id> replicas.",
		"SLOTS",
		"    Return information about slots range mappings. Each range is made of:",
		"    start, end, master and replicas IP addresses, ports and ids",
		"SHARDS",
		"    Return information about slot range mappings and the nodes associated with them.",
		"LINKS",
		"    Return information about all network links between this node and its peers.",
		"    Output format is an array where each array element is a map containing attributes of a link",
		"(ADDSLOTS, DELSLOTS, SETSLOT, FAILOVER, MEET, FORGET, REPLICATE, RESET ... are not supported:",
		"    use raftcachectl, which changes slots and membership through Raft.)",
	})
}

// clusterView is a Topology digested for rendering: each node's role and
// master, the slot -> master map and the runs each master serves.
type clusterView struct {
	top  *slots.Topology
	self int // index of top.Self in top.Nodes, -1 if absent
	byID map[string]int

	master   []bool    // per node: renders as a master
	masterOf []int     // per node: index of its master (replicas), -1 unknown
	replicas [][]int   // per master: its replicas in node order
	runs     []slotRun // maximal runs of slots with the same master, ascending
	owned    [][]slots.Range

	assigned int // slots assigned to any shard
	ok       int // slots served by a known, live master
	size     int // masters serving at least one slot
}

type slotRun struct {
	start, end slots.Slot
	node       int
}

func (s *Server) topology() *slots.Topology {
	t := s.backend.Topology()
	if t == nil {
		// Not known yet (node starting): an empty cluster, never a crash.
		t = &slots.Topology{Self: s.cfg.NodeID}
	}
	return t
}

func newClusterView(t *slots.Topology) *clusterView {
	n := len(t.Nodes)
	v := &clusterView{top: t, self: -1, byID: make(map[string]int, n),
		master: make([]bool, n), masterOf: make([]int, n), replicas: make([][]int, n),
		owned: make([][]slots.Range, n)}
	for i, nd := range t.Nodes {
		v.byID[nd.ID] = i
		if nd.ID == t.Self {
			v.self = i
		}
	}
	shardLeader := make(map[slots.ShardID]string, len(t.Shards))
	for _, sh := range t.Shards {
		shardLeader[sh.ID] = sh.LeaderID
	}
	// Roles first: a node is a master when it leads its shard or has none.
	for i, nd := range t.Nodes {
		v.masterOf[i] = -1
		if !nd.HasShard {
			v.master[i] = true
			continue
		}
		leader, known := shardLeader[nd.Shard]
		if !known {
			leader = nd.LeaderID
		}
		if leader == nd.ID {
			v.master[i] = true
		}
	}
	for i, nd := range t.Nodes {
		if v.master[i] {
			continue
		}
		leader, known := shardLeader[nd.Shard]
		if !known {
			leader = nd.LeaderID
		}
		// A leader we cannot render (unknown node, or one that is itself
		// a replica in an inconsistent view) leaves the replica masterless.
		if li, ok := v.byID[leader]; ok && v.master[li] {
			v.masterOf[i] = li
			v.replicas[li] = append(v.replicas[li], i)
		}
	}
	// Slot owners: the leader of the owning shard; slots of a shard without
	// a known leader are assigned but not served (absent from SLOTS).
	owner := make([]int32, slots.Count)
	for i := range owner {
		owner[i] = -1
	}
	var assigned slots.Bitmap
	for _, sh := range t.Shards {
		li, ok := v.byID[sh.LeaderID]
		if ok && (!v.master[li] || !t.Nodes[li].HasShard || t.Nodes[li].Shard != sh.ID) {
			ok = false
		}
		for _, r := range slots.Normalize(sh.Slots) {
			assigned.SetRange(r)
			if !ok {
				continue
			}
			for sl := int(r.Start); sl <= int(r.End); sl++ {
				owner[sl] = int32(li)
			}
		}
	}
	v.assigned = assigned.Count()
	for sl := 0; sl < slots.Count; {
		o := owner[sl]
		end := sl
		for end+1 < slots.Count && owner[end+1] == o {
			end++
		}
		if o >= 0 {
			v.runs = append(v.runs, slotRun{slots.Slot(sl), slots.Slot(end), int(o)})
			if len(v.owned[o]) == 0 {
				v.size++
			}
			v.owned[o] = append(v.owned[o], slots.Range{Start: slots.Slot(sl), End: slots.Slot(end)})
			if !t.Nodes[o].Failed {
				v.ok += end - sl + 1
			}
		}
		sl = end + 1
	}
	return v
}

// epoch is the config epoch a node line shows: a replica shows its master's.
func (v *clusterView) epoch(i int) uint64 {
	if m := v.masterOf[i]; m >= 0 {
		return v.top.Nodes[m].Epoch
	}
	return v.top.Nodes[i].Epoch
}

// nodeLine renders node i as one CLUSTER NODES line without the newline,
// with the port of client c's kind (redirect.go).
func (v *clusterView) nodeLine(c *client, i int) string {
	nd := &v.top.Nodes[i]
	var b strings.Builder
	b.WriteString(nd.ID)
	b.WriteByte(' ')
	b.WriteString(nd.Host)
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(c.clientPort(nd)))
	b.WriteByte('@')
	b.WriteString(strconv.Itoa(nd.BusPort))
	b.WriteByte(' ')
	if i == v.self {
		b.WriteString("myself,")
	}
	if v.master[i] {
		b.WriteString("master")
	} else {
		b.WriteString("slave")
	}
	if nd.Failed {
		b.WriteString(",fail")
	}
	b.WriteByte(' ')
	if m := v.masterOf[i]; m >= 0 {
		b.WriteString(v.top.Nodes[m].ID)
	} else {
		b.WriteByte('-')
	}
	b.WriteString(" 0 ")
	b.WriteString(strconv.FormatInt(nd.PongMs, 10))
	b.WriteByte(' ')
	b.WriteString(strconv.FormatUint(v.epoch(i), 10))
	if nd.Failed && i != v.self {
		b.WriteString(" disconnected")
	} else {
		b.WriteString(" connected")
	}
	if len(v.owned[i]) > 0 {
		b.WriteByte(' ')
		b.WriteString(slots.FormatRanges(v.owned[i]))
	}
	// Only masters have open slots in Redis, and only on the myself line.
	if i == v.self && v.master[i] {
		if tok := v.openSlots(); tok != "" {
			b.WriteByte(' ')
			b.WriteString(tok)
		}
	}
	return b.String()
}

// openSlots renders the myself line's migration tokens. The peer shard is
// named by its leader (any member when leaderless); a peer we know nothing
// about has no id to print, so its token is left out.
func (v *clusterView) openSlots() string {
	peer := func(id slots.ShardID) string {
		for _, sh := range v.top.Shards {
			if sh.ID != id {
				continue
			}
			if sh.LeaderID != "" {
				return sh.LeaderID
			}
			if len(sh.Members) > 0 {
				return sh.Members[0]
			}
		}
		return ""
	}
	ms := make([]slots.Migration, 0, len(v.top.Migrations))
	for _, m := range v.top.Migrations {
		if peer(m.Peer) != "" {
			ms = append(ms, m)
		}
	}
	return slots.FormatMigrations(ms, peer)
}

func clusterNodesCmd(s *Server, c *client, args [][]byte) {
	v := newClusterView(s.topology())
	var b strings.Builder
	for i := range v.top.Nodes {
		b.WriteString(v.nodeLine(c, i))
		b.WriteByte('\n')
	}
	c.out = appendVerbatim(c.out, b.String(), c.resp)
}

// appendSlotNode writes one node of a CLUSTER SLOTS range: endpoint, port
// (of client c's kind), id and the (empty) networking metadata map, as
// with the default cluster-preferred-endpoint-type ip.
func appendSlotNode(b []byte, c *client, nd *slots.NodeInfo) []byte {
	b = appendArrayLen(b, 4)
	b = appendBulk(b, nd.Host)
	b = appendInt(b, int64(c.clientPort(nd)))
	b = appendBulk(b, nd.ID)
	return appendMapLen(b, 0, c.resp)
}

func clusterSlotsCmd(s *Server, c *client, args [][]byte) {
	v := newClusterView(s.topology())
	c.out = appendArrayLen(c.out, len(v.runs))
	for _, r := range v.runs {
		var live []int
		for _, ri := range v.replicas[r.node] {
			if !v.top.Nodes[ri].Failed {
				live = append(live, ri)
			}
		}
		c.out = appendArrayLen(c.out, 3+len(live))
		c.out = appendInt(c.out, int64(r.start))
		c.out = appendInt(c.out, int64(r.end))
		c.out = appendSlotNode(c.out, c, &v.top.Nodes[r.node])
		for _, ri := range live {
			c.out = appendSlotNode(c.out, c, &v.top.Nodes[ri])
		}
	}
}

func clusterShardsCmd(s *Server, c *client, args [][]byte) {
	v := newClusterView(s.topology())
	// A TLS-only cluster's nodes have no plaintext port (Redis: port 0,
	// tls-port P); TLS is on for every node of a cluster or for none. A
	// node with both ports shows both (NodeInfo.TLSPort).
	portKey := "port"
	if s.cfg.TLS != nil && s.cfg.TLSAddr == "" {
		portKey = "tls-port"
	}
	n := 0
	for i := range v.master {
		if v.master[i] {
			n++
		}
	}
	c.out = appendArrayLen(c.out, n)
	for i := range v.top.Nodes {
		if !v.master[i] {
			continue
		}
		c.out = appendMapLen(c.out, 2, c.resp)
		c.out = appendBulk(c.out, "slots")
		c.out = appendArrayLen(c.out, 2*len(v.owned[i]))
		for _, r := range v.owned[i] {
			c.out = appendInt(c.out, int64(r.Start))
			c.out = appendInt(c.out, int64(r.End))
		}
		c.out = appendBulk(c.out, "nodes")
		c.out = appendArrayLen(c.out, 1+len(v.replicas[i]))
		c.out = v.appendShardNode(c.out, i, c.resp, portKey)
		for _, ri := range v.replicas[i] {
			c.out = v.appendShardNode(c.out, ri, c.resp, portKey)
		}
	}
}

// appendShardNode writes one node map of CLUSTER SHARDS, keys in Redis's
// order (redis-py reads them positionally); portKey names the port of a
// node with one port, a node with two shows "port" and "tls-port".
func (v *clusterView) appendShardNode(b []byte, i int, resp int, portKey string) []byte {
	nd := &v.top.Nodes[i]
	fields := 6
	if nd.Port != 0 {
		fields++
	}
	if nd.TLSPort != 0 {
		fields++
	}
	b = appendMapLen(b, fields, resp)
	b = appendBulk(b, "id")
	b = appendBulk(b, nd.ID)
	if nd.Port != 0 {
		if nd.TLSPort != 0 {
			portKey = "port"
		}
		b = appendBulk(b, portKey)
		b = appendInt(b, int64(nd.Port))
	}
	if nd.TLSPort != 0 {
		b = appendBulk(b, "tls-port")
		b = appendInt(b, int64(nd.TLSPort))
	}
	b = appendBulk(b, "ip")
	b = appendBulk(b, nd.Host)
	b = appendBulk(b, "endpoint")
	b = appendBulk(b, nd.Host)
	b = appendBulk(b, "role")
	health := "online"
	if v.master[i] {
		b = appendBulk(b, "master")
	} else {
		b = appendBulk(b, "replica")
		if nd.Offset == 0 {
			health = "loading"
		}
	}
	if nd.Failed {
		health = "fail"
	}
	b = appendBulk(b, "replication-offset")
	b = appendInt(b, int64(nd.Offset))
	b = appendBulk(b, "health")
	return appendBulk(b, health)
}

func clusterInfoCmd(s *Server, c *client, args [][]byte) {
	v := newClusterView(s.topology())
	state := "fail"
	if v.ok == slots.Count {
		state = "ok"
	}
	var my uint64
	if v.self >= 0 {
		my = v.epoch(v.self)
	}
	// There is no cluster bus: gossip traffic is not Redis bus messages, so
	// the per-type message counters are all zero (and therefore omitted).
	text := fmt.Sprintf("cluster_state:%s\r\n"+
		"cluster_slots_assigned:%d\r\n"+
		"cluster_slots_ok:%d\r\n"+
		"cluster_slots_pfail:0\r\n"+
		"cluster_slots_fail:%d\r\n"+
		"cluster_known_nodes:%d\r\n"+
		"cluster_size:%d\r\n"+
		"cluster_current_epoch:%d\r\n"+
		"cluster_my_epoch:%d\r\n"+
		"cluster_stats_messages_sent:0\r\n"+
		"cluster_stats_messages_received:0\r\n"+
		"total_cluster_links_buffer_limit_exceeded:0\r\n",
		state, v.assigned, v.ok, v.assigned-v.ok, len(v.top.Nodes), v.size, v.top.Epoch, my)
	c.out = appendVerbatim(c.out, text, c.resp)
}

func clusterMyIDCmd(s *Server, c *client, args [][]byte) {
	c.out = appendBulk(c.out, s.topology().Self)
}

// clusterMyShardIDCmd (Redis 7.2) names a shard by a 40-hex id derived from
// its number, so every member reports the same id; a node in no shard is a
// shard of its own, named by its node id.
func clusterMyShardIDCmd(s *Server, c *client, args [][]byte) {
	t := s.topology()
	nd, ok := t.Node(t.Self)
	if !ok || !nd.HasShard {
		c.out = appendBulk(c.out, t.Self)
		return
	}
	c.out = appendBulk(c.out, fmt.Sprintf("%040x", uint64(nd.Shard)))
}

func clusterReplicasCmd(s *Server, c *client, args [][]byte) {
	v := newClusterView(s.topology())
	i, ok := v.byID[string(args[2])]
	if !ok {
		s.replyError(c, nil, "ERR Unknown node "+string(args[2]))
		return
	}
	if !v.master[i] {
		s.replyError(c, nil, "ERR The specified node is not a master")
		return
	}
	c.out = appendArrayLen(c.out, len(v.replicas[i]))
	for _, ri := range v.replicas[i] {
		c.out = appendBulk(c.out, v.nodeLine(c, ri))
	}
}

func clusterKeySlotCmd(s *Server, c *client, args [][]byte) {
	c.out = appendInt(c.out, int64(slots.Of(args[2])))
}

func clusterCountKeysInSlotCmd(s *Server, c *client, args [][]byte) {
	slot, ok := raftfsm.ParseInt(args[2])
	if !ok {
		s.replyError(c, nil, raftfsm.ErrNotInt.Str)
		return
	}
	if slot < 0 || slot >= slots.Count {
		s.replyError(c, nil, "ERR Invalid slot")
		return
	}
	var n int
	// Local keys, as Redis counts them: a stale read needs no barrier.
	err := s.backend.Read(s.ctx, true, func(db *raftfsm.DB, now int64) {
		n = db.CountInSlot(slots.Slot(slot))
	})
	if err != nil {
		s.replyError(c, nil, errorText(err, false, -1))
		return
	}
	c.out = appendInt(c.out, int64(n))
}

func clusterGetKeysInSlotCmd(s *Server, c *client, args [][]byte) {
	slot, ok := raftfsm.ParseInt(args[2])
	if !ok {
		s.replyError(c, nil, raftfsm.ErrNotInt.Str)
		return
	}
	count, ok := raftfsm.ParseInt(args[3])
	if !ok {
		s.replyError(c, nil, raftfsm.ErrNotInt.Str)
		return
	}
	if slot < 0 || slot >= slots.Count || count < 0 {
		s.replyError(c, nil, "ERR Invalid slot or number of keys")
		return
	}
	// A slot never holds more keys than an int counts; clamp so that a
	// huge count is not an allocation hint.
	n := int(min(count, int64(1<<31-1)))
	var keys []string
	err := s.backend.Read(s.ctx, true, func(db *raftfsm.DB, now int64) {
		if n > 0 {
			keys = db.KeysInSlot(slots.Slot(slot), n)
		}
	})
	if err != nil {
		s.replyError(c, nil, errorText(err, false, -1))
		return
	}
	c.out = appendArrayLen(c.out, len(keys))
	for _, k := range keys {
		c.out = appendBulk(c.out, k)
	}
}

// clusterLinksCmd: there are no cluster bus links (nodes talk over Raft,
// gossip and gRPC), so the list of bus links is empty.
func clusterLinksCmd(s *Server, c *client, args [][]byte) {
	c.out = appendArrayLen(c.out, 0)
}

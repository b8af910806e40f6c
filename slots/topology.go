package slots

// Topology is a node's view of the cluster, produced by the node package
// from gossip and Raft state and rendered by the gateway as CLUSTER SLOTS,
// SHARDS, NODES, INFO and REPLICAS. It is a plain value: the producer
// builds a new one on every change and never mutates a published one.
type Topology struct {
	Self   string      // 40-hex cluster id of this node
	Nodes  []NodeInfo  // every known node, sorted by ID
	Shards []ShardInfo // every known shard, sorted by ID
	Epoch  uint64      // cluster_current_epoch: the highest slot version seen
	// Migrations are the open slots of this node's shard (CLUSTER NODES
	// shows them on the myself line only).
	Migrations []Migration
}

// NodeInfo describes one node.
type NodeInfo struct {
	ID       string // 40 lowercase hex characters, stable across restarts
	Name     string // the operator-chosen node name (--node-id)
	Host     string // RESP host clients use
	Port     int    // RESP port (the plaintext one when the node has both)
	TLSPort  int    // TLS port beside the plaintext Port; 0 = the node has one port
	BusPort  int    // shown as the cluster bus port (our Raft port)
	AZ       string
	Shard    ShardID
	HasShard bool   // false for a spare node not (yet) in any shard
	Leader   bool   // leads its shard (a "master" in Redis terms)
	LeaderID string // ID of its shard's leader ("" when unknown)
	Failed   bool   // gossip declared it dead
	Epoch    uint64 // config epoch: its shard's highest slot version
	Offset   uint64 // replication offset (applied Raft index)
	PongMs   int64  // Unix ms of the last sign of life
}

// ShardInfo describes one shard (one Raft group).
type ShardInfo struct {
	ID       ShardID
	Slots    []Range // normalized
	LeaderID string  // "" when the shard has no known leader
	Members  []string
}

// Node returns the node with the given ID.
func (t *Topology) Node(id string) (NodeInfo, bool) {
	for _, n := range t.Nodes {
		if n.ID == id {
			return n, true
		}
	}
	return NodeInfo{}, false
}

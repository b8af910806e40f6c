// Package node is one raftcache process: this node's shard replica, the
// memberlist gossip that spreads node metadata (id, AZ, addresses), the
// formation of the shard once the expected nodes have met, and the Backend
// the RESP gateway calls (routing, writes, reads, INFO sections).
package node

package node

import (
	"context"
	"hash/crc32"
	"strconv"
	"sync"
	"time"

	adminv1 "github.com/raftcache/raftcache/proto/raftcache/admin/v1"
	"github.com/raftcache/raftcache/slots"
)

// Slot claims travel in memberlist metadata, which is limited to 512 bytes
// per node. A shard whose slots resharding has scattered can own thousands
// of separate ranges; its claim then travels by reference: the metadata
// carries a checksum (Member.SlotsRef) and the others fetch the claim from
// the node over gRPC (NodeStatus) whenever the checksum changes. Until the
// new claim arrives they route by the previous one: a stale claim costs a
// client one extra MOVED, never a wrong write (ownership is in the log).

// maxInlineClaim bounds the claim text carried in metadata itself.
const maxInlineClaim = 200

// claimFields returns text if it fits in metadata, else "".
func claimFields(text string) string {
	if len(text) > maxInlineClaim {
		return ""
	}
	return text
}

// claimRef is the reference of a claim text.
func claimRef(text string) string {
	return strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(text))), 16)
}

type cachedClaim struct {
	ref    string
	ranges []slots.Range
	ver    uint64
}

type claimCache struct {
	mu       sync.Mutex
	byNode   map[string]cachedClaim
	inflight map[string]time.Time // node -> when its fetch started
}

// get returns member m's claim and its version: the cached one if its
// reference matches, else the previous one (if any, with its own version)
// while a fetch of the new one runs.
func (c *claimCache) get(n *Node, m Member) (rs []slots.Range, ver uint64, ok, fresh bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byNode == nil {
		c.byNode, c.inflight = map[string]cachedClaim{}, map[string]time.Time{}
	}
	cur, ok := c.byNode[m.NodeID]
	if ok && cur.ref == m.SlotsRef {
		return cur.ranges, cur.ver, true, true
	}
	if started, busy := c.inflight[m.NodeID]; !busy || time.Since(started) > 5*time.Second {
		c.inflight[m.NodeID] = time.Now()
		n.fetchClaim(m)
	}
	return cur.ranges, cur.ver, ok, false // the last known claim while the new one is fetched
}

// remember records an inline claim, so that when the member's claim grows
// too long for metadata the view keeps its last known claim (instead of
// none) until the fetch of the new one completes.
func (c *claimCache) remember(id string, rs []slots.Range, ver uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byNode == nil {
		c.byNode, c.inflight = map[string]cachedClaim{}, map[string]time.Time{}
	}
	if cur, ok := c.byNode[id]; ok && cur.ver == ver && cur.ref == "" && len(cur.ranges) == len(rs) {
		return
	}
	c.byNode[id] = cachedClaim{ranges: rs, ver: ver}
}

func (c *claimCache) put(id string, cl cachedClaim, fetched bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.inflight, id)
	if fetched {
		c.byNode[id] = cl
	}
}

// fetchClaim asks member m for its claim in the background and rebuilds
// the view when it arrives.
func (n *Node) fetchClaim(m Member) {
	if n.grpc == nil || n.runCtx == nil {
		n.claims.put(m.NodeID, cachedClaim{}, false)
		return
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		ok := false
		defer func() {
			if !ok {
				// Let the next view rebuild try again, a little later.
				time.AfterFunc(200*time.Millisecond, n.notifyMeta)
			}
		}()
		ctx, cancel := context.WithTimeout(n.runCtx, 3*time.Second)
		defer cancel()
		c, err := n.control(m.NodeID)
		if err != nil {
			n.claims.put(m.NodeID, cachedClaim{}, false)
			return
		}
		resp, err := c.NodeStatus(ctx, &adminv1.NodeStatusRequest{})
		if err != nil {
			n.cfg.Logger.Debug("fetching a slot claim failed", "member", m.NodeID, "err", err)
			n.claims.put(m.NodeID, cachedClaim{}, false)
			return
		}
		rs, err := slots.ParseRanges(resp.GetSlotClaim())
		if err != nil {
			n.cfg.Logger.Warn("bad slot claim from member", "member", m.NodeID, "err", err)
			n.claims.put(m.NodeID, cachedClaim{}, false)
			return
		}
		// Keyed by the claim's own checksum: if the member moved on
		// meanwhile, the next gossip update triggers another fetch.
		n.claims.put(m.NodeID, cachedClaim{ref: claimRef(resp.GetSlotClaim()), ranges: rs, ver: resp.GetSlotClaimVersion()}, true)
		ok = true
		n.notifyMeta()
	}()
}

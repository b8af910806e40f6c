package gateway

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Server commands about this node: ROLE, SAVE, BGSAVE, LASTSAVE and
// CLUSTER FAILOVER. A node is one replica of a Raft group, so "saving" is
// a Raft snapshot of this replica and a manual failover is a Raft
// leadership transfer; backends without those answer an error.

// persister is implemented by backends that can snapshot their replica.
type persister interface {
	SaveSnapshot(ctx context.Context) error
	LastSave() time.Time
}

// failoverTaker is implemented by backends whose node can take its shard's
// leadership over (CLUSTER FAILOVER sent to a replica).
type failoverTaker interface {
	FailoverHere(ctx context.Context) error
}

// saveTimeout bounds SAVE and CLUSTER FAILOVER, which answer once done.
const saveTimeout = 2 * time.Minute

func serverCommands() []*command {
	return []*command{
		{name: "role", arity: 1, handler: roleCmd},
		{name: "save", arity: 1, handler: saveCmd},
		{name: "bgsave", arity: -1, handler: bgsaveCmd},
		{name: "lastsave", arity: 1, handler: lastsaveCmd},
	}
}

// roleCmd answers ROLE from the node's INFO replication fields: a leader
// is a master with its replicas (address and applied index); a follower
// is a slave of its leader.
func roleCmd(s *Server, c *client, args [][]byte) {
	f := map[string]string{}
	var replicas [][3]string
	for _, l := range s.backend.InfoSection("replication") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		if strings.HasPrefix(k, "slave") && strings.Contains(v, "ip=") {
			var r [3]string
			for _, kv := range strings.Split(v, ",") {
				name, val, _ := strings.Cut(kv, "=")
				switch name {
				case "ip":
					r[0] = val
				case "port":
					r[1] = val
				case "offset":
					r[2] = val
				}
			}
			replicas = append(replicas, r)
			continue
		}
		f[k] = v
	}
	num := func(k string) int64 { n, _ := strconv.ParseInt(f[k], 10, 64); return n }
	if s.backend.IsLeader() {
		c.out = appendArrayLen(c.out, 3)
		c.out = appendBulk(c.out, "master")
		c.out = appendInt(c.out, num("master_repl_offset"))
		c.out = appendArrayLen(c.out, len(replicas))
		for _, r := range replicas {
			c.out = appendArrayLen(c.out, 3)
			for _, x := range r {
				c.out = appendBulk(c.out, x)
			}
		}
		return
	}
	state := "connect"
	if f["master_link_status"] == "up" {
		state = "connected"
	}
	c.out = appendArrayLen(c.out, 5)
	c.out = appendBulk(c.out, "slave")
	c.out = appendBulk(c.out, f["master_host"])
	c.out = appendInt(c.out, num("master_port"))
	c.out = appendBulk(c.out, state)
	c.out = appendInt(c.out, num("slave_repl_offset"))
}

func (s *Server) persister(c *client) (persister, bool) {
	p, ok := s.backend.(persister)
	if !ok {
		s.replyError(c, nil, "ERR this node cannot take snapshots")
	}
	return p, ok
}

// beginSave claims the one snapshot that may run at a time (s.saving, to
// be released by the caller).
func (s *Server) beginSave(c *client) (persister, bool) {
	p, ok := s.persister(c)
	if !ok {
		return nil, false
	}
	if !s.saving.CompareAndSwap(false, true) {
		s.replyError(c, nil, "ERR Background save already in progress")
		return nil, false
	}
	return p, true
}

// saveCmd takes a Raft snapshot of this replica and answers once it is on
// disk. Unlike Redis's SAVE it does not stop the node: the engine's
// copy-on-write snapshot is written while commands go on.
func saveCmd(s *Server, c *client, args [][]byte) {
	p, ok := s.beginSave(c)
	if !ok {
		return
	}
	defer s.saving.Store(false)
	ctx, cancel := context.WithTimeout(s.ctx, saveTimeout)
	defer cancel()
	if err := p.SaveSnapshot(ctx); err != nil {
		s.replyError(c, nil, "ERR "+err.Error())
		return
	}
	c.out = append(c.out, "+OK\r\n"...)
}

// bgsaveCmd starts a snapshot and answers at once; SCHEDULE is accepted
// (a snapshot never waits for another kind of background job here).
func bgsaveCmd(s *Server, c *client, args [][]byte) {
	if len(args) > 2 || len(args) == 2 && !strings.EqualFold(string(args[1]), "schedule") {
		s.replyError(c, nil, "ERR syntax error")
		return
	}
	p, ok := s.beginSave(c)
	if !ok {
		return
	}
	go func() {
		defer s.saving.Store(false)
		ctx, cancel := context.WithTimeout(s.ctx, saveTimeout)
		defer cancel()
		if err := p.SaveSnapshot(ctx); err != nil {
			s.log.Warn("BGSAVE failed", "err", err)
		}
	}()
	c.out = append(c.out, "+Background saving started\r\n"...)
}

func lastsaveCmd(s *Server, c *client, args [][]byte) {
	p, ok := s.persister(c)
	if !ok {
		return
	}
	c.out = appendInt(c.out, p.LastSave().Unix())
}

// clusterFailoverCmd: CLUSTER FAILOVER [FORCE|TAKEOVER] sent to a replica
// makes it the leader of its shard through a Raft leadership transfer,
// answered once the transfer is done. FORCE and TAKEOVER are accepted and
// do the same: Raft never lets a replica take over without a majority.
func clusterFailoverCmd(s *Server, c *client, args [][]byte) {
	if len(args) > 3 || len(args) == 3 && !strings.EqualFold(string(args[2]), "force") && !strings.EqualFold(string(args[2]), "takeover") {
		s.replyError(c, nil, "ERR syntax error")
		return
	}
	if s.backend.IsLeader() {
		s.replyError(c, nil, "ERR You should send CLUSTER FAILOVER to a replica")
		return
	}
	f, ok := s.backend.(failoverTaker)
	if !ok {
		s.replyError(c, nil, "ERR this node cannot take over its shard")
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, saveTimeout)
	defer cancel()
	if err := f.FailoverHere(ctx); err != nil {
		s.replyError(c, nil, "ERR CLUSTER FAILOVER: "+err.Error())
		return
	}
	c.out = append(c.out, "+OK\r\n"...)
}

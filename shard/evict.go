package shard

import (
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/raftcache/raftcache/raftfsm"
)

// EvictionConfig is the memory limit the shard's leader enforces:
// maxmemory and maxmemory-policy/-samples as Redis names them.
type EvictionConfig struct {
	MaxMemory int64 // bytes of keyspace (raftfsm's estimate); 0 = no limit
	Policy    string
	Samples   int
}

const (
	evictTick   = 100 * time.Millisecond
	evictBatch  = 500 // keys per entry
	evictRounds = 16  // entries per tick at most, so eviction cannot starve writes
)

// evictor holds the leader's eviction state.
type evictor struct {
	kick    chan struct{}
	stuck   atomic.Bool  // over the limit with nothing the policy may evict
	evicted atomic.Int64 // keys this node evicted as leader (INFO evicted_keys)
}

// evictLoop is eviction: when the keyspace estimate passes maxmemory, the
// ready leader picks keys by the policy and deletes them through the log,
// as active expiry does, so every replica removes the same keys.
func (r *Replica) evictLoop() {
	defer r.wg.Done()
	t := time.NewTicker(evictTick)
	defer t.Stop()
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	pool := &raftfsm.EvictionPool{} // this goroutine's alone
	for {
		select {
		case <-r.closing:
			return
		case <-t.C:
		case <-r.ev.kick:
		}
		if r.cfg.Eviction == nil {
			continue
		}
		cfg := r.cfg.Eviction()
		// Every replica records accesses, so a new leader can rank keys.
		r.fsm.SetTracking(raftfsm.TrackingFor(cfg.Policy))
		if cfg.MaxMemory <= 0 {
			r.ev.stuck.Store(false)
			continue
		}
		if r.writesHeld() {
			continue // held writes cannot grow memory meanwhile
		}
		for i := 0; i < evictRounds && r.Ready(); i++ {
			over := r.fsm.UsedMemory() - cfg.MaxMemory
			if over <= 0 {
				r.ev.stuck.Store(false)
				break
			}
			n, err := r.evictOnce(cfg, over, rng, pool)
			r.ev.stuck.Store(n == 0 && err == nil)
			if err != nil {
				r.log.Debug("eviction", "err", err)
				break
			}
			if n == 0 {
				break
			}
		}
	}
}

// evictOnce deletes enough keys to free about over bytes (at most
// evictBatch) and waits for the entry to apply. It returns how many keys
// were deleted.
func (r *Replica) evictOnce(cfg EvictionConfig, over int64, rng *rand.Rand, pool *raftfsm.EvictionPool) (int, error) {
	now := r.stamp()
	n := evictBatch
	var keys []string
	r.fsm.View(func(db *raftfsm.DB) {
		if l := int64(db.Len()); l > 0 {
			avg := max(r.fsm.UsedMemory()/l, 1)
			n = int(min(over/avg+1, evictBatch))
		}
		keys = db.EvictionCandidates(cfg.Policy, cfg.Samples, n, now, rng, pool)
	})
	if len(keys) == 0 {
		return 0, nil
	}
	// One key per command: every replica deletes the same keys, and a key
	// of a slot that moved meanwhile is left to its new owner.
	cmds := make([][][]byte, len(keys))
	for i, k := range keys {
		cmds[i] = [][]byte{[]byte(k)}
	}
	replies, err := r.Propose(r.ctx, raftfsm.OpEvict, cmds)
	if err != nil {
		return 0, err
	}
	deleted := 0
	for _, rep := range replies {
		if rep.Kind == raftfsm.KindInt && rep.Int == 1 {
			deleted++
		}
	}
	r.ev.evicted.Add(int64(deleted))
	return deleted, nil
}

// OverMemory reports whether writes that may grow memory must be refused
// (Redis's OOM error): the keyspace is over maxmemory and the policy is
// noeviction, or eviction found nothing it may evict. It also wakes the
// evictor, so a burst of writes does not wait for the next tick. Only the
// leader refuses: a follower redirects writes anyway. It runs per such
// write, so Config.Eviction must be cheap.
func (r *Replica) OverMemory() bool {
	if r.cfg.Eviction == nil {
		return false
	}
	cfg := r.cfg.Eviction()
	if cfg.MaxMemory <= 0 || r.fsm.UsedMemory() <= cfg.MaxMemory || !r.IsLeader() {
		return false
	}
	if cfg.Policy == raftfsm.PolicyNoEviction {
		return true
	}
	select {
	case r.ev.kick <- struct{}{}:
	default:
	}
	return r.ev.stuck.Load()
}

// EvictedKeys returns the number of keys this replica evicted as leader.
func (r *Replica) EvictedKeys() int64 { return r.ev.evicted.Load() }

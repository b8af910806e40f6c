package gateway

import "github.com/raftcache/raftcache/raftfsm"

// updateEngineParams keeps the CONFIG values that decide what a write does
// (stream node sizes, hll-sparse-max-bytes) in one atomic value: a leader
// stamps them into every write it proposes (raftfsm.Params), so replicas
// apply the write as this node decided, as Redis's replicas copy their
// master's effects.
func updateEngineParams(s *Server, _ string) {
	p := raftfsm.Params{
		StreamNodeMaxEntries: s.conf.int("stream-node-max-entries"),
		StreamNodeMaxBytes:   s.conf.int("stream-node-max-bytes"),
		HLLSparseMaxBytes:    s.conf.int("hll-sparse-max-bytes"),
	}
	if p == raftfsm.DefaultParams {
		s.engineParams.Store(nil) // entries stay in the format older replicas read
		return
	}
	s.engineParams.Store(&p)
}

// EngineParams returns the values this node's writes carry (nil: Redis's
// defaults). Cheap: one atomic load per write.
func (s *Server) EngineParams() *raftfsm.Params { return s.engineParams.Load() }

package gateway

import (
	"strconv"
	"time"
)

// replicaWaiter is the Backend's side of WAIT (node.ReplicaAcks).
type replicaWaiter interface {
	ReplicaAcks(target uint64) (acked int, commit uint64, err error)
}

// waitPoll is how often WAIT looks at the replicas' progress again.
const waitPoll = 10 * time.Millisecond

// waitCmd is WAIT numreplicas timeout. A write is acknowledged only once a
// majority of its shard's replicas store it, so WAIT mostly answers at
// once: it counts the replicas that hold everything this leader committed
// (at least the majority minus the leader), and waits, up to timeout
// milliseconds (0: for ever), only for more than that.
// timeoutArg parses a command's timeout in milliseconds, answering
// Redis's errors for a bad one.
func (s *Server) timeoutArg(c *client, arg []byte) (int64, bool) {
	ms, err := strconv.ParseInt(string(arg), 10, 64)
	if err != nil {
		s.replyError(c, nil, "ERR timeout is not an integer or out of range")
		return 0, false
	}
	if ms < 0 {
		s.replyError(c, nil, "ERR timeout is negative")
		return 0, false
	}
	return ms, true
}

func waitCmd(s *Server, c *client, args [][]byte) {
	want, err := strconv.ParseInt(string(args[1]), 10, 64)
	if err != nil {
		s.replyError(c, nil, "ERR value is not an integer or out of range")
		return
	}
	ms, ok := s.timeoutArg(c, args[2])
	if !ok {
		return
	}
	w, ok := s.backend.(replicaWaiter)
	if !ok {
		c.out = appendInt(c.out, 0)
		return
	}
	acked, target, err := w.ReplicaAcks(0)
	if err != nil {
		s.replyError(c, nil, "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.")
		return
	}
	if int64(acked) >= want || c.multi || c.inExec {
		c.out = appendInt(c.out, int64(acked))
		return
	}
	var deadline <-chan time.Time
	if ms > 0 {
		t := time.NewTimer(time.Duration(ms) * time.Millisecond)
		defer t.Stop()
		deadline = t.C
	}
	tick := time.NewTicker(waitPoll)
	defer tick.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-deadline:
			c.out = appendInt(c.out, int64(acked))
			return
		case <-tick.C:
		}
		n, _, err := w.ReplicaAcks(target)
		if err != nil {
			// Leadership moved: answer what was known.
			c.out = appendInt(c.out, int64(acked))
			return
		}
		acked = n
		if int64(acked) >= want {
			c.out = appendInt(c.out, int64(acked))
			return
		}
		if !connAlive(c) {
			return
		}
	}
}

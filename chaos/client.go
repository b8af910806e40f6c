package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/raftcache/raftcache/slots"
)

// Outcome classifies what a logical operation did on the server.
type Outcome int

const (
	// OK: the server executed the command and replied (a value or a
	// business error).
	OK Outcome = iota
	// Failed: the command was definitely not executed (dial error, MOVED,
	// ASK, TRYAGAIN until the retry budget ran out, or a read error).
	Failed
	// Unknown: a write that may or may not have been applied (timeout,
	// broken connection, UNCERTAIN, CLUSTERDOWN after sending, any other
	// error after sending).
	Unknown
)

func (o Outcome) String() string {
	switch o {
	case OK:
		return "ok"
	case Failed:
		return "fail"
	default:
		return "unknown"
	}
}

// Attempt is one send of a command to one node.
type Attempt struct {
	Node   string `json:"node"`
	Asking bool   `json:"asking,omitempty"`
	Call   int64  `json:"call"`
	Return int64  `json:"return"`
	Reply  string `json:"reply,omitempty"`
	Err    string `json:"err,omitempty"`
}

// Result is the outcome of one logical operation: the final attempt's
// interval and reply, plus every attempt made.
type Result struct {
	Outcome  Outcome
	Reply    Reply
	Call     int64 // call time of the attempt that produced the outcome
	Return   int64
	Attempts []Attempt
	Err      error // why the operation failed or is unknown
}

// ClientConfig configures a Client.
type ClientConfig struct {
	Seeds   []string      // RESP addresses to read CLUSTER SLOTS from
	Timeout time.Duration // per attempt: dial plus reply (default 2 s)
	Budget  time.Duration // total time spent on definite retries (default 3 s)
	Clock   func() int64  // monotonic timestamps shared by all clients of a run
	Seed    uint64        // for the order in which nodes are tried
	// ReplicaReads sends reads to a replica after READONLY (possibly stale):
	// a self-test of the harness, whose checker must then find violations.
	ReplicaReads bool
}

// Client is a history-recording Redis Cluster client for one logical
// client: one connection per node, no hidden retries. Not safe for
// concurrent use; run one per goroutine.
type Client struct {
	cfg      ClientConfig
	conns    map[string]*respConn
	slotAddr [slots.Count]string
	replica  [slots.Count]string // first replica per slot (ReplicaReads)
	readonly map[string]bool     // connections that sent READONLY
	stale    bool
	rng      *rand.Rand
}

// NewClient returns a client; it connects lazily.
func NewClient(cfg ClientConfig) (*Client, error) {
	if len(cfg.Seeds) == 0 {
		return nil, errors.New("chaos: client needs at least one seed address")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.Budget <= 0 {
		cfg.Budget = 3 * time.Second
	}
	if cfg.Clock == nil {
		start := time.Now()
		cfg.Clock = func() int64 { return int64(time.Since(start)) }
	}
	return &Client{cfg: cfg, conns: map[string]*respConn{}, readonly: map[string]bool{}, stale: true,
		rng: rand.New(rand.NewPCG(cfg.Seed, 0x5eed))}, nil
}

// Close closes every connection.
func (c *Client) Close() {
	for a, cn := range c.conns {
		cn.close()
		delete(c.conns, a)
	}
}

func (c *Client) conn(addr string) (*respConn, error) {
	if cn, ok := c.conns[addr]; ok {
		return cn, nil
	}
	cn, err := dialRESP(addr, c.cfg.Timeout)
	if err != nil {
		return nil, err
	}
	c.conns[addr] = cn
	return cn, nil
}

func (c *Client) drop(addr string) {
	if cn, ok := c.conns[addr]; ok {
		cn.close()
		delete(c.conns, addr)
	}
	delete(c.readonly, addr)
}

// refresh reads CLUSTER SLOTS from the first node that answers, trying
// the seeds in random order with a short timeout.
func (c *Client) refresh() {
	order := c.rng.Perm(len(c.cfg.Seeds))
	timeout := min(c.cfg.Timeout, 500*time.Millisecond)
	for _, i := range order {
		addr := c.cfg.Seeds[i]
		cn, err := c.conn(addr)
		if err != nil {
			continue
		}
		if err := cn.send(time.Now().Add(timeout), []string{"CLUSTER", "SLOTS"}); err != nil {
			c.drop(addr)
			continue
		}
		r, err := cn.read()
		if err != nil {
			c.drop(addr)
			continue
		}
		if r.IsError() || r.Kind != '*' {
			continue
		}
		var m, rm [slots.Count]string
		for _, e := range r.Arr {
			if len(e.Arr) < 3 || len(e.Arr[2].Arr) < 2 {
				continue
			}
			lo, hi := e.Arr[0].Int, e.Arr[1].Int
			a := nodeAddr(e.Arr[2])
			ra := ""
			if len(e.Arr) > 3 && len(e.Arr[3].Arr) >= 2 {
				ra = nodeAddr(e.Arr[3])
			}
			for s := lo; s <= hi && s >= 0 && s < slots.Count; s++ {
				m[s], rm[s] = a, ra
			}
		}
		c.slotAddr, c.replica = m, rm
		c.stale = false
		return
	}
}

func nodeAddr(n Reply) string { return n.Arr[0].Str + ":" + strconv.FormatInt(n.Arr[1].Int, 10) }

// Do runs one logical operation on key's slot. write says whether the
// command changes state (it decides how unknown outcomes are treated).
func (c *Client) Do(ctx context.Context, write bool, key string, args ...string) Result {
	slot := slots.OfString(key)
	deadline := time.Now().Add(c.cfg.Budget)
	var res Result
	askAddr := ""
	for {
		if ctx.Err() != nil {
			res.Outcome, res.Err = Failed, ctx.Err()
			return res
		}
		if time.Now().After(deadline) {
			res.Outcome = Failed
			if res.Err == nil {
				res.Err = errors.New("retry budget exhausted")
			}
			return res
		}
		if c.stale {
			c.refresh()
		}
		addr := c.slotAddr[slot]
		asking := askAddr != ""
		if asking {
			addr = askAddr
			askAddr = ""
		}
		if addr == "" {
			addr = c.cfg.Seeds[c.rng.IntN(len(c.cfg.Seeds))]
		}
		toReplica := !write && !asking && c.cfg.ReplicaReads && c.replica[slot] != ""
		if toReplica {
			addr = c.replica[slot]
		}
		att := Attempt{Node: addr, Asking: asking}
		cn, err := c.conn(addr)
		if err != nil { // never sent: definitely not executed
			att.Call, att.Return, att.Err = c.cfg.Clock(), c.cfg.Clock(), err.Error()
			res.Attempts = append(res.Attempts, att)
			res.Err = err
			c.stale = true
			sleepCtx(ctx, 50*time.Millisecond)
			continue
		}
		cmds := [][]string{args}
		prefix := 0
		switch {
		case asking:
			cmds, prefix = [][]string{{"ASKING"}, args}, 1
		case toReplica && !c.readonly[addr]:
			cmds, prefix = [][]string{{"READONLY"}, args}, 1
			c.readonly[addr] = true
		}
		att.Call = c.cfg.Clock()
		err = cn.send(time.Now().Add(c.cfg.Timeout), cmds...)
		var r Reply
		if err == nil && prefix > 0 {
			r, err = cn.read() // +OK of ASKING or READONLY
		}
		if err == nil {
			r, err = cn.read()
		}
		att.Return = c.cfg.Clock()
		res.Call, res.Return = att.Call, att.Return
		if err != nil {
			att.Err = err.Error()
			res.Attempts = append(res.Attempts, att)
			c.drop(addr)
			c.stale = true
			res.Err = fmt.Errorf("%s: %w", addr, err)
			res.Outcome = Failed
			if write {
				res.Outcome = Unknown
			}
			return res
		}
		att.Reply = r.String()
		res.Attempts = append(res.Attempts, att)
		if !r.IsError() {
			res.Outcome, res.Reply, res.Err = OK, r, nil
			return res
		}
		word, rest, _ := strings.Cut(r.Str, " ")
		switch word {
		case "MOVED", "ASK":
			_, to, ok := strings.Cut(rest, " ")
			if !ok || to == "" {
				res.Outcome, res.Err = Failed, fmt.Errorf("malformed redirect %q", r.Str)
				return res
			}
			res.Err = errors.New(r.Str)
			if word == "MOVED" {
				c.slotAddr[slot] = to
			} else {
				askAddr = to
			}
			continue
		case "TRYAGAIN":
			res.Err = errors.New(r.Str)
			sleepCtx(ctx, 25*time.Millisecond)
			continue
		case "CROSSSLOT":
			// Rejected before routing; the workloads never send it.
			res.Outcome, res.Reply, res.Err = Failed, r, errors.New(r.Str)
			return res
		case "WRONGTYPE":
			// Executed with a business error: recorded as such, and the
			// models reject it (the workloads never mix types on a key).
			res.Outcome, res.Reply, res.Err = OK, r, nil
			return res
		}
		// UNCERTAIN, CLUSTERDOWN and anything else after sending.
		if word == "CLUSTERDOWN" {
			c.stale = true
		}
		res.Reply, res.Err = r, errors.New(r.Str)
		res.Outcome = Failed
		if write {
			res.Outcome = Unknown
		}
		return res
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

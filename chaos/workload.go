package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Families of keys; each key holds one type for its whole life.
var families = []string{"reg", "ctr", "app"}

// WorkloadConfig configures RunWorkload.
type WorkloadConfig struct {
	Seeds         []string      // RESP addresses of the cluster
	Clients       int           // concurrent logical clients, split over the families (default 15)
	KeysPerFamily int           // keys in use at once per family (default 4)
	OpsPerKey     int           // a key is retired after this many operations (default 300)
	MaxUnknown    int           // ... or after this many unknown outcomes (default 3)
	Timeout       time.Duration // per attempt (default 2 s)
	Seed          uint64
	Clock         func() int64
	History       *History
	ReplicaReads  bool // self-test: stale replica reads the checker must catch
}

func (c *WorkloadConfig) defaults() {
	if c.Clients <= 0 {
		c.Clients = 15
	}
	if c.KeysPerFamily <= 0 {
		c.KeysPerFamily = 4
	}
	if c.OpsPerKey <= 0 {
		c.OpsPerKey = 300
	}
	if c.MaxUnknown <= 0 {
		c.MaxUnknown = 3
	}
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Second
	}
}

// keyPool hands out the live keys of one family and retires them.
type keyPool struct {
	mu      sync.Mutex
	family  string
	active  []*keyState
	next    int
	used    []string
	maxOps  int
	maxUnk  int
	runSeed uint64
}

type keyState struct {
	name          string
	ops, unknowns int
}

func newKeyPool(family string, n, maxOps, maxUnk int, seed uint64) *keyPool {
	p := &keyPool{family: family, maxOps: maxOps, maxUnk: maxUnk, runSeed: seed}
	for i := 0; i < n; i++ {
		p.active = append(p.active, p.fresh())
	}
	return p
}

// fresh names a new key; the run seed in the name keeps runs against a
// long-lived cluster apart.
func (p *keyPool) fresh() *keyState {
	k := &keyState{name: fmt.Sprintf("%s:%x:%d", p.family, p.runSeed, p.next)}
	p.next++
	p.used = append(p.used, k.name)
	return k
}

func (p *keyPool) pick(r *rand.Rand) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.active[r.IntN(len(p.active))].name
}

// done accounts one finished operation on key and retires it when due.
func (p *keyPool) done(key string, unknown bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, k := range p.active {
		if k.name != key {
			continue
		}
		k.ops++
		if unknown {
			k.unknowns++
		}
		if k.ops >= p.maxOps || k.unknowns >= p.maxUnk {
			p.active[i] = p.fresh()
		}
		return
	}
}

func (p *keyPool) keys() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.used...)
}

// Workload drives the clients; see RunWorkload.
type Workload struct {
	cfg      WorkloadConfig
	pools    map[string]*keyPool
	clientID atomic.Int64
}

// NewWorkload prepares a workload.
func NewWorkload(cfg WorkloadConfig) (*Workload, error) {
	cfg.defaults()
	if len(cfg.Seeds) == 0 || cfg.History == nil || cfg.Clock == nil {
		return nil, fmt.Errorf("chaos: workload needs seeds, a history and a clock")
	}
	w := &Workload{cfg: cfg, pools: map[string]*keyPool{}}
	for _, f := range families {
		w.pools[f] = newKeyPool(f, cfg.KeysPerFamily, cfg.OpsPerKey, cfg.MaxUnknown, cfg.Seed)
	}
	return w, nil
}

// Run runs the clients until ctx is done.
func (w *Workload) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := 0; i < w.cfg.Clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.worker(ctx, i)
		}()
	}
	wg.Wait()
}

// Keys returns every key of a family the workload has used.
func (w *Workload) Keys(family string) []string { return w.pools[family].keys() }

func (w *Workload) worker(ctx context.Context, idx int) {
	r := rand.New(rand.NewPCG(w.cfg.Seed, uint64(idx)))
	cl, err := NewClient(ClientConfig{Seeds: w.cfg.Seeds, Timeout: w.cfg.Timeout, Clock: w.cfg.Clock, Seed: w.cfg.Seed + uint64(idx),
		ReplicaReads: w.cfg.ReplicaReads})
	if err != nil {
		return
	}
	defer cl.Close()
	pool := w.pools[families[idx%len(families)]]
	id := int(w.clientID.Add(1) - 1)
	for seq := 0; ctx.Err() == nil; seq++ {
		key := pool.pick(r)
		token := "w" + strconv.Itoa(idx) + "." + strconv.Itoa(seq)
		in := Input{Key: key}
		var args []string
		switch pool.family {
		case "reg":
			if r.IntN(2) == 0 {
				in.Op, args = "get", []string{"GET", key}
			} else {
				in.Op, in.Arg, args = "set", token, []string{"SET", key, token}
			}
		case "ctr":
			if r.IntN(2) == 0 {
				in.Op, args = "get", []string{"GET", key}
			} else {
				in.Op, args = "incr", []string{"INCR", key}
			}
		case "app":
			if r.IntN(10) < 3 {
				in.Op, args = "lrange", []string{"LRANGE", key, "0", "-1"}
			} else {
				in.Op, in.Arg, args = "rpush", token, []string{"RPUSH", key, token}
			}
		}
		res := cl.Do(ctx, isWrite(in.Op), key, args...)
		if res.Outcome == Failed && ctx.Err() != nil && len(res.Attempts) == 0 {
			return // stopped before sending
		}
		op := Op{Client: id, Worker: idx, Outcome: res.Outcome, Input: in, Output: decodeOutput(in.Op, res.Reply),
			Call: res.Call, Return: res.Return}
		w.cfg.History.Add(op, res.Attempts)
		pool.done(key, res.Outcome == Unknown)
		switch res.Outcome {
		case Unknown:
			// The operation stays pending forever: continue as a new client.
			id = int(w.clientID.Add(1) - 1)
			sleepCtx(ctx, time.Duration(50+r.IntN(50))*time.Millisecond)
		case Failed:
			sleepCtx(ctx, time.Duration(20+r.IntN(30))*time.Millisecond)
		}
	}
}

func decodeOutput(op string, r Reply) Output {
	var out Output
	switch {
	case r.IsError():
		out.Err = r.Str
	case r.Nil:
		out.Nil = true
	case r.Kind == ':':
		out.Int = r.Int
	case r.Kind == '*':
		out.List = make([]string, 0, len(r.Arr))
		for _, e := range r.Arr {
			out.List = append(out.List, e.Str)
		}
	default:
		out.Val = r.Str
	}
	return out
}

// ReadFinal reads every key with LRANGE (retrying definite failures until
// ctx is done), for the append checker.
func ReadFinal(ctx context.Context, seeds []string, keys []string) (map[string][]string, error) {
	cl, err := NewClient(ClientConfig{Seeds: seeds})
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	out := map[string][]string{}
	for _, k := range keys {
		for {
			res := cl.Do(ctx, false, k, "LRANGE", k, "0", "-1")
			if res.Outcome == OK && !res.Reply.IsError() {
				out[k] = decodeOutput("lrange", res.Reply).List
				break
			}
			if ctx.Err() != nil {
				return out, fmt.Errorf("chaos: final read of %s: %w", k, ctx.Err())
			}
			sleepCtx(ctx, 100*time.Millisecond)
		}
	}
	return out, nil
}

package chaos

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
)

// Verdict of a linearizability check.
type Verdict string

const (
	Linearizable    Verdict = "yes"
	NotLinearizable Verdict = "no"
	Inconclusive    Verdict = "unknown" // a key timed out: never a pass
)

// LinResult is the result of CheckLinearizable.
type LinResult struct {
	Verdict        Verdict  `json:"verdict"`
	Keys           int      `json:"keys"`
	Ops            int      `json:"ops"`
	IllegalKeys    []string `json:"illegal_keys,omitempty"`
	TimedOutKeys   []string `json:"timed_out_keys,omitempty"`
	Visualizations []string `json:"visualizations,omitempty"` // HTML files of illegal keys
	Took           Duration `json:"took"`
}

// Duration marshals as text ("1.5s").
type Duration time.Duration

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Duration(d).String() + `"`), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("chaos: duration: %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("chaos: duration: %w", err)
	}
	*d = Duration(v)
	return nil
}

// CheckLinearizable checks ops (failed operations are ignored) per key
// with porcupine, each key with its own timeout, on all CPUs. For an
// illegal key it writes porcupine's HTML visualisation into outDir (when
// not empty) and lists the files; events (may be nil) are drawn on its
// timeline as nemesis annotations.
func CheckLinearizable(ops []Op, perKey time.Duration, outDir string, events []Event) LinResult {
	start := time.Now()
	var hist []porcupine.Operation
	for _, op := range ops {
		if op.Outcome == Failed {
			continue
		}
		hist = append(hist, porcupine.Operation{ClientId: op.Client, Input: op.Input, Call: op.Call,
			Output: op.Output, Return: op.Return})
	}
	parts := partitionByKey(hist)
	res := LinResult{Verdict: Linearizable, Keys: len(parts), Ops: len(hist)}
	var mu sync.Mutex
	work := make(chan []porcupine.Operation)
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for part := range work {
				key := part[0].Input.(Input).Key
				r, info := porcupine.CheckOperationsVerbose(Model, part, perKey)
				if r == porcupine.Ok {
					continue
				}
				var file string
				if r == porcupine.Illegal && outDir != "" {
					file = filepath.Join(outDir, "violation-"+safeName(key)+".html")
					info.AddAnnotations(annotations(part, events))
					if err := porcupine.VisualizePath(Model, info, file); err != nil {
						file = fmt.Sprintf("(writing %s failed: %v)", file, err)
					}
				}
				mu.Lock()
				if r == porcupine.Illegal {
					res.IllegalKeys = append(res.IllegalKeys, key)
					if file != "" {
						res.Visualizations = append(res.Visualizations, file)
					}
				} else {
					res.TimedOutKeys = append(res.TimedOutKeys, key)
				}
				mu.Unlock()
			}
		}()
	}
	for _, p := range parts {
		work <- p
	}
	close(work)
	wg.Wait()
	sort.Strings(res.IllegalKeys)
	sort.Strings(res.TimedOutKeys)
	sort.Strings(res.Visualizations)
	switch {
	case len(res.IllegalKeys) > 0:
		res.Verdict = NotLinearizable
	case len(res.TimedOutKeys) > 0:
		res.Verdict = Inconclusive
	}
	res.Took = Duration(time.Since(start))
	return res
}

// annotations renders the nemesis events that overlap a key's history.
func annotations(part []porcupine.Operation, events []Event) []porcupine.Annotation {
	if len(events) == 0 {
		return nil
	}
	first, last := part[0].Call, part[0].Call
	for _, op := range part {
		first = min(first, op.Call)
		if op.Return != math.MaxInt64 {
			last = max(last, op.Return)
		}
	}
	var out []porcupine.Annotation
	for _, ev := range events {
		start, end := int64(ev.At), int64(ev.Healed)
		if end < first || start > last {
			continue
		}
		out = append(out, porcupine.Annotation{Tag: "nemesis", Start: start, End: end,
			Description:     ev.Fault + " " + strings.Join(ev.Nodes, ","),
			Details:         fmt.Sprintf("shard %d, leader hit: %v, failover %v", ev.Shard, ev.Leader, time.Duration(ev.Failover)),
			BackgroundColor: "#fde2e2"})
	}
	return out
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

func safeName(s string) string { return unsafeChars.ReplaceAllString(s, "_") }

// AppendResult is the result of CheckAppends.
type AppendResult struct {
	Keys         int      `json:"keys"`
	Acknowledged int      `json:"acknowledged"`         // tokens whose RPUSH was acknowledged
	UnknownSeen  int      `json:"unknown_seen"`         // unknown-outcome tokens that were applied
	Lost         []string `json:"lost,omitempty"`       // acknowledged, missing from the final list
	Duplicated   []string `json:"duplicated,omitempty"` // present more than once
	Phantom      []string `json:"phantom,omitempty"`    // present, but never sent or definitely not executed
	Unread       []string `json:"unread,omitempty"`     // keys whose final value could not be read
}

// OK reports whether no append was lost, duplicated or invented.
func (r AppendResult) OK() bool {
	return len(r.Lost) == 0 && len(r.Duplicated) == 0 && len(r.Phantom) == 0 && len(r.Unread) == 0
}

// CheckAppends is the linear-time list-append check: final maps every
// app:* key of ops to its list read after the faults healed. Every
// acknowledged token must appear exactly once, an unknown-outcome token at
// most once, and nothing else may appear.
func CheckAppends(ops []Op, final map[string][]string) AppendResult {
	type tok struct {
		key     string
		outcome Outcome
	}
	sent := map[string]tok{}
	keys := map[string]bool{}
	var res AppendResult
	for _, op := range ops {
		if op.Input.Op != "rpush" {
			continue
		}
		keys[op.Input.Key] = true
		sent[op.Input.Arg] = tok{op.Input.Key, op.Outcome}
		if op.Outcome == OK {
			res.Acknowledged++
		}
	}
	res.Keys = len(keys)
	seen := map[string]int{} // token -> times found in the list it was sent to
	for key := range keys {
		list, ok := final[key]
		if !ok {
			res.Unread = append(res.Unread, key)
			continue
		}
		here := map[string]int{} // counted per list, so key order cannot matter
		for _, t := range list {
			here[t]++
			s, known := sent[t]
			switch {
			case !known || s.key != key || s.outcome == Failed:
				if here[t] == 1 {
					res.Phantom = append(res.Phantom, key+":"+t)
				}
			case here[t] == 2:
				res.Duplicated = append(res.Duplicated, key+":"+t)
			}
			if known && s.key == key {
				seen[t]++
			}
		}
	}
	for t, s := range sent {
		if _, read := final[s.key]; !read {
			continue
		}
		switch {
		case s.outcome == OK && seen[t] == 0:
			res.Lost = append(res.Lost, s.key+":"+t)
		case s.outcome == Unknown && seen[t] > 0:
			res.UnknownSeen++
		}
	}
	for _, l := range [][]string{res.Lost, res.Duplicated, res.Phantom, res.Unread} {
		sort.Strings(l)
	}
	return res
}

// Summary is a one-line description of an append result.
func (r AppendResult) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d keys, %d acknowledged appends, %d unknown applied", r.Keys, r.Acknowledged, r.UnknownSeen)
	for _, x := range []struct {
		name string
		l    []string
	}{{"lost", r.Lost}, {"duplicated", r.Duplicated}, {"phantom", r.Phantom}, {"unread keys", r.Unread}} {
		if len(x.l) > 0 {
			fmt.Fprintf(&b, "; %d %s (e.g. %s)", len(x.l), x.name, x.l[0])
		}
	}
	return b.String()
}

package chaos

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sync"
)

// Input is what a logical operation asked for.
type Input struct {
	Op  string `json:"op"` // get, set, incr, rpush, lrange
	Key string `json:"key"`
	Arg string `json:"arg,omitempty"` // SET value or RPUSH token
}

// Output is what it got back.
type Output struct {
	Unknown bool     `json:"unknown,omitempty"` // write with unknown outcome
	Nil     bool     `json:"nil,omitempty"`
	Val     string   `json:"val,omitempty"`
	Int     int64    `json:"int,omitempty"`
	List    []string `json:"list,omitempty"`
	Err     string   `json:"err,omitempty"` // an error reply the server executed with
}

// Op is one logical operation in the history.
type Op struct {
	Client  int     `json:"client"` // porcupine client id (retired after an unknown outcome)
	Worker  int     `json:"worker"`
	Outcome Outcome `json:"outcome"`
	Input   Input   `json:"in"`
	Output  Output  `json:"out"`
	Call    int64   `json:"call"`
	Return  int64   `json:"return"` // math.MaxInt64 when the outcome is unknown
}

// MarshalJSON renders the outcome as text.
func (o Outcome) MarshalJSON() ([]byte, error) { return json.Marshal(o.String()) }

// UnmarshalJSON parses the text form.
func (o *Outcome) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	switch s {
	case "ok":
		*o = OK
	case "fail":
		*o = Failed
	case "unknown":
		*o = Unknown
	default:
		return fmt.Errorf("chaos: unknown outcome %q", s)
	}
	return nil
}

// History collects operations from concurrent workers and, when given a
// writer, logs every attempt as a JSON line.
type History struct {
	mu       sync.Mutex
	ops      []Op
	attempts *bufio.Writer
	enc      *json.Encoder
	counts   Counts
}

// Counts summarises a history.
type Counts struct {
	Ops      int `json:"ops"`      // logical operations finished (any outcome)
	OK       int `json:"ok"`       // executed with a reply
	Failed   int `json:"failed"`   // definitely not executed
	Unknown  int `json:"unknown"`  // writes with unknown outcome
	Attempts int `json:"attempts"` // sends, including redirects
}

// NewHistory returns a history; attempts (may be nil) receives one JSON
// line per attempt.
func NewHistory(attempts io.Writer) *History {
	h := &History{}
	if attempts != nil {
		h.attempts = bufio.NewWriterSize(attempts, 64<<10)
		h.enc = json.NewEncoder(h.attempts)
	}
	return h
}

type attemptLine struct {
	Worker int   `json:"worker"`
	Client int   `json:"client"`
	Input  Input `json:"in"`
	Attempt
}

// Add records a finished logical operation and its attempts. Failed reads
// are counted but left out of the operation list (they cannot constrain
// anything); failed writes stay in it for the append checker.
func (h *History) Add(op Op, attempts []Attempt) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.counts.Ops++
	h.counts.Attempts += len(attempts)
	switch op.Outcome {
	case OK:
		h.counts.OK++
	case Failed:
		h.counts.Failed++
	case Unknown:
		h.counts.Unknown++
		op.Output = Output{Unknown: true}
		op.Return = math.MaxInt64
	}
	if op.Outcome != Failed || isWrite(op.Input.Op) {
		h.ops = append(h.ops, op)
	}
	if h.enc != nil {
		for _, a := range attempts {
			_ = h.enc.Encode(attemptLine{Worker: op.Worker, Client: op.Client, Input: op.Input, Attempt: a})
		}
	}
}

// Ops returns a copy of the recorded operations.
func (h *History) Ops() []Op {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Op(nil), h.ops...)
}

// Counts returns the totals so far.
func (h *History) Counts() Counts {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.counts
}

// Flush writes buffered attempt lines.
func (h *History) Flush() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.attempts == nil {
		return nil
	}
	return h.attempts.Flush()
}

// WriteOps writes ops as JSON lines to path.
func WriteOps(path string, ops []Op) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("chaos: history: %w", err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, op := range ops {
		if err := enc.Encode(op); err != nil {
			f.Close()
			return fmt.Errorf("chaos: history: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("chaos: history: %w", err)
	}
	return f.Close()
}

// ReadOps reads a history written by WriteOps (for replaying a check).
func ReadOps(r io.Reader) ([]Op, error) {
	var ops []Op
	dec := json.NewDecoder(r)
	for dec.More() {
		var op Op
		if err := dec.Decode(&op); err != nil {
			return nil, fmt.Errorf("chaos: history line %d: %w", len(ops)+1, err)
		}
		ops = append(ops, op)
	}
	return ops, nil
}

func isWrite(op string) bool { return op == "set" || op == "incr" || op == "rpush" }

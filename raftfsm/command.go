package raftfsm

import (
	"fmt"
	"math/rand/v2"
	"sort"
)

// Flag describes a command, as in Redis's command table.
type Flag uint32

const (
	FlagWrite       Flag = 1 << iota // modifies data: goes through the Raft log
	FlagReadOnly                     // reads data only: served from the engine under the read lock
	FlagDenyOOM                      // may grow memory
	FlagFast                         // O(1) or O(log N)
	FlagAdmin                        // administrative
	FlagNoKeys                       // takes no key (keyless write such as FLUSHALL)
	FlagMovableKeys                  // key positions depend on the arguments (Keys func)
	FlagRandom                       // result depends on randomness
	FlagBlocking                     // may block (BLPOP...): Exec is one non-blocking attempt, the gateway waits and retries
	FlagBlockOption                  // blocks like FlagBlocking when given BLOCK (XREAD, XREADGROUP)
)

// Names returns the Redis flag words of f, in Redis's order.
func (f Flag) Names() []string {
	var out []string
	for _, p := range []struct {
		f Flag
		n string
	}{{FlagWrite, "write"}, {FlagReadOnly, "readonly"}, {FlagDenyOOM, "denyoom"}, {FlagAdmin, "admin"},
		{FlagFast, "fast"}, {FlagRandom, "random"}, {FlagMovableKeys, "movablekeys"}} {
		if f&p.f != 0 {
			out = append(out, p.n)
		}
	}
	return out
}

// Command is one entry of the engine's command table: the data commands.
// The gateway merges this table with its own connection-level commands.
type Command struct {
	Name  string // lower case
	Arity int    // >0 exact, <0 at least -Arity; counts the command name
	Flags Flag
	First int // first key position, 0 = none
	Last  int // last key position, negative counts from the end (-1 = final argument)
	Step  int // distance between keys
	// Keys returns the positions of the key arguments when they depend on
	// the arguments (FlagMovableKeys). It returns nil when args are malformed;
	// the command itself then reports the error.
	Keys func(args [][]byte) []int
	// Exec runs the command. args[0] is the command name. It must be
	// deterministic given c.Now, c.Rand() and the database state.
	Exec func(c *Ctx, args [][]byte) Reply
}

var table = map[string]*Command{}

// Register adds commands to the engine table; a name registered twice panics.
func Register(cmds ...Command) {
	for i := range cmds {
		cmd := cmds[i]
		if _, dup := table[cmd.Name]; dup {
			panic(fmt.Sprintf("raftfsm: command %q registered twice", cmd.Name))
		}
		if cmd.Exec == nil || cmd.Arity == 0 {
			panic(fmt.Sprintf("raftfsm: command %q needs Exec and Arity", cmd.Name))
		}
		table[cmd.Name] = &cmd
	}
}

// Lookup finds a command by name, ignoring case. It does not allocate for
// lower-case names.
func Lookup(name []byte) *Command {
	if cmd, ok := table[string(name)]; ok {
		return cmd
	}
	return table[Lower(name)]
}

// Commands returns the engine's command table sorted by name.
func Commands() []*Command {
	out := make([]*Command, 0, len(table))
	for _, c := range table {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ArityOK reports whether n arguments (including the name) fit cmd's arity.
func (cmd *Command) ArityOK(n int) bool {
	if cmd.Arity > 0 {
		return n == cmd.Arity
	}
	return n >= -cmd.Arity
}

// KeyPositions returns the argument positions holding keys.
func (cmd *Command) KeyPositions(args [][]byte) []int {
	if cmd.Keys != nil {
		return cmd.Keys(args)
	}
	if cmd.First == 0 {
		return nil
	}
	last := cmd.Last
	if last < 0 {
		last = len(args) + last
	}
	step := cmd.Step
	if step <= 0 {
		step = 1
	}
	var out []int
	for i := cmd.First; i <= last && i < len(args); i += step {
		out = append(out, i)
	}
	return out
}

// Ctx is what a command sees while it runs: the database, the time and the
// source of randomness. For a write applied from the log, Now and the random
// seed come from the entry the leader stamped; for a read, from the local node.
type Ctx struct {
	DB    *DB
	Now   int64 // Unix milliseconds
	Write bool  // true while applying a log entry
	seed  uint64
	rng   *rand.Rand
	// note, when set, is told of every write a script runs (the change
	// feed that wakes blocked clients sees the keys a script touched).
	note func(args [][]byte)
	// missed, when not nil, collects the keys a read looked up and did not
	// find (keymiss notifications: CollectMisses).
	missed *[][]byte
	// unchanged is set by a write command that changed nothing, so the
	// write counter stays put as Redis's server.dirty does (SETBIT of a bit
	// already set). See Unchanged.
	unchanged bool
	// check, when set, is the calling user's ACL check of the commands a
	// script runs (set by Unstamp from a stamped command, scriptacl.go).
	check ScriptCheck
	// p, when set, are the settings of the write being applied (the
	// entry's Params); nil: DefaultParams. See Ctx.params.
	p *Params
}

// Unchanged tells Exec that the running write command changed nothing.
func (c *Ctx) Unchanged() { c.unchanged = true }

// NewCtx returns a context over db at time now (Unix ms). seed feeds Rand.
func NewCtx(db *DB, now int64, write bool, seed uint64) *Ctx {
	return &Ctx{DB: db, Now: now, Write: write, seed: seed}
}

// Rand returns a PRNG seeded from the log entry (deterministic on every replica).
func (c *Ctx) Rand() *rand.Rand {
	if c.rng == nil {
		c.rng = rand.New(rand.NewPCG(c.seed, c.seed^0x9e3779b97f4a7c15))
	}
	return c.rng
}

// Exec runs one command (args[0] is its name) against c.DB. Writes must only
// be executed from Apply (c.Write true).
func Exec(c *Ctx, args [][]byte) (r Reply) {
	if len(args) == 0 {
		return Err("ERR empty command")
	}
	cmd := Lookup(args[0])
	if cmd == nil {
		return Err(fmt.Sprintf("ERR unknown command '%s'", args[0]))
	}
	if !cmd.ArityOK(len(args)) {
		return ErrArity(cmd.Name)
	}
	if cmd.Flags&FlagWrite != 0 && !c.Write {
		return Err("ERR write command '" + cmd.Name + "' outside the log")
	}
	outer := c.unchanged // a script's command runs inside the script's Exec
	c.unchanged = false
	r = cmd.Exec(c, args)
	if cmd.Flags&FlagWrite != 0 && r.Kind != KindError && !c.unchanged {
		c.DB.dirty++
	}
	c.unchanged = outer
	return r
}

// CollectMisses has the reads run in c append the keys they look up and
// do not find to *into (Redis's keymiss events; reads only: a write's
// lookups produce no keymiss here).
func (c *Ctx) CollectMisses(into *[][]byte) { c.missed = into }

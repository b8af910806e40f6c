package raftfsm

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/raftcache/raftcache/slots"
	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Lua scripting: EVAL and EVAL_RO run inside the engine. EVAL is a write:
// the script itself is the log entry and every replica runs it at the same
// point of the log, so it is atomic like a MULTI and needs nothing but the
// engine to replay. That requires a deterministic interpreter: time and
// math.random come from the entry (Ctx), tables iterate in insertion order
// (gopher-lua keeps it), tostring never shows an address, and a runaway
// script is stopped after a fixed number of Lua instructions, not after a
// wall-clock time that would differ between replicas. EVALSHA never reaches
// the log: the gateway replaces the digest with the script's text.

// EVAL and FCALL are denyoom: their writes run inside Apply, where the
// memory limit cannot be checked, so the gateway refuses them up front.
func init() {
	Register(
		Command{Name: "eval", Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagMovableKeys, Keys: EvalKeys, Exec: evalCommand},
		Command{Name: "eval_ro", Arity: -3, Flags: FlagReadOnly | FlagMovableKeys, Keys: EvalKeys, Exec: evalROCommand},
	)
}

// ScriptMaxInstructions bounds one script run. It is the deterministic
// counterpart of Redis's lua-time-limit: every replica stops the script at
// the same instruction (gopher-lua runs 60-140 million a second here, so a runaway script stalls its shard for well under a second per replica).
const ScriptMaxInstructions = 20_000_000

// scriptMaxString caps strings built by string.rep, whose size is not
// bounded by the instruction budget.
const scriptMaxString = 64 << 20

// EvalKeys returns the key positions of EVAL-style arguments
// (name script numkeys key... arg...), nil when numkeys is malformed.
func EvalKeys(args [][]byte) []int {
	if len(args) < 3 {
		return nil
	}
	n, err := strconv.Atoi(string(args[2]))
	if err != nil || n <= 0 || n > len(args)-3 {
		return nil
	}
	out := make([]int, n)
	for i := range out {
		out[i] = 3 + i
	}
	return out
}

// ScriptSHA returns the lower-case hex SHA-1 that names a script.
func ScriptSHA(body []byte) string {
	h := sha1.Sum(body)
	return hex.EncodeToString(h[:])
}

// script is a compiled script and its shebang flags.
type script struct {
	sha   string
	proto *lua.FunctionProto
	flags scriptFlag
	chunk string // user_script or user_function, as errors name it
}

type scriptFlag uint8

const (
	scriptNoWrites scriptFlag = 1 << iota
	scriptAllowCrossSlot
)

// compiled caches compiled scripts by SHA-1. Compiling is a pure function
// of the text, so sharing the cache between replicas of one process is
// safe; it is bounded so that scripts generated per call cannot grow it
// without limit.
var compiled = struct {
	sync.Mutex
	m map[string]*script
}{m: make(map[string]*script)}

const compiledMax = 1024

// CheckScript compiles body and returns the error reply text if it does not.
func CheckScript(body []byte) error {
	_, err := loadScript(body)
	return err
}

func loadScript(body []byte) (*script, error) {
	return compileCached(body, "user_script", parseShebang)
}

// compileCached compiles body as chunk (user_script for EVAL,
// user_function for a function library) after parse strips its shebang.
func compileCached(body []byte, chunkName string, parse func([]byte) ([]byte, scriptFlag, error)) (*script, error) {
	sha := ScriptSHA(body)
	key := chunkName + sha
	compiled.Lock()
	sc := compiled.m[key]
	compiled.Unlock()
	if sc != nil {
		return sc, nil
	}
	src, flags, err := parse(body)
	if err != nil {
		return nil, err
	}
	proto, err := compileLua(src, chunkName)
	if err != nil {
		what := "script (new function)"
		if chunkName != "user_script" {
			what = "function"
		}
		return nil, fmt.Errorf("ERR Error compiling %s: %s", what, oneLine(err.Error()))
	}
	sc = &script{sha: sha, proto: proto, flags: flags, chunk: chunkName}
	compiled.Lock()
	if len(compiled.m) >= compiledMax {
		clear(compiled.m) // rare: recompiling is cheap next to a log commit
	}
	compiled.m[key] = sc
	compiled.Unlock()
	return sc, nil
}

func compileLua(src []byte, chunkName string) (*lua.FunctionProto, error) {
	chunk, err := parse.Parse(bytes.NewReader(src), chunkName)
	if err != nil {
		return nil, err
	}
	return lua.Compile(chunk, chunkName)
}

// parseShebang reads Redis 7's "#!lua flags=..." first line. The line is
// blanked, not removed, so that error line numbers stay right.
func parseShebang(body []byte) ([]byte, scriptFlag, error) {
	if !bytes.HasPrefix(body, []byte("#!")) {
		return body, 0, nil
	}
	line, rest, _ := bytes.Cut(body, []byte("\n"))
	parts := strings.Fields(string(line[2:]))
	if len(parts) == 0 || parts[0] != "lua" {
		engine := ""
		if len(parts) > 0 {
			engine = parts[0]
		}
		return nil, 0, fmt.Errorf("ERR Unexpected engine in script shebang: %s", engine)
	}
	var flags scriptFlag
	for _, p := range parts[1:] {
		v, ok := strings.CutPrefix(p, "flags=")
		if !ok {
			return nil, 0, fmt.Errorf("ERR Unknown lua shebang option: %s", p)
		}
		for _, f := range strings.Split(v, ",") {
			switch f {
			case "":
			case "no-writes":
				flags |= scriptNoWrites
			case "allow-cross-slot-keys":
				flags |= scriptAllowCrossSlot
			case "allow-oom", "allow-stale":
				// No memory limit or stale replicas to allow here.
			case "no-cluster":
				return nil, 0, errors.New("ERR Can not run script on cluster, 'no-cluster' flag is set.")
			default:
				return nil, 0, fmt.Errorf("ERR Unexpected flag in script shebang: %s", f)
			}
		}
	}
	return append([]byte("\n"), rest...), flags, nil
}

func evalCommand(c *Ctx, args [][]byte) Reply   { return evalGeneric(c, args, false) }
func evalROCommand(c *Ctx, args [][]byte) Reply { return evalGeneric(c, args, true) }

func evalGeneric(c *Ctx, args [][]byte, ro bool) Reply {
	n, err := strconv.ParseInt(string(args[2]), 10, 64)
	if err != nil {
		return ErrNotInt
	}
	if n < 0 {
		return Err("ERR Number of keys can't be negative")
	}
	if n > int64(len(args)-3) {
		return Err("ERR Number of keys can't be greater than number of args")
	}
	sc, err := loadScript(args[1])
	if err != nil {
		return Err(err.Error())
	}
	keys, argv := args[3:3+n], args[3+n:]
	r := &scriptRun{c: c, sc: sc, slot: -1, resp: 2,
		ro: ro || !c.Write || sc.flags&scriptNoWrites != 0}
	if len(keys) > 0 && sc.flags&scriptAllowCrossSlot == 0 {
		// The gateway refused keys of several slots (CROSSSLOT).
		r.slot = int(slots.Of(keys[0]))
	}
	return r.exec(keys, argv)
}

// scriptRun is one execution of a script.
type scriptRun struct {
	c    *Ctx
	sc   *script
	ro   bool // write commands refused (EVAL_RO, no-writes, a read)
	slot int  // the slot the script works in, -1 until it touches a key
	resp int  // protocol of redis.call replies (redis.setresp)
	ids  map[lua.LValue]int
	// loading is set while a function library's body runs (FUNCTION LOAD,
	// and before each FCALL): only redis.register_function works then,
	// and registers into registered.
	loading    bool
	registered []registration
	// budget counts down Lua instructions; each redis.call takes
	// callCost from it too, since a call costs the engine far more than an
	// instruction (a loop of PINGs must stop as soon as a loop of additions).
	budget *budget
	// denied collects the calls the user's rules refused (aclDenied), for
	// the script's reply (finish).
	denied []ScriptDenial
}

// callCost is what one redis.call takes from the instruction budget: about
// the time of a cheap command in Lua instructions.
const callCost = 100

// budget is the context gopher-lua polls before every instruction: Done
// turns into a closed channel after ScriptMaxInstructions calls, so every
// replica stops a runaway script at the same point.
type budget struct{ left int }

var closedChan = func() chan struct{} { ch := make(chan struct{}); close(ch); return ch }()

var errBudget = fmt.Errorf("script stopped after %d million Lua instructions (a redis.call counts %d; scripts run inside the shard's log: see docs/COMPATIBILITY.md)", ScriptMaxInstructions/1_000_000, callCost)

func (b *budget) Deadline() (deadline time.Time, ok bool) { return }
func (b *budget) Done() <-chan struct{} {
	b.left--
	if b.left < 0 {
		return closedChan
	}
	return nil // a nil channel: the interpreter's select takes its default
}
func (b *budget) Err() error {
	if b.left < 0 {
		return errBudget
	}
	return nil
}
func (b *budget) Value(any) any { return nil }

// begin checks out a VM for r with fresh globals and a full budget; the
// caller returns it with putVM.
func (r *scriptRun) begin(keys, argv [][]byte) *luaVM {
	vm := getVM()
	vm.run = r
	vm.freshEnv(keys, argv)
	r.budget = &budget{left: ScriptMaxInstructions}
	vm.L.SetContext(r.budget)
	return vm
}

func (r *scriptRun) exec(keys, argv [][]byte) (reply Reply) {
	vm := r.begin(keys, argv)
	defer putVM(vm)
	L := vm.L
	L.Push(L.NewFunctionFromProto(r.sc.proto))
	return r.finish(L, L.PCall(0, 1, nil))
}

// finish returns the reply of a script (EVAL's or FCALL's) that ended with
// err, or else returned the value on top of L's stack. The reply carries
// the calls the user's rules refused, for the gateway's ACL LOG.
func (r *scriptRun) finish(L *lua.LState, err error) Reply {
	var rep Reply
	if err != nil {
		rep = r.errorReply(err)
	} else {
		rep = r.toReply(L.Get(-1), 0)
	}
	if len(r.denied) > 0 {
		rep.Denied = &ScriptDenials{Calls: r.denied}
	}
	return rep
}

func stringTable(L *lua.LState, vals [][]byte) *lua.LTable {
	t := L.CreateTable(len(vals), 0)
	for i, v := range vals {
		t.RawSetInt(i+1, lua.LString(v))
	}
	return t
}

// errStatsCounted marks an error table from redis.call/pcall whose error
// INFO errorstats counted already (Redis's field of the same name;
// Reply.ErrCounted).
const errStatsCounted = "ignore_error_stats_update"

// errorReply turns an uncaught Lua error into Redis 7's error reply:
// "ERR <message> script: <sha>, on @user_script:<line>."; an error table
// raised by redis.call keeps the command's own error code.
func (r *scriptRun) errorReply(err error) Reply {
	var msg string
	var ae *lua.ApiError
	if errors.As(err, &ae) {
		if t, ok := ae.Object.(*lua.LTable); ok {
			if e, ok := t.RawGetString("err").(lua.LString); ok {
				rep := Err(oneLine(string(e)))
				rep.ErrCounted = t.RawGetString(errStatsCounted) == lua.LTrue
				return rep
			}
		}
		if s, ok := ae.Object.(lua.LString); ok {
			msg = string(s)
		} else if ae.Object != nil {
			msg = ae.Object.String()
		}
	} else {
		msg = err.Error()
	}
	if msg == "" {
		msg = "Error running script"
	}
	line := ""
	if rest, ok := strings.CutPrefix(msg, r.sc.chunk+":"); ok {
		if i := strings.IndexByte(rest, ':'); i > 0 {
			line = rest[:i]
		}
	}
	out := "ERR " + msg + " script: " + r.sc.sha
	if line != "" {
		out += ", on @" + r.sc.chunk + ":" + line + "."
	}
	return Err(oneLine(out))
}

// oneLine keeps an error reply on one protocol line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// ---- the interpreter's environment ------------------------------------------

// luaVM is an interpreter with its libraries loaded, reused between runs
// (loading them costs more than a small script). Reuse must not let one
// script change what the next one sees, or a replica that started a new VM
// would diverge from one that reused its VM. So scripts never reach the
// shared tables: every run gets a new, empty globals table that reads
// through (__index) a new table of KEYS, ARGV and the libraries, then the
// shared base functions; each library is a new empty table reading through
// to the shared one. Writes to any of them fail as "readonly", as in Redis
// 7, and metatables carry __metatable so that getmetatable and
// setmetatable cannot reach or replace them.
type luaVM struct {
	L     *lua.LState
	run   *scriptRun // the run in progress (the library closures use it)
	libs  []luaLib   // in the order they are set in each run's globals
	cjson cjsonConfig
	// Shared, never reachable by scripts: the base functions (behind the
	// globals' __index) and the metatables below.
	baseMT, readonlyMT *lua.LTable
	readonly           *lua.LFunction
	// A function library's body runs with only part of the redis table
	// and nothing else (Redis 7): loadMT reads through to that part,
	// missingMT errors on anything else.
	loadMT, missingMT *lua.LTable
	// The current run's globals: their metatable and what they read
	// through (swapped while a library body runs).
	gmt, env *lua.LTable
}

type luaLib struct {
	name string
	mt   *lua.LTable // {__index = the shared library, __newindex = error}
}

var vmPool sync.Pool

func getVM() *luaVM {
	if vm, ok := vmPool.Get().(*luaVM); ok {
		return vm
	}
	return newLuaVM()
}

func putVM(vm *luaVM) {
	vm.run = nil
	vm.L.SetTop(0)
	vmPool.Put(vm)
}

func newLuaVM() *luaVM {
	L := lua.NewState(lua.Options{SkipOpenLibs: true, CallStackSize: 200, RegistrySize: 1024,
		RegistryMaxSize: 1 << 20, RegistryGrowStep: 1024})
	vm := &luaVM{L: L}
	openStdLibs(L)
	openCJSON(L, &vm.cjson)
	openBit(L)
	openCMsgpack(L)
	// No files, no modules, no output, no collector runs inside Apply.
	for _, name := range []string{"dofile", "loadfile", "require", "module", "print"} {
		L.SetGlobal(name, lua.LNil)
	}
	L.SetGlobal("collectgarbage", L.NewFunction(func(L *lua.LState) int { L.Push(lua.LNumber(0)); return 1 }))
	L.SetGlobal("tostring", L.NewFunction(vm.tostring(L.GetGlobal("tostring"))))
	math := L.GetGlobal("math").(*lua.LTable)
	math.RawSetString("random", L.NewFunction(func(L *lua.LState) int { return vm.run.random(L) }))
	math.RawSetString("randomseed", L.NewFunction(func(L *lua.LState) int {
		vm.run.c.rng = nil
		vm.run.c.seed = uint64(L.CheckNumber(1))
		return 0
	}))
	str := L.GetGlobal("string").(*lua.LTable)
	str.RawSetString("rep", L.NewFunction(stringRep))
	str.RawSetString("dump", lua.LNil) // no bytecode in or out
	str.RawSetString("byte", L.NewFunction(stringByte))
	L.SetGlobal("redis", vm.redisLib())
	// A coroutine runs on a thread of its own, which gopher-lua gives a
	// context of its own: give it the run's budget, or an endless loop
	// inside a coroutine would never stop.
	co := L.GetGlobal("coroutine").(*lua.LTable)
	create, wrap := co.RawGetString("create"), co.RawGetString("wrap")
	co.RawSetString("create", L.NewFunction(func(L *lua.LState) int {
		L.Push(create)
		L.Push(L.Get(1))
		L.Call(1, 1)
		if th, ok := L.Get(-1).(*lua.LState); ok {
			th.SetContext(vm.run.budget)
		}
		return 1
	}))
	co.RawSetString("wrap", L.NewFunction(func(L *lua.LState) int {
		L.Push(wrap)
		L.Push(L.Get(1))
		L.Call(1, 1)
		fn, ok := L.Get(-1).(*lua.LFunction)
		if !ok || len(fn.Upvalues) == 0 {
			L.RaiseError("coroutine.wrap: unexpected result")
		}
		th, ok := fn.Upvalues[0].Value().(*lua.LState)
		if !ok {
			L.RaiseError("coroutine.wrap: unexpected result")
		}
		th.SetContext(vm.run.budget)
		return 1
	}))

	vm.readonly = L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("Attempt to modify a readonly table")
		return 0
	})
	protect := func(index lua.LValue) *lua.LTable {
		mt := L.CreateTable(0, 3)
		if index != nil {
			mt.RawSetString("__index", index)
		}
		mt.RawSetString("__newindex", vm.readonly)
		mt.RawSetString("__metatable", lua.LFalse)
		return mt
	}
	vm.readonlyMT = protect(nil)
	// setmetatable on a protected table is the readonly error too.
	setmt := L.GetGlobal("setmetatable")
	L.SetGlobal("setmetatable", L.NewFunction(func(L *lua.LState) int {
		if t, ok := L.Get(1).(*lua.LTable); ok {
			if mt, ok := t.Metatable.(*lua.LTable); ok && mt.RawGetString("__metatable") != lua.LNil {
				L.RaiseError("Attempt to modify a readonly table")
			}
		}
		top := L.GetTop()
		L.Push(setmt)
		for i := 1; i <= top; i++ {
			L.Push(L.Get(i))
		}
		L.Call(top, 1)
		return 1
	}))
	// Split the initial globals into libraries and base values.
	g := L.G.Global
	isLib := map[string]bool{"string": true, "table": true, "math": true, "coroutine": true, "redis": true, "cjson": true, "bit": true, "cmsgpack": true}
	base := L.NewTable()
	for k, v := g.Next(lua.LNil); k != lua.LNil; k, v = g.Next(k) {
		name, _ := k.(lua.LString)
		switch t, _ := v.(*lua.LTable); {
		case t == g:
		case t != nil && isLib[string(name)]:
			vm.libs = append(vm.libs, luaLib{name: string(name), mt: protect(t)})
			if name == "string" {
				// ("x"):upper() reads the string library through this.
				L.SetMetatable(lua.LString(""), protect(t))
			}
		default:
			base.RawSet(k, v)
		}
	}
	missing := L.CreateTable(0, 2)
	missing.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("Script attempted to access nonexistent global variable '%s'", lua.LVAsString(L.Get(2)))
		return 0
	}))
	missing.RawSetString("__metatable", lua.LFalse)
	L.SetMetatable(base, missing)
	vm.baseMT = protect(base)
	vm.missingMT = missing
	loadRedis := L.CreateTable(0, 12)
	full := L.GetGlobal("redis").(*lua.LTable)
	for _, k := range []string{"register_function", "log", "LOG_DEBUG", "LOG_VERBOSE", "LOG_NOTICE", "LOG_WARNING",
		"REDIS_VERSION", "REDIS_VERSION_NUM"} {
		loadRedis.RawSetString(k, full.RawGetString(k))
	}
	L.SetMetatable(loadRedis, missing)
	vm.loadMT = protect(loadRedis)
	return vm
}

// loadPhase switches the run's globals to what a library body may see
// (only part of redis) or back to everything.
func (vm *luaVM) loadPhase(on bool) {
	if !on {
		vm.gmt.RawSetString("__index", vm.env)
		return
	}
	L := vm.L
	redis := L.CreateTable(0, 0)
	L.SetMetatable(redis, vm.loadMT)
	env := L.CreateTable(0, 1)
	env.RawSetString("redis", redis)
	L.SetMetatable(env, vm.missingMT)
	vm.gmt.RawSetString("__index", env)
}

// openStdLibs opens the Lua 5.1 libraries Redis gives scripts (base,
// table, string, math, coroutine; no io, os or package).
func openStdLibs(L *lua.LState) {
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath}, {lua.CoroutineLibName, lua.OpenCoroutine}} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
}

// freshEnv installs a run's globals and resets the libraries' settings.
func (vm *luaVM) freshEnv(keys, argv [][]byte) {
	L := vm.L
	vm.cjson.reset()
	env := L.CreateTable(0, len(vm.libs)+3)
	for _, lib := range vm.libs {
		t := L.CreateTable(0, 0)
		L.SetMetatable(t, lib.mt)
		env.RawSetString(lib.name, t)
	}
	env.RawSetString("KEYS", stringTable(L, keys))
	env.RawSetString("ARGV", stringTable(L, argv))
	L.SetMetatable(env, vm.baseMT)
	g := L.CreateTable(0, 0)
	env.RawSetString("_G", g)
	// getmetatable(_G) shows an empty readonly table.
	shown := L.CreateTable(0, 0)
	L.SetMetatable(shown, vm.readonlyMT)
	gmt := L.CreateTable(0, 3)
	gmt.RawSetString("__index", env)
	gmt.RawSetString("__newindex", vm.readonly)
	gmt.RawSetString("__metatable", shown)
	L.SetMetatable(g, gmt)
	L.G.Global, L.Env = g, g
	vm.gmt, vm.env = gmt, env
}

func (vm *luaVM) redisLib() *lua.LTable {
	L := vm.L
	redis := L.NewTable()
	// In a fixed order: scripts can see it (pairs(redis)).
	for _, f := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{"call", func(L *lua.LState) int { return vm.run.call(L, false) }},
		{"pcall", func(L *lua.LState) int { return vm.run.call(L, true) }},
		{"sha1hex", sha1hex},
		{"error_reply", func(L *lua.LState) int { return replyTable(L, "err") }},
		{"status_reply", func(L *lua.LState) int { return replyTable(L, "ok") }},
		{"log", redisLog},
		{"setresp", func(L *lua.LState) int { return vm.run.setresp(L) }},
		{"set_repl", func(L *lua.LState) int { return 0 }},
		{"replicate_commands", func(L *lua.LState) int { L.Push(lua.LTrue); return 1 }},
		{"breakpoint", func(L *lua.LState) int { L.Push(lua.LFalse); return 1 }},
		{"debug", func(L *lua.LState) int { return 0 }},
		{"acl_check_cmd", func(L *lua.LState) int { return vm.run.aclCheckCmd(L) }},
		{"register_function", func(L *lua.LState) int { return vm.run.registerFunction(L) }},
	} {
		redis.RawSetString(f.name, L.NewFunction(f.fn))
	}
	for _, kv := range []struct {
		k string
		v lua.LValue
	}{{"REDIS_VERSION", lua.LString("7.0.15")}, {"REDIS_VERSION_NUM", lua.LNumber(0x07000f)},
		{"LOG_DEBUG", lua.LNumber(0)}, {"LOG_VERBOSE", lua.LNumber(1)}, {"LOG_NOTICE", lua.LNumber(2)},
		{"LOG_WARNING", lua.LNumber(3)}, {"REPL_NONE", lua.LNumber(0)}, {"REPL_AOF", lua.LNumber(1)},
		{"REPL_SLAVE", lua.LNumber(2)}, {"REPL_REPLICA", lua.LNumber(2)}, {"REPL_ALL", lua.LNumber(3)}} {
		redis.RawSetString(kv.k, kv.v)
	}
	return redis
}

// tostring wraps Lua's: tables and functions print as numbered objects, not
// Go addresses that differ between replicas.
func (vm *luaVM) tostring(orig lua.LValue) lua.LGFunction {
	return func(L *lua.LState) int {
		v := L.CheckAny(1)
		switch v.(type) {
		case *lua.LTable, *lua.LFunction, *lua.LUserData, *lua.LState:
			if L.GetMetaField(v, "__tostring") == lua.LNil {
				r := vm.run
				if r.ids == nil {
					r.ids = make(map[lua.LValue]int)
				}
				id, ok := r.ids[v]
				if !ok {
					id = len(r.ids) + 1
					r.ids[v] = id
				}
				L.Push(lua.LString(fmt.Sprintf("%s: 0x%08x", v.Type(), id)))
				return 1
			}
		}
		L.Push(orig)
		L.Push(v)
		L.Call(1, 1)
		return 1
	}
}

// random is Lua 5.1's math.random over the entry's PRNG.
func (r *scriptRun) random(L *lua.LState) int {
	f := r.c.Rand().Float64()
	switch L.GetTop() {
	case 0:
		L.Push(lua.LNumber(f))
	case 1:
		hi := int64(L.CheckNumber(1))
		if hi < 1 {
			L.ArgError(1, "interval is empty")
		}
		L.Push(lua.LNumber(1 + int64(f*float64(hi))))
	default:
		lo, hi := int64(L.CheckNumber(1)), int64(L.CheckNumber(2))
		if lo > hi {
			L.ArgError(2, "interval is empty")
		}
		L.Push(lua.LNumber(lo + int64(f*float64(hi-lo+1))))
	}
	return 1
}

func stringRep(L *lua.LState) int {
	s, n := L.CheckString(1), L.CheckInt(2)
	if n <= 0 || s == "" {
		L.Push(lua.LString(""))
		return 1
	}
	if len(s)*n/n != len(s) || len(s)*n > scriptMaxString {
		L.RaiseError("string.rep: result larger than %d bytes", scriptMaxString)
	}
	L.Push(lua.LString(strings.Repeat(s, n)))
	return 1
}

// stringByte is Lua 5.1's string.byte: j defaults to i (gopher-lua's
// returns the rest of the string when j is omitted).
func stringByte(L *lua.LState) int {
	s := L.CheckString(1)
	i := L.OptInt(2, 1)
	j := L.OptInt(3, i)
	n := len(s)
	if i < 0 {
		i += n + 1
	}
	if j < 0 {
		j += n + 1
	}
	i, j = max(i, 1), min(j, n)
	if i > j {
		return 0
	}
	for k := i; k <= j; k++ {
		L.Push(lua.LNumber(s[k-1]))
	}
	return j - i + 1
}

func sha1hex(L *lua.LState) int {
	if L.GetTop() != 1 {
		L.RaiseError("wrong number of arguments")
	}
	L.Push(lua.LString(ScriptSHA([]byte(lua.LVAsString(L.Get(1))))))
	return 1
}

func replyTable(L *lua.LState, field string) int {
	if L.GetTop() != 1 {
		L.RaiseError("wrong number of arguments")
	}
	s, ok := L.Get(1).(lua.LString)
	if !ok {
		L.RaiseError("wrong number or type of arguments")
	}
	t := L.NewTable()
	t.RawSetString(field, s)
	L.Push(t)
	return 1
}

func redisLog(L *lua.LState) int {
	if L.GetTop() < 2 {
		L.RaiseError("redis.log() requires two arguments or more.")
	}
	if _, ok := L.Get(1).(lua.LNumber); !ok {
		L.RaiseError("First argument must be a number (log level).")
	}
	// Logging from Apply would repeat on every replica and on replay: the
	// log line is dropped, as a replica's would be.
	return 0
}

func (r *scriptRun) setresp(L *lua.LState) int {
	if L.GetTop() != 1 {
		L.RaiseError("redis.setresp() requires one argument.")
	}
	n := L.CheckInt(1)
	if n != 2 && n != 3 {
		L.RaiseError("RESP version must be 2 or 3.")
	}
	r.resp = n
	return 0
}

// aclCheckCmd is redis.acl_check_cmd: whether the user running the script
// may run the command (its key and channel arguments included). Without a
// stamped check the user is allowed everything: any command known here is.
func (r *scriptRun) aclCheckCmd(L *lua.LState) int {
	args, rep := luaArgs(L)
	if rep.Kind == KindError {
		L.RaiseError("%s", strings.TrimPrefix(rep.Str, "ERR "))
	}
	var err error
	if r.c.check != nil {
		err = r.c.check(args)
	} else if Lookup(args[0]) == nil && !scriptConn[Lower(args[0])].known() && !scriptDenied[Lower(args[0])] {
		err = ErrACLUnknownCommand
	}
	if errors.Is(err, ErrACLUnknownCommand) {
		L.RaiseError("Invalid command passed to redis.acl_check_cmd()")
	}
	L.Push(lua.LBool(err == nil))
	return 1
}

// ---- redis.call -----------------------------------------------------------

// call runs a command from the script. redis.call raises a command's error
// (the script stops with it unless it catches it); redis.pcall returns it
// as a table {err=...}.
func (r *scriptRun) call(L *lua.LState, protected bool) int {
	if r.loading {
		L.RaiseError("redis.call and redis.pcall can not be used while loading a library (FUNCTION LOAD)")
	}
	r.budget.left -= callCost
	args, rep := luaArgs(L)
	counted := false // the call reached the command table: its error is counted there
	if rep.Kind != KindError {
		var ran bool
		rep, ran = r.run(args)
		if fn := r.c.DB.scriptCalls.Load(); fn != nil {
			errText := ""
			if rep.Kind == KindError {
				errText = rep.Str
			}
			(*fn)(args, errText, !ran)
		}
		counted = true
	}
	if rep.Kind == KindError {
		t := L.NewTable()
		t.RawSetString("err", lua.LString(rep.Str))
		if counted {
			// As Redis: the script's own error reply, should it end with
			// this error, is not counted again (Reply.ErrCounted).
			t.RawSetString(errStatsCounted, lua.LTrue)
		}
		if protected {
			L.Push(t)
			return 1
		}
		// Redis 7 adds where the failing call was made.
		where := strings.TrimSuffix(L.Where(1), ":")
		t.RawSetString("err", lua.LString(rep.Str+" script: "+r.sc.sha+", on @"+where+"."))
		L.Error(t, 0)
		return 0
	}
	L.Push(r.toLua(L, rep, 0))
	return 1
}

// luaArgs converts the arguments of a redis lib call into a command, or
// returns the error reply for a call without arguments or with one that is
// neither a string nor a number.
func luaArgs(L *lua.LState) ([][]byte, Reply) {
	n := L.GetTop()
	if n == 0 {
		return nil, Err("ERR Please specify at least one argument for this redis lib call")
	}
	args := make([][]byte, n)
	for i := 1; i <= n; i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			args[i-1] = []byte(v)
		case lua.LNumber:
			args[i-1] = []byte(luaNumberArg(float64(v)))
		default:
			return nil, Err("ERR Lua redis lib command arguments must be strings or integers")
		}
	}
	return args, Reply{}
}

// luaNumberArg renders a number passed to redis.call as Redis 7 does
// (fpconv_dtoa): the shortest text that reads back as the same double,
// without an exponent between 1e-6 and 1e21.
func luaNumberArg(f float64) string {
	if a := math.Abs(f); a == 0 || (a >= 1e-6 && a < 1e21) {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// run checks and executes one command of the script.
func (r *scriptRun) run(args [][]byte) (rep Reply, ran bool) {
	cmd := Lookup(args[0])
	if cmd == nil {
		return r.connectionCommand(args)
	}
	if cmd.Flags&FlagBlocking != 0 || strings.HasPrefix(cmd.Name, "eval") || strings.HasPrefix(cmd.Name, "fcall") || cmd.Name == "function" {
		return Err("ERR This Redis command is not allowed from script"), false
	}
	if !cmd.ArityOK(len(args)) {
		return Err("ERR Wrong number of args calling Redis command from script"), false
	}
	if rep, denied := r.aclDenied(args); denied {
		return rep, false
	}
	if cmd.Flags&FlagBlockOption != 0 && BlocksWith(cmd.Flags, args) {
		return errorf("ERR %s command is not allowed with BLOCK option from scripts", args[0]), false
	}
	if cmd.Flags&FlagWrite != 0 && r.ro {
		return Err("ERR Write commands are not allowed from read-only scripts."), false
	}
	if pos := cmd.KeyPositions(args); len(pos) > 0 {
		slot := -1
		for _, p := range pos {
			if p <= 0 || p >= len(args) {
				continue
			}
			s := int(slots.Of(args[p]))
			if slot >= 0 && s != slot && r.sc.flags&scriptAllowCrossSlot == 0 {
				return Err("ERR Script attempted to access keys that do not hash to the same slot"), false
			}
			slot = s
		}
		if slot >= 0 {
			if r.slot >= 0 && slot != r.slot && r.sc.flags&scriptAllowCrossSlot == 0 {
				return Err("ERR Script attempted to access keys that do not hash to the same slot"), false
			}
			// The key must be served here: a slot that moved, or a key
			// that left a migrating slot, lives on another shard.
			if _, ok := checkCommand(r.c, args); !ok {
				return Err("ERR Script attempted to access a non local key in a cluster node"), false
			}
			if r.sc.flags&scriptAllowCrossSlot == 0 {
				r.slot = slot
			}
		}
	}
	sub := NewCtx(r.c.DB, r.c.Now, r.c.Write, r.c.Rand().Uint64())
	sub.p = r.c.p
	rep = Exec(sub, args)
	if r.c.note != nil && cmd.Flags&FlagWrite != 0 {
		r.c.note(args)
	}
	return rep, true
}

// scriptArity is the arity of a command served outside the engine that
// scripts may call: the least and most arguments, the name included.
type scriptArity struct{ min, max int }

func (a scriptArity) known() bool { return a.min > 0 }

// scriptConn lists the gateway's commands that scripts use.
var scriptConn = map[string]scriptArity{
	"time": {1, 1}, "ping": {1, 2}, "echo": {2, 2}, "publish": {3, 3}, "spublish": {3, 3},
}

// connectionCommand answers the gateway's commands that scripts use,
// deterministically: TIME is the log entry's time (rate limiters read it).
func (r *scriptRun) connectionCommand(args [][]byte) (Reply, bool) {
	name := Lower(args[0])
	arity := scriptConn[name]
	if !arity.known() {
		if scriptDenied[name] {
			return Err("ERR This Redis command is not allowed from script"), false
		}
		return Err("ERR Unknown Redis command called from script"), false
	}
	if len(args) < arity.min || len(args) > arity.max {
		return Err("ERR Wrong number of args calling Redis command from script"), false
	}
	if rep, denied := r.aclDenied(args); denied {
		return rep, false
	}
	switch name {
	case "time":
		ms := r.c.Now
		return Array([]Reply{Bulk(strconv.FormatInt(ms/1000, 10)), Bulk(strconv.FormatInt(ms%1000*1000, 10))}), true
	case "ping":
		if len(args) == 2 {
			return Bulk(string(args[1])), true
		}
		return Status("PONG"), true
	case "echo":
		return Bulk(string(args[1])), true
	}
	rep := r.publish(args)
	return rep, rep.Kind != KindError
}

// publish runs PUBLISH or SPUBLISH from a script. The message is recorded
// with the log entry's effects and sent once the entry is applied
// (FSM.SetPublishSink), by every replica to its own subscribers and by the
// shard leader to the rest of the cluster. The reply cannot be the number
// of receivers, which differs between replicas and would make the script
// nondeterministic: it is 0.
func (r *scriptRun) publish(args [][]byte) Reply {
	if r.ro || !r.c.Write {
		// PUBLISH may replicate, so Redis refuses it in read-only scripts
		// (and outside the log nothing here would deliver the message).
		return Err("ERR Write commands are not allowed from read-only scripts.")
	}
	sharded := EqFold(args[0], "spublish")
	if sharded {
		// A shard channel belongs to its slot, like a key.
		s := int(slots.Of(args[1]))
		if r.slot >= 0 && s != r.slot && r.sc.flags&scriptAllowCrossSlot == 0 {
			return Err("ERR Script attempted to access keys that do not hash to the same slot")
		}
		if _, ok := r.c.DB.CheckSlot(slots.Slot(s), nil, nil); !ok {
			return Err("ERR Script attempted to access a non local key in a cluster node")
		}
		if r.sc.flags&scriptAllowCrossSlot == 0 {
			r.slot = s
		}
	}
	r.c.DB.published = append(r.c.DB.published, Published{
		Sharded: sharded,
		Channel: append([]byte(nil), args[1]...),
		Message: append([]byte(nil), args[2]...),
	})
	return Int(0)
}

// scriptDenied lists the commands served outside the engine that a script
// may not run (Redis flags most of them noscript).
var scriptDenied = map[string]bool{
	"acl": true, "asking": true, "auth": true, "client": true, "cluster": true, "command": true, "config": true,
	"discard": true, "evalsha": true, "evalsha_ro": true, "exec": true, "hello": true, "info": true, "migrate": true, "multi": true, "psubscribe": true,
	"pubsub": true, "punsubscribe": true, "quit": true, "readonly": true, "readwrite": true,
	"reset": true, "script": true, "select": true, "ssubscribe": true, "subscribe": true,
	"sunsubscribe": true, "unsubscribe": true, "unwatch": true, "watch": true,
}

// ---- conversions ----------------------------------------------------------

// maxReplyDepth bounds nested tables (a table may contain itself).
const maxReplyDepth = 1000

// toLua converts a command's reply as Redis does for the script's protocol.
func (r *scriptRun) toLua(L *lua.LState, rep Reply, depth int) lua.LValue {
	if depth > maxReplyDepth {
		return lua.LNil
	}
	field := func(name string, v lua.LValue) lua.LValue {
		t := L.NewTable()
		t.RawSetString(name, v)
		return t
	}
	switch rep.Kind {
	case KindStatus:
		return field("ok", lua.LString(rep.Str))
	case KindError:
		return field("err", lua.LString(rep.Str))
	case KindInt:
		return lua.LNumber(rep.Int)
	case KindBulk, KindVerbatim:
		return lua.LString(rep.Str)
	case KindNil, KindNilArray:
		if r.resp == 3 {
			return lua.LNil
		}
		return lua.LFalse
	case KindBool:
		if r.resp == 3 {
			return lua.LBool(rep.Int != 0)
		}
		return lua.LNumber(rep.Int)
	case KindDouble:
		if r.resp == 3 {
			return field("double", lua.LNumber(rep.F))
		}
		if rep.Str != "" {
			return lua.LString(rep.Str)
		}
		return lua.LString(FormatDouble(rep.F))
	case KindMap:
		if r.resp == 3 {
			m := L.NewTable()
			for i := 0; i+1 < len(rep.Elems); i += 2 {
				m.RawSet(r.toLua(L, rep.Elems[i], depth+1), r.toLua(L, rep.Elems[i+1], depth+1))
			}
			return field("map", m)
		}
		if rep.Int == PairsMarker {
			t := L.CreateTable(len(rep.Elems)/2, 0)
			for i := 0; i+1 < len(rep.Elems); i += 2 {
				pair := L.CreateTable(2, 0)
				pair.RawSetInt(1, r.toLua(L, rep.Elems[i], depth+1))
				pair.RawSetInt(2, r.toLua(L, rep.Elems[i+1], depth+1))
				t.RawSetInt(i/2+1, pair)
			}
			return t
		}
	case KindSet:
		if r.resp == 3 {
			m := L.NewTable()
			for _, e := range rep.Elems {
				m.RawSet(r.toLua(L, e, depth+1), lua.LTrue)
			}
			return field("set", m)
		}
	}
	t := L.CreateTable(len(rep.Elems), 0)
	for i, e := range rep.Elems {
		t.RawSetInt(i+1, r.toLua(L, e, depth+1))
	}
	return t
}

// toReply converts the script's return value as Redis does: numbers are
// truncated to integers, false is nil, a table is an array up to its first
// nil unless it is {ok=...} or {err=...}.
func (r *scriptRun) toReply(v lua.LValue, depth int) Reply {
	if depth > maxReplyDepth {
		return Err("ERR reached lua stack limit")
	}
	switch v := v.(type) {
	case lua.LString:
		return Bulk(string(v))
	case lua.LNumber:
		return Int(int64(v))
	case lua.LBool:
		if v {
			return Int(1)
		}
		return Nil()
	case *lua.LTable:
		if e, ok := v.RawGetString("err").(lua.LString); ok {
			rep := Err("ERR")
			if e != "" {
				rep = Err(oneLine(string(e)))
			}
			rep.ErrCounted = v.RawGetString(errStatsCounted) == lua.LTrue
			return rep
		}
		if s, ok := v.RawGetString("ok").(lua.LString); ok {
			return Status(oneLine(string(s)))
		}
		// The RESP3 types a script builds or got from redis.call under
		// setresp(3); RESP2 clients get them folded as usual.
		if d, ok := v.RawGetString("double").(lua.LNumber); ok {
			return Double(float64(d))
		}
		if m, ok := v.RawGetString("map").(*lua.LTable); ok {
			var kv []Reply
			for k, val := m.Next(lua.LNil); k != lua.LNil; k, val = m.Next(k) {
				kv = append(kv, r.toReply(k, depth+1), r.toReply(val, depth+1))
			}
			return Map(kv)
		}
		if set, ok := v.RawGetString("set").(*lua.LTable); ok {
			var elems []Reply
			for k, _ := set.Next(lua.LNil); k != lua.LNil; k, _ = set.Next(k) {
				elems = append(elems, r.toReply(k, depth+1))
			}
			return SetReply(elems)
		}
		var elems []Reply
		for i := 1; ; i++ {
			e := v.RawGetInt(i)
			if e == lua.LNil {
				break
			}
			elems = append(elems, r.toReply(e, depth+1))
		}
		if elems == nil {
			elems = []Reply{}
		}
		return Array(elems)
	}
	return Nil()
}

// ScriptDeclaresNoWrites reports whether a script body's shebang declares
// no-writes (CLIENT PAUSE WRITE lets such scripts run).
func ScriptDeclaresNoWrites(body []byte) bool {
	_, flags, err := parseShebang(body)
	return err == nil && flags&scriptNoWrites != 0
}

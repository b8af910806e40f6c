package raftfsm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/raftcache/raftcache/slots"
	lua "github.com/yuin/gopher-lua"
)

// Redis 7 functions: FUNCTION LOAD keeps a Lua library in the dataset
// (replicated through the log, kept in snapshots, untouched by FLUSHALL);
// FCALL runs one of its functions. A library is stored as its code only:
// loading it again gives the same functions, so a snapshot keeps the codes
// and a restore loads them. FCALL runs the library's body (which only
// registers its functions) and then the function, in a fresh environment
// like EVAL's.

func init() {
	Register(
		Command{Name: "function", Arity: -2, Flags: FlagWrite | FlagNoKeys, Exec: functionCommand},
		Command{Name: "fcall", Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagMovableKeys, Keys: EvalKeys, Exec: fcallCommand},
		Command{Name: "fcall_ro", Arity: -3, Flags: FlagReadOnly | FlagMovableKeys, Keys: EvalKeys, Exec: fcallROCommand},
	)
}

// library is one loaded library. Libraries are immutable once loaded; the
// set of them (DB.libs) is replaced, never changed, so a snapshot keeps a
// reference.
type library struct {
	name  string
	code  []byte
	funcs []libFunc // sorted by name
}

type libFunc struct {
	name, desc string
	flags      scriptFlag
}

type libraries struct {
	byName map[string]*library
	funcs  map[string]*library // function name -> its library
}

// sorted lists the libraries by name.
// LibraryCodes returns the code of every function library, in name order.
func (f *FSM) LibraryCodes() [][]byte {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return libCodes(f.db.libs)
}

func (ls *libraries) sorted() []*library {
	if ls == nil {
		return nil
	}
	out := make([]*library, 0, len(ls.byName))
	for _, l := range ls.byName {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// without returns a copy lacking the library called name.
func (ls *libraries) without(name string) *libraries {
	out := &libraries{byName: map[string]*library{}, funcs: map[string]*library{}}
	for _, l := range ls.sorted() {
		if !strings.EqualFold(l.name, name) {
			out.add(l)
		}
	}
	return out
}

// with returns a copy holding lib instead of any library of its name.
func (ls *libraries) with(lib *library) *libraries {
	out := ls.without(lib.name)
	out.add(lib)
	return out
}

// Library and function names are case-insensitive, as in Redis: the maps
// are keyed by the lower-case name.
func (ls *libraries) add(l *library) {
	ls.byName[strings.ToLower(l.name)] = l
	for _, f := range l.funcs {
		ls.funcs[strings.ToLower(f.name)] = l
	}
}

func (ls *libraries) lib(name string) *library {
	if ls == nil {
		return nil
	}
	return ls.byName[strings.ToLower(name)]
}

func (ls *libraries) owner(fn string) *library {
	if ls == nil {
		return nil
	}
	return ls.funcs[strings.ToLower(fn)]
}

// registration is one redis.register_function call of a library body.
type registration struct {
	f  libFunc
	fn *lua.LFunction
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// parseLibShebang reads "#!lua name=<library>" and blanks the line.
func parseLibShebang(code []byte) (name string, src []byte, err error) {
	if !bytes.HasPrefix(code, []byte("#!")) {
		return "", nil, errors.New("ERR Missing library metadata")
	}
	line, rest, _ := bytes.Cut(code, []byte("\n"))
	parts := strings.Split(string(line[2:]), " ")
	if !strings.EqualFold(parts[0], "lua") {
		return "", nil, fmt.Errorf("ERR Engine '%s' not found", parts[0])
	}
	named := false
	for _, p := range parts[1:] {
		if p == "" {
			continue
		}
		v, ok := strings.CutPrefix(p, "name=")
		if !ok {
			return "", nil, fmt.Errorf("ERR Invalid metadata value given: %s", p)
		}
		if named {
			return "", nil, errors.New("ERR Invalid metadata value, name argument was given multiple times")
		}
		named, name = true, strings.Trim(v, "\"")
	}
	if name == "" {
		return "", nil, errors.New("ERR Library name was not given")
	}
	if !validName(name) {
		return "", nil, errors.New("ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long")
	}
	return name, append([]byte("\n"), rest...), nil
}

// compileLibrary compiles a library's code (cached like scripts).
func compileLibrary(code []byte) (*script, string, error) {
	name, _, err := parseLibShebang(code)
	if err != nil {
		return nil, "", err
	}
	sc, err := compileCached(code, "user_function", func(b []byte) ([]byte, scriptFlag, error) {
		_, src, err := parseLibShebang(b)
		return src, 0, err
	})
	return sc, name, err
}

// runLibrary runs a library's body in r's VM and returns what it
// registered (the VM must stay checked out while the functions are used).
func (r *scriptRun) runLibrary(vm *luaVM) ([]registration, error) {
	L := vm.L
	r.loading, r.registered = true, nil
	vm.loadPhase(true)
	L.Push(L.NewFunctionFromProto(r.sc.proto))
	err := L.PCall(0, 0, nil)
	vm.loadPhase(false)
	r.loading = false
	if err != nil {
		return nil, err
	}
	if len(r.registered) == 0 {
		return nil, errors.New("No functions registered")
	}
	return r.registered, nil
}

// registerFunction is redis.register_function(name, callback) or
// redis.register_function{function_name=, callback=, flags=, description=}.
func (r *scriptRun) registerFunction(L *lua.LState) int {
	if !r.loading {
		L.RaiseError("redis.register_function can only be called on FUNCTION LOAD command")
	}
	var reg registration
	switch L.GetTop() {
	case 2:
		name, ok := L.Get(1).(lua.LString)
		if !ok {
			L.RaiseError("first argument to redis.register_function must be a string")
		}
		fn, ok := L.Get(2).(*lua.LFunction)
		if !ok {
			L.RaiseError("second argument to redis.register_function must be a function")
		}
		reg = registration{f: libFunc{name: string(name)}, fn: fn}
	case 1:
		t, ok := L.Get(1).(*lua.LTable)
		if !ok {
			L.RaiseError("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).")
		}
		for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
			switch lua.LVAsString(k) {
			case "function_name":
				name, ok := v.(lua.LString)
				if !ok {
					L.RaiseError("function_name argument given to redis.register_function must be a string")
				}
				reg.f.name = string(name)
			case "callback":
				fn, ok := v.(*lua.LFunction)
				if !ok {
					L.RaiseError("callback argument given to redis.register_function must be a function")
				}
				reg.fn = fn
			case "description":
				desc, ok := v.(lua.LString)
				if !ok {
					L.RaiseError("description argument given to redis.register_function must be a string")
				}
				reg.f.desc = string(desc)
			case "flags":
				ft, ok := v.(*lua.LTable)
				if !ok {
					L.RaiseError("flags argument to redis.register_function must be a table representing function flags")
				}
				for i := 1; i <= ft.Len(); i++ {
					switch lua.LVAsString(ft.RawGetInt(i)) {
					case "no-writes":
						reg.f.flags |= scriptNoWrites
					case "allow-cross-slot-keys":
						reg.f.flags |= scriptAllowCrossSlot
					case "allow-oom", "allow-stale", "no-cluster":
					default:
						L.RaiseError("unknown flag given")
					}
				}
			default:
				L.RaiseError("unknown argument given to redis.register_function")
			}
		}
		if reg.f.name == "" {
			L.RaiseError("redis.register_function must get a function name argument")
		}
		if reg.fn == nil {
			L.RaiseError("redis.register_function must get a callback argument")
		}
	default:
		L.RaiseError("wrong number of arguments to redis.register_function")
	}
	if !validName(reg.f.name) {
		// Redis 7.0 words this error so for function names too.
		L.RaiseError("Library names can only contain letters, numbers, or underscores(_) and must be at least one character long")
	}
	for _, x := range r.registered {
		if strings.EqualFold(x.f.name, reg.f.name) {
			L.RaiseError("Function already exists in the library")
		}
	}
	r.registered = append(r.registered, reg)
	return 0
}

// loadLibrary loads code into db (FUNCTION LOAD, snapshot restore).
func loadLibrary(c *Ctx, code []byte, replace bool) (string, error) {
	sc, name, err := compileLibrary(code)
	if err != nil {
		return "", err
	}
	if !replace && c.DB.libs.lib(name) != nil {
		return "", fmt.Errorf("ERR Library '%s' already exists", name)
	}
	r := &scriptRun{c: c, sc: sc, slot: -1, resp: 2, ro: true}
	vm := r.begin(nil, nil)
	defer putVM(vm)
	regs, err := r.runLibrary(vm)
	if err != nil && r.budget.left < 0 {
		return "", fmt.Errorf("ERR FUNCTION LOAD timeout: the library's body ran more than %d million Lua instructions", ScriptMaxInstructions/1_000_000)
	}
	if err != nil {
		var ae *lua.ApiError
		if errors.As(err, &ae) && ae.Object != nil {
			return "", fmt.Errorf("ERR Error registering functions: %s", oneLine(ae.Object.String()))
		}
		return "", fmt.Errorf("ERR %s", err)
	}
	lib := &library{name: name, code: append([]byte(nil), code...)}
	for _, reg := range regs {
		if owner := c.DB.libs.owner(reg.f.name); owner != nil && !strings.EqualFold(owner.name, name) {
			return "", fmt.Errorf("ERR Function %s already exists", reg.f.name)
		}
		lib.funcs = append(lib.funcs, reg.f)
	}
	sort.Slice(lib.funcs, func(i, j int) bool { return lib.funcs[i].name < lib.funcs[j].name })
	c.DB.libs = c.DB.libs.with(lib)
	return name, nil
}

// ---- FCALL ------------------------------------------------------------------

func fcallCommand(c *Ctx, args [][]byte) Reply   { return fcallGeneric(c, args, false) }
func fcallROCommand(c *Ctx, args [][]byte) Reply { return fcallGeneric(c, args, true) }

func fcallGeneric(c *Ctx, args [][]byte, ro bool) Reply {
	n, err := strconv.ParseInt(string(args[2]), 10, 64)
	if err != nil {
		return Err("ERR Bad number of keys provided")
	}
	if n < 0 {
		return Err("ERR Number of keys can't be negative")
	}
	if n > int64(len(args)-3) {
		return Err("ERR Number of keys can't be greater than number of args")
	}
	name := string(args[1])
	lib := c.DB.libs.owner(name)
	if lib == nil {
		return Err("ERR Function not found")
	}
	var f libFunc
	for _, x := range lib.funcs {
		if strings.EqualFold(x.name, name) {
			f = x
		}
	}
	if ro && f.flags&scriptNoWrites == 0 {
		return Err("ERR Can not execute a script with write flag using *_ro command.")
	}
	sc, _, err := compileLibrary(lib.code)
	if err != nil {
		return Err(err.Error())
	}
	keys, argv := args[3:3+n], args[3+n:]
	r := &scriptRun{c: c, sc: sc, slot: -1, resp: 2, ro: ro || !c.Write || f.flags&scriptNoWrites != 0}
	if len(keys) > 0 && f.flags&scriptAllowCrossSlot == 0 {
		r.slot = int(slots.Of(keys[0]))
	}
	vm := r.begin(nil, nil)
	defer putVM(vm)
	regs, err := r.runLibrary(vm)
	if err != nil {
		return r.errorReply(err)
	}
	var fn *lua.LFunction
	for _, reg := range regs {
		if strings.EqualFold(reg.f.name, name) {
			fn = reg.fn
		}
	}
	if fn == nil {
		return Err("ERR Function not found")
	}
	L := vm.L
	L.Push(fn)
	L.Push(stringTable(L, keys))
	L.Push(stringTable(L, argv))
	return r.finish(L, L.PCall(2, 1, nil))
}

// ---- FUNCTION ---------------------------------------------------------------

var functionHelp = []string{
	"FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"LOAD [REPLACE] <FUNCTION CODE>",
	"    Create a new library with the given library name and code.",
	"DELETE <LIBRARY NAME>",
	"    Delete the given library.",
	"LIST [LIBRARYNAME PATTERN] [WITHCODE]",
	"    Return general information on all the libraries.",
	"FLUSH [ASYNC|SYNC]",
	"    Delete all the libraries.",
	"STATS",
	"    Return information about the current function running.",
	"KILL",
	"    Kill the current running function (never needed here: functions have an instruction budget).",
	"DUMP",
	"    Return a serialized payload representing the current libraries.",
	"RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
	"    Restore the libraries represented by the given payload.",
	"HELP",
	"    Print this help.",
}

func functionCommand(c *Ctx, args [][]byte) Reply {
	sub := strings.ToLower(string(args[1]))
	arity := func(ok bool) Reply {
		if ok {
			return Reply{}
		}
		return Err("ERR unknown subcommand or wrong number of arguments for '" + sub + "'. Try FUNCTION HELP.")
	}
	switch sub {
	case "load":
		if r := arity(len(args) >= 3); r.Kind == KindError {
			return r
		}
		replace := false
		for _, o := range args[2 : len(args)-1] {
			if !EqFold(o, "replace") {
				return Err("ERR Unknown option given: " + string(o))
			}
			replace = true
		}
		name, err := loadLibrary(c, args[len(args)-1], replace)
		if err != nil {
			return Err(err.Error())
		}
		return Bulk(name)
	case "delete":
		if r := arity(len(args) == 3); r.Kind == KindError {
			return r
		}
		if c.DB.libs.lib(string(args[2])) == nil {
			return Err("ERR Library not found")
		}
		c.DB.libs = c.DB.libs.without(string(args[2]))
		return ReplyOK
	case "flush":
		if len(args) > 3 {
			return arity(false)
		}
		if len(args) == 3 && !EqFold(args[2], "async") && !EqFold(args[2], "sync") {
			return Err("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
		}
		c.DB.libs = nil
		return ReplyOK
	case "list":
		return functionList(c, args[2:])
	case "stats":
		if r := arity(len(args) == 2); r.Kind == KindError {
			return r
		}
		nf := 0
		for _, l := range c.DB.libs.sorted() {
			nf += len(l.funcs)
		}
		return Map([]Reply{Bulk("running_script"), Nil(), Bulk("engines"), Map([]Reply{Bulk("LUA"),
			Map([]Reply{Bulk("libraries_count"), Int(int64(len(c.DB.libs.sorted()))), Bulk("functions_count"), Int(int64(nf))})})})
	case "kill":
		return Err("NOTBUSY No scripts in execution right now.")
	case "dump":
		if r := arity(len(args) == 2); r.Kind == KindError {
			return r
		}
		return Bulk(string(functionDump(c.DB.libs)))
	case "restore":
		if r := arity(len(args) == 3 || len(args) == 4); r.Kind == KindError {
			return r
		}
		policy := "append"
		if len(args) == 4 {
			policy = strings.ToLower(string(args[3]))
			if policy != "append" && policy != "flush" && policy != "replace" {
				return Err("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
			}
		}
		return functionRestore(c, args[2], policy)
	case "help":
		out := make([]Reply, len(functionHelp))
		for i, s := range functionHelp {
			out[i] = Status(s)
		}
		return Array(out)
	}
	return errorf("ERR unknown subcommand '%s'. Try FUNCTION HELP.", truncate(args[1], 128))
}

func functionList(c *Ctx, opts [][]byte) Reply {
	pattern, withCode, named := "", false, false
	for i := 0; i < len(opts); i++ {
		switch {
		case EqFold(opts[i], "withcode") && !withCode:
			withCode = true
		case EqFold(opts[i], "libraryname") && !named:
			if i+1 >= len(opts) {
				return Err("ERR library name argument was not given")
			}
			i++
			pattern, named = string(opts[i]), true
		default:
			return Err("ERR Unknown argument " + string(opts[i]))
		}
	}
	out := []Reply{}
	for _, l := range c.DB.libs.sorted() {
		if pattern != "" && !GlobMatch(pattern, l.name, false) {
			continue
		}
		var fs []Reply
		for _, f := range l.funcs {
			var flags []Reply
			if f.flags&scriptNoWrites != 0 {
				flags = append(flags, Bulk("no-writes"))
			}
			if f.flags&scriptAllowCrossSlot != 0 {
				flags = append(flags, Bulk("allow-cross-slot-keys"))
			}
			desc := Nil()
			if f.desc != "" {
				desc = Bulk(f.desc)
			}
			fs = append(fs, Map([]Reply{Bulk("name"), Bulk(f.name), Bulk("description"), desc, Bulk("flags"), SetReply(flags)}))
		}
		m := []Reply{Bulk("library_name"), Bulk(l.name), Bulk("engine"), Bulk("LUA"), Bulk("functions"), Array(fs)}
		if withCode {
			m = append(m, Bulk("library_code"), Bulk(string(l.code)))
		}
		out = append(out, Map(m))
	}
	return Array(out)
}

// FUNCTION DUMP/RESTORE payload, as Redis 7.0 writes it: per library the
// RDB function opcode and the code as an RDB string, then the RDB version
// and a CRC-64 (the DUMP trailer).
const rdbOpcodeFunction2 = 245

func functionDump(ls *libraries) []byte {
	var b []byte
	for _, l := range ls.sorted() {
		b = append(b, rdbOpcodeFunction2)
		b = rdbAppendString(b, l.code)
	}
	b = binary.LittleEndian.AppendUint16(b, rdbVersion)
	return binary.LittleEndian.AppendUint64(b, crc64Redis(0, b))
}

func functionRestore(c *Ctx, payload []byte, policy string) Reply {
	if len(payload) < 10 || binary.LittleEndian.Uint16(payload[len(payload)-10:]) > rdbVersion ||
		crc64Redis(0, payload[:len(payload)-8]) != binary.LittleEndian.Uint64(payload[len(payload)-8:]) {
		return Err("ERR payload version or checksum are wrong")
	}
	body := payload[:len(payload)-10]
	var codes [][]byte
	rd := &rdbReader{b: body}
	for len(rd.b) > 0 {
		if op := rd.b[0]; op != rdbOpcodeFunction2 {
			return Err("ERR given type is not a function")
		}
		rd.b = rd.b[1:]
		code, err := rd.str()
		if err != nil {
			return Err("ERR function restore failed: " + err.Error())
		}
		codes = append(codes, []byte(code))
	}
	saved := c.DB.libs
	if policy == "flush" {
		c.DB.libs = nil
	}
	for _, code := range codes {
		if _, err := loadLibrary(c, code, policy == "replace"); err != nil {
			c.DB.libs = saved // all or nothing
			// Redis words a name collision on restore without quotes.
			return Err(strings.Replace(strings.Replace(err.Error(), "Library '", "Library ", 1), "' already", " already", 1))
		}
	}
	return ReplyOK
}

// FunctionDeclaresNoWrites reports whether the function name exists and
// declares no-writes (CLIENT PAUSE WRITE lets it run). Run it under the
// read lock (FSM.View or a Backend read).
func (db *DB) FunctionDeclaresNoWrites(name []byte) bool {
	lib := db.libs.owner(string(name))
	if lib == nil {
		return false
	}
	for _, f := range lib.funcs {
		if strings.EqualFold(f.name, string(name)) {
			return f.flags&scriptNoWrites != 0
		}
	}
	return false
}

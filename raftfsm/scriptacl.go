package raftfsm

import "errors"

// ACL checks of the commands a script runs. ACL users belong to each node's
// gateway, but a script runs inside every replica's engine, which must not
// depend on per-node state. So the gateway stamps the rules of a user whose
// rights are limited into the log entry: the script command (EVAL, EVAL_RO,
// FCALL, FCALL_RO) becomes the pseudo-command ScriptACLName, the user's
// rule string, then the original arguments. Applying it, every replica
// compiles the rule string with the checker the process installed
// (FSM.SetScriptACL: the gateway's rule parser, wired by cmd) and checks
// each redis.call against it, so all replicas refuse the same calls. A
// user allowed everything sends its entries unchanged.
//
// Like WatchCheckName, the pseudo-command is in no command table: clients
// cannot send it and scripts cannot call it. Only ApplyCommands and the
// gateway's read path (Ctx.Unstamp) recognise it, at the head of a command.

// A refused call is also reported back with the script's reply
// (Reply.Denied), so that the node that served the script adds it to its
// ACL LOG with its client, as Redis's scriptVerifyACL does, even when the
// script catches the error with redis.pcall. Every replica computes the
// same list, but it is no part of the data: nothing of it goes to the log,
// to snapshots or to the other replicas' clients.

// ScriptACLName names the pseudo-command that carries a user's rules.
const ScriptACLName = "__scriptacl"

// ScriptACL compiles a rule string stamped by the gateway into a check. It
// must be a pure function of rules: every replica runs the same one.
type ScriptACL func(rules []byte) (ScriptCheck, error)

// ScriptCheck decides whether the user may run args, a command a script
// calls (args[0] is its name): nil, ErrACLCommand, ErrACLKey, ErrACLChannel
// or ErrACLUnknownCommand.
type ScriptCheck func(args [][]byte) error

// StampScriptACL returns the command args stamped with a user's rules.
func StampScriptACL(rules []byte, args [][]byte) [][]byte {
	out := make([][]byte, 0, len(args)+2)
	return append(append(out, []byte(ScriptACLName), rules), args...)
}

// SplitScriptACL returns the rules and the command of a stamped command; ok
// is false, and inner is args, for any other command.
func SplitScriptACL(args [][]byte) (rules []byte, inner [][]byte, ok bool) {
	if len(args) < 3 || string(args[0]) != ScriptACLName {
		return nil, args, false
	}
	return args[1], args[2:], true
}

// SetScriptACL installs the checker compiler used for the stamped commands
// this database applies or serves (FSM.SetScriptACL for an FSM's). Without
// one, every command a stamped script calls is refused, never allowed.
func (db *DB) SetScriptACL(fn ScriptACL) {
	if fn == nil {
		db.scriptACL.Store(nil)
		return
	}
	db.scriptACL.Store(&fn)
}

// SetScriptACL installs the checker compiler of stamped script commands.
// Call it before the FSM applies anything (log replay included): an entry
// applied without it refuses its script's calls, unlike the other replicas.
func (f *FSM) SetScriptACL(fn ScriptACL) {
	var p *ScriptACL
	if fn != nil {
		p = &fn
	}
	f.scriptACL.Store(p)
	f.mu.Lock()
	f.db.scriptACL.Store(p)
	f.mu.Unlock()
}

// errNoScriptACL refuses the calls of a stamped script when no checker is
// installed or the rules do not compile (Redis's text for other denials).
var errNoScriptACL = errors.New("lacking the permissions for the command")

func denyAll([][]byte) error { return errNoScriptACL }

// Unstamp prepares c for the command args: for a stamped command it
// installs the user's check and returns the command inside; for any other
// it clears the check and returns args.
func (c *Ctx) Unstamp(args [][]byte) [][]byte {
	rules, inner, ok := SplitScriptACL(args)
	if !ok {
		c.check = nil
		return args
	}
	c.check = denyAll
	if fn := c.DB.scriptACL.Load(); fn != nil {
		if chk, err := (*fn)(rules); err == nil && chk != nil {
			c.check = chk
		}
	}
	return inner
}

// ScriptDenials lists the calls a script made that its user's rules
// refused, in the order it made them.
type ScriptDenials struct {
	Calls []ScriptDenial
}

// ScriptDenial is one refused call: Redis's ACL LOG names its reason and,
// from Args, its object (the command's full name, or the key or channel
// the user may not use, which only the user's rules can tell).
type ScriptDenial struct {
	Reason error    // ErrACLCommand, ErrACLKey or ErrACLChannel
	Args   [][]byte // the call as the script made it (args[0] is its name)
}

// aclDenied checks a command the script calls against the calling user's
// rules (scriptVerifyACL): it returns the error reply and true when the
// call is refused, and records the refusal for the script's reply. A
// command the checker does not know is left to the engine, which answers
// its own error.
func (r *scriptRun) aclDenied(args [][]byte) (Reply, bool) {
	if r.c.check == nil {
		return Reply{}, false
	}
	err := r.c.check(args)
	if err == nil || errors.Is(err, ErrACLUnknownCommand) {
		return Reply{}, false
	}
	msg, reason := errNoScriptACL.Error(), ErrACLCommand
	for _, known := range []error{ErrACLCommand, ErrACLKey, ErrACLChannel} {
		if errors.Is(err, known) {
			msg, reason = known.Error(), known
		}
	}
	// args is this call's own (luaArgs copies the Lua strings), and a
	// refused call never reaches a command that could keep it.
	r.denied = append(r.denied, ScriptDenial{Reason: reason, Args: args})
	return Err("ERR The user executing the script " + msg), true
}

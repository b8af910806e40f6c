package raftfsm

import "errors"

// Error replies shared by every data type. The texts match Redis 7.0 exactly,
// because client libraries and Redis's own test suite compare them.
var (
	ErrWrongType     = Err("WRONGTYPE Operation against a key holding the wrong kind of value")
	ErrNotInt        = Err("ERR value is not an integer or out of range")
	ErrNotFloat      = Err("ERR value is not a valid float")
	ErrSyntax        = Err("ERR syntax error")
	ErrNoSuchKey     = Err("ERR no such key")
	ErrOverflow      = Err("ERR increment or decrement would overflow")
	ErrIndexRange    = Err("ERR index out of range")
	ErrInvalidExpire = "ERR invalid expire time in '%s' command"
	ErrNaN           = Err("ERR increment would produce NaN or Infinity")
	ErrOutOfRange    = Err("ERR value is out of range, must be positive")
	ErrBusyKey       = Err("BUSYKEY Target key name already exists.")
)

// ErrArity returns the wrong-number-of-arguments error for cmd (lower case name).
func ErrArity(cmd string) Reply {
	return Err("ERR wrong number of arguments for '" + cmd + "' command")
}

// Why a ScriptCheck refuses a command a script calls (scriptacl.go). The
// texts complete Redis 7.0's "The user executing the script ..." errors
// (getAclErrorMessage).
var (
	ErrACLCommand = errors.New("can't run this command or subcommand")
	ErrACLKey     = errors.New("can't access at least one of the keys mentioned in the command arguments")
	ErrACLChannel = errors.New("can't publish to the channel mentioned in the command")
	// ErrACLUnknownCommand: the checker knows no such command (the engine
	// then reports its own error; redis.acl_check_cmd raises).
	ErrACLUnknownCommand = errors.New("unknown command")
)

package raftfsm

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

package raftfsm

import "strconv"

// WATCH support. The gateway records each watched key's version
// (DB.KeyVersion) when the client sends WATCH. EXEC proposes the queued
// commands as one log entry whose first command is the pseudo-command
// WatchCheckName carrying the watched keys and their versions. Applying the
// entry re-checks the versions first and, if any changed, applies nothing
// else; so the check and the transaction are atomic on every replica.
//
// The pseudo-command is not in the command table: clients cannot send it,
// and it is only recognised as the first command of an entry.

// WatchCheckName names the version check that may open an OpCommands entry.
const WatchCheckName = "__watchcheck"

// WatchCheck builds the check command: name, then key and version pairs.
func WatchCheck(keys [][]byte, vers []uint64) [][]byte {
	out := make([][]byte, 0, 1+2*len(keys))
	out = append(out, []byte(WatchCheckName))
	for i, k := range keys {
		out = append(out, k, strconv.AppendUint(nil, vers[i], 10))
	}
	return out
}

// isWatchCheck reports whether args is the check command.
func isWatchCheck(args [][]byte) bool {
	return len(args) > 0 && string(args[0]) == WatchCheckName
}

// watchCheck replies OK when every key still has its recorded version at
// time now, and a null array (EXEC's reply for an aborted transaction)
// otherwise. A malformed check also aborts: applying a transaction whose
// guard cannot be verified would be worse.
func watchCheck(db *DB, now int64, args [][]byte) Reply {
	if len(args)%2 != 1 {
		return NilArray()
	}
	for i := 1; i+1 < len(args); i += 2 {
		v, err := strconv.ParseUint(string(args[i+1]), 10, 64)
		if err != nil || db.KeyVersion(args[i], now) != v {
			return NilArray()
		}
	}
	return ReplyOK
}

// WatchAborted reports whether the replies of an entry opened by a watch
// check say that the transaction was not applied.
func WatchAborted(replies []Reply) bool {
	return len(replies) > 0 && replies[0].Kind == KindNilArray
}

// ApplyCommands applies the commands of one OpCommands entry in order, in
// write contexts at time now with seeds seed, seed+1, ... If the first
// command is a failing watch check, the others are skipped and reply a null
// array too. A command stamped with a user's rules (scriptacl.go) runs
// unstamped with the user's check in its context. exec runs one command
// (nil: Exec); FSM.applyEntry and test backends share this so that both
// honour the watch check and the stamps.
func ApplyCommands(db *DB, now int64, seed uint64, cmds [][][]byte, exec func(c *Ctx, args [][]byte) Reply) []Reply {
	if exec == nil {
		exec = Exec
	}
	out := make([]Reply, len(cmds))
	txn := len(cmds) > 0 && isWatchCheck(cmds[0])
	for i, cmd := range cmds {
		if i == 0 && txn {
			out[0] = watchCheck(db, now, cmd)
			if out[0].Kind == KindNilArray {
				for j := 1; j < len(out); j++ {
					out[j] = NilArray()
				}
				return out
			}
			// A transaction runs whole or not at all: if any command
			// would be redirected (slot moving or moved), none runs and
			// the check answers the redirect for EXEC.
			for j := 1; j < len(cmds); j++ {
				_, inner, _ := SplitScriptACL(cmds[j])
				if r, ok := checkCommand(NewCtx(db, now, true, seed), inner); !ok {
					for k := range out {
						out[k] = r
					}
					return out
				}
			}
			continue
		}
		c := NewCtx(db, now, true, seed+uint64(i))
		cmd = c.Unstamp(cmd) // a script stamped with its user's rules
		if !txn {
			if r, ok := checkCommand(c, cmd); !ok {
				out[i] = r
				continue
			}
		}
		out[i] = exec(c, cmd)
	}
	return out
}

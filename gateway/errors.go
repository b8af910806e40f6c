package gateway

import (
	"context"
	"errors"
	"strings"
)

// errInternal stands for a bug caught at run time (a recovered panic, a
// backend breaking its contract). Clients see "ERR internal error".
var errInternal = errors.New("internal error")

// respErrorer is implemented by node errors that map to a RESP error
// (MOVED, CLUSTERDOWN, UNCERTAIN, TRYAGAIN ...).
type respErrorer interface {
	RESPError(slot int) string
}

// uncertainText is the reply for a write whose outcome is unknown.
const uncertainText = "UNCERTAIN the write may or may not have been applied"

// errorText is the one place where a backend error becomes a RESP error
// text. slot is the slot of the command (-1 when keyless). A write that ran
// out of time or was cancelled after being handed to the backend may still
// commit, so it is reported as UNCERTAIN, never as a clean failure.
func errorText(err error, write bool, slot int) string {
	if slot < 0 {
		slot = 0
	}
	var re respErrorer
	if errors.As(err, &re) {
		return strings.TrimPrefix(re.RESPError(slot), "-")
	}
	if write && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
		return uncertainText
	}
	if errors.Is(err, errInternal) {
		return "ERR internal error"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "ERR read timed out"
	}
	return "ERR " + err.Error()
}

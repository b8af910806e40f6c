package slots

import (
	"slices"
	"strconv"
	"strings"
)

// MigrationState is a slot's resharding state on one shard (CLUSTER SETSLOT
// MIGRATING/IMPORTING/STABLE in Redis terms).
type MigrationState uint8

const (
	// Stable: no migration in progress for the slot.
	Stable MigrationState = iota
	// Migrating: this shard owns the slot and is moving it to Peer; it
	// answers ASK for keys it no longer has.
	Migrating
	// Importing: this shard is receiving the slot from Peer; it serves the
	// slot only after ASKING.
	Importing
)

// String returns "stable", "migrating" or "importing".
func (s MigrationState) String() string {
	switch s {
	case Stable:
		return "stable"
	case Migrating:
		return "migrating"
	case Importing:
		return "importing"
	}
	return "MigrationState(" + strconv.Itoa(int(s)) + ")"
}

// Migration is one open slot: Slot is Migrating to, or Importing from, Peer.
type Migration struct {
	Slot  Slot
	State MigrationState
	Peer  ShardID
}

// String is a human-readable form for logs, e.g. "slot 12182 migrating to
// shard 2".
func (m Migration) String() string {
	slot := "slot " + strconv.Itoa(int(m.Slot))
	peer := "shard " + strconv.FormatUint(uint64(m.Peer), 10)
	switch m.State {
	case Stable:
		return slot + " stable"
	case Migrating:
		return slot + " migrating to " + peer
	case Importing:
		return slot + " importing from " + peer
	}
	return slot + " " + m.State.String() + " " + peer
}

// Format renders m as the open-slot token of a CLUSTER NODES "myself" line,
// given the 40-hex node id that stands for the peer shard (its leader):
// "[12182->-<id>]" when migrating, "[12182-<-<id>]" when importing, and ""
// for Stable (or an unknown state), which has no token.
func (m Migration) Format(peerNodeID string) string {
	var arrow string
	switch m.State {
	case Migrating:
		arrow = "->-"
	case Importing:
		arrow = "-<-"
	default:
		return ""
	}
	return "[" + strconv.Itoa(int(m.Slot)) + arrow + peerNodeID + "]"
}

// FormatMigrations renders the open-slot tokens of ms space-separated in
// ascending slot order, as Redis appends them after the slot ranges of the
// "myself" line. nodeID maps a peer shard to its node id. Stable entries are
// skipped; if a slot appears more than once (a caller bug), only the first
// non-stable entry in slot order is written, since Redis can print at most
// one token per slot. ms is not modified.
func FormatMigrations(ms []Migration, nodeID func(ShardID) string) string {
	open := make([]Migration, 0, len(ms))
	for _, m := range ms {
		if m.State == Migrating || m.State == Importing {
			open = append(open, m)
		}
	}
	// Stable sort keeps the caller's order among duplicates of a slot.
	slices.SortStableFunc(open, func(a, b Migration) int { return int(a.Slot) - int(b.Slot) })
	var sb strings.Builder
	for i, m := range open {
		if i > 0 && open[i-1].Slot == m.Slot {
			continue
		}
		if sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(m.Format(nodeID(m.Peer)))
	}
	return sb.String()
}

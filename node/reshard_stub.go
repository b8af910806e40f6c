package node

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/raftcache/raftcache/slots"
)

// Placeholders for the slot-migration engine (node/reshard.go), which
// replaces this file.

// registerMigrate registers the raftcache.migrate.v1 Migrate service.
func (n *Node) registerMigrate(s *grpc.Server) {}

// moveSlot moves slot to shard target and returns when the target owns it.
// It is called on the node running an admin operation, which need not be
// the source shard's leader. progress receives the cumulative keys and
// bytes moved for this slot so far.
func (n *Node) moveSlot(ctx context.Context, slot slots.Slot, target int, progress func(keys, bytes uint64)) error {
	return status.Error(codes.Unimplemented, "slot migration not built yet")
}

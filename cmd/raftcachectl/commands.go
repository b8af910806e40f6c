package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	adminv1 "github.com/raftcache/raftcache/proto/raftcache/admin/v1"
)

// opFlags are the flags of every command that starts a long operation.
type opFlags struct {
	detach      bool
	parallelism uint32
	pause       uint32
	cmd         *cobra.Command
}

func (f *opFlags) register(cmd *cobra.Command, parallel bool) {
	f.cmd = cmd
	cmd.Flags().BoolVar(&f.detach, "detach", false, "print the operation id and return at once (follow it with: raftcachectl watch ID)")
	if parallel {
		cmd.Flags().Uint32Var(&f.parallelism, "parallelism", 1, "slots moved at once (1-8)")
		cmd.Flags().Uint32Var(&f.pause, "pause-percent", 50, "after each batch of keys sent, pause this percentage of the time it took, leaving CPU and disk to clients (0 = full speed, at most 1000)")
	}
}

// pausePercent returns the --pause-percent to send: nil (the server's
// default) unless the flag was given.
func (f *opFlags) pausePercent() *uint32 {
	if f.cmd == nil || !f.cmd.Flags().Changed("pause-percent") {
		return nil
	}
	v := f.pause
	return &v
}

func parseShard(s string) (int32, error) {
	v, err := strconv.ParseInt(s, 10, 32)
	if err != nil || v < 0 {
		return 0, usagef("bad shard id %q (want a number >= 0)", s)
	}
	return int32(v), nil
}

// parseRanges parses "0-100,200,300-310" (inclusive ranges of slots). The
// server checks the bounds.
func parseRanges(s string) ([]*adminv1.SlotRange, error) {
	var out []*adminv1.SlotRange
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.ParseUint(strings.TrimSpace(lo), 10, 32)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.ParseUint(strings.TrimSpace(hi), 10, 32)
		}
		if err1 != nil || err2 != nil {
			return nil, usagef("bad slot range %q (want N or N-M, comma separated)", part)
		}
		out = append(out, &adminv1.SlotRange{Start: uint32(a), End: uint32(b)})
	}
	if len(out) == 0 {
		return nil, usagef("no slots given")
	}
	return out, nil
}

func parseBy(s string) (adminv1.RebalanceBy, error) {
	switch s {
	case "keys":
		return adminv1.RebalanceBy_REBALANCE_BY_KEYS, nil
	case "slots":
		return adminv1.RebalanceBy_REBALANCE_BY_SLOTS, nil
	case "memory":
		return adminv1.RebalanceBy_REBALANCE_BY_MEMORY, nil
	}
	return 0, usagef("--by %q: want keys, slots or memory", s)
}

func (c *cli) statusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show nodes, AZs, shards, leaders, slot ranges and health",
		Args:  nArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := c.describe(cmd.Context())
			if err != nil {
				return err
			}
			if c.json {
				return c.printJSON(d)
			}
			printStatus(c.stdout, d)
			return nil
		},
	}
}

func (c *cli) failoverCmd() *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "failover SHARD",
		Short: "Transfer a shard's leadership (default: to a caught-up replica in another AZ)",
		Args:  nArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			shard, err := parseShard(args[0])
			if err != nil {
				return err
			}
			var resp *adminv1.FailoverResponse
			err = c.call(cmd.Context(), func(ctx context.Context, a adminv1.AdminClient) error {
				resp, err = a.Failover(ctx, &adminv1.FailoverRequest{Shard: shard, TargetNode: to})
				return err
			})
			if err != nil {
				return err
			}
			if c.json {
				return c.printJSON(resp)
			}
			if resp.GetNewLeader() == resp.GetPreviousLeader() {
				fmt.Fprintf(c.stdout, "shard %d: %s already leads\n", resp.GetShard(), resp.GetNewLeader())
				return nil
			}
			fmt.Fprintf(c.stdout, "shard %d: leader %s -> %s in %s\n", resp.GetShard(), resp.GetPreviousLeader(), resp.GetNewLeader(),
				resp.GetTook().AsDuration().Round(1e6))
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "node to hand leadership to (default: AZ-preferred caught-up replica)")
	return cmd
}

func (c *cli) addShardCmd() *cobra.Command {
	var f opFlags
	var replicas uint32
	var nodes []string
	var noRebalance bool
	var by string
	cmd := &cobra.Command{
		Use:   "add-shard",
		Short: "Form a new shard from spare nodes, then rebalance slots onto it",
		Args:  nArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := parseBy(by)
			if err != nil {
				return err
			}
			req := &adminv1.AddShardRequest{Replicas: replicas, Nodes: nodes, NoRebalance: noRebalance, RebalanceBy: b, Parallelism: f.parallelism, PausePercent: f.pausePercent()}
			return c.startOp(cmd.Context(), f, func(ctx context.Context, a adminv1.AdminClient) (*adminv1.Operation, string, error) {
				resp, err := a.AddShard(ctx, req)
				if err != nil {
					return nil, "", err
				}
				return resp.GetOperation(), fmt.Sprintf("shard %d on %s", resp.GetShard(), strings.Join(resp.GetNodes(), ", ")), nil
			})
		},
	}
	f.register(cmd, true)
	cmd.Flags().Uint32Var(&replicas, "replicas", 3, "spare nodes to use, spread over AZs (1-6)")
	cmd.Flags().StringSliceVar(&nodes, "nodes", nil, "use these spare nodes (comma separated) instead of picking")
	cmd.Flags().BoolVar(&noRebalance, "no-rebalance", false, "leave the new shard without slots")
	cmd.Flags().StringVar(&by, "by", "keys", "rebalance by keys, slots or memory")
	return cmd
}

func (c *cli) removeShardCmd() *cobra.Command {
	var f opFlags
	var noDrain bool
	cmd := &cobra.Command{
		Use:   "remove-shard SHARD",
		Short: "Move a shard's slots to the other shards, then release its nodes as spares",
		Args:  nArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			shard, err := parseShard(args[0])
			if err != nil {
				return err
			}
			req := &adminv1.RemoveShardRequest{Shard: shard, NoDrain: noDrain, Parallelism: f.parallelism, PausePercent: f.pausePercent()}
			return c.startOp(cmd.Context(), f, func(ctx context.Context, a adminv1.AdminClient) (*adminv1.Operation, string, error) {
				resp, err := a.RemoveShard(ctx, req)
				return resp.GetOperation(), "", err
			})
		},
	}
	f.register(cmd, true)
	cmd.Flags().BoolVar(&noDrain, "no-drain", false, "fail instead of moving slots if the shard still owns any")
	return cmd
}

func (c *cli) migrateSlotsCmd() *cobra.Command {
	var f opFlags
	var to int32
	cmd := &cobra.Command{
		Use:   "migrate-slots RANGES --to SHARD",
		Short: "Move slots (e.g. 0-99,500) to a shard",
		Args:  nArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ranges, err := parseRanges(args[0])
			if err != nil {
				return err
			}
			if to < 0 {
				return usagef("--to SHARD is required")
			}
			req := &adminv1.MigrateSlotsRequest{Slots: ranges, TargetShard: to, Parallelism: f.parallelism, PausePercent: f.pausePercent()}
			return c.startOp(cmd.Context(), f, func(ctx context.Context, a adminv1.AdminClient) (*adminv1.Operation, string, error) {
				resp, err := a.MigrateSlots(ctx, req)
				return resp.GetOperation(), "", err
			})
		},
	}
	f.register(cmd, true)
	cmd.Flags().Int32Var(&to, "to", -1, "target shard")
	return cmd
}

func (c *cli) rebalanceCmd() *cobra.Command {
	var f opFlags
	var by string
	var dryRun bool
	var threshold uint32
	cmd := &cobra.Command{
		Use:   "rebalance",
		Short: "Even out the shards by key count or slot count",
		Args:  nArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := parseBy(by)
			if err != nil {
				return err
			}
			req := &adminv1.RebalanceRequest{By: b, DryRun: dryRun, Parallelism: f.parallelism, ThresholdPercent: threshold, PausePercent: f.pausePercent()}
			var resp *adminv1.RebalanceResponse
			err = c.call(cmd.Context(), func(ctx context.Context, a adminv1.AdminClient) error {
				resp, err = a.Rebalance(ctx, req)
				return err
			})
			if err != nil {
				return err
			}
			if resp.GetOperation() == nil {
				if c.json {
					return c.printJSON(resp)
				}
				if len(resp.GetPlan()) == 0 {
					fmt.Fprintln(c.stdout, "already balanced: nothing to move")
					return nil
				}
				printPlan(c.stdout, resp.GetPlan())
				return nil
			}
			if !c.json {
				printPlan(c.stdout, resp.GetPlan())
			}
			return c.follow(cmd.Context(), f, resp.GetOperation(), "")
		},
	}
	f.register(cmd, true)
	cmd.Flags().StringVar(&by, "by", "keys", "balance keys, slots or memory")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only print the plan")
	cmd.Flags().Uint32Var(&threshold, "threshold", 5, "leave the cluster alone while every shard is within this percentage of the mean")
	return cmd
}

func (c *cli) addReplicaCmd() *cobra.Command {
	var f opFlags
	var node string
	cmd := &cobra.Command{
		Use:   "add-replica SHARD",
		Short: "Add a spare node to a shard (non-voter, catch-up, then voter)",
		Args:  nArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			shard, err := parseShard(args[0])
			if err != nil {
				return err
			}
			req := &adminv1.AddReplicaRequest{Shard: shard, Node: node}
			return c.startOp(cmd.Context(), f, func(ctx context.Context, a adminv1.AdminClient) (*adminv1.Operation, string, error) {
				resp, err := a.AddReplica(ctx, req)
				if err != nil {
					return nil, "", err
				}
				return resp.GetOperation(), "node " + resp.GetNode(), nil
			})
		},
	}
	f.register(cmd, false)
	cmd.Flags().StringVar(&node, "node", "", "spare node to add (default: one in an AZ the shard lacks)")
	return cmd
}

func (c *cli) removeReplicaCmd() *cobra.Command {
	var f opFlags
	cmd := &cobra.Command{
		Use:   "remove-replica SHARD NODE",
		Short: "Remove a node from its shard; it becomes a spare",
		Args:  nArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			shard, err := parseShard(args[0])
			if err != nil {
				return err
			}
			req := &adminv1.RemoveReplicaRequest{Shard: shard, Node: args[1]}
			return c.startOp(cmd.Context(), f, func(ctx context.Context, a adminv1.AdminClient) (*adminv1.Operation, string, error) {
				resp, err := a.RemoveReplica(ctx, req)
				return resp.GetOperation(), "", err
			})
		},
	}
	f.register(cmd, false)
	return cmd
}

func (c *cli) watchCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "watch OP-ID",
		Short: "Follow an operation until it finishes (from any node)",
		Args:  nArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.watch(cmd.Context(), args[0])
		},
	}
}

func (c *cli) opsCmd() *cobra.Command {
	var local bool
	cmd := &cobra.Command{
		Use:   "ops",
		Short: "List the operations the nodes remember (running and finished)",
		Args:  nArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var resp *adminv1.ListOperationsResponse
			err := c.call(cmd.Context(), func(ctx context.Context, a adminv1.AdminClient) error {
				var err error
				resp, err = a.ListOperations(ctx, &adminv1.ListOperationsRequest{AllNodes: !local})
				return err
			})
			if err != nil {
				return err
			}
			if c.json {
				return c.printJSON(resp)
			}
			printOps(c.stdout, resp.GetOperations())
			return nil
		},
	}
	cmd.Flags().BoolVar(&local, "local", false, "only the operations of the node at --addr")
	return cmd
}

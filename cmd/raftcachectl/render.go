package main

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/raftcache/raftcache/internal/backup"
	adminv1 "github.com/raftcache/raftcache/proto/raftcache/admin/v1"
)

const totalSlots = 16384

func (c *cli) printJSON(m proto.Message) error {
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  ", UseProtoNames: true}.Marshal(m)
	if err != nil {
		return fmt.Errorf("json: %w", err)
	}
	_, err = fmt.Fprintln(c.stdout, string(b))
	return err
}

func table(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

// formatRanges renders slot ranges (backup.FormatRanges: manifests use it too).
func formatRanges(rs []*adminv1.SlotRange, max int) string { return backup.FormatRanges(rs, max) }

func roleName(r adminv1.NodeRole) string {
	switch r {
	case adminv1.NodeRole_NODE_ROLE_LEADER:
		return "leader"
	case adminv1.NodeRole_NODE_ROLE_REPLICA:
		return "replica"
	case adminv1.NodeRole_NODE_ROLE_NONVOTER:
		return "non-voter"
	case adminv1.NodeRole_NODE_ROLE_SPARE:
		return "spare"
	}
	return "forming"
}

// problems lists what is wrong with the cluster as described.
func problems(d *adminv1.DescribeClusterResponse) []string {
	var out []string
	if d.GetSlotsAssigned() != totalSlots {
		out = append(out, fmt.Sprintf("%d slots not served", totalSlots-int(d.GetSlotsAssigned())))
	}
	for _, s := range d.GetShards() {
		if s.GetLeader() == "" {
			out = append(out, fmt.Sprintf("shard %d has no leader", s.GetId()))
		}
	}
	for _, n := range d.GetNodes() {
		if !n.GetAlive() {
			out = append(out, fmt.Sprintf("node %s is failed or gone", n.GetId()))
		}
	}
	return out
}

func printStatus(w io.Writer, d *adminv1.DescribeClusterResponse) {
	fmt.Fprintf(w, "cluster: %d shards, %d nodes (%d spare), %d/%d slots served (answered by %s)\n",
		len(d.GetShards()), len(d.GetNodes()), len(d.GetSpares()), d.GetSlotsAssigned(), totalSlots, d.GetAnsweredBy())
	if p := problems(d); len(p) > 0 {
		fmt.Fprintf(w, "health: DEGRADED: %s\n", strings.Join(p, "; "))
	} else {
		fmt.Fprintln(w, "health: ok")
	}
	fmt.Fprintln(w)
	tw := table(w)
	fmt.Fprintln(tw, "SHARD\tLEADER\tMEMBERS\tSLOTS\tRANGES\tKEYS\tTERM\tCOMMIT")
	for _, s := range d.GetShards() {
		keys := "?"
		if s.GetKeys() >= 0 {
			keys = strconv.FormatInt(s.GetKeys(), 10)
		}
		leader := s.GetLeader()
		if leader == "" {
			leader = "NONE"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%d\t%d\n", s.GetId(), leader, strings.Join(s.GetMembers(), ","),
			s.GetSlotCount(), formatRanges(s.GetSlots(), 4), keys, s.GetTerm(), s.GetCommitIndex())
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = table(w)
	fmt.Fprintln(tw, "NODE\tAZ\tSHARD\tROLE\tRESP\tGRPC\tHEALTH\tAPPLIED")
	for _, n := range d.GetNodes() {
		shard := "-"
		if n.GetShard() >= 0 {
			shard = strconv.Itoa(int(n.GetShard()))
		}
		health := "ok"
		if !n.GetAlive() {
			health = "FAILED"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\n", n.GetId(), n.GetAz(), shard, roleName(n.GetRole()),
			n.GetRespAddr(), n.GetGrpcAddr(), health, n.GetAppliedIndex())
	}
	tw.Flush()
}

func printPlan(w io.Writer, plan []*adminv1.SlotMove) {
	moved := 0
	type pair struct{ from, to int32 }
	count := map[pair]int{}
	for _, m := range plan {
		n := int(m.GetSlots().GetEnd()-m.GetSlots().GetStart()) + 1
		moved += n
		count[pair{m.GetSourceShard(), m.GetTargetShard()}] += n
	}
	var pairs []pair
	for p := range count {
		pairs = append(pairs, p)
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].from != pairs[j].from {
			return pairs[i].from < pairs[j].from
		}
		return pairs[i].to < pairs[j].to
	})
	fmt.Fprintf(w, "plan: move %d slots\n", moved)
	tw := table(w)
	fmt.Fprintln(tw, "FROM\tTO\tSLOTS")
	for _, p := range pairs {
		fmt.Fprintf(tw, "%d\t%d\t%d\n", p.from, p.to, count[p])
	}
	tw.Flush()
}

func stateName(s adminv1.OperationState) string {
	switch s {
	case adminv1.OperationState_OPERATION_STATE_RUNNING:
		return "RUNNING"
	case adminv1.OperationState_OPERATION_STATE_DONE:
		return "DONE"
	case adminv1.OperationState_OPERATION_STATE_FAILED:
		return "FAILED"
	}
	return "UNKNOWN"
}

func kindName(k adminv1.OperationKind) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(k.String(), "OPERATION_KIND_")), "_", "-")
}

func printOps(w io.Writer, ops []*adminv1.Operation) {
	if len(ops) == 0 {
		fmt.Fprintln(w, "no operations")
		return
	}
	tw := table(w)
	fmt.Fprintln(tw, "ID\tKIND\tSTATE\tSLOTS\tKEYS\tMB\tSTARTED\tTOOK\tDESCRIPTION")
	for _, o := range ops {
		took := "-"
		if o.GetFinished() != nil {
			took = o.GetFinished().AsTime().Sub(o.GetStarted().AsTime()).Round(time.Millisecond).String()
		}
		desc := o.GetDescription()
		if o.GetError() != "" {
			desc += " (error: " + o.GetError() + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%d\t%.1f\t%s\t%s\t%s\n", o.GetId(), kindName(o.GetKind()), stateName(o.GetState()),
			o.GetSlotsDone(), o.GetSlotsTotal(), o.GetKeysMoved(), float64(o.GetBytesMoved())/1e6,
			o.GetStarted().AsTime().Local().Format("15:04:05"), took, desc)
	}
	tw.Flush()
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/raftcache/raftcache/internal/testport"
	"github.com/raftcache/raftcache/internal/testwait"
	"github.com/raftcache/raftcache/node"
	adminv1 "github.com/raftcache/raftcache/proto/raftcache/admin/v1"
	"github.com/raftcache/raftcache/raftfsm"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// memberlist's probe of a peer can outlive Shutdown by its timeout.
		goleak.IgnoreTopFunction("github.com/hashicorp/memberlist.(*Memberlist).probeNode"),
	)
}

// grpcOffset puts the test nodes' gRPC ports at RESP+5000, outside the
// ephemeral port range that the default RESP+30000 falls into.
const grpcOffset = 5000

// freeBase finds a base port with base..base+n-1 and its Raft, gossip and
// gRPC offsets free on loopback.
func freeBase(t *testing.T, n int) int {
	t.Helper()
	base, err := testport.FreeBase(n, 11000, 15000, node.RaftPortOffset, node.GossipPortOffset, grpcOffset)
	if err != nil {
		t.Fatal(err)
	}
	return base
}

// startNodes starts a cluster of nodes (no RESP gateways: the CLI only
// needs the admin API) as raftcache dev wires them: one shard of
// `replicas` founders in three AZs, plus spares.
func startNodes(t *testing.T, replicas, spares int, opts ...func(*node.Config)) []*node.Node {
	t.Helper()
	total := replicas + spares
	base := freeBase(t, total)
	dir := t.TempDir()
	var nodes []*node.Node
	t.Cleanup(func() {
		for i := len(nodes) - 1; i >= 0; i-- {
			_ = nodes[i].Close()
		}
	})
	for i := 0; i < total; i++ {
		cfg := node.Config{
			NodeID: fmt.Sprintf("n%d", i+1), AZ: []string{"az-a", "az-b", "az-c"}[i%3],
			DataDir: filepath.Join(dir, fmt.Sprintf("n%d", i+1)), Bind: "127.0.0.1",
			Port: base + i, GRPCPort: base + i + grpcOffset, BootstrapExpect: replicas, Shards: 1,
			Spare: i >= replicas, GossipLocal: true,
			// A short log tail: a replica added after a snapshot must
			// catch up through InstallSnapshot.
			TrailingLogs: 8,
		}
		if i > 0 {
			cfg.Join = []string{fmt.Sprintf("127.0.0.1:%d", base+node.GossipPortOffset)}
		}
		for _, o := range opts {
			o(&cfg)
		}
		n, err := node.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, n := range nodes {
		if err := n.WaitReady(ctx); err != nil {
			t.Fatal(err)
		}
		for !n.ClusterReady() || n.AliveNodes() < total {
			if ctx.Err() != nil {
				t.Fatal("cluster not ready")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nodes
}

// ctl runs one raftcachectl command line in-process.
func ctl(t *testing.T, addr string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = execute(context.Background(), append([]string{"--addr", addr}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

func mustCtl(t *testing.T, addr string, args ...string) string {
	t.Helper()
	out, errs, code := ctl(t, addr, args...)
	if code != 0 {
		t.Fatalf("raftcachectl %v: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, out, errs)
	}
	return out
}

func describeJSON(t *testing.T, addr string) *adminv1.DescribeClusterResponse {
	t.Helper()
	var d adminv1.DescribeClusterResponse
	if err := protojson.Unmarshal([]byte(mustCtl(t, addr, "--json", "status")), &d); err != nil {
		t.Fatal(err)
	}
	return &d
}

func TestCLI(t *testing.T) {
	nodes := startNodes(t, 3, 1)
	addr := nodes[0].GRPCAddr()

	t.Run("status", func(t *testing.T) {
		var out string
		testwait.Eventually(t, 30*time.Second, func() error {
			out = mustCtl(t, addr, "status")
			if !strings.Contains(out, "health: ok") || !strings.Contains(out, "1 shards, 4 nodes (1 spare), 16384/16384 slots served") {
				return fmt.Errorf("status:\n%s", out)
			}
			return nil
		})
		for _, re := range []string{
			`(?m)^SHARD\s+LEADER\s+MEMBERS\s+SLOTS\s+RANGES\s+KEYS\s+TERM\s+COMMIT$`,
			`(?m)^0\s+n[123]\s+n1,n2,n3\s+16384\s+0-16383\s+0\s+\d+\s+\d+$`,
			`(?m)^n4\s+az-a\s+-\s+spare\s+127\.0\.0\.1:\d+\s+127\.0\.0\.1:\d+\s+ok\s+0$`,
			`(?m)^n1\s+az-a\s+0\s+(leader|replica)\s+`,
		} {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("status output does not match %s:\n%s", re, out)
			}
		}
		d := describeJSON(t, addr)
		if len(d.GetNodes()) != 4 || len(d.GetShards()) != 1 || len(d.GetSpares()) != 1 || d.GetSpares()[0] != "n4" {
			t.Fatalf("--json status: %v", d)
		}
	})

	t.Run("failover", func(t *testing.T) {
		prev := describeJSON(t, addr).GetShards()[0].GetLeader()
		out := mustCtl(t, addr, "failover", "0")
		m := regexp.MustCompile(`^shard 0: leader (n\d) -> (n\d) in \S+\n$`).FindStringSubmatch(out)
		if m == nil || m[1] != prev || m[2] == prev {
			t.Fatalf("failover output %q (leader was %s)", out, prev)
		}
		out = mustCtl(t, addr, "failover", "0", "--to", prev)
		if !strings.HasPrefix(out, fmt.Sprintf("shard 0: leader %s -> %s in ", m[2], prev)) {
			t.Fatalf("failover --to: %q", out)
		}
		var fr adminv1.FailoverResponse
		if err := protojson.Unmarshal([]byte(mustCtl(t, addr, "--json", "failover", "0", "--to", prev)), &fr); err != nil || fr.GetNewLeader() != prev {
			t.Fatalf("--json failover: %v %v", &fr, err)
		}
	})

	var addOp string
	t.Run("add and remove a replica", func(t *testing.T) {
		// Writes, then a snapshot that compacts the log: the new replica
		// can only catch up from the snapshot.
		for i := 0; i < 300; i++ {
			k := fmt.Sprintf("k%d", i)
			testwait.Eventually(t, 20*time.Second, func() error {
				_, err := leaderOf(t, nodes).Write(context.Background(), [][][]byte{{[]byte("SET"), []byte(k), []byte("v")}})
				return err
			})
		}
		if err := leaderOf(t, nodes).Replica().Raft().Snapshot().Error(); err != nil {
			t.Fatal(err)
		}
		out := mustCtl(t, addr, "add-replica", "0")
		m := regexp.MustCompile(`(?m)^operation (n1-\d+) on n1: add node n4 \(az-a\) to shard 0$`).FindStringSubmatch(out)
		if m == nil || !regexp.MustCompile(`(?m)^n1-\d+ DONE in \S+$`).MatchString(out) {
			t.Fatalf("add-replica output:\n%s", out)
		}
		addOp = m[1]
		// Steps are sent as they start, but one can still pass between
		// two looks of a busy watcher: any step naming n4 will do.
		if !strings.Contains(out, "starting a replica of shard 0 on n4") && !strings.Contains(out, "n4 catching up") {
			t.Fatalf("no progress lines:\n%s", out)
		}
		d := describeJSON(t, addr)
		if len(d.GetShards()[0].GetMembers()) != 4 || len(d.GetSpares()) != 0 {
			t.Fatalf("after add-replica: %v", d.GetShards()[0])
		}
		n4 := nodes[3]
		testwait.Eventually(t, 20*time.Second, func() error {
			if keys := dbLen(n4); keys != 300 {
				return fmt.Errorf("new replica has %d keys, want 300", keys)
			}
			return nil
		})
		if st := n4.Replica().Stats(); st["last_snapshot_index"] == "0" {
			t.Fatalf("new replica caught up without a snapshot: %v", st)
		}
		out = mustCtl(t, addr, "remove-replica", "0", "n4")
		if !regexp.MustCompile(`(?m)^n1-\d+ DONE in \S+$`).MatchString(out) {
			t.Fatalf("remove-replica output:\n%s", out)
		}
		testwait.Eventually(t, 10*time.Second, func() error {
			if d := describeJSON(t, addr); len(d.GetSpares()) != 1 || len(d.GetShards()[0].GetMembers()) != 3 {
				return fmt.Errorf("after remove-replica: %v", d)
			}
			return nil
		})
		if n4.Replica() != nil || dbLen(n4) != 0 || n4.FSM().AppliedIndex() != 0 {
			t.Fatalf("released node kept its replica or data: %d keys", dbLen(n4))
		}
	})

	t.Run("watch and ops", func(t *testing.T) {
		// From another node: the operation ran on n1.
		other := nodes[2].GRPCAddr()
		out := mustCtl(t, other, "watch", addOp)
		if !regexp.MustCompile(`^` + addOp + ` DONE in \S+\n$`).MatchString(out) {
			t.Fatalf("watch: %q", out)
		}
		var op adminv1.Operation
		if err := protojson.Unmarshal([]byte(mustCtl(t, other, "--json", "watch", addOp)), &op); err != nil || op.GetState() != adminv1.OperationState_OPERATION_STATE_DONE {
			t.Fatalf("--json watch: %v %v", &op, err)
		}
		out = mustCtl(t, other, "ops")
		if !regexp.MustCompile(`(?m)^ID\s+KIND\s+STATE`).MatchString(out) ||
			!regexp.MustCompile(`(?m)^`+addOp+`\s+add-replica\s+DONE\s+0/0`).MatchString(out) ||
			!regexp.MustCompile(`(?m)^n1-\d+\s+remove-replica\s+DONE`).MatchString(out) {
			t.Fatalf("ops:\n%s", out)
		}
		if out := mustCtl(t, other, "ops", "--local"); out != "no operations\n" {
			t.Fatalf("ops --local on n3: %q", out)
		}
	})

	t.Run("detach, then watch; add and remove a shard", func(t *testing.T) {
		out := mustCtl(t, addr, "add-shard", "--replicas", "1", "--no-rebalance", "--detach")
		m := regexp.MustCompile(`(?m)^operation (n1-\d+) started on n1: add shard 1 on \[n4\]\nfollow it with: raftcachectl --addr \S+ watch (n1-\d+)\n$`).FindStringSubmatch(out)
		if m == nil || m[1] != m[2] {
			t.Fatalf("--detach output: %q", out)
		}
		if out := mustCtl(t, addr, "watch", m[1]); !strings.Contains(out, m[1]+" DONE") {
			t.Fatalf("watch: %q", out)
		}
		testwait.Eventually(t, 10*time.Second, func() error {
			d := describeJSON(t, addr)
			if len(d.GetShards()) != 2 || d.GetShards()[1].GetLeader() != "n4" || d.GetShards()[1].GetSlotCount() != 0 {
				return fmt.Errorf("after add-shard: %v", d.GetShards())
			}
			return nil
		})
		out = mustCtl(t, addr, "rebalance", "--dry-run", "--by", "slots")
		if !strings.Contains(out, "plan: move 8192 slots") || !regexp.MustCompile(`(?m)^0\s+1\s+8192$`).MatchString(out) {
			t.Fatalf("rebalance --dry-run:\n%s", out)
		}
		var op adminv1.Operation
		if err := protojson.Unmarshal([]byte(mustCtl(t, addr, "--json", "remove-shard", "1", "--pause-percent", "0")), &op); err != nil ||
			op.GetState() != adminv1.OperationState_OPERATION_STATE_DONE || op.GetKind() != adminv1.OperationKind_OPERATION_KIND_REMOVE_SHARD {
			t.Fatalf("--json remove-shard: %v %v", &op, err)
		}
		testwait.Eventually(t, 10*time.Second, func() error {
			if d := describeJSON(t, addr); len(d.GetShards()) != 1 || len(d.GetSpares()) != 1 {
				return fmt.Errorf("after remove-shard: %v", d)
			}
			return nil
		})
	})

	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			code int
			err  string
		}{
			{[]string{"migrate-slots", "10-5", "--to", "0"}, 1, "InvalidArgument: bad slot range 10-5"},
			{[]string{"migrate-slots", "0-99999", "--to", "0"}, 1, "InvalidArgument: bad slot range 0-99999"},
			{[]string{"migrate-slots", "0-5", "--to", "3"}, 1, "InvalidArgument: unknown shard 3"},
			{[]string{"migrate-slots", "x-5", "--to", "0"}, 2, `bad slot range "x-5"`},
			{[]string{"migrate-slots", "0-5"}, 2, "--to SHARD is required"},
			{[]string{"migrate-slots", "0-5", "--to", "0", "--parallelism", "9"}, 1, "InvalidArgument: parallelism 9: at most 8"},
			{[]string{"migrate-slots", "0-5", "--to", "0", "--pause-percent", "2000"}, 1, "InvalidArgument: pause_percent 2000: at most 1000"},
			{[]string{"rebalance", "--pause-percent", "1001"}, 1, "InvalidArgument: pause_percent 1001: at most 1000"},
			{[]string{"failover"}, 2, "want 1 argument(s), got 0"},
			{[]string{"failover", "x"}, 2, `bad shard id "x"`},
			{[]string{"failover", "9"}, 1, "InvalidArgument: unknown shard 9"},
			{[]string{"failover", "0", "--to", "zz"}, 1, `InvalidArgument: unknown node "zz"`},
			{[]string{"remove-shard", "0", "--no-drain"}, 1, "FailedPrecondition: shard 0 still owns 16384 slots"},
			{[]string{"remove-shard", "0"}, 1, "FailedPrecondition: shard 0 is the only shard"},
			{[]string{"add-shard", "--replicas", "3"}, 1, "FailedPrecondition: no spare nodes"},
			{[]string{"add-replica", "0", "--node", "n2"}, 1, "AlreadyExists: node n2 is already a voting member of shard 0"},
			{[]string{"remove-replica", "0", "n4"}, 1, "InvalidArgument: node n4 is not a member of shard 0"},
			{[]string{"rebalance", "--by", "bytes"}, 2, `--by "bytes": want keys, slots or memory`},
			{[]string{"watch", "n1-999"}, 1, "watching operation n1-999: NotFound: no operation n1-999"},
			{[]string{"watch", "bogus"}, 1, "InvalidArgument: malformed operation id"},
			{[]string{"nosuch"}, 2, "unknown command"},
			{[]string{"status", "--nosuch"}, 2, "unknown flag: --nosuch"},
		} {
			out, errs, code := ctl(t, addr, tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.err) {
				t.Errorf("raftcachectl %v: exit %d, stderr %q, stdout %q; want exit %d with %q", tc.args, code, errs, out, tc.code, tc.err)
			}
		}
		// Nothing listens there: a clear Unavailable error, bounded by --timeout.
		_, errs, code := ctl(t, "127.0.0.1:1", "--timeout", "2s", "status")
		if code != 1 || !strings.Contains(errs, "Unavailable") {
			t.Errorf("unreachable node: exit %d, %q", code, errs)
		}
	})
}

func TestKeyProgressLine(t *testing.T) {
	tests := []struct {
		done, total uint64
		took        time.Duration
		want        string
	}{
		{250_000, 1_000_000, 10 * time.Second, "[######..................] 250000/1000000 keys  25000 keys/s  ETA 30s"},
		{0, 1_000_000, 0, "[........................] 0/1000000 keys  0 keys/s"},
		{10, 10, time.Second, "[########################] 10/10 keys  10 keys/s"},
		{0, 0, time.Second, "[########################] 0/0 keys  0 keys/s"},
	}
	for _, tc := range tests {
		if got := keyProgressLine(tc.done, tc.total, tc.took); got != tc.want {
			t.Errorf("keyProgressLine(%d, %d, %v)\n got %q\nwant %q", tc.done, tc.total, tc.took, got, tc.want)
		}
	}
}

func TestProgressLine(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	o := &adminv1.Operation{
		State: adminv1.OperationState_OPERATION_STATE_RUNNING, SlotsTotal: 100, SlotsDone: 25, KeysMoved: 12345,
		BytesMoved: 45_600_000, BytesPerSecond: 4_100_000, Eta: durationpb.New(90 * time.Second),
		Started: timestamppb.New(start), Step: "moving slot 25 from shard 0 to shard 3",
	}
	want := "[######..................] 25/100 slots  12345 keys  45.6 MB  4.1 MB/s  ETA 1m30s  moving slot 25 from shard 0 to shard 3"
	if got := progressLine(o, start.Add(time.Minute)); got != want {
		t.Fatalf("progress line\n got %q\nwant %q", got, want)
	}
	o = &adminv1.Operation{State: adminv1.OperationState_OPERATION_STATE_RUNNING, Started: timestamppb.New(start), Step: "n7 catching up"}
	if got := progressLine(o, start.Add(1500*time.Millisecond)); got != "[running 1.5s]  n7 catching up" {
		t.Fatalf("progress line without slots: %q", got)
	}
	// Plain output prints a line only when something but the rates changed.
	var b bytes.Buffer
	p := &progress{w: &b}
	o = &adminv1.Operation{State: adminv1.OperationState_OPERATION_STATE_RUNNING, SlotsTotal: 4, Started: timestamppb.New(start)}
	p.show(o)
	o.BytesPerSecond = 10
	p.show(o)
	o.SlotsDone = 1
	p.show(o)
	if n := strings.Count(b.String(), "\n"); n != 2 {
		t.Fatalf("plain progress printed %d lines:\n%s", n, b.String())
	}
}

func TestParseRanges(t *testing.T) {
	rs, err := parseRanges("0-99, 500,16383")
	if err != nil || len(rs) != 3 || rs[0].GetEnd() != 99 || rs[1].GetStart() != 500 || rs[1].GetEnd() != 500 || rs[2].GetStart() != 16383 {
		t.Fatalf("parseRanges: %v %v", rs, err)
	}
	for _, bad := range []string{"", ",", "a", "1-b", "-5", "1--2"} {
		if _, err := parseRanges(bad); err == nil {
			t.Errorf("parseRanges(%q) accepted", bad)
		}
	}
}

func dbLen(n *node.Node) int {
	var keys int
	n.FSM().View(func(db *raftfsm.DB) { keys = db.Len() })
	return keys
}

func leaderOf(t *testing.T, nodes []*node.Node) *node.Node {
	t.Helper()
	var leader *node.Node
	testwait.Eventually(t, 20*time.Second, func() error {
		for _, n := range nodes {
			if n.IsLeader() && n.Replica().Ready() {
				leader = n
				return nil
			}
		}
		return fmt.Errorf("no leader")
	})
	return leader
}

package gateway

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/raftcache/raftcache/internal/testtool"
	"github.com/raftcache/raftcache/slots"
	"github.com/redis/go-redis/v9"
)

// topoBackend is the fake backend with a settable cluster view.
type topoBackend struct {
	*fakeBackend
	topo atomic.Pointer[slots.Topology]
}

func (b *topoBackend) Topology() *slots.Topology { return b.topo.Load() }

func newTopoBackend(t *slots.Topology) *topoBackend {
	b := &topoBackend{fakeBackend: newFakeBackend()}
	b.topo.Store(t)
	return b
}

// clusterID is the 40-hex id of test node i: "c0c0...", "c1c1..." ...
func clusterID(i int) string { return strings.Repeat(fmt.Sprintf("c%d", i), 20) }

// singleNodeTopology owns every slot, at the server's real address.
func singleNodeTopology(port int) *slots.Topology {
	id := clusterID(0)
	return &slots.Topology{
		Self: id,
		Nodes: []slots.NodeInfo{{ID: id, Name: "n0", Host: "127.0.0.1", Port: port, BusPort: port + 10000,
			HasShard: true, Leader: true, LeaderID: id, Epoch: 1, Offset: 10, PongMs: 0}},
		Shards: []slots.ShardInfo{{ID: 0, Slots: []slots.Range{{Start: 0, End: slots.Count - 1}}, LeaderID: id,
			Members: []string{id}}},
		Epoch: 1,
	}
}

// threeShardTopology: shards 0..2 with nodes 3s..3s+2 (ports 7000+i);
// leaders are nodes 0, 4 and 8. Shard 0 owns 0-5460 and the lone slot 12182,
// shard 1 5461-10922, shard 2 the rest. Node 7 (shard 2) is failed, node 5
// (shard 1) has not replicated anything yet, node 9 is a spare. Self is
// node 0, migrating 5000 to shard 1 and importing 6000 from it.
func threeShardTopology() *slots.Topology {
	t := &slots.Topology{Self: clusterID(0), Epoch: 4}
	leaders := []int{0, 4, 8}
	epochs := []uint64{3, 2, 4}
	for i := 0; i < 9; i++ {
		sh := i / 3
		t.Nodes = append(t.Nodes, slots.NodeInfo{ID: clusterID(i), Name: "n" + strconv.Itoa(i), Host: "127.0.0.1",
			Port: 7000 + i, BusPort: 17000 + i, AZ: "az-" + string(rune('a'+i%3)), Shard: slots.ShardID(sh),
			HasShard: true, Leader: i == leaders[sh], LeaderID: clusterID(leaders[sh]), Failed: i == 7,
			Epoch: epochs[sh], Offset: uint64(100 + i), PongMs: int64(1700000000000 + i)})
	}
	t.Nodes[5].Offset = 0
	t.Nodes = append(t.Nodes, slots.NodeInfo{ID: clusterID(9), Name: "n9", Host: "127.0.0.1", Port: 7009,
		BusPort: 17009, AZ: "az-a", Offset: 0, PongMs: 1700000000009})
	t.Shards = []slots.ShardInfo{
		{ID: 0, Slots: []slots.Range{{Start: 0, End: 5460}, {Start: 12182, End: 12182}}, LeaderID: clusterID(0),
			Members: []string{clusterID(0), clusterID(1), clusterID(2)}},
		{ID: 1, Slots: []slots.Range{{Start: 5461, End: 10922}}, LeaderID: clusterID(4),
			Members: []string{clusterID(3), clusterID(4), clusterID(5)}},
		{ID: 2, Slots: []slots.Range{{Start: 10923, End: 12181}, {Start: 12183, End: 16383}}, LeaderID: clusterID(8),
			Members: []string{clusterID(6), clusterID(7), clusterID(8)}},
	}
	t.Migrations = []slots.Migration{
		{Slot: 6000, State: slots.Importing, Peer: 1},
		{Slot: 5000, State: slots.Migrating, Peer: 1},
	}
	return t
}

func wantThreeShardNodes() string {
	id := clusterID
	return id(0) + " 127.0.0.1:7000@17000 myself,master - 0 1700000000000 3 connected 0-5460 12182 " +
		"[5000->-" + id(4) + "] [6000-<-" + id(4) + "]\n" +
		id(1) + " 127.0.0.1:7001@17001 slave " + id(0) + " 0 1700000000001 3 connected\n" +
		id(2) + " 127.0.0.1:7002@17002 slave " + id(0) + " 0 1700000000002 3 connected\n" +
		id(3) + " 127.0.0.1:7003@17003 slave " + id(4) + " 0 1700000000003 2 connected\n" +
		id(4) + " 127.0.0.1:7004@17004 master - 0 1700000000004 2 connected 5461-10922\n" +
		id(5) + " 127.0.0.1:7005@17005 slave " + id(4) + " 0 1700000000005 2 connected\n" +
		id(6) + " 127.0.0.1:7006@17006 slave " + id(8) + " 0 1700000000006 4 connected\n" +
		id(7) + " 127.0.0.1:7007@17007 slave,fail " + id(8) + " 0 1700000000007 4 disconnected\n" +
		id(8) + " 127.0.0.1:7008@17008 master - 0 1700000000008 4 connected 10923-12181 12183-16383\n" +
		id(9) + " 127.0.0.1:7009@17009 master - 0 1700000000009 0 connected\n"
}

func TestClusterNodesText(t *testing.T) {
	s := mustServer(t, newTopoBackend(threeShardTopology()))
	rc := newGoRedis(t, s, 2)
	got, err := rc.ClusterNodes(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	if want := wantThreeShardNodes(); got != want {
		t.Fatalf("CLUSTER NODES:\n%s\nwant:\n%s", got, want)
	}
	// RESP3: the same text as a txt verbatim string.
	r := mustRaw(t, s)
	r.send(cmd("HELLO", "3"))
	r.readReply()
	r.send(cmd("CLUSTER", "NODES"))
	if got := r.readReply(); got != "=txt:"+wantThreeShardNodes() {
		t.Fatalf("RESP3 CLUSTER NODES = %q", got)
	}
}

func TestClusterSlots(t *testing.T) {
	s := mustServer(t, newTopoBackend(threeShardTopology()))
	for _, proto := range []int{2, 3} {
		rc := newGoRedis(t, s, proto)
		got, err := rc.ClusterSlots(context.Background()).Result()
		if err != nil {
			t.Fatal(err)
		}
		node := func(i int) redis.ClusterNode {
			return redis.ClusterNode{ID: clusterID(i), Addr: "127.0.0.1:" + strconv.Itoa(7000+i)}
		}
		shard2 := []redis.ClusterNode{node(8), node(6)} // node 7 failed: omitted
		want := []redis.ClusterSlot{
			{Start: 0, End: 5460, Nodes: []redis.ClusterNode{node(0), node(1), node(2)}},
			{Start: 5461, End: 10922, Nodes: []redis.ClusterNode{node(4), node(3), node(5)}},
			{Start: 10923, End: 12181, Nodes: shard2},
			{Start: 12182, End: 12182, Nodes: []redis.ClusterNode{node(0), node(1), node(2)}},
			{Start: 12183, End: 16383, Nodes: shard2},
		}
		for i := range got {
			for j := range got[i].Nodes {
				if len(got[i].Nodes[j].NetworkingMetadata) == 0 {
					got[i].Nodes[j].NetworkingMetadata = nil
				}
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("RESP%d CLUSTER SLOTS = %+v\nwant %+v", proto, got, want)
		}
	}
	// Raw bytes: the metadata is an empty array in RESP2, an empty map in RESP3.
	r := mustRaw(t, s)
	r.send(cmd("CLUSTER", "SLOTS"))
	got := r.readReply()
	first := "*[*[:0 :5460 *[$127.0.0.1 :7000 $" + clusterID(0) + " *[]] *[$127.0.0.1 :7001 $" + clusterID(1) + " *[]]"
	if !strings.HasPrefix(got, first) {
		t.Fatalf("RESP2 CLUSTER SLOTS = %s", got)
	}
	r.send(cmd("HELLO", "3"))
	r.readReply()
	r.send(cmd("CLUSTER", "SLOTS"))
	if got := r.readReply(); !strings.HasPrefix(got, strings.ReplaceAll(first, "*[]", "%{}")) {
		t.Fatalf("RESP3 CLUSTER SLOTS = %s", got)
	}
}

func TestClusterShards(t *testing.T) {
	s := mustServer(t, newTopoBackend(threeShardTopology()))
	nodeMap := func(i int, role string, offset int, health string) string {
		return fmt.Sprintf("$id $%s $port :%d $ip $127.0.0.1 $endpoint $127.0.0.1 $role $%s "+
			"$replication-offset :%d $health $%s", clusterID(i), 7000+i, role, offset, health)
	}
	shards := [][2]string{
		{":0 :5460 :12182 :12182", nodeMap(0, "master", 100, "online") + "|" + nodeMap(1, "replica", 101, "online") +
			"|" + nodeMap(2, "replica", 102, "online")},
		{":5461 :10922", nodeMap(4, "master", 104, "online") + "|" + nodeMap(3, "replica", 103, "online") +
			"|" + nodeMap(5, "replica", 0, "loading")},
		{":10923 :12181 :12183 :16383", nodeMap(8, "master", 108, "online") + "|" + nodeMap(6, "replica", 106, "online") +
			"|" + nodeMap(7, "replica", 107, "fail")},
		{"", nodeMap(9, "master", 0, "online")},
	}
	render := func(open, close string) string {
		var parts []string
		for _, sh := range shards {
			var nodes []string
			for _, n := range strings.Split(sh[1], "|") {
				nodes = append(nodes, open+n+close)
			}
			parts = append(parts, open+"$slots *["+sh[0]+"] $nodes *["+strings.Join(nodes, " ")+"]"+close)
		}
		return "*[" + strings.Join(parts, " ") + "]"
	}
	r := mustRaw(t, s)
	r.send(cmd("CLUSTER", "SHARDS"))
	if got, want := r.readReply(), render("*[", "]"); got != want {
		t.Fatalf("RESP2 CLUSTER SHARDS:\n%s\nwant\n%s", got, want)
	}
	r.send(cmd("HELLO", "3"))
	r.readReply()
	r.send(cmd("CLUSTER", "SHARDS"))
	if got, want := r.readReply(), render("%{", "}"); got != want {
		t.Fatalf("RESP3 CLUSTER SHARDS:\n%s\nwant\n%s", got, want)
	}
	// go-redis parses both shapes.
	for _, proto := range []int{2, 3} {
		got, err := newGoRedis(t, s, proto).ClusterShards(context.Background()).Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 4 || len(got[0].Slots) != 2 || got[0].Slots[1] != (redis.SlotRange{Start: 12182, End: 12182}) ||
			len(got[2].Nodes) != 3 || got[2].Nodes[2].Health != "fail" || got[1].Nodes[0].ID != clusterID(4) ||
			got[1].Nodes[0].Port != 7004 || got[3].Nodes[0].Role != "master" {
			t.Fatalf("RESP%d go-redis CLUSTER SHARDS = %+v", proto, got)
		}
	}
}

func clusterInfoMap(t *testing.T, text string) map[string]string {
	t.Helper()
	if !strings.HasSuffix(text, "\r\n") {
		t.Fatalf("CLUSTER INFO not CRLF-terminated: %q", text)
	}
	m := map[string]string{}
	for _, l := range strings.Split(strings.TrimSuffix(text, "\r\n"), "\r\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			t.Fatalf("bad CLUSTER INFO line %q", l)
		}
		m[k] = v
	}
	return m
}

func TestClusterInfo(t *testing.T) {
	b := newTopoBackend(threeShardTopology())
	s := mustServer(t, b)
	rc := newGoRedis(t, s, 3)
	ctx := context.Background()
	text, err := rc.ClusterInfo(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(text, "cluster_state:ok\r\ncluster_slots_assigned:16384\r\n") {
		t.Fatalf("CLUSTER INFO order: %q", text)
	}
	want := map[string]string{"cluster_state": "ok", "cluster_slots_assigned": "16384", "cluster_slots_ok": "16384",
		"cluster_slots_pfail": "0", "cluster_slots_fail": "0", "cluster_known_nodes": "10", "cluster_size": "3",
		"cluster_current_epoch": "4", "cluster_my_epoch": "3", "cluster_stats_messages_sent": "0",
		"cluster_stats_messages_received": "0", "total_cluster_links_buffer_limit_exceeded": "0"}
	if got := clusterInfoMap(t, text); !reflect.DeepEqual(got, want) {
		t.Fatalf("CLUSTER INFO = %v\nwant %v", got, want)
	}

	// Shard 1 loses its leader and shard 2's leader is declared dead: the
	// cluster is down, shard 1's slots leave SLOTS, and its members are
	// replicas of an unknown master.
	top := threeShardTopology()
	top.Shards[1].LeaderID = ""
	for i := 3; i < 6; i++ {
		top.Nodes[i].LeaderID = ""
		top.Nodes[i].Leader = false
	}
	top.Nodes[8].Failed = true
	top.Self = clusterID(3)
	b.topo.Store(top)
	got := clusterInfoMap(t, rc.ClusterInfo(ctx).Val())
	if got["cluster_state"] != "fail" || got["cluster_slots_assigned"] != "16384" ||
		got["cluster_slots_ok"] != "5462" || got["cluster_slots_fail"] != "10922" || got["cluster_size"] != "2" ||
		got["cluster_my_epoch"] != "2" {
		t.Fatalf("degraded CLUSTER INFO = %v", got)
	}
	ranges, err := rc.ClusterSlots(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	var starts []int
	for _, r := range ranges {
		starts = append(starts, r.Start)
	}
	if !reflect.DeepEqual(starts, []int{0, 10923, 12182, 12183}) {
		t.Fatalf("SLOTS ranges without shard 1's leader start at %v", starts)
	}
	nodes := rc.ClusterNodes(ctx).Val()
	line3 := clusterID(3) + " 127.0.0.1:7003@17003 myself,slave - 0 1700000000003 2 connected\n"
	line8 := clusterID(8) + " 127.0.0.1:7008@17008 master,fail - 0 1700000000008 4 disconnected 10923-12181 12183-16383\n"
	if !strings.Contains(nodes, line3) || !strings.Contains(nodes, line8) || strings.Contains(nodes, "[") {
		t.Fatalf("degraded CLUSTER NODES:\n%s", nodes)
	}
	if got := rc.Do(ctx, "CLUSTER", "REPLICAS", clusterID(4)).Err(); got == nil ||
		got.Error() != "ERR The specified node is not a master" {
		t.Fatalf("REPLICAS of a leaderless member: %v", got)
	}
}

func TestClusterSmallCommands(t *testing.T) {
	s := mustServer(t, newTopoBackend(threeShardTopology()))
	r := mustRaw(t, s)
	line := func(i int, rest string) string {
		return "$" + clusterID(i) + " 127.0.0.1:" + strconv.Itoa(7000+i) + "@" + strconv.Itoa(17000+i) + " " + rest
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"CLUSTER", "MYID"}, "$" + clusterID(0)},
		{[]string{"cluster", "myshardid"}, "$" + strings.Repeat("0", 40)},
		{[]string{"CLUSTER", "REPLICAS", clusterID(8)}, "*[" +
			line(6, "slave "+clusterID(8)+" 0 1700000000006 4 connected") + " " +
			line(7, "slave,fail "+clusterID(8)+" 0 1700000000007 4 disconnected") + "]"},
		{[]string{"CLUSTER", "SLAVES", clusterID(4)}, "*[" +
			line(3, "slave "+clusterID(4)+" 0 1700000000003 2 connected") + " " +
			line(5, "slave "+clusterID(4)+" 0 1700000000005 2 connected") + "]"},
		{[]string{"CLUSTER", "REPLICAS", clusterID(9)}, "*[]"},
		{[]string{"CLUSTER", "REPLICAS", clusterID(1)}, "-ERR The specified node is not a master"},
		{[]string{"CLUSTER", "REPLICAS", "nosuchnode"}, "-ERR Unknown node nosuchnode"},
		{[]string{"CLUSTER", "LINKS"}, "*[]"},
		{[]string{"CLUSTER"}, "-ERR wrong number of arguments for 'cluster' command"},
		{[]string{"CLUSTER", "NODES", "x"}, "-ERR wrong number of arguments for 'cluster|nodes' command"},
		{[]string{"CLUSTER", "FOO"}, "-ERR unknown subcommand 'FOO'. Try CLUSTER HELP."},
		{[]string{"CLUSTER", "SETSLOT", "1", "STABLE"},
			"-ERR CLUSTER SETSLOT is not supported: raftcache manages slots and membership through raftcachectl"},
		{[]string{"CLUSTER", "addslots", "1"},
			"-ERR CLUSTER ADDSLOTS is not supported: raftcache manages slots and membership through raftcachectl"},
		{[]string{"CLUSTER", "FAILOVER"},
			"-ERR You should send CLUSTER FAILOVER to a replica"},
		{[]string{"CLUSTER", "MEET", "127.0.0.1", "7000"},
			"-ERR CLUSTER MEET is not supported: raftcache manages slots and membership through raftcachectl"},
		{[]string{"CLUSTER", "MEET", "127.0.0.1"}, "-ERR wrong number of arguments for 'cluster|meet' command"},
		{[]string{"READONLY"}, "+OK"},
		{[]string{"READWRITE"}, "+OK"},
		{[]string{"ASKING"}, "+OK"},
	}
	for _, tc := range tests {
		r.send(cmd(tc.args...))
		if got := r.readReply(); got != tc.want {
			t.Errorf("%q = %s\nwant %s", tc.args, got, tc.want)
		}
	}
	r.send(cmd("CLUSTER", "HELP"))
	if got := r.readReply(); !strings.HasPrefix(got, "*[+CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are: +COUNTKEYSINSLOT") {
		t.Errorf("CLUSTER HELP = %s", got)
	}
}

func TestClusterKeySlot(t *testing.T) {
	s := mustServer(t, newTopoBackend(threeShardTopology()))
	r := mustRaw(t, s)
	for key, slot := range map[string]int{"123456789": 12739, "foo": 12182, "bar": 5061, "hello": 866, "a": 15495,
		"": 0, "{user1000}.following": 3443, "{user1000}.followers": 3443, "foo{}{bar}": 8363, "foo{{bar}}zap": 4015,
		"foo{bar}{zap}": 5061, "{a}b": 15495, "{}": 15257} {
		r.send(cmd("CLUSTER", "KEYSLOT", key))
		if got, want := r.readReply(), ":"+strconv.Itoa(slot); got != want {
			t.Errorf("KEYSLOT %q = %s, want %s", key, got, want)
		}
	}
}

func TestClusterKeysInSlot(t *testing.T) {
	s := mustServer(t, newTopoBackend(threeShardTopology()))
	r := mustRaw(t, s)
	// Three keys in slot 3443, one elsewhere.
	for _, k := range []string{"{user1000}.a", "{user1000}.b", "{user1000}.c", "other"} {
		r.send(cmd("SET", k, "v"))
		if got := r.readReply(); got != "+OK" {
			t.Fatalf("SET %s = %s", k, got)
		}
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"COUNTKEYSINSLOT", "3443"}, ":3"},
		{[]string{"COUNTKEYSINSLOT", "0"}, ":0"},
		{[]string{"COUNTKEYSINSLOT", "16384"}, "-ERR Invalid slot"},
		{[]string{"COUNTKEYSINSLOT", "-1"}, "-ERR Invalid slot"},
		{[]string{"COUNTKEYSINSLOT", "x"}, "-ERR value is not an integer or out of range"},
		{[]string{"GETKEYSINSLOT", "3443", "0"}, "*[]"},
		{[]string{"GETKEYSINSLOT", "5", "10"}, "*[]"},
		{[]string{"GETKEYSINSLOT", "3443", "-1"}, "-ERR Invalid slot or number of keys"},
		{[]string{"GETKEYSINSLOT", "16384", "1"}, "-ERR Invalid slot or number of keys"},
		{[]string{"GETKEYSINSLOT", "x", "1"}, "-ERR value is not an integer or out of range"},
		{[]string{"GETKEYSINSLOT", "1", "y"}, "-ERR value is not an integer or out of range"},
	}
	for _, tc := range tests {
		r.send(cmd(append([]string{"CLUSTER"}, tc.args...)...))
		if got := r.readReply(); got != tc.want {
			t.Errorf("%q = %s, want %s", tc.args, got, tc.want)
		}
	}
	// The order of keys within a slot is the engine's: compare as sets.
	rc := newGoRedis(t, s, 2)
	ctx := context.Background()
	all := []string{"{user1000}.a", "{user1000}.b", "{user1000}.c"}
	for _, n := range []int{10, 3, 1 << 62} {
		got, err := rc.ClusterGetKeysInSlot(ctx, 3443, n).Result()
		slices.Sort(got)
		if err != nil || !slices.Equal(got, all) {
			t.Fatalf("GETKEYSINSLOT 3443 %d = %q, %v", n, got, err)
		}
	}
	got, err := rc.ClusterGetKeysInSlot(ctx, 3443, 2).Result()
	if err != nil || len(got) != 2 || got[0] == got[1] || !slices.Contains(all, got[0]) || !slices.Contains(all, got[1]) {
		t.Fatalf("GETKEYSINSLOT 3443 2 = %q, %v", got, err)
	}
}

// startSingleNode starts a server whose topology is one node owning every
// slot at the server's own address.
func startSingleNode(t *testing.T) (*Server, int) {
	t.Helper()
	b := newTopoBackend(singleNodeTopology(0))
	s := mustServer(t, b)
	port := s.Addr().(*net.TCPAddr).Port
	b.topo.Store(singleNodeTopology(port))
	return s, port
}

func TestClusterClientSingleNode(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run("resp"+strconv.Itoa(proto), func(t *testing.T) {
			s, _ := startSingleNode(t)
			cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{s.Addr().String()}, Protocol: proto,
				DialTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second, PoolSize: 2})
			defer cc.Close()
			ctx := context.Background()
			for i := 0; i < 20; i++ {
				k := "key:" + strconv.Itoa(i)
				if err := cc.Set(ctx, k, i, 0).Err(); err != nil {
					t.Fatalf("SET %s: %v", k, err)
				}
			}
			for i := 0; i < 20; i++ {
				k := "key:" + strconv.Itoa(i)
				if v, err := cc.Get(ctx, k).Int(); err != nil || v != i {
					t.Fatalf("GET %s = %d, %v", k, v, err)
				}
			}
			if n, err := cc.DBSize(ctx).Result(); err != nil || n != 20 {
				t.Fatalf("DBSIZE = %d, %v", n, err)
			}
			// A read-only client sends READONLY on every connection.
			ro := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{s.Addr().String()}, Protocol: proto,
				ReadOnly: true, DialTimeout: 5 * time.Second, PoolSize: 2})
			defer ro.Close()
			if v, err := ro.Get(ctx, "key:3").Result(); err != nil || v != "3" {
				t.Fatalf("read-only GET = %q, %v", v, err)
			}
		})
	}
}

func TestClusterRedisCliCheck(t *testing.T) {
	cli := testtool.Need(t, "redis-cli")
	s, port := startSingleNode(t)
	rc := newGoRedis(t, s, 2)
	if err := rc.Set(context.Background(), "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	p := strconv.Itoa(port)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, cli, "-p", p, "--cluster", "check", "127.0.0.1:"+p).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster check: %v\n%s", err, out)
	}
	text := string(out)
	t.Log(text)
	for _, want := range []string{"[OK] All nodes agree about slots configuration.",
		"[OK] All 16384 slots covered.", "1 keys | 16384 slots | 0 slaves."} {
		if !strings.Contains(text, want) {
			t.Fatalf("redis-cli --cluster check output lacks %q:\n%s", want, text)
		}
	}
}

// startTwoNodes starts two servers forming a two-shard cluster: node 0 leads
// shard 0 (slots 0-8191), node 1 leads shard 1 (8192-16383). Each server's
// view differs only in Self, so both render identical slot tokens.
func startTwoNodes(t *testing.T) (addrs [2]string, backends [2]*topoBackend) {
	t.Helper()
	var ports [2]int
	for i := range backends {
		backends[i] = newTopoBackend(nil)
		s := mustServer(t, backends[i])
		addrs[i] = s.Addr().String()
		ports[i] = s.Addr().(*net.TCPAddr).Port
	}
	for i, b := range backends {
		top := &slots.Topology{Self: clusterID(i), Epoch: 2}
		for j := range 2 {
			top.Nodes = append(top.Nodes, slots.NodeInfo{ID: clusterID(j), Host: "127.0.0.1", Port: ports[j],
				BusPort: ports[j] + 10000, Shard: slots.ShardID(j), HasShard: true, Leader: true,
				LeaderID: clusterID(j), Epoch: uint64(j + 1), Offset: 5})
			top.Shards = append(top.Shards, slots.ShardInfo{ID: slots.ShardID(j),
				Slots:    []slots.Range{{Start: slots.Slot(8192 * j), End: slots.Slot(8192*j + 8191)}},
				LeaderID: clusterID(j), Members: []string{clusterID(j)}})
		}
		b.topo.Store(top)
	}
	return addrs, backends
}

func TestClusterRedisCliTwoNodes(t *testing.T) {
	cli := testtool.Need(t, "redis-cli")
	addrs, backends := startTwoNodes(t)
	check := func() (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, cli, "--cluster", "check", addrs[1]).CombinedOutput()
		return string(out), err
	}
	out, err := check()
	if err != nil || !strings.Contains(out, "[OK] All 16384 slots covered.") ||
		!strings.Contains(out, "[OK] All nodes agree about slots configuration.") {
		t.Fatalf("redis-cli --cluster check: %v\n%s", err, out)
	}
	// An open slot on node 0 must be reported, and fails the check.
	top := *backends[0].Topology()
	top.Migrations = []slots.Migration{{Slot: 100, State: slots.Migrating, Peer: 1}}
	backends[0].topo.Store(&top)
	out, err = check()
	if err == nil || !strings.Contains(out, "has slots in migrating state 100") {
		t.Fatalf("redis-cli --cluster check with an open slot: %v\n%s", err, out)
	}

	bench, err := exec.LookPath("redis-benchmark")
	if err != nil {
		return
	}
	host, port, _ := net.SplitHostPort(addrs[0])
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	bout, err := exec.CommandContext(ctx, bench, "--cluster", "-h", host, "-p", port, "-n", "200", "-c", "2",
		"-t", "set,get", "-q").CombinedOutput()
	if err != nil || !strings.Contains(string(bout), "SET:") || !strings.Contains(string(bout), "GET:") {
		t.Fatalf("redis-benchmark --cluster: %v\n%s", err, bout)
	}
}

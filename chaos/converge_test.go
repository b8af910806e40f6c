package chaos

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/raftcache/raftcache/slots"
	"github.com/tidwall/redcon"
)

// fakeReplica is a RESP server holding fixed values and an applied index.
func fakeReplica(t *testing.T, applied int, values map[string]string) *Proc {
	t.Helper()
	return fakeReplicaHash(t, applied, "", values)
}

// fakeReplicaHash is fakeReplica with an applied-log hash line value
// (none when "").
func fakeReplicaHash(t *testing.T, applied int, logHash string, values map[string]string) *Proc {
	t.Helper()
	info := "# Replication\r\nrole:slave\r\nraft_applied_index:" + strconv.Itoa(applied) + "\r\n"
	if logHash != "" {
		info += "raft_applied_log_hash:" + logHash + "\r\n"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	srv := redcon.NewServer(ln.Addr().String(), func(conn redcon.Conn, cmd redcon.Command) {
		switch strings.ToUpper(string(cmd.Args[0])) {
		case "READONLY":
			conn.WriteString("OK")
		case "INFO":
			conn.WriteBulkString(info)
		case "GET":
			if v, ok := values[string(cmd.Args[1])]; ok {
				conn.WriteBulkString(v)
			} else {
				conn.WriteNull()
			}
		case "LRANGE":
			v := values[string(cmd.Args[1])]
			items := strings.Fields(v)
			conn.WriteArray(len(items))
			for _, it := range items {
				conn.WriteBulkString(it)
			}
		default:
			conn.WriteError("ERR unknown command")
		}
	}, nil, nil)
	errc := make(chan error, 1)
	go func() { _ = srv.ListenServeAndSignal(errc) }()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return &Proc{ID: "r" + strconv.Itoa(port), Port: port, Shard: 0}
}

func TestCheckConvergence(t *testing.T) {
	same := map[string]string{"reg:1": "a", "app:1": "t1 t2"}
	c := &ProcCluster{Shards: 1, ShardSlots: []slots.Range{{Start: 0, End: slots.Count - 1}}}
	c.Procs = []*Proc{fakeReplica(t, 7, same), fakeReplica(t, 7, same), fakeReplica(t, 7, same)}
	if r := CheckConvergence(context.Background(), c, []string{"reg:1", "app:1", "ctr:9"}); !r.OK() || r.Keys != 3 {
		t.Fatalf("identical replicas reported as diverged: %+v", r)
	}
	c.Procs[2] = fakeReplica(t, 7, map[string]string{"reg:1": "a", "app:1": "t1"})
	r := CheckConvergence(context.Background(), c, []string{"reg:1", "app:1"})
	if len(r.Diverged) != 1 || !strings.HasPrefix(r.Diverged[0], "app:1: ") {
		t.Fatalf("diverged list not found: %+v", r)
	}
}

// TestCheckConvergenceLogHashes: replicas at the same applied index with
// different applied-log hashes are reported even when every key compared
// agrees; unknown hashes are not compared.
func TestCheckConvergenceLogHashes(t *testing.T) {
	vals := map[string]string{"reg:1": "a"}
	const h1, h2 = "index=7,hash=00000000000000aa,known=1", "index=7,hash=00000000000000bb,known=1"
	c := &ProcCluster{Shards: 1, ShardSlots: []slots.Range{{Start: 0, End: slots.Count - 1}}}
	for _, tc := range []struct {
		name         string
		hashes       [3]string
		wantCompared int
		wantDiverged bool
	}{
		{"equal", [3]string{h1, h1, h1}, 1, false},
		{"one differs", [3]string{h1, h1, h2}, 0, true},
		{"one unknown", [3]string{h1, "index=7,hash=0000000000000000,known=0", h2}, 0, false},
		{"older servers", [3]string{"", "", ""}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.Procs = nil
			for _, h := range tc.hashes {
				c.Procs = append(c.Procs, fakeReplicaHash(t, 7, h, vals))
			}
			r := CheckConvergence(context.Background(), c, []string{"reg:1"})
			if r.LogHashes != tc.wantCompared || (len(r.LogDiverged) > 0) != tc.wantDiverged || r.OK() == tc.wantDiverged {
				t.Fatalf("%+v", r)
			}
			if tc.wantDiverged && !strings.Contains(r.LogDiverged[0], "00000000000000bb") {
				t.Fatalf("difference not described: %q", r.LogDiverged[0])
			}
		})
	}
}

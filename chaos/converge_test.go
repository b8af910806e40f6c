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
			conn.WriteBulkString("# Replication\r\nrole:slave\r\nraft_applied_index:" + strconv.Itoa(applied) + "\r\n")
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

package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/raftcache/raftcache/internal/authn"
	adminv1 "github.com/raftcache/raftcache/proto/raftcache/admin/v1"
)

// GRPCAddr is the advertised address of the node's gRPC server.
func (n *Node) GRPCAddr() string { return hostPort(n.cfg.Advertise, n.cfg.GRPCPort) }

// grpcStopGrace bounds GracefulStop at shutdown; streams still open then
// are cut by Stop.
const grpcStopGrace = 2 * time.Second

// grpcServer is the node's gRPC endpoint (admin API, node-to-node control,
// slot migration) plus the client connections it opens to other nodes.
type grpcServer struct {
	n   *Node
	lis net.Listener
	srv *grpc.Server

	mu    sync.Mutex
	conns map[string]*grpc.ClientConn // by address
	done  bool
}

func newGRPCServer(n *Node) (*grpcServer, error) {
	lis, err := net.Listen("tcp", hostPort(n.cfg.Bind, n.cfg.GRPCPort))
	if err != nil && n.cfg.GRPCPortFallback {
		// dev: any port will do for node-to-node calls (gossip carries it).
		if l, ferr := net.Listen("tcp", hostPort(n.cfg.Bind, 0)); ferr == nil {
			n.cfg.Logger.Warn("grpc port busy, using another one", "node_id", n.cfg.NodeID, "wanted", n.cfg.GRPCPort,
				"got", l.Addr().(*net.TCPAddr).Port, "err", err)
			n.cfg.GRPCPort = l.Addr().(*net.TCPAddr).Port
			lis, err = l, nil
		}
	}
	if err != nil {
		// On Linux, port+30000 usually lies in the ephemeral range
		// (net.ipv4.ip_local_port_range), where outgoing connections and
		// their TIME_WAIT sockets can hold it.
		return nil, fmt.Errorf("node %s: grpc listen (choose another --grpc-port, or reserve the port with net.ipv4.ip_local_reserved_ports): %w", n.cfg.NodeID, err)
	}
	opts := authn.ServerOptions(n.cfg.GRPCToken)
	if t := n.cfg.TLS; t != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(t.GRPCServer())))
	}
	s := grpc.NewServer(opts...)
	adminv1.RegisterAdminServer(s, &adminServer{n: n})
	adminv1.RegisterNodeControlServer(s, &controlServer{n: n})
	n.registerMigrate(s)
	return &grpcServer{n: n, lis: lis, srv: s, conns: map[string]*grpc.ClientConn{}}, nil
}

func (g *grpcServer) serve() {
	if err := g.srv.Serve(g.lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		g.n.cfg.Logger.Error("grpc server stopped", "node_id", g.n.cfg.NodeID, "err", err)
	}
}

// stop drains the server for at most grpcStopGrace, then cuts what is left,
// and closes the client connections. Idempotent.
func (g *grpcServer) stop() {
	g.mu.Lock()
	if g.done {
		g.mu.Unlock()
		return
	}
	g.done = true
	conns := g.conns
	g.conns = nil
	g.mu.Unlock()
	stopped := make(chan struct{})
	go func() { g.srv.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(grpcStopGrace):
		g.srv.Stop()
		<-stopped
	}
	_ = g.lis.Close() // Serve closes it, unless Start failed before Serve ran
	for _, c := range conns {
		_ = c.Close()
	}
}

// conn returns a (lazily connecting, cached) client connection to addr.
func (g *grpcServer) conn(addr string) (*grpc.ClientConn, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.done {
		return nil, status.Error(codes.Unavailable, "node is shutting down")
	}
	if c, ok := g.conns[addr]; ok {
		return c, nil
	}
	creds := insecure.NewCredentials()
	if t := g.n.cfg.TLS; t != nil {
		creds = credentials.NewTLS(t.PeerClient())
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(creds)}
	if t := g.n.cfg.GRPCToken; t != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(authn.BearerCreds(t)))
	}
	if f := g.n.cfg.Faults; f != nil {
		// Chaos tests cut node-to-node gRPC too (slot moves between
		// partitioned shards); the spec names this node by its gRPC address.
		opts = append(opts, grpc.WithContextDialer(f.Dialer(g.n.GRPCAddr())))
	}
	c, err := grpc.NewClient(addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("grpc dial %s: %w", addr, err)
	}
	g.conns[addr] = c
	return c, nil
}

// member returns what gossip knows of node id.
func (n *Node) member(id string) (Member, bool) {
	if id == n.cfg.NodeID {
		m := n.gossip.getSelf()
		m.Alive = true
		return m, true
	}
	v := n.view.Load()
	if v == nil {
		return Member{}, false
	}
	for _, m := range v.members {
		if m.NodeID == id {
			return m, true
		}
	}
	return Member{}, false
}

// control returns a NodeControl client for node id.
func (n *Node) control(id string) (adminv1.NodeControlClient, error) {
	m, ok := n.member(id)
	if !ok {
		return nil, status.Errorf(codes.InvalidArgument, "unknown node %q", id)
	}
	if m.GRPC == "" {
		return nil, status.Errorf(codes.Unavailable, "node %s has not published a gRPC address", id)
	}
	c, err := n.grpc.conn(m.GRPC)
	if err != nil {
		return nil, err
	}
	return adminv1.NewNodeControlClient(c), nil
}

// admin returns an Admin client for node id (operations run elsewhere).
func (n *Node) adminClient(id string) (adminv1.AdminClient, error) {
	m, ok := n.member(id)
	if !ok || m.GRPC == "" {
		return nil, status.Errorf(codes.NotFound, "unknown node %q", id)
	}
	c, err := n.grpc.conn(m.GRPC)
	if err != nil {
		return nil, err
	}
	return adminv1.NewAdminClient(c), nil
}

// leaderCallTimeout bounds how long a call that must reach a shard's
// leader keeps retrying while the leader is unknown or changing.
const leaderCallTimeout = 30 * time.Second

// onLeader runs fn against shard's current leader, retrying while the
// shard has no leader or fn answers Unavailable (e.g. the node it reached
// just lost leadership), for at most leaderCallTimeout.
func (n *Node) onLeader(ctx context.Context, shardID int, fn func(ctx context.Context, c adminv1.NodeControlClient, leader Member) error) error {
	ctx, cancel := context.WithTimeout(ctx, leaderCallTimeout)
	defer cancel()
	var last error
	for delay := 20 * time.Millisecond; ; delay = min(2*delay, 500*time.Millisecond) {
		leader, ok := n.findLeader(ctx, shardID)
		if ok {
			c, err := n.control(leader.NodeID)
			if err == nil {
				err = fn(ctx, c, leader)
			}
			if err == nil || status.Code(err) != codes.Unavailable || ctx.Err() != nil {
				return err
			}
			last = err
		} else {
			last = status.Errorf(codes.Unavailable, "shard %d has no leader", shardID)
		}
		select {
		case <-ctx.Done():
			return last // Unavailable: the leader could not be reached in time
		case <-time.After(delay):
		}
	}
}

// shardLeader returns the leader of shardID as this node knows it: from its
// own Raft state for its own shard, else from gossip.
func (n *Node) shardLeader(shardID int) (Member, bool) {
	if f := n.form.Load(); f != nil && f.Shard == shardID {
		if r := n.rep(); r != nil {
			if id, _ := r.Leader(); id != "" {
				if m, ok := n.member(id); ok && m.Alive {
					return m, true
				}
			}
		}
	}
	v := n.view.Load()
	if v == nil {
		return Member{}, false
	}
	m, ok := v.leaders[shardID]
	return m, ok && m.Alive
}

// findLeader is shardLeader, falling back to asking the shard's members
// whom they follow when gossip knows no leader (gossip lags behind Raft,
// and flaps on an overloaded machine).
func (n *Node) findLeader(ctx context.Context, shardID int) (Member, bool) {
	if m, ok := n.shardLeader(shardID); ok {
		return m, true
	}
	v := n.view.Load()
	if v == nil {
		return Member{}, false
	}
	for _, m := range v.shards[shardID] {
		c, err := n.control(m.NodeID)
		if err != nil {
			continue
		}
		qctx, cancel := context.WithTimeout(ctx, time.Second)
		st, err := c.NodeStatus(qctx, &adminv1.NodeStatusRequest{})
		cancel()
		if err != nil || int(st.GetShard()) != shardID || st.GetLeaderId() == "" {
			continue
		}
		if l, ok := n.member(st.GetLeaderId()); ok {
			return l, true
		}
	}
	return Member{}, false
}

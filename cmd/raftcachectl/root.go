package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/raftcache/raftcache/internal/authn"
	"github.com/raftcache/raftcache/internal/backup"
	"github.com/raftcache/raftcache/internal/tlsconf"
	adminv1 "github.com/raftcache/raftcache/proto/raftcache/admin/v1"
)

// cli holds the global flags and the connection of one invocation.
type cli struct {
	addr      string
	tokenFile string
	json      bool
	timeout   time.Duration
	tls       tlsOptions
	resp      respAuth
	s3        backup.S3Options // snapshot's --s3-endpoint, --s3-region
	stdout    io.Writer
	stderr    io.Writer

	conn   *grpc.ClientConn
	client adminv1.AdminClient
}

// usageError marks errors in the command line itself (exit status 2).
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := &cli{stdout: stdout, stderr: stderr}
	root := c.rootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if c.conn != nil {
		_ = c.conn.Close()
	}
	if err == nil {
		return 0
	}
	var ue usageError
	if errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command") {
		fmt.Fprintln(stderr, "raftcachectl:", err)
		return 2
	}
	msg := describeErr(err)
	if t, _ := c.tls.config(); t == nil && status.Code(err) == codes.Unavailable && closedBeforePreface(msg) {
		// A TLS server closes a plaintext connection without a word.
		msg += " (if the cluster uses TLS, add --tls-ca-cert-file)"
	}
	fmt.Fprintln(stderr, "raftcachectl:", msg)
	return 1
}

// closedBeforePreface reports whether a gRPC dial error says the server
// closed the connection before speaking HTTP/2: what a TLS port does to a
// plaintext client, seen as EOF or, depending on timing, as a reset.
func closedBeforePreface(msg string) bool {
	return strings.Contains(msg, "EOF") ||
		strings.Contains(msg, "server preface") && strings.Contains(msg, "connection reset by peer")
}

// describeErr renders an error whose cause is a gRPC status as
// "context: Code: message".
func describeErr(err error) string {
	var se interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &se) {
		return err.Error()
	}
	s := se.GRPCStatus()
	prefix := strings.TrimSuffix(err.Error(), s.Err().Error())
	return prefix + s.Code().String() + ": " + s.Message()
}

func (c *cli) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "raftcachectl",
		Short: "Administer a raftcache cluster through any node's gRPC admin API",
		Long: `raftcachectl talks to the admin API of any node of a raftcache cluster
(gRPC, on the node's RESP port + 30000). Every node accepts every command.

Long operations (add-shard, remove-shard, migrate-slots, rebalance,
add-replica, remove-replica) run on the node that received them; the command
follows their progress until they finish. With --detach it prints the
operation id and returns; "raftcachectl watch ID" follows it later, from any
terminal. An interrupted operation is resumed by running it again.

"snapshot create DIR" backs up every shard into a local directory;
"snapshot restore DIR" writes a backup into a cluster through its RESP ports.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.PersistentFlags().StringVar(&c.addr, "addr", "127.0.0.1:37000", "gRPC address HOST:PORT of any node (RESP port + 30000)")
	root.PersistentFlags().StringVar(&c.tokenFile, "token-file", "", "file holding the cluster's gRPC token (servers' --grpc-token-file); default: $RAFTCACHE_TOKEN")
	root.PersistentFlags().BoolVar(&c.json, "json", false, "print JSON instead of tables")
	root.PersistentFlags().DurationVar(&c.timeout, "timeout", 30*time.Second, "timeout of each call (not of watching an operation)")
	pf := root.PersistentFlags()
	pf.BoolVar(&c.tls.on, "tls", false, "connect with TLS (implied by the other --tls-* flags), trusting the system's CAs unless --tls-ca-cert-file")
	pf.StringVar(&c.tls.opts.CA, "tls-ca-cert-file", "", "PEM CA certificate the nodes' certificates are verified with (servers' --tls-ca-cert-file)")
	pf.StringVar(&c.tls.opts.Cert, "tls-cert-file", "", "PEM client certificate, for RESP ports with --tls-auth-clients yes (snapshot restore)")
	pf.StringVar(&c.tls.opts.Key, "tls-key-file", "", "PEM private key of --tls-cert-file")
	pf.StringVar(&c.tls.opts.ServerName, "tls-server-name", "", "name to verify the node's certificate against (default: the host dialled)")
	pf.StringVar(&c.resp.user, "user", "", "ACL user to authenticate as on RESP ports (acl, snapshot restore); default: default")
	pf.StringVar(&c.resp.passwordFile, "password-file", "", "file holding that user's password for RESP ports; default: $RAFTCACHE_PASSWORD")
	root.AddCommand(c.aclCmd(), c.statusCmd(), c.failoverCmd(), c.addShardCmd(), c.removeShardCmd(), c.migrateSlotsCmd(),
		c.rebalanceCmd(), c.addReplicaCmd(), c.removeReplicaCmd(), c.watchCmd(), c.opsCmd(), c.snapshotCmd())
	return root
}

// admin connects (lazily) to --addr.
func (c *cli) admin() (adminv1.AdminClient, error) {
	if c.client != nil {
		return c.client, nil
	}
	tc, err := c.tls.config()
	if err != nil {
		return nil, err
	}
	creds := insecure.NewCredentials()
	if tc != nil {
		creds = credentials.NewTLS(tc)
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(creds)}
	tok := os.Getenv("RAFTCACHE_TOKEN")
	if c.tokenFile != "" {
		var err error
		if tok, err = authn.ReadSecretFile(c.tokenFile); err != nil {
			return nil, fmt.Errorf("token: %w", err)
		}
	}
	if tok != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(authn.BearerCreds(tok)))
	}
	conn, err := grpc.NewClient(c.addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", c.addr, err)
	}
	c.conn, c.client = conn, adminv1.NewAdminClient(conn)
	return c.client, nil
}

// call runs fn with the admin client under the --timeout deadline.
func (c *cli) call(ctx context.Context, fn func(ctx context.Context, a adminv1.AdminClient) error) error {
	a, err := c.admin()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return fn(ctx, a)
}

// describe fetches the cluster's description.
func (c *cli) describe(ctx context.Context) (d *adminv1.DescribeClusterResponse, err error) {
	err = c.call(ctx, func(ctx context.Context, a adminv1.AdminClient) error {
		d, err = a.DescribeCluster(ctx, &adminv1.DescribeClusterRequest{})
		return err
	})
	return d, err
}

// nArgs accepts exactly n positional arguments, named in the usage line.
func nArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s: want %d argument(s), got %d (usage: %s)", cmd.Name(), n, len(args), cmd.UseLine())
		}
		return nil
	}
}

// tlsOptions are the --tls* flags.
type tlsOptions struct {
	on   bool
	opts tlsconf.ClientOptions
}

// config is the client TLS configuration, nil without TLS.
func (t tlsOptions) config() (*tls.Config, error) {
	o := t.opts
	if !t.on && o.CA == "" && o.Cert == "" && o.Key == "" && o.ServerName == "" {
		return nil, nil
	}
	return tlsconf.Client(o)
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/raftcache/raftcache/internal/authn"
)

// ACL users live on each node (as in Redis Cluster) and the nodes pass the
// newest change on to each other (node/aclsync.go). These commands apply a
// change to every live node at once through its RESP port, the way
// ElastiCache applies a user group to all of a cluster's nodes, and show
// where the nodes' users differ.

// respAuth is how raftcachectl authenticates on RESP ports.
type respAuth struct {
	user, passwordFile string
}

func (c *cli) respPassword() (string, error) {
	if c.resp.passwordFile == "" {
		return os.Getenv("RAFTCACHE_PASSWORD"), nil
	}
	pw, err := authn.ReadSecretFile(c.resp.passwordFile)
	if err != nil {
		return "", fmt.Errorf("password: %w", err)
	}
	return pw, nil
}

// respNodes returns a client per live node (id order) for its RESP port.
func (c *cli) respNodes(ctx context.Context) ([]string, []*redis.Client, error) {
	d, err := c.describe(ctx)
	if err != nil {
		return nil, nil, err
	}
	tc, err := c.tls.config()
	if err != nil {
		return nil, nil, err
	}
	pw, err := c.respPassword()
	if err != nil {
		return nil, nil, err
	}
	var ids []string
	var clients []*redis.Client
	nodes := d.GetNodes()
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].GetId() < nodes[j].GetId() })
	for _, n := range nodes {
		if !n.GetAlive() || n.GetRespAddr() == "" {
			continue
		}
		ids = append(ids, n.GetId())
		clients = append(clients, redis.NewClient(&redis.Options{Addr: n.GetRespAddr(), Username: c.resp.user,
			Password: pw, TLSConfig: tc, MaxRetries: -1, DialTimeout: c.timeout, ReadTimeout: c.timeout}))
	}
	if len(ids) == 0 {
		return nil, nil, errors.New("the cluster reports no live node with a RESP address")
	}
	return ids, clients, nil
}

func closeAll(cs []*redis.Client) {
	for _, cl := range cs {
		_ = cl.Close()
	}
}

func (c *cli) aclCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "acl",
		Short: "Manage ACL users on every node at once (setuser, deluser, list)",
		Long: `ACL users belong to each node, as in Redis Cluster, and a change made on any
node reaches the others within about a second (a node that was down takes the
newest users when it is back). These commands run ACL SETUSER / DELUSER on every
live node at once through its RESP port (authenticating with --user and
--password-file or $RAFTCACHE_PASSWORD), and "acl list" shows the users of every
node and where they differ. With --save each node also writes its ACL file (the
server's --aclfile), so the change survives a restart of the whole cluster.`,
	}
	var save bool
	apply := func(use, short string, min int, build func(args []string) []any) *cobra.Command {
		sub := &cobra.Command{
			Use:   use,
			Short: short,
			Args: func(cmd *cobra.Command, args []string) error {
				if len(args) < min {
					return usagef("%s: want at least %d argument(s) (usage: %s)", cmd.Name(), min, cmd.UseLine())
				}
				return nil
			},
			RunE: func(cmd *cobra.Command, args []string) error {
				return c.aclEverywhere(cmd.Context(), build(args), save)
			},
		}
		sub.Flags().BoolVar(&save, "save", false, "also ACL SAVE on every node (needs the servers' --aclfile)")
		return sub
	}
	cmd.AddCommand(
		apply("setuser NAME [RULE...]", "ACL SETUSER on every node", 1, func(args []string) []any {
			return toAny(append([]string{"acl", "setuser"}, args...))
		}),
		apply("deluser NAME...", "ACL DELUSER on every node", 1, func(args []string) []any {
			return toAny(append([]string{"acl", "deluser"}, args...))
		}),
		c.aclListCmd(),
	)
	return cmd
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// aclEverywhere runs one ACL command (and ACL SAVE) on every live node and
// reports each node's answer; it fails if any node failed.
func (c *cli) aclEverywhere(ctx context.Context, args []any, save bool) error {
	ids, clients, err := c.respNodes(ctx)
	if err != nil {
		return err
	}
	defer closeAll(clients)
	type result struct {
		Node   string `json:"node"`
		Result string `json:"result"`
		OK     bool   `json:"ok"`
	}
	var results []result
	failed := 0
	for i, cl := range clients {
		cctx, cancel := context.WithTimeout(ctx, c.timeout)
		r := result{Node: ids[i], OK: true}
		v, err := cl.Do(cctx, args...).Result()
		if err == nil && save {
			err = cl.Do(cctx, "acl", "save").Err()
		}
		cancel()
		if err != nil {
			r.Result, r.OK = err.Error(), false
			failed++
		} else {
			r.Result = fmt.Sprint(v)
		}
		results = append(results, r)
	}
	if c.json {
		if err := printJSONValue(c.stdout, results); err != nil {
			return err
		}
	} else {
		tw := table(c.stdout)
		fmt.Fprintln(tw, "NODE\tRESULT")
		for _, r := range results {
			fmt.Fprintf(tw, "%s\t%s\n", r.Node, r.Result)
		}
		_ = tw.Flush()
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d nodes failed", failed, len(clients))
	}
	return nil
}

func (c *cli) aclListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "Every node's users (ACL LIST), and where nodes differ",
		Args:  nArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ids, clients, err := c.respNodes(cmd.Context())
			if err != nil {
				return err
			}
			defer closeAll(clients)
			// rule line -> nodes that have it
			have := map[string][]string{}
			var errs []string
			for i, cl := range clients {
				cctx, cancel := context.WithTimeout(cmd.Context(), c.timeout)
				lines, err := cl.Do(cctx, "acl", "list").StringSlice()
				cancel()
				if err != nil {
					errs = append(errs, ids[i]+": "+err.Error())
					continue
				}
				for _, l := range lines {
					have[l] = append(have[l], ids[i])
				}
			}
			lines := make([]string, 0, len(have))
			for l := range have {
				lines = append(lines, l)
			}
			sort.Strings(lines)
			reached := len(ids) - len(errs)
			if c.json {
				out := map[string]any{"users": have, "nodes": ids, "errors": errs}
				b, err := json.MarshalIndent(out, "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintln(c.stdout, string(b))
			} else {
				tw := table(c.stdout)
				fmt.Fprintln(tw, "USER\tNODES")
				for _, l := range lines {
					where := "all"
					if len(have[l]) != reached {
						where = strings.Join(have[l], ",")
					}
					fmt.Fprintf(tw, "%s\t%s\n", l, where)
				}
				_ = tw.Flush()
			}
			differ := false
			for _, l := range lines {
				differ = differ || len(have[l]) != reached
			}
			switch {
			case len(errs) > 0:
				return fmt.Errorf("ACL LIST failed on %s", strings.Join(errs, "; "))
			case differ:
				fmt.Fprintln(c.stderr, "raftcachectl: the nodes' users differ (lines not on all nodes list where they are)")
			}
			return nil
		},
	}
}

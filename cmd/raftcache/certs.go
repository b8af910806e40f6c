package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/raftcache/raftcache/internal/tlsconf"
)

// runCerts implements `raftcache certs`: the throwaway CA, certificates and
// gossip key that `dev --tls` makes, written where a deployment can mount
// them (deploy/docker-compose.tls.yml). For trying TLS, not for production:
// the CA's key is not kept, so no other certificate can ever be signed.
func runCerts(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("raftcache certs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "directory to write ca.crt, node.crt/.key, client.crt/.key and gossip.key into (kept if already there)")
	hosts := fs.String("hosts", "", "comma-separated extra host names or IP addresses for the node certificate (localhost, 127.0.0.1 and ::1 are always in it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" || fs.NArg() > 0 {
		return fmt.Errorf("certs: usage: raftcache certs --dir DIR [--hosts h1,h2]")
	}
	d, err := tlsconf.GenerateDev(*dir, splitList(*hosts), time.Now())
	if err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	fmt.Fprintf(stdout, "CA %s, node certificate %s (key %s), client certificate %s (key %s), gossip key %s\n",
		d.Node.CA, d.Node.Cert, d.Node.Key, d.ClientCert, d.ClientKey, d.GossipKey)
	fmt.Fprintf(stdout, "nodes: --tls-cert-file %s --tls-key-file %s --tls-ca-cert-file %s --gossip-key-file %s\n",
		d.Node.Cert, d.Node.Key, d.Node.CA, d.GossipKey)
	return nil
}

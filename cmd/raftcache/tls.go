package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/raftcache/raftcache/internal/tlsconf"
)

// tlsFlags are the encryption flags of `raftcache server`.
type tlsFlags struct {
	cert, key, ca, authClients, gossipKeyFile string
}

// security is what tlsFlags load: TLS for the three TCP ports and the
// gossip key (either may be absent).
type security struct {
	tls       *tlsconf.Config
	gossipKey []byte
}

func (f tlsFlags) load(logger *slog.Logger) (security, error) {
	var s security
	files := tlsconf.Files{Cert: f.cert, Key: f.key, CA: f.ca, AuthClients: f.authClients}
	if files.Enabled() {
		c, err := tlsconf.Load(files)
		if err != nil {
			return s, err
		}
		s.tls = c
	} else if f.authClients != "" && f.authClients != "no" {
		return s, fmt.Errorf("--tls-auth-clients %s needs --tls-cert-file, --tls-key-file and --tls-ca-cert-file", f.authClients)
	}
	if f.gossipKeyFile != "" {
		k, err := tlsconf.ReadGossipKey(f.gossipKeyFile)
		if err != nil {
			return s, err
		}
		s.gossipKey = k
	}
	if s.tls != nil && s.gossipKey == nil {
		logger.Warn("TLS is on but gossip is not encrypted: give every node the same --gossip-key-file")
	}
	return s, nil
}

// reloadOnHangup re-reads the certificate files on SIGHUP (certificate
// rotation: new connections use the new certificate) until ctx ends.
func reloadOnHangup(ctx context.Context, c *tlsconf.Config, logger *slog.Logger) {
	if c == nil {
		return
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if err := c.Reload(); err != nil {
					logger.Error("TLS reload failed; the previous certificate stays in use", "err", err)
					continue
				}
				logger.Info("TLS certificate reloaded", "not_after", c.NotAfter())
			}
		}
	}()
}

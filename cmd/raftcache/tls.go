package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/raftcache/raftcache/gateway"
	"github.com/raftcache/raftcache/internal/tlsconf"
	"github.com/raftcache/raftcache/node"
)

// tlsFlags are the encryption flags of `raftcache server`.
type tlsFlags struct {
	cert, key, ca, authClients, gossipKeyFile string
	caDir, keyPass                            string // tls-ca-cert-dir, tls-key-file-pass
	protocols, ciphers                        string // tls-protocols, tls-ciphers
}

// security is what tlsFlags load: TLS for the three TCP ports and the
// gossip key (either may be absent).
type security struct {
	tls       *tlsconf.Config
	gossipKey []byte
}

func (f tlsFlags) load(logger *slog.Logger) (security, error) {
	var s security
	files := tlsconf.Files{Cert: f.cert, Key: f.key, CA: f.ca, CADir: f.caDir, KeyPass: f.keyPass, AuthClients: f.authClients}
	if files.Enabled() {
		c, err := tlsconf.Load(files)
		if err != nil {
			return s, err
		}
		if err := c.SetPolicy(f.protocols, f.ciphers); err != nil {
			return s, err
		}
		s.tls = c
	} else if f.authClients != "" && f.authClients != "no" {
		return s, fmt.Errorf("--tls-auth-clients %s needs --tls-cert-file, --tls-key-file and --tls-ca-cert-file", f.authClients)
	} else if f.protocols != "" || f.ciphers != "" {
		return s, errors.New("--tls-protocols and --tls-ciphers need --tls-cert-file, --tls-key-file and --tls-ca-cert-file")
	} else if f.keyPass != "" {
		return s, errors.New("--tls-key-file-pass needs --tls-cert-file, --tls-key-file and --tls-ca-cert-file")
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

// tlsControl gives the gateway's CONFIG GET/SET of tls-cert-file,
// tls-key-file, tls-key-file-pass, tls-ca-cert-file, tls-ca-cert-dir,
// tls-auth-clients, tls-protocols and tls-ciphers the node's TLS
// identity: the one its RESP, Raft and gRPC ports use and SIGHUP reloads,
// so a change reaches new connections on all three (tls-auth-clients
// concerns the RESP port only).
type tlsControl struct {
	c      *tlsconf.Config
	logger *slog.Logger
}

var _ gateway.TLSControl = tlsControl{}

func (t tlsControl) TLSSettings() gateway.TLSSettings {
	f := t.c.Files()
	protocols, ciphers := t.c.Policy()
	return gateway.TLSSettings{CertFile: f.Cert, KeyFile: f.Key, CAFile: f.CA, CADir: f.CADir, KeyPass: f.KeyPass,
		AuthClients: f.AuthClients, Protocols: protocols, Ciphers: ciphers}
}

func (t tlsControl) SetTLSPolicy(protocols, ciphers string) error {
	if err := t.c.SetPolicy(protocols, ciphers); err != nil {
		return err
	}
	t.logger.Info("TLS protocols and ciphers changed by CONFIG SET", "tls_protocols", protocols, "tls_ciphers", ciphers)
	return nil
}

func (t tlsControl) SetTLSFiles(s gateway.TLSSettings) error {
	if err := t.c.SetFiles(tlsconf.Files{Cert: s.CertFile, Key: s.KeyFile, CA: s.CAFile, CADir: s.CADir, KeyPass: s.KeyPass, AuthClients: s.AuthClients}); err != nil {
		t.logger.Error("CONFIG SET of the TLS files failed; the previous certificate stays in use", "err", err)
		return err
	}
	t.logger.Info("TLS certificate changed by CONFIG SET", "cert", s.CertFile, "not_after", t.c.NotAfter())
	return nil
}

func (t tlsControl) SetTLSAuthClients(v string) error {
	if err := t.c.SetAuthClients(v); err != nil {
		return err
	}
	t.logger.Info("tls-auth-clients changed by CONFIG SET", "tls_auth_clients", v)
	return nil
}

// clientPorts are a node's client ports as --port and --tls-port give
// them, with Redis's semantics: without --tls-port the RESP port speaks
// TLS when certificates are given (else plaintext); with it, --port is
// plaintext and --tls-port TLS, and --port 0 means TLS only.
type clientPorts struct {
	resp int // node.Config.Port: the gateway's first port, base of the Raft/gossip/gRPC offsets
	tls  int // a TLS port beside the plaintext resp (node.Config.TLSPort); 0 = none
}

// resolveClientPorts checks --port/--tls-port/--announce-tls-port against
// each other and the certificates (tlsOn), naming the flags at fault.
func resolveClientPorts(port, tlsPort, announceTLSPort, grpcPort int, tlsOn bool) (clientPorts, error) {
	if port < 0 || port > 65535 {
		return clientPorts{}, fmt.Errorf("--port %d: out of range (0-65535)", port)
	}
	if tlsPort < 0 || tlsPort > 65535 {
		return clientPorts{}, fmt.Errorf("--tls-port %d: out of range (0-65535)", tlsPort)
	}
	if announceTLSPort < 0 || announceTLSPort > 65535 {
		return clientPorts{}, fmt.Errorf("--announce-tls-port %d: out of range (0-65535)", announceTLSPort)
	}
	if tlsPort == 0 {
		if port == 0 {
			return clientPorts{}, errors.New("--port 0 (no plaintext port) needs --tls-port")
		}
		if announceTLSPort != 0 {
			return clientPorts{}, errors.New("--announce-tls-port needs --tls-port and --port (a TLS port beside the plaintext one)")
		}
		return clientPorts{resp: port}, nil
	}
	if !tlsOn {
		return clientPorts{}, fmt.Errorf("--tls-port %d needs --tls-cert-file, --tls-key-file and --tls-ca-cert-file", tlsPort)
	}
	if port == 0 {
		// TLS only: the TLS port is the node's one client port, and the
		// other ports derive from it as they would from --port.
		if announceTLSPort != 0 {
			return clientPorts{}, errors.New("--announce-tls-port needs a plaintext --port beside --tls-port (with --port 0, use --announce)")
		}
		return clientPorts{resp: tlsPort}, nil
	}
	if tlsPort == port {
		return clientPorts{}, fmt.Errorf("--tls-port %d: the same as --port", tlsPort)
	}
	if grpcPort == 0 {
		grpcPort = port + node.GRPCPortOffset
	}
	for _, o := range []struct {
		name string
		port int
	}{{"Raft port (--port+10000)", port + node.RaftPortOffset}, {"gossip port (--port+20000)", port + node.GossipPortOffset}, {"gRPC port", grpcPort}} {
		if tlsPort == o.port {
			return clientPorts{}, fmt.Errorf("--tls-port %d: the same as the %s", tlsPort, o.name)
		}
	}
	return clientPorts{resp: port, tls: tlsPort}, nil
}

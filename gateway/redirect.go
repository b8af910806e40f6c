package gateway

import (
	"net"
	"strings"

	"github.com/raftcache/raftcache/slots"
)

// A node may serve plaintext and TLS on two ports (Config.TLSAddr, Redis's
// port and tls-port). As Redis 7.2 does, a client is told the ports of its
// own kind: CLUSTER SLOTS, SHARDS, NODES, MOVED and ASK name the peers'
// TLS ports to a TLS connection and their plaintext ports to a plaintext
// one. The backend names peers by their primary client address (the
// plaintext one when a node has both); a TLS connection's redirects are
// rewritten here, the one place every redirect passes (replyError,
// appendEngineReply).

// tlsRedirector is an optional Backend method: the TLS client address of
// the node whose primary client address is addr, "" when that node has no
// separate TLS port (or is unknown).
type tlsRedirector interface {
	TLSRedirectAddr(addr string) string
}

// redirectFor returns msg as client c must see it: a MOVED or ASK to a
// node with a TLS port beside its plaintext one names the TLS port when c
// is a TLS connection.
func (s *Server) redirectFor(c *client, msg string) string {
	if c == nil || !c.tls {
		return msg
	}
	if !strings.HasPrefix(msg, "MOVED ") && !strings.HasPrefix(msg, "ASK ") {
		return msg
	}
	tr, ok := s.backend.(tlsRedirector)
	if !ok {
		return msg
	}
	i := strings.LastIndexByte(msg, ' ')
	if a := tr.TLSRedirectAddr(msg[i+1:]); a != "" {
		return msg[:i+1] + a
	}
	return msg
}

// isTLSConn reports whether an accepted connection speaks TLS.
func isTLSConn(raw net.Conn) bool {
	if g, ok := raw.(*guardConn); ok {
		raw = g.Conn
	}
	_, ok := raw.(*tlsConn)
	return ok
}

// clientPort is the port of nd that client c is told: its TLS port when c
// speaks TLS and nd has one beside its plaintext port, else its port.
func (c *client) clientPort(nd *slots.NodeInfo) int {
	if c.tls && nd.TLSPort != 0 {
		return nd.TLSPort
	}
	return nd.Port
}

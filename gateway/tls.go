package gateway

import (
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"time"
)

// tlsHandshakeTimeout bounds a client's TLS handshake, so that a
// connection that never completes one does not hold a goroutine forever.
const tlsHandshakeTimeout = 10 * time.Second

// tlsListener serves TLS on accepted connections.
type tlsListener struct {
	net.Listener
	conf *tls.Config
}

func (l *tlsListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &tlsConn{Conn: tls.Server(c, l.conf), raw: c}, nil
}

// tlsConn runs the handshake under its own deadline before the first read
// or write, then puts back the read deadline the idle timeout set.
type tlsConn struct {
	*tls.Conn
	raw net.Conn

	mu     sync.Mutex
	done   bool
	err    error
	readDL time.Time
}

func (c *tlsConn) handshake(timeout time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return c.err
	}
	c.done = true
	_ = c.raw.SetDeadline(time.Now().Add(timeout))
	c.err = c.Conn.Handshake()
	_ = c.raw.SetWriteDeadline(time.Time{})
	_ = c.raw.SetReadDeadline(c.readDL)
	return c.err
}

func (c *tlsConn) Read(p []byte) (int, error) {
	if err := c.handshake(tlsHandshakeTimeout); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *tlsConn) Write(p []byte) (int, error) {
	if err := c.handshake(tlsHandshakeTimeout); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

func (c *tlsConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.readDL = t
	c.mu.Unlock()
	return c.Conn.SetReadDeadline(t)
}

func (c *tlsConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.readDL = t
	c.mu.Unlock()
	return c.Conn.SetDeadline(t)
}

// NetConn is the TCP connection under TLS.
func (c *tlsConn) NetConn() net.Conn { return c.raw }

// TLSSettings are the node's TLS settings that CONFIG GET and SET reach,
// by their Redis names.
type TLSSettings struct {
	CertFile    string // tls-cert-file
	KeyFile     string // tls-key-file
	KeyPass     string // tls-key-file-pass
	CAFile      string // tls-ca-cert-file
	CADir       string // tls-ca-cert-dir
	AuthClients string // tls-auth-clients: no, yes or optional
	Protocols   string // tls-protocols ("": TLSv1.2 and TLSv1.3)
	Ciphers     string // tls-ciphers ("": the TLS library's defaults)
}

// TLSControl is the node's TLS identity as CONFIG sees it (cmd/raftcache
// provides it for a node started with TLS; Server.SetTLSControl). Changes
// apply to connections made after them, on every port that uses the
// identity; connections already open keep theirs.
type TLSControl interface {
	// TLSSettings returns the settings in use.
	TLSSettings() TLSSettings
	// SetTLSFiles reads and checks the files s names (all of them, even
	// unchanged ones, as Redis re-reads them) and then puts s in use; on
	// error it changes nothing.
	SetTLSFiles(s TLSSettings) error
	// SetTLSAuthClients changes tls-auth-clients alone.
	SetTLSAuthClients(v string) error
	// SetTLSPolicy checks tls-protocols and tls-ciphers together and puts
	// them in use; on error it changes nothing.
	SetTLSPolicy(protocols, ciphers string) error
}

// tlsHook holds the TLSControl; mu serialises CONFIG SETs of tls-*
// parameters, each of which merges its values into the settings in use.
type tlsHook struct {
	mu  sync.Mutex
	ctl TLSControl
}

// tlsValue is a tls-* parameter's current value: the node's, or empty
// ("no" for tls-auth-clients) on a node without TLS.
func (s *Server) tlsValue(name string) string {
	h := s.tlsHook.Load()
	if h == nil {
		if name == "tls-auth-clients" {
			return "no"
		}
		return ""
	}
	return h.ctl.TLSSettings().value(name)
}

func (t TLSSettings) value(name string) string {
	switch name {
	case "tls-cert-file":
		return t.CertFile
	case "tls-key-file":
		return t.KeyFile
	case "tls-key-file-pass":
		return t.KeyPass
	case "tls-ca-cert-file":
		return t.CAFile
	case "tls-ca-cert-dir":
		return t.CADir
	case "tls-protocols":
		return t.Protocols
	case "tls-ciphers":
		return t.Ciphers
	}
	return t.AuthClients
}

// setTLS applies a CONFIG SET's validated tls-* values together, before
// its other parameters (which cannot fail): if any certificate file is
// named, every file is re-read and checked first, and an error leaves the
// settings, and the other parameters, as they were. It returns the
// error's text after "CONFIG SET failed (possibly related to argument
// '...') - ", and the parameter to name.
func (s *Server) setTLS(sets []configSet) (param, errText string) {
	param = sets[0].p.name
	h := s.tlsHook.Load()
	if h == nil {
		// The ports are fixed at start: a node without TLS cannot turn it
		// on, so storing file names it would never read would only mislead.
		return param, "TLS is not enabled on this node (it was started without a certificate)"
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	old := h.ctl.TLSSettings()
	t := old
	files, policy := false, false
	for _, st := range sets {
		switch st.p.name {
		case "tls-cert-file":
			t.CertFile, files = st.v, true
		case "tls-key-file":
			t.KeyFile, files = st.v, true
		case "tls-key-file-pass":
			t.KeyPass, files = st.v, true
		case "tls-ca-cert-file":
			t.CAFile, files = st.v, true
		case "tls-ca-cert-dir":
			t.CADir, files = st.v, true
		case "tls-auth-clients":
			t.AuthClients = st.v
		case "tls-protocols":
			t.Protocols, policy = st.v, true
		case "tls-ciphers":
			t.Ciphers, policy = st.v, true
		}
	}
	// The versions and suites first, as they are the cheaper check; if the
	// files then fail they are put back, so the whole SET changes nothing.
	var err error
	if policy {
		err = h.ctl.SetTLSPolicy(t.Protocols, t.Ciphers)
	}
	switch {
	case err != nil:
	case files:
		if err = h.ctl.SetTLSFiles(t); err != nil && policy {
			_ = h.ctl.SetTLSPolicy(old.Protocols, old.Ciphers)
		}
	case t.AuthClients != old.AuthClients || !policy:
		err = h.ctl.SetTLSAuthClients(t.AuthClients)
	}
	if err != nil {
		// Redis says "Unable to update TLS configuration. Check server
		// logs."; the cause is more use to the operator here.
		msg := strings.NewReplacer("\r", " ", "\n", " ").Replace(err.Error())
		return param, "Unable to update TLS configuration: " + msg
	}
	return "", ""
}

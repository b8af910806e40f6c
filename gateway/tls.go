package gateway

import (
	"crypto/tls"
	"net"
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

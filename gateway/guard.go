package gateway

import (
	"errors"
	"net"
	"sync/atomic"
	"time"
)

// redcon buffers a command until it is complete and grows its read buffer
// without limit, so a header such as "$4000000000" followed by a slow trickle
// of bytes would make it allocate that much. guardConn sits under redcon and
// follows the RESP framing of the byte stream: it rejects oversized headers
// before their payload is buffered, exactly where Redis would (Protocol error
// replies from networking.c), and closes the connection.

const (
	maxInlineSize    = 64 * 1024   // PROTO_INLINE_MAX_SIZE
	maxMultibulkLen  = 1024 * 1024 // largest accepted argument count
	maxHeaderDigits  = 24          // longer length lines cannot be valid numbers
	defaultMaxBulk   = 512 << 20   // proto-max-bulk-len
	defaultMaxQuery  = 1 << 30     // client-query-buffer-limit
	errQueryOverflow = "query buffer limit"
)

var errGuardClosed = errors.New("gateway: protocol error, connection closed")

type frameState uint8

const (
	fsStart    frameState = iota // at a command boundary
	fsInline                     // inside an inline command line
	fsMbulkHdr                   // reading "*<n>\r\n"
	fsBulkHdr                    // reading "$<n>\r\n"
	fsBulkBody                   // skipping a bulk payload and its CRLF
	fsOff                        // framing redcon rejects itself: stop checking
)

// framer tracks RESP framing across reads.
type framer struct {
	state     frameState
	hdr       [maxHeaderDigits]byte
	hdrLen    int   // bytes of the current header line (may exceed len(hdr))
	args      int   // bulk arguments left in the current command
	skip      int64 // payload bytes left (+2 for CRLF)
	cmdBytes  int64 // bytes of the command being received
	maxBulk   *atomic.Int64
	maxQuery  *atomic.Int64
	lineBytes int // inline line length so far
	// elide lists byte ranges of the last feed call that must not reach
	// redcon: "*0" / "*-1" headers, which Redis ignores and redcon rejects.
	elide     [][2]int
	emptyHdr  bool
	startHere bool // the current command started in this feed call
}

// feed advances over p. It returns the number of bytes that may be passed on
// and, if the stream violates a limit, the Redis error text (without "ERR ").
func (f *framer) feed(p []byte) (int, string) {
	i := 0
	// On a violation only the bytes before the offending command are passed
	// on, so that redcon still serves the complete commands preceding it.
	cmdStart := 0
	f.elide = f.elide[:0]
	f.startHere = false
	for i < len(p) {
		switch f.state {
		case fsOff:
			return len(p), ""
		case fsStart:
			cmdStart = i
			f.startHere = true
			f.cmdBytes = 0
			f.hdrLen = 0
			if p[i] == '*' {
				f.state = fsMbulkHdr
				f.hdr[0] = '*'
				f.hdrLen = 1
				i++
				f.cmdBytes++
				continue
			}
			f.state = fsInline
			f.lineBytes = 0
		case fsInline:
			c := p[i]
			i++
			f.cmdBytes++
			if c == '\n' {
				f.state = fsStart
				continue
			}
			f.lineBytes++
			if f.lineBytes > maxInlineSize {
				return cmdStart, "Protocol error: too big inline request"
			}
		case fsMbulkHdr, fsBulkHdr:
			if f.state == fsBulkHdr && f.hdrLen == 0 && p[i] != '$' {
				// redcon answers "expected '$', got ..." itself.
				f.state = fsOff
				return len(p), ""
			}
			c := p[i]
			i++
			f.cmdBytes++
			if c != '\n' {
				if f.hdrLen < len(f.hdr) {
					f.hdr[f.hdrLen] = c
				}
				f.hdrLen++
				if f.hdrLen > maxInlineSize {
					if f.state == fsMbulkHdr {
						return cmdStart, "Protocol error: too big mbulk count string"
					}
					return cmdStart, "Protocol error: too big bulk count string"
				}
				continue
			}
			if msg := f.endHeader(); msg != "" {
				return cmdStart, msg
			}
			if f.emptyHdr {
				f.emptyHdr = false
				if f.startHere {
					f.elide = append(f.elide, [2]int{cmdStart, i})
				}
			}
		case fsBulkBody:
			n := int64(len(p) - i)
			if n >= f.skip {
				i += int(f.skip)
				f.cmdBytes += f.skip
				f.skip = 0
				f.args--
				f.hdrLen = 0
				if f.args == 0 {
					f.state = fsStart
				} else {
					f.state = fsBulkHdr
				}
				continue
			}
			f.skip -= n
			f.cmdBytes += n
			i = len(p)
		}
	}
	if f.maxQuery != nil && f.cmdBytes > f.maxQuery.Load() {
		return cmdStart, errQueryOverflow
	}
	return i, ""
}

// endHeader handles a complete "*n" or "$n" line.
func (f *framer) endHeader() string {
	n, ok := parseHeaderInt(f.hdr[:min(f.hdrLen, len(f.hdr))], f.hdrLen)
	if f.state == fsMbulkHdr {
		f.hdrLen = 0
		if !ok || n > maxMultibulkLen {
			return "Protocol error: invalid multibulk length"
		}
		if n <= 0 {
			// Redis ignores an empty or negative count; redcon would reject
			// it, so the header is cut out of the stream (see elide).
			f.state = fsStart
			f.emptyHdr = true
			return ""
		}
		f.args = int(n)
		f.state = fsBulkHdr
		return ""
	}
	// hdr[0] is '$'.
	limit := int64(defaultMaxBulk)
	if f.maxBulk != nil {
		limit = f.maxBulk.Load()
	}
	if !ok || n < 0 || n > limit {
		return "Protocol error: invalid bulk length"
	}
	f.skip = n + 2
	f.state = fsBulkBody
	return ""
}

// parseHeaderInt parses the digits of a "*n\r" / "$n\r" line held in h
// (h[0] is the type byte); total is the full line length.
func parseHeaderInt(h []byte, total int) (int64, bool) {
	if total > len(h) {
		return 0, false
	}
	if len(h) > 0 && h[len(h)-1] == '\r' {
		h = h[:len(h)-1]
	}
	if len(h) < 2 {
		return 0, false
	}
	h = h[1:]
	neg := false
	if h[0] == '-' {
		neg = true
		h = h[1:]
		if len(h) == 0 {
			return 0, false
		}
	}
	var n int64
	for _, c := range h {
		if c < '0' || c > '9' || n > (1<<62)/10 {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// guardConn is the net.Conn handed to redcon.
type guardConn struct {
	net.Conn
	f       framer
	failed  string
	srv     *Server
	timeout *atomic.Int64 // idle timeout in seconds (CONFIG timeout), 0 = none
}

func (g *guardConn) Read(p []byte) (int, error) {
	if g.failed != "" {
		return 0, g.fail()
	}
	if g.timeout != nil {
		if t := g.timeout.Load(); t > 0 {
			_ = g.Conn.SetReadDeadline(time.Now().Add(time.Duration(t) * time.Second))
		}
	}
	n, err := g.Conn.Read(p)
	if n > 0 {
		if g.srv != nil {
			g.srv.stats.netIn.Add(int64(n))
		}
		ok, msg := g.f.feed(p[:n])
		if len(g.f.elide) > 0 {
			// Drop the ignored headers, back to front so offsets hold.
			for k := len(g.f.elide) - 1; k >= 0; k-- {
				r := g.f.elide[k]
				if r[1] > ok && msg != "" {
					continue
				}
				copy(p[r[0]:], p[r[1]:n])
				n -= r[1] - r[0]
				if ok >= r[1] {
					ok -= r[1] - r[0]
				}
			}
			if n == 0 && msg == "" && err == nil {
				return g.Read(p) // nothing left for redcon: read on
			}
		}
		if msg != "" {
			g.failed = msg
			if ok == 0 {
				return 0, g.fail()
			}
			// Pass on what precedes the bad header; the commands in it run
			// and are answered first, the next Read reports the error.
			return ok, nil
		}
	}
	return n, err
}

// fail answers the protocol error and reports the connection as done. redcon
// has flushed every earlier reply before it reads again, so order is kept.
func (g *guardConn) fail() error {
	if g.failed != errQueryOverflow {
		_, _ = g.Conn.Write([]byte("-ERR " + g.failed + "\r\n"))
		if g.srv != nil {
			g.srv.stats.countError("ERR")
		}
	}
	return errGuardClosed
}

func (g *guardConn) Write(p []byte) (int, error) {
	n, err := g.Conn.Write(p)
	if g.srv != nil {
		g.srv.stats.netOut.Add(int64(n))
	}
	return n, err
}

// guardListener wraps every accepted connection in a guardConn.
type guardListener struct {
	net.Listener
	srv *Server
}

func (l *guardListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	g := &guardConn{Conn: c, srv: l.srv, timeout: &l.srv.idleTimeout}
	g.f.maxBulk = &l.srv.maxBulk
	g.f.maxQuery = &l.srv.maxQuery
	return g, nil
}

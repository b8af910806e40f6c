package chaos

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// Reply is one decoded RESP2 reply.
type Reply struct {
	Kind byte   // '+' status, '-' error, ':' integer, '$' bulk, '*' array
	Str  string // status, error text or bulk string
	Int  int64
	Nil  bool // null bulk or null array
	Arr  []Reply
}

// IsError reports whether r is an error reply.
func (r Reply) IsError() bool { return r.Kind == '-' }

// String renders r compactly for logs and attempt records.
func (r Reply) String() string {
	switch {
	case r.Nil:
		return "(nil)"
	case r.Kind == ':':
		return strconv.FormatInt(r.Int, 10)
	case r.Kind == '*':
		s := "["
		for i, e := range r.Arr {
			if i > 0 {
				s += " "
			}
			s += e.String()
		}
		return s + "]"
	case r.Kind == '-':
		return "-" + r.Str
	default:
		return r.Str
	}
}

// maxBulk bounds a bulk string or array length the client accepts.
const maxBulk = 64 << 20

var errProtocol = errors.New("resp protocol error")

// respConn is one client connection; not safe for concurrent use.
type respConn struct {
	addr string
	c    net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
}

func dialRESP(addr string, timeout time.Duration) (*respConn, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return &respConn{addr: addr, c: c, r: bufio.NewReader(c), w: bufio.NewWriter(c)}, nil
}

func (c *respConn) close() { _ = c.c.Close() }

// send writes the commands (pipelined) and flushes.
func (c *respConn) send(deadline time.Time, cmds ...[]string) error {
	if err := c.c.SetDeadline(deadline); err != nil {
		return err
	}
	for _, args := range cmds {
		c.w.WriteString("*" + strconv.Itoa(len(args)) + "\r\n")
		for _, a := range args {
			c.w.WriteString("$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n")
		}
	}
	return c.w.Flush()
}

func (c *respConn) read() (Reply, error) { return readReply(c.r, 0) }

func readReply(r *bufio.Reader, depth int) (Reply, error) {
	if depth > 8 {
		return Reply{}, fmt.Errorf("%w: nesting too deep", errProtocol)
	}
	line, err := r.ReadString('\n')
	if err != nil {
		return Reply{}, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return Reply{}, fmt.Errorf("%w: bad line %q", errProtocol, line)
	}
	kind, body := line[0], line[1:len(line)-2]
	switch kind {
	case '+', '-':
		return Reply{Kind: kind, Str: body}, nil
	case ':':
		n, err := strconv.ParseInt(body, 10, 64)
		if err != nil {
			return Reply{}, fmt.Errorf("%w: integer %q", errProtocol, body)
		}
		return Reply{Kind: kind, Int: n}, nil
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 || n > maxBulk {
			return Reply{}, fmt.Errorf("%w: bulk length %q", errProtocol, body)
		}
		if n == -1 {
			return Reply{Kind: kind, Nil: true}, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return Reply{}, err
		}
		return Reply{Kind: kind, Str: string(buf[:n])}, nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 || n > maxBulk {
			return Reply{}, fmt.Errorf("%w: array length %q", errProtocol, body)
		}
		if n == -1 {
			return Reply{Kind: kind, Nil: true}, nil
		}
		arr := make([]Reply, 0, min(n, 1024))
		for i := 0; i < n; i++ {
			e, err := readReply(r, depth+1)
			if err != nil {
				return Reply{}, err
			}
			arr = append(arr, e)
		}
		return Reply{Kind: kind, Arr: arr}, nil
	}
	return Reply{}, fmt.Errorf("%w: type byte %q", errProtocol, kind)
}

package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/raftcache/raftcache/internal/authn"
	"github.com/raftcache/raftcache/internal/tlsconf"
)

// maxHealthReply bounds what the health check reads from one reply, so a
// peer that is not a RESP server cannot make it allocate without limit.
const maxHealthReply = 1 << 20

// runHealth implements `raftcache health`: a self-contained probe for
// container healthchecks (the image has no shell and no redis-cli). It
// speaks just enough RESP2 for PING and CLUSTER INFO over one connection.
func runHealth(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("raftcache health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:6379", "RESP address host:port of the node to check")
	timeout := fs.Duration("timeout", 2*time.Second, "give up (unhealthy) after this long")
	requireCluster := fs.Bool("require-cluster", false, "also require CLUSTER INFO to report cluster_state:ok (every slot served)")
	passFile := fs.String("password-file", "", "file holding the password to AUTH with (the server's --requirepass-file); default: $RAFTCACHE_PASSWORD")
	// The server's own variables are the defaults: in a container the
	// probe then speaks TLS exactly when the node does.
	caFile := fs.String("tls-ca-cert-file", os.Getenv("RAFTCACHE_TLS_CA_CERT_FILE"), "connect with TLS, verifying the node's certificate chain with this CA (not its host name); default: $RAFTCACHE_TLS_CA_CERT_FILE")
	certFile := fs.String("tls-cert-file", os.Getenv("RAFTCACHE_TLS_CERT_FILE"), "client certificate to present (nodes with --tls-auth-clients yes; the node's own will do); default: $RAFTCACHE_TLS_CERT_FILE")
	keyFile := fs.String("tls-key-file", os.Getenv("RAFTCACHE_TLS_KEY_FILE"), "private key of --tls-cert-file; default: $RAFTCACHE_TLS_KEY_FILE")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: raftcache health [--addr HOST:PORT] [--timeout 2s] [--require-cluster] [--password-file FILE] [--tls-ca-cert-file FILE]\n\n"+
			"Exits 0 if the node answers PING with PONG (and, with --require-cluster, reports\n"+
			"cluster_state:ok), 1 otherwise with the reason on stderr.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("health: unexpected argument %q", fs.Arg(0))
	}
	if *timeout <= 0 {
		return fmt.Errorf("health: --timeout %v: must be positive", *timeout)
	}
	if _, _, err := net.SplitHostPort(*addr); err != nil {
		return fmt.Errorf("health: --addr %q: %w", *addr, err)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	password := os.Getenv("RAFTCACHE_PASSWORD")
	if *passFile != "" {
		pw, err := authn.ReadSecretFile(*passFile)
		if err != nil {
			return fmt.Errorf("health: password: %w", err)
		}
		password = pw
	}
	var tc *tls.Config
	if *caFile != "" {
		var err error
		if tc, err = tlsconf.Client(tlsconf.ClientOptions{CA: *caFile, Cert: *certFile, Key: *keyFile, ChainOnly: true}); err != nil {
			return fmt.Errorf("health: %w", err)
		}
	}
	status, err := checkHealth(ctx, *addr, *requireCluster, password, tc)
	if err != nil {
		return fmt.Errorf("health: %s unhealthy: %w", *addr, err)
	}
	fmt.Fprintf(stdout, "healthy: %s %s\n", *addr, status)
	return nil
}

// checkHealth runs the probe on one connection and returns a short status.
func checkHealth(ctx context.Context, addr string, requireCluster bool, password string, tc *tls.Config) (string, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", oneLine(err)
	}
	if tc != nil {
		tconn := tls.Client(conn, tc)
		if err := tconn.HandshakeContext(ctx); err != nil {
			conn.Close()
			return "", fmt.Errorf("TLS: %w", oneLine(err))
		}
		conn = tconn
	}
	defer conn.Close()
	// The deadline bounds every read and write; cancelling ctx (timeout
	// or signal) also closes the connection at once.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	rd := bufio.NewReader(conn)

	if password != "" {
		if _, _, err := healthCommand(ctx, conn, rd, "AUTH", password); err != nil {
			return "", fmt.Errorf("AUTH: %w", err)
		}
	}
	kind, text, err := healthCommand(ctx, conn, rd, "PING")
	if err != nil {
		return "", fmt.Errorf("PING: %w", err)
	}
	if kind != '+' || text != "PONG" {
		return "", fmt.Errorf("PING answered %q, want PONG", text)
	}
	if !requireCluster {
		return "PONG", nil
	}
	kind, text, err = healthCommand(ctx, conn, rd, "CLUSTER", "INFO")
	if err != nil {
		return "", fmt.Errorf("CLUSTER INFO: %w", err)
	}
	if kind != '$' {
		return "", fmt.Errorf("CLUSTER INFO answered %q, want the info text", text)
	}
	info := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			info[k] = v
		}
	}
	state, ok := info["cluster_state"]
	switch {
	case !ok:
		return "", errors.New("CLUSTER INFO has no cluster_state")
	case state != "ok":
		return "", fmt.Errorf("cluster_state:%s (slots assigned %s, served %s)", oneLineText(state),
			oneLineText(info["cluster_slots_assigned"]), oneLineText(info["cluster_slots_ok"]))
	}
	return "PONG cluster_state:ok", nil
}

// healthCommand sends one command and reads its reply: kind is the RESP
// type byte ('+', '-', ':', '$'), text the payload. An error reply is
// returned as an error.
func healthCommand(ctx context.Context, conn net.Conn, rd *bufio.Reader, args ...string) (byte, string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(conn, b.String()); err != nil {
		return 0, "", ioErr(ctx, err)
	}
	kind, text, err := readHealthReply(rd)
	if err != nil {
		return 0, "", ioErr(ctx, err)
	}
	if kind == '-' {
		return kind, text, fmt.Errorf("error reply: %s", oneLineText(text))
	}
	return kind, text, nil
}

// readHealthReply reads one RESP2 reply of a simple type or a bulk string.
func readHealthReply(rd *bufio.Reader) (byte, string, error) {
	line, err := readHealthLine(rd)
	if err != nil {
		return 0, "", err
	}
	if line == "" {
		return 0, "", errors.New("empty reply line")
	}
	kind, rest := line[0], line[1:]
	switch kind {
	case '+', '-', ':':
		return kind, rest, nil
	case '$', '=':
		n, err := strconv.Atoi(rest)
		if err != nil || n < -1 || n > maxHealthReply {
			return 0, "", fmt.Errorf("bad bulk length %q", oneLineText(rest))
		}
		if n == -1 {
			return '$', "", errors.New("nil reply")
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rd, buf); err != nil {
			return 0, "", err
		}
		if buf[n] != '\r' || buf[n+1] != '\n' {
			return 0, "", errors.New("bulk reply not terminated by CRLF")
		}
		text := string(buf[:n])
		if kind == '=' { // RESP3 verbatim string: "txt:" prefix
			if len(text) >= 4 {
				text = text[4:]
			}
		}
		return '$', text, nil
	default:
		return 0, "", fmt.Errorf("not a RESP reply: %q", oneLineText(line))
	}
}

// readHealthLine reads a CRLF-terminated line of bounded length.
func readHealthLine(rd *bufio.Reader) (string, error) {
	var line []byte
	for {
		chunk, err := rd.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxHealthReply {
			return "", errors.New("reply line too long")
		}
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return "", err
		}
	}
	s := string(line)
	if !strings.HasSuffix(s, "\r\n") {
		return "", fmt.Errorf("reply line not terminated by CRLF: %q", oneLineText(s))
	}
	return strings.TrimSuffix(s, "\r\n"), nil
}

// ioErr reports a timeout or cancellation as such rather than as the
// "use of closed connection" the closed socket produces.
func ioErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("no answer: %w", ctx.Err())
	}
	if errors.Is(err, io.EOF) {
		return errors.New("connection closed by the server")
	}
	return oneLine(err)
}

// oneLine keeps an error on one line (the healthcheck reason is one line).
func oneLine(err error) error {
	if s := err.Error(); strings.ContainsAny(s, "\r\n") {
		return errors.New(oneLineText(s))
	}
	return err
}

func oneLineText(s string) string {
	s = strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

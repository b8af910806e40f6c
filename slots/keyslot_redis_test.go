package slots

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/raftcache/raftcache/internal/testtool"
)

// TestKeyslotAgainstRedis compares Of with CLUSTER KEYSLOT of a real
// redis-server for random keys rich in hash-tag edge cases.
func TestKeyslotAgainstRedis(t *testing.T) {
	conn := mustStartRedis(t)

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	keys := make([][]byte, 3000)
	for i := range keys {
		keys[i] = randomKey(rng)
	}
	// Fixed edge cases first, so they are always covered.
	for i, k := range []string{"", "{", "}", "{}", "}{", "{{}}", "{}{x}", "a{b}c", "{a{b}c}", "x{y", "{{{", "}}}", "{\x00}", "\xff{\xfe}"} {
		keys[i] = []byte(k)
	}

	// Pipeline: a writer goroutine sends every command while this goroutine
	// reads the replies, so neither side's socket buffer can fill and stall.
	werr := make(chan error, 1)
	go func() {
		w := bufio.NewWriter(conn)
		for _, k := range keys {
			writeCommand(w, []byte("CLUSTER"), []byte("KEYSLOT"), k)
		}
		werr <- w.Flush()
	}()
	r := bufio.NewReader(conn)
	mismatches := 0
	for i, k := range keys {
		got, err := readInteger(r)
		if err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		if want := Of(k); got != int64(want) {
			t.Errorf("key %q: CLUSTER KEYSLOT = %d, slots.Of = %d", k, got, want)
			if mismatches++; mismatches == 20 {
				t.Fatal("too many mismatches")
			}
		}
	}
	if err := <-werr; err != nil {
		t.Fatalf("write: %v", err)
	}
}

// randomKey returns a binary-ish key of random length, mostly built from a
// small alphabet heavy in braces so that tags, empty tags, nested and
// unbalanced braces are all common.
func randomKey(rng *rand.Rand) []byte {
	var n int
	switch rng.IntN(10) {
	case 0:
		n = 0
	case 1:
		n = 40 + rng.IntN(300)
	default:
		n = 1 + rng.IntN(16)
	}
	const alphabet = "{{{}}}ab:x"
	k := make([]byte, n)
	for i := range k {
		if rng.IntN(8) == 0 {
			k[i] = byte(rng.IntN(256))
		} else {
			k[i] = alphabet[rng.IntN(len(alphabet))]
		}
	}
	return k
}

// mustStartRedis starts a throwaway cluster-enabled redis-server on a free
// loopback port and returns a connection to it; both are closed, and the
// directory removed, at the end of the test.
func mustStartRedis(t *testing.T) net.Conn {
	t.Helper()
	bin := testtool.Need(t, "redis-server")
	dir := t.TempDir()
	// A port can be taken between probing and redis binding it; retry a few.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		conn, err := startRedis(t, bin, dir)
		if err == nil {
			return conn
		}
		lastErr = err
	}
	t.Fatalf("redis-server: %v", lastErr)
	return nil
}

func startRedis(t *testing.T, bin, dir string) (net.Conn, error) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	conf := filepath.Join(dir, fmt.Sprintf("nodes-%d.conf", port))
	cmd := exec.Command(bin,
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no",
		"--cluster-enabled", "yes", "--cluster-config-file", conf,
		"--dir", dir, "--logfile", "")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	stop := func() {
		cmd.Process.Kill()
		<-exited
	}

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-exited:
			return nil, fmt.Errorf("exited early: %s", out.String())
		default:
		}
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			if err = ping(conn); err == nil {
				conn.SetDeadline(time.Now().Add(60 * time.Second))
				t.Cleanup(func() {
					conn.Close()
					stop()
				})
				return conn, nil
			}
			conn.Close()
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("no PONG within 10s (last error %v): %s", err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ping(conn net.Conn) error {
	w := bufio.NewWriter(conn)
	writeCommand(w, []byte("PING"))
	if err := w.Flush(); err != nil {
		return err
	}
	line, err := readLine(bufio.NewReader(conn))
	if err != nil {
		return err
	}
	if line != "+PONG" {
		return fmt.Errorf("PING: %q", line)
	}
	return nil
}

// writeCommand writes args as a RESP array of bulk strings.
func writeCommand(w *bufio.Writer, args ...[]byte) {
	fmt.Fprintf(w, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(w, "$%d\r\n", len(a))
		w.Write(a)
		w.WriteString("\r\n")
	}
}

func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return "", fmt.Errorf("malformed RESP line %q", line)
	}
	return line[:len(line)-2], nil
}

// readInteger reads one ":<n>" reply; an error reply becomes an error.
func readInteger(r *bufio.Reader) (int64, error) {
	line, err := readLine(r)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, err
	}
	switch line[0] {
	case ':':
		return strconv.ParseInt(line[1:], 10, 64)
	case '-':
		return 0, errors.New(line[1:])
	}
	return 0, fmt.Errorf("unexpected reply %q", line)
}

// Package redistest runs a real redis-server for interoperability tests.
// Only test code imports it.
package redistest

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/raftcache/raftcache/internal/testtool"
)

// Start runs redis-server on a free loopback port with no persistence
// (--save "", no AOF), its working directory dir (a new temporary one if
// empty) and the extra arguments last, and returns its port once it
// accepts connections (it may still be LOADING a file). It is stopped at
// the test's end. Without redis-server the test is skipped, or fails under
// CI (CI installs it).
func Start(t testing.TB, dir string, extra ...string) string {
	t.Helper()
	bin := testtool.Need(t, "redis-server")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	if dir == "" {
		dir = t.TempDir()
	}
	logDir := t.TempDir()
	logf, err := os.Create(filepath.Join(logDir, "redis.log"))
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--daemonize", "no"}, extra...)
	rs := exec.Command(bin, args...)
	rs.Stdout, rs.Stderr = logf, logf // files: no copying goroutines
	if err := rs.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = rs.Process.Kill()
		_ = rs.Wait()
		logf.Close()
	})
	addr := "127.0.0.1:" + port
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return port
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("redis-server did not start: %v\n%s", err, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

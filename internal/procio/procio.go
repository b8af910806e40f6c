// Package procio reads this process's I/O counters, for benchmarks that
// report disk write amplification.
package procio

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// WriteBytes returns the bytes this process has caused to be written to
// storage (false where Linux's /proc/self/io is unavailable).
func WriteBytes() (int64, bool) { return writeBytes("/proc/self/io") }

// WriteBytesOf is WriteBytes for process pid.
func WriteBytesOf(pid int) (int64, bool) { return writeBytes(fmt.Sprintf("/proc/%d/io", pid)) }

func writeBytes(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "write_bytes: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

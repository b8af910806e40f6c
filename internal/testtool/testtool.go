// Package testtool finds the external programs interoperability tests run
// (redis-server, redis-cli, openssl, ...). Only test code imports it.
package testtool

import (
	"os"
	"os/exec"
	"testing"
)

// Need returns the path of program name, or skips the test without it; under
// CI (CI set, as .ci/run does, which installs them) its absence fails it.
func Need(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI: %v", name, err)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

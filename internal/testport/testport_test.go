package testport

import (
	"net"
	"strconv"
	"testing"
)

func TestFreeBaseSkipsBusyPorts(t *testing.T) {
	base, err := FreeBase(3, 20000, 21000, 100)
	if err != nil {
		t.Fatal(err)
	}
	if base < 20000 || base+3 > 21000 {
		t.Fatalf("base %d outside the range", base)
	}
	// Hold one of the offset ports: that base is no longer free.
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(base+1+100))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if free(base, 3, []int{100}) {
		t.Fatal("a range with a busy port counted as free")
	}
	if _, err := FreeBase(3, 20000, 20003); err == nil {
		t.Fatal("a too small range gave a base")
	}
}

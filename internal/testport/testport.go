// Package testport finds free loopback port ranges for test clusters. A
// node uses several ports at fixed offsets from its RESP port (Raft,
// gossip, gRPC), so a range is free only if every one of them is, for TCP
// and UDP (memberlist uses both).
package testport

import (
	"errors"
	"math/rand/v2"
	"net"
	"strconv"
)

// FreeBase returns a base port in [lo, hi) such that base+i+off is free on
// 127.0.0.1 for every node i < n and every offset. The ports are closed
// again before it returns, so a caller races only with other processes.
func FreeBase(n, lo, hi int, offsets ...int) (int, error) {
	if hi-lo <= n {
		return 0, errors.New("testport: range too small")
	}
	for try := 0; try < 200; try++ {
		base := lo + rand.IntN(hi-lo-n)
		if free(base, n, offsets) {
			return base, nil
		}
	}
	return 0, errors.New("testport: no free port range")
}

func free(base, n int, offsets []int) bool {
	var ls []interface{ Close() error }
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for i := 0; i < n; i++ {
		for _, off := range append([]int{0}, offsets...) {
			addr := "127.0.0.1:" + strconv.Itoa(base+i+off)
			l, err := net.Listen("tcp", addr)
			if err != nil {
				return false
			}
			ls = append(ls, l)
			u, err := net.ListenPacket("udp", addr)
			if err != nil {
				return false
			}
			ls = append(ls, u)
		}
	}
	return true
}

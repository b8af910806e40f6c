package node

import (
	"strings"
	"testing"
)

func TestConfigAnnounce(t *testing.T) {
	for _, tc := range []struct {
		name, bind, advertise, announce string
		port                            int
		want, err                       string
	}{
		{name: "default is advertise:port", bind: "127.0.0.1", advertise: "10.0.0.5", port: 7000, want: "10.0.0.5:7000"},
		{name: "default without advertise is bind:port", bind: "127.0.0.1", port: 7001, want: "127.0.0.1:7001"},
		{name: "explicit", bind: "0.0.0.0", advertise: "10.0.0.5", announce: "127.0.0.1:7005", port: 7000, want: "127.0.0.1:7005"},
		{name: "hostname", bind: "127.0.0.1", announce: "cache.example.com:6379", port: 7000, want: "cache.example.com:6379"},
		{name: "ipv6", bind: "127.0.0.1", announce: "[::1]:7000", port: 7000, want: "[::1]:7000"},
		{name: "no port", bind: "127.0.0.1", announce: "127.0.0.1", port: 7000, err: "missing port"},
		{name: "no host", bind: "127.0.0.1", announce: ":7000", port: 7000, err: "missing host"},
		{name: "port zero", bind: "127.0.0.1", announce: "h:0", port: 7000, err: "out of range"},
		{name: "port too big", bind: "127.0.0.1", announce: "h:70000", port: 7000, err: "out of range"},
		{name: "port not a number", bind: "127.0.0.1", announce: "h:redis", port: 7000, err: "out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{NodeID: "n1", DataDir: t.TempDir(), Bind: tc.bind, Advertise: tc.advertise, Announce: tc.announce, Port: tc.port}
			err := c.Validate()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "announce") {
					t.Fatalf("Validate() = %v, want an announce error with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Announce != tc.want {
				t.Fatalf("Announce = %q, want %q", c.Announce, tc.want)
			}
		})
	}
}

package node

import (
	"encoding/json"
	"strings"
	"testing"
)

// The TLS port travels as a number beside the RESP address; with the
// longest inline claim the metadata still fits memberlist's 512 bytes.
func TestTLSPortMetadata(t *testing.T) {
	m := Member{NodeID: "node-with-a-long-name", AZ: "eu-west-1a", RESP: "10.100.200.250:7000", TLSPort: 65535, Raft: "10.100.200.250:17000",
		Gossip: "10.100.200.250:27000", GRPC: "10.100.200.250:37000", Shard: 499, Leader: true, Term: 1 << 40, Ver: 1 << 40, Applied: 1 << 50,
		Slots: strings.Repeat("1", maxInlineClaim), ACLSum: 1<<64 - 1}
	b, _ := json.Marshal(m)
	if len(b) > 512 {
		t.Fatalf("metadata is %d bytes: %s", len(b), b)
	}
	tests := []struct {
		resp string
		port int
		want string
	}{
		{"10.0.0.1:7000", 7100, "10.0.0.1:7100"},
		{"[::1]:7000", 7100, "[::1]:7100"},
		{"10.0.0.1:7000", 0, ""},
		{"bad", 7100, ""},
	}
	for _, tt := range tests {
		if got := (Member{RESP: tt.resp, TLSPort: tt.port}).tlsAddr(); got != tt.want {
			t.Errorf("tlsAddr of %s with TLS port %d = %q, want %q", tt.resp, tt.port, got, tt.want)
		}
	}
}

func TestTLSPortConfig(t *testing.T) {
	tests := []struct {
		name            string
		tlsPort, annTLS int
		wantAnn         int
		wantErr         string
	}{
		{name: "none"},
		{name: "tls port", tlsPort: 7100, wantAnn: 7100},
		{name: "announced", tlsPort: 7100, annTLS: 4100, wantAnn: 4100},
		{name: "same as RESP", tlsPort: 7000, wantErr: "is the RESP port"},
		{name: "out of range", tlsPort: 70000, wantErr: "tls port 70000 out of range"},
		{name: "announce without tls port", annTLS: 4100, wantErr: "needs a tls port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{NodeID: "n1", DataDir: t.TempDir(), Port: 7000, TLSPort: tt.tlsPort, AnnounceTLSPort: tt.annTLS}
			err := c.Validate()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Validate() = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || c.AnnounceTLSPort != tt.wantAnn {
				t.Fatalf("Validate() = %v, announced TLS port %d, want %d", err, c.AnnounceTLSPort, tt.wantAnn)
			}
		})
	}
}

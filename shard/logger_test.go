package shard

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func TestHclogLevels(t *testing.T) {
	closed := &net.OpError{Op: "read", Net: "tcp", Err: net.ErrClosed}
	tests := []struct {
		name  string
		level hclog.Level
		args  []interface{}
		want  string // slog level printed, "" for nothing at Info
	}{
		{"error", hclog.Error, []interface{}{"error", errors.New("disk full")}, "level=ERROR"},
		{"warn", hclog.Warn, nil, "level=WARN"},
		{"info", hclog.Info, nil, "level=INFO"},
		{"debug hidden", hclog.Debug, nil, ""},
		{"read on a connection closed here", hclog.Error, []interface{}{"error", closed}, ""},
		{"wrapped", hclog.Error, []interface{}{"error", fmt.Errorf("decode: %w", closed)}, ""},
		{"other network error", hclog.Error, []interface{}{"error", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}}, "level=ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			a := newHclog(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})), "raft")
			a.Log(tt.level, "msg", tt.args...)
			out := buf.String()
			if tt.want == "" && out != "" || tt.want != "" && !strings.Contains(out, tt.want) {
				t.Fatalf("logged %q, want %q", out, tt.want)
			}
		})
	}
}

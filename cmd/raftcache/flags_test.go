package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServerFlagSources checks the precedence command line > environment >
// --config file > default, and that bad values are errors, not defaults.
func TestServerFlagSources(t *testing.T) {
	cfgFile := filepath.Join(t.TempDir(), "c.json")
	if err := os.WriteFile(cfgFile, []byte(`{"az":"az-file","snapshot-threshold":300,"log-level":"warn"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantAZ  string
		wantSnp uint64
		wantLvl string
		wantErr string
	}{
		{name: "defaults", wantAZ: "default", wantLvl: "info"},
		{name: "env", env: map[string]string{"RAFTCACHE_AZ": "az-env", "RAFTCACHE_SNAPSHOT_THRESHOLD": "64"}, wantAZ: "az-env", wantSnp: 64, wantLvl: "info"},
		{name: "empty env is unset", env: map[string]string{"RAFTCACHE_SNAPSHOT_THRESHOLD": ""}, wantAZ: "default", wantLvl: "info"},
		{name: "command line beats env", args: []string{"--az", "az-cli"}, env: map[string]string{"RAFTCACHE_AZ": "az-env"}, wantAZ: "az-cli", wantLvl: "info"},
		{name: "env beats file", args: []string{"--config", cfgFile}, env: map[string]string{"RAFTCACHE_AZ": "az-env"}, wantAZ: "az-env", wantSnp: 300, wantLvl: "warn"},
		{name: "file", args: []string{"--config", cfgFile}, wantAZ: "az-file", wantSnp: 300, wantLvl: "warn"},
		{name: "bad env value", env: map[string]string{"RAFTCACHE_SNAPSHOT_THRESHOLD": "many"}, wantErr: "RAFTCACHE_SNAPSHOT_THRESHOLD"},
		{name: "unrelated variables ignored", env: map[string]string{"RAFTCACHE_MIGRATION_BENCH": "1"}, wantAZ: "default", wantLvl: "info"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("server", flag.ContinueOnError)
			var f serverFlags
			f.register(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			err := loadEnv(fs, func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			if err == nil && f.config != "" {
				err = loadConfigFile(fs, f.config)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if f.az != tc.wantAZ || f.snapshotThreshold != tc.wantSnp || f.logLevel != tc.wantLvl {
				t.Fatalf("az=%q snapshot-threshold=%d log-level=%q, want %q %d %q", f.az, f.snapshotThreshold, f.logLevel, tc.wantAZ, tc.wantSnp, tc.wantLvl)
			}
		})
	}
}

// TestBackupFlags checks that server and dev refuse automatic-backup flags
// that cannot work, naming the flag.
func TestBackupFlags(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{args: nil},
		{args: []string{"--backup-dir", "/b", "--backup-interval", "24h", "--backup-retain", "3"}},
		{args: []string{"--backup-interval", "1h"}, wantErr: "--backup-interval needs --backup-dir"},
		{args: []string{"--backup-dir", "/b", "--backup-interval", "-1s"}, wantErr: "--backup-interval"},
		{args: []string{"--backup-dir", "/b", "--backup-retain", "0"}, wantErr: "--backup-retain 0"},
		{args: []string{"--backup-dir", "s3://backups/cluster-a", "--backup-interval", "24h", "--backup-s3-endpoint", "http://127.0.0.1:9000", "--backup-s3-region", "eu-west-1"}},
		{args: []string{"--backup-dir", "s3://b", "--backup-interval", "24h"}, wantErr: "--backup-dir"},
		{args: []string{"--backup-dir", "s3://backups", "--backup-s3-endpoint", "ftp://x"}, wantErr: "--backup-dir"},
		{args: []string{"--backup-s3-endpoint", "http://127.0.0.1:9000"}, wantErr: "need --backup-dir s3://"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			fs := flag.NewFlagSet("server", flag.ContinueOnError)
			var f serverFlags
			f.register(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			err := f.backup.check()
			if tc.wantErr == "" && (err != nil || f.backup.retain < 1) {
				t.Fatalf("check() = %v, retain %d", err, f.backup.retain)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("check() = %v, want an error with %q", err, tc.wantErr)
			}
		})
	}
}

// TestDiskStallTimeoutFlag: the flag's default, 0 (watchdog off, which
// node.Config spells negative) and a refused negative value.
func TestDiskStallTimeoutFlag(t *testing.T) {
	tests := []struct {
		args    []string
		want    time.Duration
		wantErr string
	}{
		{args: nil, want: 10 * time.Second},
		{args: []string{"--disk-stall-timeout", "2s"}, want: 2 * time.Second},
		{args: []string{"--disk-stall-timeout", "0"}, want: -1},
		{args: []string{"--disk-stall-timeout", "-1s"}, wantErr: "--disk-stall-timeout -1s"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			fs := flag.NewFlagSet("server", flag.ContinueOnError)
			var f serverFlags
			f.register(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			got, err := diskStallTimeout(f.diskStallTimeout)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("diskStallTimeout = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// Command raftcache runs raftcache nodes: one per process (`server`), or a
// whole local cluster in one process (`dev`); `health` probes a node.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

const usage = `raftcache: a Redis-compatible cache where every shard is a Raft group.

Usage:
  raftcache dev [flags]      start a whole local cluster in one process (ports 7000...)
  raftcache server [flags]   run one node
  raftcache health [flags]   check a node over RESP (exit 0 healthy, 1 not); for container healthchecks
  raftcache chaos [flags]    fault-injection run against server processes, checked for linearizability
  raftcache certs --dir DIR  write a throwaway CA, certificates and gossip key for trying TLS
  raftcache version          print the version

Run "raftcache <command> -h" for the flags of a command.
`

// exitDiskFailure is the exit status of a server that stopped because its
// disk failed (fail-stop, --disk-stall-timeout).
const exitDiskFailure = 4

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch args[0] {
	case "dev":
		err = runDev(ctx, args[1:], stdout, stderr)
	case "server":
		err = runServer(ctx, args[1:], stdout, stderr)
	case "health":
		err = runHealth(ctx, args[1:], stdout, stderr)
	case "chaos":
		err = runChaos(ctx, args[1:], stdout, stderr)
	case "certs":
		err = runCerts(ctx, args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "raftcache", version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "raftcache: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "raftcache:", err)
		if errors.Is(err, errInconclusive) {
			return exitInconclusive
		}
		return 1
	}
	return 0
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

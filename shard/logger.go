package shard

import (
	"context"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"

	"github.com/hashicorp/go-hclog"
)

// levelTrace is below slog.LevelDebug: raft's trace output stays hidden
// unless a handler asks for it explicitly.
const levelTrace = slog.LevelDebug - 4

// hclogAdapter presents a *slog.Logger as the hclog.Logger hashicorp/raft
// wants. Levels are decided by the slog handler; SetLevel is ignored.
type hclogAdapter struct {
	l       *slog.Logger
	name    string
	implied []interface{}
}

var _ hclog.Logger = (*hclogAdapter)(nil)

func newHclog(l *slog.Logger, name string) *hclogAdapter {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return &hclogAdapter{l: l, name: name}
}

func toSlog(level hclog.Level) slog.Level {
	switch level {
	case hclog.Trace:
		return levelTrace
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

func (a *hclogAdapter) Log(level hclog.Level, msg string, args ...interface{}) {
	lv := toSlog(level)
	if lv > slog.LevelDebug && closedConn(args) {
		// Raft's transport reports reads on connections it closed itself
		// (shutdown, a replaced connection) as errors: not an operator's
		// concern.
		lv = slog.LevelDebug
	}
	ctx := context.Background()
	if !a.l.Enabled(ctx, lv) {
		return
	}
	if a.name != "" {
		args = append([]interface{}{"logger", a.name}, args...)
	}
	a.l.Log(ctx, lv, msg, args...)
}

// closedConn reports whether a log call's arguments carry an error from a
// network connection closed on this side.
func closedConn(args []interface{}) bool {
	for _, x := range args {
		if err, ok := x.(error); ok && errors.Is(err, net.ErrClosed) {
			return true
		}
	}
	return false
}

func (a *hclogAdapter) Trace(msg string, args ...interface{}) { a.Log(hclog.Trace, msg, args...) }
func (a *hclogAdapter) Debug(msg string, args ...interface{}) { a.Log(hclog.Debug, msg, args...) }
func (a *hclogAdapter) Info(msg string, args ...interface{})  { a.Log(hclog.Info, msg, args...) }
func (a *hclogAdapter) Warn(msg string, args ...interface{})  { a.Log(hclog.Warn, msg, args...) }
func (a *hclogAdapter) Error(msg string, args ...interface{}) { a.Log(hclog.Error, msg, args...) }

func (a *hclogAdapter) enabled(level hclog.Level) bool {
	return a.l.Enabled(context.Background(), toSlog(level))
}

func (a *hclogAdapter) IsTrace() bool { return a.enabled(hclog.Trace) }
func (a *hclogAdapter) IsDebug() bool { return a.enabled(hclog.Debug) }
func (a *hclogAdapter) IsInfo() bool  { return a.enabled(hclog.Info) }
func (a *hclogAdapter) IsWarn() bool  { return a.enabled(hclog.Warn) }
func (a *hclogAdapter) IsError() bool { return a.enabled(hclog.Error) }

func (a *hclogAdapter) ImpliedArgs() []interface{} { return a.implied }

func (a *hclogAdapter) With(args ...interface{}) hclog.Logger {
	implied := append(append([]interface{}{}, a.implied...), args...)
	return &hclogAdapter{l: a.l.With(args...), name: a.name, implied: implied}
}

func (a *hclogAdapter) Name() string { return a.name }

func (a *hclogAdapter) Named(name string) hclog.Logger {
	if a.name != "" {
		name = a.name + "." + name
	}
	return &hclogAdapter{l: a.l, name: name, implied: a.implied}
}

func (a *hclogAdapter) ResetNamed(name string) hclog.Logger {
	return &hclogAdapter{l: a.l, name: name, implied: a.implied}
}

func (a *hclogAdapter) SetLevel(hclog.Level) {}

func (a *hclogAdapter) GetLevel() hclog.Level {
	for _, lv := range []hclog.Level{hclog.Trace, hclog.Debug, hclog.Info, hclog.Warn} {
		if a.enabled(lv) {
			return lv
		}
	}
	return hclog.Error
}

func (a *hclogAdapter) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(a.StandardWriter(opts), "", 0)
}

func (a *hclogAdapter) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	lv := slog.LevelInfo
	if opts != nil && opts.ForceLevel != hclog.NoLevel {
		lv = toSlog(opts.ForceLevel)
	}
	return slog.NewLogLogger(a.l.Handler(), lv).Writer()
}

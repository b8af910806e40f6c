package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	adminv1 "github.com/raftcache/raftcache/proto/raftcache/admin/v1"
)

// startOp starts a long operation with start, then follows it (or, with
// --detach, prints its id).
func (c *cli) startOp(ctx context.Context, f opFlags, start func(ctx context.Context, a adminv1.AdminClient) (*adminv1.Operation, string, error)) error {
	var op *adminv1.Operation
	var extra string
	err := c.call(ctx, func(ctx context.Context, a adminv1.AdminClient) error {
		var err error
		op, extra, err = start(ctx, a)
		return err
	})
	if err != nil {
		return err
	}
	return c.follow(ctx, f, op, extra)
}

func (c *cli) follow(ctx context.Context, f opFlags, op *adminv1.Operation, extra string) error {
	if f.detach {
		if c.json {
			return c.printJSON(op)
		}
		fmt.Fprintf(c.stdout, "operation %s started on %s: %s\n", op.GetId(), op.GetNode(), op.GetDescription())
		fmt.Fprintf(c.stdout, "follow it with: raftcachectl --addr %s watch %s\n", c.addr, op.GetId())
		return nil
	}
	if !c.json {
		desc := op.GetDescription()
		if extra != "" && !strings.Contains(desc, extra) {
			desc += " (" + extra + ")"
		}
		fmt.Fprintf(c.stdout, "operation %s on %s: %s\n", op.GetId(), op.GetNode(), desc)
	}
	return c.watch(ctx, op.GetId())
}

// errOpFailed is returned when a followed operation ends FAILED.
var errOpFailed = errors.New("operation failed")

// watch follows operation id until it finishes, drawing progress.
func (c *cli) watch(ctx context.Context, id string) error {
	a, err := c.admin()
	if err != nil {
		return err
	}
	stream, err := a.WatchOperation(ctx, &adminv1.WatchOperationRequest{Id: id})
	if err != nil {
		return err
	}
	p := &progress{w: c.stdout, tty: isTTY(c.stdout), quiet: c.json}
	var last *adminv1.Operation
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			p.end()
			if status.Code(err) == codes.Canceled || ctx.Err() != nil {
				return fmt.Errorf("stopped watching; operation %s goes on (raftcachectl watch %s)", id, id)
			}
			return fmt.Errorf("watching operation %s: %w", id, err)
		}
		last = msg.GetOperation()
		p.show(last)
	}
	p.end()
	if last == nil {
		return fmt.Errorf("operation %s: no state received", id)
	}
	if c.json {
		if err := c.printJSON(last); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(c.stdout, summary(last))
	}
	if last.GetState() == adminv1.OperationState_OPERATION_STATE_FAILED {
		return fmt.Errorf("%w: %s: %s", errOpFailed, last.GetId(), last.GetError())
	}
	return nil
}

// isTTY reports whether w is a terminal (then progress redraws one line).
func isTTY(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress draws an operation's progress: one redrawn line on a terminal,
// otherwise a plain line whenever the slots done or the step change (and
// at least every 10 s).
type progress struct {
	w         io.Writer
	tty       bool
	quiet     bool
	drawn     bool
	lastKey   string
	lastPrint time.Time
}

func (p *progress) show(o *adminv1.Operation) {
	if p.quiet || o.GetState() != adminv1.OperationState_OPERATION_STATE_RUNNING {
		return
	}
	if !p.tty {
		key := fmt.Sprintf("%d/%d %s", o.GetSlotsDone(), o.GetSlotsTotal(), o.GetStep())
		if key == p.lastKey && time.Since(p.lastPrint) < 10*time.Second {
			return
		}
		p.lastKey, p.lastPrint = key, time.Now()
	}
	p.draw(progressLine(o, time.Now()))
}

// draw shows line: in place on a terminal, else as a line of its own.
func (p *progress) draw(line string) {
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		p.drawn = true
		return
	}
	fmt.Fprintln(p.w, line)
}

func (p *progress) end() {
	if p.tty && p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

const barWidth = 24

func progressLine(o *adminv1.Operation, now time.Time) string {
	var b strings.Builder
	if total := o.GetSlotsTotal(); total > 0 {
		filled := int(uint64(o.GetSlotsDone()) * barWidth / uint64(total))
		fmt.Fprintf(&b, "[%s%s] %d/%d slots  %d keys  %s  %s/s", strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled),
			o.GetSlotsDone(), total, o.GetKeysMoved(), mb(o.GetBytesMoved()), mb(uint64(o.GetBytesPerSecond())))
		if eta := o.GetEta(); eta != nil {
			fmt.Fprintf(&b, "  ETA %s", eta.AsDuration().Round(time.Second))
		}
	} else {
		fmt.Fprintf(&b, "[running %s]", now.Sub(o.GetStarted().AsTime()).Round(100*time.Millisecond))
	}
	if o.GetStep() != "" {
		b.WriteString("  " + o.GetStep())
	}
	return b.String()
}

func mb(bytes uint64) string { return fmt.Sprintf("%.1f MB", float64(bytes)/1e6) }

// summary is the final line of a followed operation.
func summary(o *adminv1.Operation) string {
	took := "?"
	if o.GetFinished() != nil {
		took = o.GetFinished().AsTime().Sub(o.GetStarted().AsTime()).Round(time.Millisecond).String()
	}
	moved := ""
	if o.GetSlotsTotal() > 0 {
		moved = fmt.Sprintf(": %d/%d slots, %d keys, %s (%s/s)", o.GetSlotsDone(), o.GetSlotsTotal(), o.GetKeysMoved(),
			mb(o.GetBytesMoved()), mb(uint64(o.GetBytesPerSecond())))
	}
	if o.GetState() == adminv1.OperationState_OPERATION_STATE_FAILED {
		return fmt.Sprintf("%s FAILED after %s%s: %s", o.GetId(), took, moved, o.GetError())
	}
	return fmt.Sprintf("%s %s in %s%s", o.GetId(), stateName(o.GetState()), took, moved)
}

// keyProgress draws the progress of a restore or an import, which run in
// this process: keys written of the total the check counted, the rate and
// an ETA; on a terminal a line redrawn twice a second, else a line every
// 10 seconds (nothing with --json).
type keyProgress struct {
	p     *progress
	total uint64
	done  atomic.Uint64
	start time.Time
	stop  chan struct{}
	ended chan struct{}
}

func (c *cli) startKeyProgress(total uint64) *keyProgress {
	k := &keyProgress{p: &progress{w: c.stdout, tty: isTTY(c.stdout), quiet: c.json}, total: total,
		start: time.Now(), stop: make(chan struct{}), ended: make(chan struct{})}
	go func() {
		defer close(k.ended)
		every := 10 * time.Second
		if k.p.tty {
			every = 500 * time.Millisecond
		}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-k.stop:
				k.p.end()
				return
			case now := <-t.C:
				if !k.p.quiet {
					k.p.draw(keyProgressLine(k.done.Load(), k.total, now.Sub(k.start)))
				}
			}
		}
	}()
	return k
}

// finish stops the drawing and clears the line.
func (k *keyProgress) finish() {
	close(k.stop)
	<-k.ended
}

func keyProgressLine(done, total uint64, took time.Duration) string {
	var b strings.Builder
	filled := barWidth
	if total > 0 && done < total {
		filled = int(done * barWidth / total)
	}
	rate := float64(done) / max(took.Seconds(), 0.001)
	fmt.Fprintf(&b, "[%s%s] %d/%d keys  %.0f keys/s", strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled), done, total, rate)
	if done > 0 && done < total {
		fmt.Fprintf(&b, "  ETA %s", (time.Duration(float64(total-done)/rate) * time.Second).Round(time.Second))
	}
	return b.String()
}

package chaos

import (
	"errors"
	"strings"
	"testing"
)

// fakeRuntime records the calls ProcCluster makes and can fail them.
type fakeRuntime struct {
	calls []string
	fail  error
	net   bool
}

func (f *fakeRuntime) do(op string, p *Proc) error {
	f.calls = append(f.calls, op+" "+p.ID)
	return f.fail
}
func (f *fakeRuntime) start(p *Proc) error  { return f.do("start", p) }
func (f *fakeRuntime) kill(p *Proc) error   { return f.do("kill", p) }
func (f *fakeRuntime) pause(p *Proc) error  { return f.do("pause", p) }
func (f *fakeRuntime) resume(p *Proc) error { return f.do("resume", p) }
func (f *fakeRuntime) wipe(p *Proc) error   { return f.do("wipe", p) }
func (f *fakeRuntime) close(ps []*Proc) {
	for _, p := range ps {
		f.calls = append(f.calls, "close "+p.ID)
	}
}

type fakeNetRuntime struct{ fakeRuntime }

func (f *fakeNetRuntime) disconnect(p *Proc) error { return f.do("disconnect", p) }
func (f *fakeNetRuntime) connect(p *Proc) error    { return f.do("connect", p) }

// TestClusterNodeStates drives ProcCluster's fault methods over fake
// runtimes: legal transitions reach the runtime and change the node's
// state, illegal ones are refused without touching it, and a runtime
// error leaves the state as it was.
func TestClusterNodeStates(t *testing.T) {
	type step struct {
		op      string // kill restart pause resume disconnect reconnect
		wantErr string
	}
	tests := []struct {
		name      string
		network   bool
		fail      bool
		steps     []step
		wantCalls string
		want      string // running,paused,cut after the steps
	}{
		{name: "kill and restart", steps: []step{{op: "kill"}, {op: "restart"}}, wantCalls: "kill n1,start n1", want: "true,false,false"},
		{name: "kill twice", steps: []step{{op: "kill"}, {op: "kill", wantErr: "not running"}}, wantCalls: "kill n1", want: "false,false,false"},
		{name: "restart a running node", steps: []step{{op: "restart", wantErr: "still running"}}, want: "true,false,false"},
		{name: "pause resume", steps: []step{{op: "pause"}, {op: "pause", wantErr: "already paused"}, {op: "resume"}}, wantCalls: "pause n1,resume n1", want: "true,false,false"},
		{name: "kill wipe restart", steps: []step{{op: "kill"}, {op: "wipe"}, {op: "restart"}}, wantCalls: "kill n1,wipe n1,start n1", want: "true,false,false"},
		{name: "wipe a running node", steps: []step{{op: "wipe", wantErr: "still running"}}, want: "true,false,false"},
		{name: "kill a paused node", steps: []step{{op: "pause"}, {op: "kill"}}, wantCalls: "pause n1,kill n1", want: "false,false,false"},
		{name: "processes cannot disconnect", steps: []step{{op: "disconnect", wantErr: "cannot disconnect"}}, want: "true,false,false"},
		{name: "disconnect reconnect", network: true, steps: []step{{op: "disconnect"}, {op: "disconnect", wantErr: "already cut"}, {op: "reconnect"}, {op: "reconnect", wantErr: "not cut"}},
			wantCalls: "disconnect n1,connect n1", want: "true,false,false"},
		{name: "cut node stays cut while paused", network: true, steps: []step{{op: "disconnect"}, {op: "pause"}}, wantCalls: "disconnect n1,pause n1", want: "true,true,true"},
		{name: "runtime error keeps state", fail: true, steps: []step{{op: "kill", wantErr: "boom"}, {op: "pause", wantErr: "boom"}}, wantCalls: "kill n1,pause n1", want: "true,false,false"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rt nodeRuntime
			var calls *[]string
			if tc.network {
				f := &fakeNetRuntime{}
				rt, calls = f, &f.calls
				if tc.fail {
					f.fail = errors.New("boom")
				}
			} else {
				f := &fakeRuntime{}
				rt, calls = f, &f.calls
				if tc.fail {
					f.fail = errors.New("boom")
				}
			}
			p := &Proc{ID: "n1", running: true}
			c := &ProcCluster{Procs: []*Proc{p}, Runtime: "fake", rt: rt}
			ops := map[string]func(*Proc) error{"kill": c.Kill, "restart": c.Restart, "pause": c.Pause, "resume": c.Resume,
				"disconnect": c.Disconnect, "reconnect": c.Reconnect, "wipe": c.Wipe}
			for _, s := range tc.steps {
				err := ops[s.op](p)
				if (err != nil) != (s.wantErr != "") || (err != nil && !strings.Contains(err.Error(), s.wantErr)) {
					t.Fatalf("%s: error %v, want %q", s.op, err, s.wantErr)
				}
			}
			if got := strings.Join(*calls, ","); got != tc.wantCalls {
				t.Errorf("runtime calls %q, want %q", got, tc.wantCalls)
			}
			if got := strings.Join([]string{fmtBool(p.Running()), fmtBool(p.Paused()), fmtBool(p.Cut())}, ","); got != tc.want {
				t.Errorf("state %s, want %s", got, tc.want)
			}
			c.Close()
			c.Close() // once
			if n := strings.Count(strings.Join(*calls, ","), "close"); n != 1 {
				t.Errorf("runtime closed %d times", n)
			}
			if p.reachable() {
				t.Error("a node is reachable after Close")
			}
		})
	}
}

func fmtBool(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// TestCheckRuntime: faults a runtime cannot inject are refused up front.
func TestCheckRuntime(t *testing.T) {
	tests := []struct {
		runtime string
		faults  []string
		wantErr string
	}{
		{RuntimeProcess, []string{FaultKill, FaultPartition, FaultNoise, FaultLoseAZ}, ""},
		{RuntimeProcess, []string{FaultKill, FaultDisconnect}, "--runtime docker"},
		{RuntimeProcess, []string{FaultIsolateAZ}, "--runtime docker"},
		{RuntimeDocker, []string{FaultKill, FaultPause, FaultKillMajority, FaultDisconnect, FaultLoseAZ, FaultIsolateAZ}, ""},
		{RuntimeDocker, []string{FaultPartition}, "process runtime only"},
		{RuntimeDocker, []string{FaultOneWay}, "process runtime only"},
		{RuntimeProcess, []string{FaultWipe}, ""},
		{RuntimeDocker, []string{FaultKill, FaultWipe}, "process runtime only"},
	}
	for _, tc := range tests {
		err := CheckRuntime(tc.runtime, tc.faults)
		if (err != nil) != (tc.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("CheckRuntime(%s, %v) = %v, want %q", tc.runtime, tc.faults, err, tc.wantErr)
		}
	}
}

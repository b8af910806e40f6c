package raftfsm

import (
	"fmt"
	"testing"

	"github.com/hashicorp/raft"
)

// Engine-only costs, without network or Raft: the ceiling for the server.
func BenchmarkExecSet(b *testing.B) {
	db := NewDB()
	args := [][]byte{[]byte("set"), nil, []byte("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")}
	keys := make([][]byte, 100000)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("key:%06d", i))
	}
	c := NewCtx(db, 1, true, 1)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		args[1] = keys[i%len(keys)]
		Exec(c, args)
	}
}

func BenchmarkExecGet(b *testing.B) { benchGet(b, TrackNone) }

// BenchmarkExecGetLRU is BenchmarkExecGet with access times recorded, as
// under every policy but LFU (TrackNone records nothing).
func BenchmarkExecGetLRU(b *testing.B) { benchGet(b, TrackLRU) }

func benchGet(b *testing.B, tracking uint32) {
	db := NewDB()
	db.tracking.Store(tracking)
	keys := make([][]byte, 100000)
	w := NewCtx(db, 1, true, 1)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("key:%06d", i))
		Exec(w, [][]byte{[]byte("set"), keys[i], []byte("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")})
	}
	args := [][]byte{[]byte("get"), nil}
	c := NewCtx(db, 1, false, 1)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		args[1] = keys[i%len(keys)]
		c.Now = int64(i) // a new millisecond each read: every access time is stored
		Exec(c, args)
	}
}

// BenchmarkApplyBatch measures the FSM side of the write path: decoding
// and applying entries of 16 SETs each.
func BenchmarkApplyBatch(b *testing.B) {
	f := NewFSM(nil)
	var logs []*raft.Log
	for i := 0; i < 64; i++ {
		var cmds [][][]byte
		for j := 0; j < 16; j++ {
			cmds = append(cmds, [][]byte{[]byte("set"), []byte(fmt.Sprintf("k%d", i*16+j)), []byte("value")})
		}
		logs = append(logs, &raft.Log{Type: raft.LogCommand, Data: EncodeEntry(nil, &Entry{Op: OpCommands, Time: 1, Cmds: cmds})})
	}
	b.ReportAllocs()
	idx := uint64(0)
	for b.Loop() {
		for _, l := range logs {
			idx++
			l.Index = idx
		}
		f.ApplyBatch(logs)
	}
}

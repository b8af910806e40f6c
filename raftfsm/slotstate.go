package raftfsm

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/raftcache/raftcache/slots"
)

// Slot ownership, replicated in the shard's own log (design §3). A shard
// never serves a slot its log does not give it: every command applied from
// the log and every read is checked against this table, so a stale gateway
// route or a deposed leader can never write a slot that moved away.
//
// States of one slot in one shard:
//
//	unowned    keys are answered MOVED (to the shard it was given to, if known)
//	owned      served normally
//	migrating  owned, its keys are moving to peer: a command whose keys all
//	           exist here runs; if none exist it is answered ASK (the keys
//	           are, or will be created, at the target); a mix is TRYAGAIN
//	importing  not owned, keys arrive from peer; clients reach it only after
//	           ASKING (the gateway checks); a multi-key command with missing
//	           keys is TRYAGAIN, as in Redis
//
// A frozen migration (the first slot a new, slot-less shard receives: some
// clients cannot follow ASK to a node absent from CLUSTER SLOTS) answers
// TRYAGAIN for every command on the slot until the slot has moved.

// SlotState is the state of one slot in this shard.
type SlotState uint8

const (
	SlotUnowned SlotState = iota
	SlotOwned
	SlotMigrating
	SlotImporting
)

func (s SlotState) String() string {
	switch s {
	case SlotOwned:
		return "owned"
	case SlotMigrating:
		return "migrating"
	case SlotImporting:
		return "importing"
	}
	return "unowned"
}

// SlotInfo is one slot's entry in the table.
type SlotInfo struct {
	State  SlotState
	Frozen bool
	// Peer: the target shard while migrating, the source while importing,
	// the shard the slot was given to once unowned (-1 = unknown).
	Peer int32
	// Ver is the cluster-wide ownership version (owned / migrating), or the
	// version the slot was given away at (unowned).
	Ver uint64
}

// slotTable is the replicated ownership record. init is false until the
// shard's first `init` entry (older logs and fresh shards): until then no
// ownership is enforced, the node routes by its formation plan.
type slotTable struct {
	init  bool
	slots [slots.Count]SlotInfo
}

func newSlotTable() *slotTable {
	t := &slotTable{}
	for i := range t.slots {
		t.slots[i].Peer = -1
	}
	return t
}

// Redirect error prefixes produced by the engine. Shard ids stand where
// Redis puts an address ("@<shard>"); the node rewrites them with the
// shard leader's address before the client sees them.
// IsFrozenReply reports whether an error reply is the TRYAGAIN of a slot
// frozen for the last pass of a migration (it lasts a few log commits).
func IsFrozenReply(msg string) bool { return msg == frozenMsg }

const (
	redirectMoved = "MOVED"
	redirectAsk   = "ASK"
	tryAgainMsg   = "TRYAGAIN Multiple keys request during rehashing of slot"
	frozenMsg     = "TRYAGAIN Slot is being moved to another shard, retry shortly"
)

func redirect(kind string, slot slots.Slot, shard int32) Reply {
	return Err(kind + " " + strconv.Itoa(int(slot)) + " @" + strconv.Itoa(int(shard)))
}

// SlotsInitialized reports whether this shard's log has recorded slot ownership.
func (db *DB) SlotsInitialized() bool { return db.slotTab.init }

// Slot returns slot s's entry.
func (db *DB) Slot(s slots.Slot) SlotInfo { return db.slotTab.slots[s] }

// OwnedRanges returns the slots this shard serves (owned or migrating) as
// ranges, and the highest version among them.
func (db *DB) OwnedRanges() ([]slots.Range, uint64) { return db.slotTab.ownedRanges() }

func (t *slotTable) ownedRanges() ([]slots.Range, uint64) {
	var out []slots.Range
	var maxVer uint64
	for i := 0; i < slots.Count; i++ {
		si := t.slots[i]
		if si.State != SlotOwned && si.State != SlotMigrating {
			continue
		}
		if si.Ver > maxVer {
			maxVer = si.Ver
		}
		s := slots.Slot(i)
		if n := len(out); n > 0 && out[n-1].End+1 == s {
			out[n-1].End = s
		} else {
			out = append(out, slots.Range{Start: s, End: s})
		}
	}
	return out, maxVer
}

// MaxSlotVersion returns the highest version this shard's log has seen for
// any slot (owned, migrating or given away).
func (db *DB) MaxSlotVersion() uint64 {
	var m uint64
	for i := range db.slotTab.slots {
		if v := db.slotTab.slots[i].Ver; v > m {
			m = v
		}
	}
	return m
}

// CheckSlot decides whether a command with keys in slot s may run here
// (ok) or must be answered with the returned redirect. keys are the
// command's keys; exists reports whether a key is live.
func (db *DB) CheckSlot(s slots.Slot, keys [][]byte, exists func([]byte) bool) (Reply, bool) {
	if !db.slotTab.init {
		return Reply{}, true
	}
	si := &db.slotTab.slots[s]
	switch si.State {
	case SlotOwned:
		return Reply{}, true
	case SlotMigrating:
		if si.Frozen {
			return Err(frozenMsg), false
		}
		n := 0
		for _, k := range keys {
			if exists(k) {
				n++
			}
		}
		switch {
		case n == len(keys):
			return Reply{}, true
		case n == 0:
			return redirect(redirectAsk, s, si.Peer), false
		}
		return Err(tryAgainMsg), false
	case SlotImporting:
		if si.Frozen {
			return Err(frozenMsg), false
		}
		if len(keys) > 1 {
			for _, k := range keys {
				if !exists(k) {
					return Err(tryAgainMsg), false
				}
			}
		}
		return Reply{}, true
	}
	return redirect(redirectMoved, s, si.Peer), false
}

// checkCommand applies CheckSlot to one command: keyless commands always
// pass; a command whose keys span slots was already refused by the gateway
// (CROSSSLOT), here the first key's slot decides.
func checkCommand(c *Ctx, args [][]byte) (Reply, bool) {
	if !c.DB.slotTab.init || len(args) == 0 {
		return Reply{}, true
	}
	cmd := Lookup(args[0])
	if cmd == nil || !cmd.ArityOK(len(args)) {
		return Reply{}, true // Exec reports the error
	}
	// Fast path without allocating: a fixed first key in an owned slot.
	if cmd.Keys == nil && cmd.First > 0 && cmd.First < len(args) &&
		c.DB.slotTab.slots[slots.Of(args[cmd.First])].State == SlotOwned {
		return Reply{}, true
	}
	pos := cmd.KeyPositions(args)
	keys := make([][]byte, 0, len(pos))
	for _, p := range pos {
		if p < len(args) {
			keys = append(keys, args[p])
		}
	}
	if len(keys) == 0 {
		return Reply{}, true
	}
	return c.DB.CheckSlot(slots.Of(keys[0]), keys, c.Exists)
}

// CheckRead is the slot check for a read the gateway serves from this
// replica's engine; slot is the command's slot (-1 = keyless). It returns
// ok, or the redirect to answer instead.
func CheckRead(c *Ctx, slot int, args [][]byte) (Reply, bool) {
	if slot < 0 || !c.DB.slotTab.init || c.DB.slotTab.slots[slot].State == SlotOwned {
		return Reply{}, true
	}
	return checkCommand(c, args)
}

// ---- ownership changes (OpSlots entries) -------------------------------

// Slot change commands, one per command of an OpSlots entry:
//
//	init    RANGES VER            first record of the shard's slots (no-op once initialized)
//	import  SLOT SOURCE FROZEN    unowned -> importing from SOURCE (no-op if owned: taken already)
//	migrate SLOT TARGET FROZEN    owned -> migrating to TARGET
//	take    SLOT VER              importing -> owned at VER (no-op if owned)
//	give    SLOT TARGET VER       migrating and empty -> unowned, given to TARGET at VER
//	abort   SLOT                  migrating -> owned; importing -> unowned, its keys dropped
//
// Each is idempotent when repeated (a driver resuming after a leader
// change re-sends the step it was at).
func applySlotCmd(db *DB, args [][]byte) Reply {
	if len(args) == 0 {
		return Err("ERR empty slot command")
	}
	argSlot := func(i int) (slots.Slot, error) {
		if i >= len(args) {
			return 0, fmt.Errorf("missing slot")
		}
		n, err := strconv.Atoi(string(args[i]))
		if err != nil || n < 0 || n >= slots.Count {
			return 0, fmt.Errorf("bad slot %q", args[i])
		}
		return slots.Slot(n), nil
	}
	argInt := func(i int) (int64, error) {
		if i >= len(args) {
			return 0, fmt.Errorf("missing argument")
		}
		return strconv.ParseInt(string(args[i]), 10, 64)
	}
	fail := func(err error) Reply { return Err("ERR slot " + string(args[0]) + ": " + err.Error()) }
	t := db.slotTab
	switch string(args[0]) {
	case "init":
		if len(args) != 3 {
			return fail(fmt.Errorf("wrong arguments"))
		}
		if t.init {
			return Status("OK")
		}
		rs, err := slots.ParseRanges(string(args[1]))
		if err != nil {
			return fail(err)
		}
		ver, err := argInt(2)
		if err != nil || ver < 0 {
			return fail(fmt.Errorf("bad version"))
		}
		for _, r := range rs {
			for s := int(r.Start); s <= int(r.End); s++ {
				t.slots[s] = SlotInfo{State: SlotOwned, Peer: -1, Ver: uint64(ver)}
			}
		}
		t.init = true
		return Status("OK")
	}
	if !t.init {
		return Err("ERR slot ownership is not initialized in this shard")
	}
	s, err := argSlot(1)
	if err != nil {
		return fail(err)
	}
	si := &t.slots[s]
	switch string(args[0]) {
	case "import", "migrate":
		if len(args) != 4 {
			return fail(fmt.Errorf("wrong arguments"))
		}
		peer, err := argInt(2)
		if err != nil || peer < 0 || peer > 1<<30 {
			return fail(fmt.Errorf("bad shard"))
		}
		frozen := string(args[3]) == "1"
		want, from := SlotImporting, SlotUnowned
		if string(args[0]) == "migrate" {
			want, from = SlotMigrating, SlotOwned
		}
		switch {
		case si.State == want && si.Peer == int32(peer):
			si.Frozen = frozen
			return Status("OK")
		case want == SlotImporting && si.State == SlotOwned:
			// Already taken: a source resuming after a crash between the
			// target's take and its own give.
			return Status("OK")
		case si.State != from:
			return fail(fmt.Errorf("slot %d is %s", s, si.State))
		}
		si.State, si.Peer, si.Frozen = want, int32(peer), frozen
		return Status("OK")
	case "take":
		ver, err := argInt(2)
		if err != nil || ver <= 0 {
			return fail(fmt.Errorf("bad version"))
		}
		if si.State == SlotOwned {
			return Status("OK") // taken already (a resumed move)
		}
		if si.State != SlotImporting {
			return fail(fmt.Errorf("slot %d is %s", s, si.State))
		}
		*si = SlotInfo{State: SlotOwned, Peer: -1, Ver: uint64(ver)}
		return Status("OK")
	case "give":
		peer, err := argInt(2)
		if err != nil || peer < 0 || peer > 1<<30 {
			return fail(fmt.Errorf("bad shard"))
		}
		ver, err := argInt(3)
		if err != nil || ver <= 0 {
			return fail(fmt.Errorf("bad version"))
		}
		if si.State == SlotUnowned && si.Peer == int32(peer) && si.Ver == uint64(ver) {
			return Status("OK")
		}
		if si.State != SlotMigrating || si.Peer != int32(peer) {
			return fail(fmt.Errorf("slot %d is %s (peer %d)", s, si.State, si.Peer))
		}
		if n := db.slotCounts[s]; n != 0 {
			return fail(fmt.Errorf("slot %d still holds %d keys", s, n))
		}
		*si = SlotInfo{State: SlotUnowned, Peer: int32(peer), Ver: uint64(ver)}
		return Status("OK")
	case "abort":
		switch si.State {
		case SlotMigrating:
			si.State, si.Frozen = SlotOwned, false
		case SlotImporting:
			for _, k := range db.KeysInSlot(s, int(db.slotCounts[s])) {
				if e := db.find([]byte(k)); e != nil {
					db.remove(e)
				}
			}
			*si = SlotInfo{State: SlotUnowned, Peer: si.Peer}
		}
		return Status("OK")
	}
	return Err("ERR unknown slot command '" + string(args[0]) + "'")
}

// ---- key transfer (OpImport / OpMigDel entries) ------------------------

// decodeImport decodes the values of import commands (applyImport), one
// per command, nil where the command or its payload is malformed. It reads
// no engine state, so it runs before the engine lock is taken.
func decodeImport(cmds [][][]byte) []Value {
	vals := make([]Value, len(cmds))
	for i, cmd := range cmds {
		if len(cmd) != 4 {
			continue
		}
		if v, err := DecodePayload(cmd[2]); err == nil {
			vals[i] = v
		}
	}
	return vals
}

// applyImport stores keys sent by the source of an importing slot. Each
// command is KEY EXPIRE-MS PAYLOAD MERGE(0|1): PAYLOAD is a DUMP-format
// value, or with MERGE=1 a part of a large value to merge into the key;
// vals are the payloads decoded (decodeImport). Keys of slots not
// importing here are skipped. It replies the number of keys stored.
func applyImport(db *DB, now int64, cmds [][][]byte, vals []Value) Reply {
	stored := 0
	for i, cmd := range cmds {
		v := vals[i]
		if v == nil {
			continue
		}
		key := cmd[0]
		if si := db.slotTab.slots[slots.Of(key)]; db.slotTab.init && si.State != SlotImporting {
			continue
		}
		exp, err := strconv.ParseInt(string(cmd[1]), 10, 64)
		if err != nil || exp < 0 {
			continue
		}
		c := NewCtx(db, now, true, 0)
		if string(cmd[3]) == "1" {
			if cur := c.GetMut(key); cur != nil {
				if mergeValue(cur, v) {
					c.SetExpiry(key, exp)
					stored++
				}
				continue
			}
		}
		if exp != 0 && exp <= now {
			c.Delete(key) // expired in transit: the source's copy goes too
			continue
		}
		c.SetWithExpire(key, v, exp)
		stored++
	}
	return Int(int64(stored))
}

// mergeValue adds part's elements to cur (same type): a chunk of a value
// too large for one transfer message.
func mergeValue(cur, part Value) bool {
	switch c := cur.(type) {
	case *hashValue:
		p, ok := part.(*hashValue)
		if !ok {
			return false
		}
		for i := 0; i < p.d.Len(); i++ {
			k, v := p.d.At(i)
			c.d.Set(k, v)
		}
	case *setValue:
		p, ok := part.(*setValue)
		if !ok {
			return false
		}
		for i := 0; i < p.d.Len(); i++ {
			k, _ := p.d.At(i)
			c.d.Set(k, struct{}{})
		}
	case *zsetValue:
		p, ok := part.(*zsetValue)
		if !ok {
			return false
		}
		p.Each(func(m string, s float64) bool { c.Add(m, s); return true })
	case *listValue:
		p, ok := part.(*listValue)
		if !ok {
			return false
		}
		p.Each(func(s string) bool { c.PushBack(s); return true })
	case *streamValue:
		p, ok := part.(*streamValue)
		return ok && mergeStream(c, p)
	default:
		return false
	}
	return true
}

// applyMigDel deletes keys the target has committed, each only if it still
// has the version that was sent (a key written meanwhile stays and is sent
// again). Each command is KEY VERSION. Only keys of migrating slots are
// touched. It replies the number of keys deleted.
func applyMigDel(db *DB, cmds [][][]byte) Reply {
	n := 0
	for _, cmd := range cmds {
		if len(cmd) != 2 {
			continue
		}
		if si := db.slotTab.slots[slots.Of(cmd[0])]; si.State != SlotMigrating {
			continue
		}
		ver, err := strconv.ParseUint(string(cmd[1]), 10, 64)
		if err != nil {
			continue
		}
		if e := db.find(cmd[0]); e != nil && e.ver == ver {
			db.remove(e)
			n++
		}
	}
	return Int(int64(n))
}

// ---- reading a slot for transfer ---------------------------------------

// SlotKey is one key read for transfer.
type SlotKey struct {
	Key     []byte
	Expire  int64 // Unix ms, 0 = none
	Ver     uint64
	Expired bool     // expired at the read time: delete, do not send
	Parts   [][]byte // DUMP-format payloads; more than one for a large value (send the rest with merge)
}

// ReadSlotKeys returns up to maxKeys keys of slot s that sort after the
// key after (nil = from the start of the slot), and whether the slot has
// more keys past the last one returned. Large collections are split into
// parts of about partBytes; the batch stops once it holds about
// maxBytes of serialized values (at least one key), so a slot of big
// values never sits in memory all at once. Run it under the read lock
// (FSM.View).
func (db *DB) ReadSlotKeys(s slots.Slot, after []byte, maxKeys, partBytes, maxBytes int, now int64) ([]SlotKey, bool) {
	var out []SlotKey
	more := false
	size := 0
	start := &entry{pos: uint64(s) << 48}
	if after != nil {
		start = &entry{pos: keyPos(after), key: string(after)}
	}
	db.keys.Ascend(start, func(e *entry) bool {
		if e.pos>>48 != uint64(s) {
			return false
		}
		if after != nil && e.pos == start.pos && e.key == start.key {
			return true
		}
		if len(out) >= maxKeys || len(out) > 0 && maxBytes > 0 && size >= maxBytes {
			more = true
			return false
		}
		k := SlotKey{Key: []byte(e.key), Expire: e.exp, Ver: e.ver}
		if e.exp != 0 && e.exp <= now {
			k.Expired = true
		} else {
			k.Parts = splitValue(e.val, partBytes)
			for _, p := range k.Parts {
				size += len(p)
			}
		}
		out = append(out, k)
		return true
	})
	return out, more
}

// splitValue serializes v as one DUMP payload, or as several for a
// collection larger than about partBytes (each part a valid value of the
// same type holding a run of the elements, in order).
func splitValue(v Value, partBytes int) [][]byte {
	whole := func() [][]byte { return [][]byte{DumpPayload(v)} }
	if partBytes <= 0 {
		return whole()
	}
	var n int
	switch x := v.(type) {
	case *hashValue:
		n = x.d.Len()
	case *setValue:
		n = x.d.Len()
	case *zsetValue:
		n = x.Len()
	case *listValue:
		n = x.Len()
	case *streamValue:
		if len(x.nodes) < 2 || valueMemory(v, 8) <= int64(partBytes) {
			return whole()
		}
		return splitStream(x, partBytes)
	default:
		return whole()
	}
	if n < 2 || valueMemory(v, 8) <= int64(partBytes) {
		return whole()
	}
	var out [][]byte
	size := 0
	var cur Value
	flush := func() {
		if cur != nil {
			out = append(out, DumpPayload(cur))
			cur, size = nil, 0
		}
	}
	add := func(bytes int, put func()) {
		put()
		size += bytes + 16
		if size >= partBytes {
			flush()
		}
	}
	switch x := v.(type) {
	case *hashValue:
		for i := 0; i < x.d.Len(); i++ {
			k, val := x.d.At(i)
			if cur == nil {
				cur = newHash(0)
			}
			h := cur.(*hashValue)
			add(len(k)+len(val), func() { h.d.Set(k, val) })
		}
	case *setValue:
		for i := 0; i < x.d.Len(); i++ {
			k, _ := x.d.At(i)
			if cur == nil {
				cur = newSet(0)
			}
			st := cur.(*setValue)
			add(len(k), func() { st.d.Set(k, struct{}{}) })
		}
	case *zsetValue:
		x.Each(func(m string, sc float64) bool {
			if cur == nil {
				cur = newZset()
			}
			z := cur.(*zsetValue)
			add(len(m)+8, func() { z.Add(m, sc) })
			return true
		})
	case *listValue:
		x.Each(func(s string) bool {
			if cur == nil {
				cur = newList()
			}
			l := cur.(*listValue)
			add(len(s), func() { l.PushBack(s) })
			return true
		})
	}
	flush()
	return out
}

// IsShardRedirect reports whether msg is an engine redirect naming a shard
// ("ASK 866 @2", "MOVED 866 @2") that the node must resolve to an address.
func IsShardRedirect(msg string) bool {
	return (strings.HasPrefix(msg, "ASK ") || strings.HasPrefix(msg, "MOVED ")) && strings.Contains(msg, " @")
}

// ParseShardRedirect splits an engine redirect into kind, slot and shard.
func ParseShardRedirect(msg string) (kind string, slot int, shard int, ok bool) {
	f := strings.Fields(msg)
	if len(f) != 3 || !strings.HasPrefix(f[2], "@") {
		return "", 0, 0, false
	}
	s, err1 := strconv.Atoi(f[1])
	sh, err2 := strconv.Atoi(f[2][1:])
	if err1 != nil || err2 != nil {
		return "", 0, 0, false
	}
	return f[0], s, sh, true
}

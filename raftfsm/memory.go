package raftfsm

import (
	"strings"

	"github.com/raftcache/raftcache/slots"
)

// MEMORY USAGE estimates the bytes a key costs: the key, an entry header
// and the value's payload plus per-element overhead of our structures.
// Redis's figure comes from its allocator; ours is a model of Go's layout,
// good for comparing keys, not for matching Redis byte for byte.
const (
	memEntryOverhead   = 144 // *entry, B-tree slot, hash index slot (~48), expiry index share
	memStringOverhead  = 24
	memDictItem        = 48 // dense slice item + map bucket share
	memListItem        = 16
	memZsetNodeOverhd  = 64 // skiplist node on top of the dict item
	memSamplesDefault  = 5
	memStreamEntry     = 48  // ID, flags and slice header of one entry
	memStreamNode      = 96  // node struct and its pointer
	memStreamNACK      = 112 // NACK shared by the group and consumer PEL trees
	memoryHelpFirstRow = "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
)

func valueMemory(v Value, samples int) int64 {
	// samples bounds the elements looked at (0 = all), as Redis's SAMPLES.
	estimate := func(n int, sum int64, seen int) int64 {
		if seen == 0 || seen >= n {
			return sum
		}
		return sum / int64(seen) * int64(n)
	}
	switch v := v.(type) {
	case *strValue:
		return memStringOverhead + int64(cap(v.b))
	case *hashValue:
		var sum int64
		seen := 0
		for i := 0; i < v.d.Len() && (samples == 0 || seen < samples); i++ {
			k, val := v.d.At(i)
			sum += int64(len(k)+len(val)) + memDictItem
			seen++
		}
		return estimate(v.d.Len(), sum, seen)
	case *setValue:
		var sum int64
		seen := 0
		for i := 0; i < v.d.Len() && (samples == 0 || seen < samples); i++ {
			k, _ := v.d.At(i)
			sum += int64(len(k)) + memDictItem
			seen++
		}
		return estimate(v.d.Len(), sum, seen)
	case *listValue:
		var sum int64
		seen := 0
		v.Each(func(s string) bool {
			sum += int64(len(s)) + memListItem
			seen++
			return samples == 0 || seen < samples
		})
		return estimate(v.Len(), sum, seen)
	case *zsetValue:
		var sum int64
		seen := 0
		v.Each(func(m string, _ float64) bool {
			sum += int64(len(m)) + memDictItem + memZsetNodeOverhd
			seen++
			return samples == 0 || seen < samples
		})
		return estimate(v.Len(), sum, seen)
	case *streamValue:
		return streamMemory(v, samples)
	}
	return 0
}

// streamMemory estimates a stream from a sample of its entries, plus the
// nodes and PELs. It stays O(samples + groups) so that settling a stream
// after each XADD is cheap; tombstones are not counted.
func streamMemory(v *streamValue, samples int) int64 {
	var sum int64
	seen := 0
loop:
	for _, n := range v.nodes {
		for i := range n.ents {
			if samples != 0 && seen >= samples {
				break loop
			}
			if n.ents[i].deleted {
				continue
			}
			sum += memStreamEntry
			for _, x := range n.ents[i].fv {
				sum += int64(len(x)) + memStringOverhead/2
			}
			seen++
		}
	}
	est := int64(len(v.nodes)) * memStreamNode
	if seen > 0 {
		est += sum / int64(seen) * v.length
	}
	for _, g := range v.groups {
		est += int64(len(g.name)) + memDictItem + int64(g.pel.Len())*memStreamNACK
		for _, c := range g.consumers {
			est += int64(len(c.name)) + memDictItem
		}
	}
	return est
}

func memoryCommand(c *Ctx, args [][]byte) Reply {
	sub := strings.ToLower(string(args[1]))
	switch {
	case sub == "usage" && len(args) >= 3:
		samples := memSamplesDefault
		for i := 3; i < len(args); i++ {
			if EqFold(args[i], "samples") && i+1 < len(args) {
				n, ok := ParseInt(args[i+1])
				if !ok || n < 0 {
					return ErrNotInt
				}
				samples = int(n)
				i++
				continue
			}
			return ErrSyntax
		}
		e := c.lookupNoTouch(args[2])
		if e == nil {
			return Nil()
		}
		return Int(memEntryOverhead + int64(len(args[2])) + valueMemory(e.val, samples))
	case sub == "doctor" && len(args) == 2:
		return Verbatim("Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.")
	case sub == "malloc-stats" && len(args) == 2:
		return Verbatim("Stats not supported for the current allocator")
	case sub == "purge" && len(args) == 2:
		return ReplyOK
	case sub == "help" && len(args) == 2:
		return BulkStrings([]string{
			memoryHelpFirstRow,
			"DOCTOR",
			"    Return memory problems reports.",
			"MALLOC-STATS",
			"    Return internal statistics report from the memory allocator.",
			"PURGE",
			"    Attempt to purge dirty pages for reclamation by the allocator.",
			"USAGE <key> [SAMPLES <count>]",
			"    Return memory in bytes used by <key> and its value. Nested values are",
			"    sampled up to <count> times (default: 5, 0 means sample all).",
			"HELP",
			"    Print this help.",
		})
	}
	return Err("ERR unknown subcommand or wrong number of arguments for '" + string(args[1]) + "'. Try MEMORY HELP.")
}

func init() {
	Register(Command{Name: "memory", Arity: -2, Flags: FlagReadOnly,
		Keys: func(args [][]byte) []int {
			if len(args) >= 3 && EqFold(args[1], "usage") {
				return []int{2}
			}
			return nil
		}, Exec: memoryCommand})
}

// SlotMemory estimates the bytes each slot holds (keys and values, values
// sampled as MEMORY USAGE does by default), for rebalancing by memory. It
// visits every key: run it under the read lock, on demand only.
func (db *DB) SlotMemory() []uint64 {
	out := make([]uint64, slots.Count)
	db.keys.Scan(func(e *entry) bool {
		out[e.pos>>48] += uint64(len(e.key)) + uint64(valueMemory(e.val, memSamplesDefault))
		return true
	})
	return out
}

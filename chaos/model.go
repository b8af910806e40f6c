package chaos

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"

	"github.com/anishathalye/porcupine"
)

// Model is the porcupine model of one key. The state is a string: the
// register's value ("" = absent), the counter's value ("" = 0) or the
// list's tokens joined by spaces ("" = empty). Every workload key holds one
// type (reg:*, ctr:*, app:*), so one model serves all three.
var Model = porcupine.Model{
	Partition: partitionByKey,
	Init:      func() any { return "" },
	Step:      step,
	Hash: func(state any) uint64 {
		h := fnv.New64a()
		h.Write([]byte(state.(string)))
		return h.Sum64()
	},
	DescribeOperation: describeOp,
	DescribeState: func(state any) string {
		if s := state.(string); s != "" {
			return s
		}
		return "(empty)"
	},
}

func step(state, input, output any) (bool, any) {
	s, in, out := state.(string), input.(Input), output.(Output)
	if out.Err != "" && !out.Unknown {
		return false, s // the workloads never cause an error reply
	}
	switch in.Op {
	case "get":
		if s == "" {
			return out.Nil, s
		}
		return !out.Nil && out.Val == s, s
	case "set":
		return true, in.Arg
	case "incr":
		n := int64(0)
		if s != "" {
			n, _ = strconv.ParseInt(s, 10, 64)
		}
		n++
		return out.Unknown || out.Int == n, strconv.FormatInt(n, 10)
	case "rpush":
		next := in.Arg
		if s != "" {
			next = s + " " + in.Arg
		}
		return out.Unknown || out.Int == int64(listLen(s)+1), next
	case "lrange":
		return strings.Join(out.List, " ") == s, s
	}
	return false, s
}

func listLen(s string) int {
	if s == "" {
		return 0
	}
	return strings.Count(s, " ") + 1
}

func describeOp(input, output any) string {
	in, out := input.(Input), output.(Output)
	var res string
	switch {
	case out.Unknown:
		res = "?"
	case out.Err != "":
		res = "-" + out.Err
	case out.Nil:
		res = "nil"
	case in.Op == "incr" || in.Op == "rpush":
		res = strconv.FormatInt(out.Int, 10)
	case in.Op == "lrange":
		res = "[" + strings.Join(out.List, " ") + "]"
	default:
		res = strconv.Quote(out.Val)
	}
	if in.Arg != "" {
		return fmt.Sprintf("%s(%s) -> %s", in.Op, in.Arg, res)
	}
	return fmt.Sprintf("%s() -> %s", in.Op, res)
}

// partitionByKey splits a history into one sub-history per key, in key
// order.
func partitionByKey(history []porcupine.Operation) [][]porcupine.Operation {
	byKey := map[string][]porcupine.Operation{}
	for _, op := range history {
		k := op.Input.(Input).Key
		byKey[k] = append(byKey[k], op)
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([][]porcupine.Operation, 0, len(keys))
	for _, k := range keys {
		out = append(out, byKey[k])
	}
	return out
}

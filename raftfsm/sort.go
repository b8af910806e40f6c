package raftfsm

// SORT and SORT_RO (Redis 7.0 src/sort.c).
//
// raftcache always behaves as Redis in cluster mode, where SORT refuses any
// GET option and any BY pattern containing '*' (both would read keys that
// may live in other slots). The pattern machinery (BY weight_*, BY h_*->f,
// GET #, GET pattern) is still implemented, behind the cluster parameter of
// sortGeneric, so that the non-cluster semantics stay tested and can be
// enabled if same-slot patterns are ever allowed.
//
// Deviations from Redis, both for determinism across replicas:
//   - ALPHA compares bytes (Redis uses strcoll when not storing, which
//     depends on the server locale; with the default "C" locale the two agree).
//   - Elements whose sort keys compare equal are ordered by their own bytes
//     in every mode (Redis does so for numeric sorts only; for ALPHA BY its
//     qsort leaves ties in an unspecified order).

import (
	"errors"
	"sort"
	"strconv"
	"strings"
)

var (
	errSortScore     = Err("ERR One or more scores can't be converted into double")
	errSortByCluster = Err("ERR BY option of SORT denied in Cluster mode.")
	errSortGetClustr = Err("ERR GET option of SORT denied in Cluster mode.")
)

func init() {
	Register(
		Command{Name: "sort", Arity: -2, Flags: FlagWrite | FlagDenyOOM | FlagMovableKeys, First: 1, Last: 1, Step: 1,
			Keys: sortKeys, Exec: sortCommand},
		// Movable keys, as Redis marks it: BY and GET patterns name keys.
		Command{Name: "sort_ro", Arity: -2, Flags: FlagReadOnly | FlagMovableKeys, First: 1, Last: 1, Step: 1,
			Keys: sortKeys, Exec: sortROCommand},
	)
}

func sortCommand(c *Ctx, args [][]byte) Reply   { return sortGeneric(c, args, false, true) }
func sortROCommand(c *Ctx, args [][]byte) Reply { return sortGeneric(c, args, true, true) }

// sortKeys returns the sorted key plus the destination of the last STORE,
// skipping the arguments of LIMIT, GET and BY the way Redis's sortGetKeys
// does (so "GET store" is not taken for a STORE option).
func sortKeys(args [][]byte) []int {
	if len(args) < 2 {
		return nil
	}
	keys := []int{1}
	store := 0
	for i := 2; i < len(args); i++ {
		switch {
		case EqFold(args[i], "limit"):
			i += 2
		case EqFold(args[i], "get"), EqFold(args[i], "by"):
			i++
		case EqFold(args[i], "store") && i+1 < len(args):
			// Not skipped: Redis scans the destination as a possible option too.
			store = i + 1
		}
	}
	if store != 0 {
		keys = append(keys, store)
	}
	return keys
}

// sortItem is one element to sort with its sort key: score for numeric
// sorts, cmp (when hasCmp) for ALPHA with BY.
type sortItem struct {
	elem   string
	score  float64
	cmp    string
	hasCmp bool
}

// sortGeneric runs SORT (readonly false) or SORT_RO. With cluster set it
// refuses the options Redis refuses in cluster mode.
func sortGeneric(c *Ctx, args [][]byte, readonly, cluster bool) Reply {
	var (
		desc, alpha, dontsort bool
		limitStart            int64
		limitCount            int64 = -1
		sortby, storekey      []byte
		gets                  [][]byte
	)
	for j := 2; j < len(args); j++ {
		left := len(args) - j - 1
		a := args[j]
		switch {
		case EqFold(a, "asc"):
			desc = false
		case EqFold(a, "desc"):
			desc = true
		case EqFold(a, "alpha"):
			alpha = true
		case EqFold(a, "limit") && left >= 2:
			var ok bool
			if limitStart, ok = ParseInt(args[j+1]); !ok {
				return ErrNotInt
			}
			if limitCount, ok = ParseInt(args[j+2]); !ok {
				return ErrNotInt
			}
			j += 2
		case !readonly && EqFold(a, "store") && left >= 1:
			storekey = args[j+1]
			j++
		case EqFold(a, "by") && left >= 1:
			sortby = args[j+1]
			// A constant pattern (no '*') means "don't sort", e.g. BY nosort.
			if !strings.Contains(bstr(sortby), "*") {
				dontsort = true
			} else if cluster {
				return errSortByCluster
			}
			j++
		case EqFold(a, "get") && left >= 1:
			if cluster {
				return errSortGetClustr
			}
			gets = append(gets, args[j+1])
			j++
		default:
			return ErrSyntax
		}
	}

	var src Value
	switch v := c.Get(args[1]).(type) {
	case nil, *listValue, *setValue, *zsetValue:
		src = v
	default:
		return ErrWrongType
	}

	// A set has no native order: when the result is stored (and so
	// replicated), Redis sorts it anyway, alphabetically.
	if _, isSet := src.(*setValue); isSet && dontsort && storekey != nil {
		dontsort, alpha, sortby = false, true, nil
	}

	n := 0
	switch v := src.(type) {
	case *listValue:
		n = v.Len()
	case *setValue:
		n = v.d.Len()
	case *zsetValue:
		n = v.Len()
	}

	// LIMIT clamping as in Redis; start/end are inclusive indexes into the
	// sorted vector and end < start means an empty result.
	start := min(max(limitStart, 0), int64(n))
	count := min(max(limitCount, -1), int64(n))
	end := int64(n) - 1
	if count >= 0 {
		end = start + count - 1
	}
	if start >= int64(n) {
		start, end = int64(n)-1, int64(n)-2
	}
	if end >= int64(n) {
		end = int64(n) - 1
	}

	var items []sortItem
	switch v := src.(type) {
	case *listValue:
		if dontsort {
			// Native order (reversed by DESC), with LIMIT applied directly.
			for k := start; k <= end; k++ {
				i := int(k)
				if desc {
					i = n - 1 - int(k)
				}
				items = append(items, sortItem{elem: v.Index(i)})
			}
			start, end = 0, end-start
		} else {
			items = make([]sortItem, 0, n)
			v.Each(func(s string) bool {
				items = append(items, sortItem{elem: s})
				return true
			})
		}
	case *setValue:
		items = make([]sortItem, n)
		for i := range n {
			items[i].elem, _ = v.d.At(i)
		}
	case *zsetValue:
		if dontsort {
			// Score order (reversed by DESC), with LIMIT applied directly.
			all := make([]string, 0, n)
			v.Each(func(m string, _ float64) bool {
				all = append(all, m)
				return true
			})
			for k := start; k <= end; k++ {
				i := int(k)
				if desc {
					i = n - 1 - int(k)
				}
				items = append(items, sortItem{elem: all[i]})
			}
			start, end = 0, end-start
		} else {
			items = make([]sortItem, n)
			for i := range n {
				items[i].elem, _ = v.d.At(i)
			}
		}
	}

	if !dontsort {
		for i := range items {
			it := &items[i]
			by := it.elem
			if sortby != nil {
				var ok bool
				if by, ok = sortLookup(c, sortby, it.elem); !ok {
					// A missing weight sorts as 0 (numeric) or first (ALPHA).
					continue
				}
			}
			if alpha {
				if sortby != nil {
					it.cmp, it.hasCmp = by, true
				}
			} else {
				f, ok := sortParseScore(by)
				if !ok {
					return errSortScore
				}
				it.score = f
			}
		}
		byPattern := sortby != nil
		sort.SliceStable(items, func(i, j int) bool {
			r := sortCompare(&items[i], &items[j], alpha, byPattern)
			if desc {
				r = -r
			}
			return r < 0
		})
	}

	rows := int(end - start + 1) // elements in the result, >= 0
	outLen := rows
	if len(gets) > 0 {
		outLen = rows * len(gets)
	}
	sel := items[:0]
	if rows > 0 {
		sel = items[start : end+1]
	}

	if storekey == nil {
		out := make([]Reply, 0, outLen)
		for _, it := range sel {
			if len(gets) == 0 {
				out = append(out, Bulk(it.elem))
				continue
			}
			for _, g := range gets {
				if s, ok := sortLookup(c, g, it.elem); ok {
					out = append(out, Bulk(s))
				} else {
					out = append(out, Nil())
				}
			}
		}
		return Array(out)
	}

	if outLen == 0 {
		if c.Delete(storekey) {
			c.notify(NotifyGeneric, "del", storekey)
		}
		return Int(0)
	}
	l := newList()
	for _, it := range sel {
		if len(gets) == 0 {
			l.PushBack(it.elem)
			continue
		}
		for _, g := range gets {
			// A list cannot hold nil: missing values are stored as "".
			s, _ := sortLookup(c, g, it.elem)
			l.PushBack(s)
		}
	}
	c.Set(storekey, l)
	c.notify(NotifyList, "sortstore", storekey)
	return Int(int64(outLen))
}

// sortCompare orders two items; it is a total order on distinct elements,
// so the result never depends on the input order.
func sortCompare(a, b *sortItem, alpha, byPattern bool) int {
	if !alpha {
		switch {
		case a.score < b.score:
			return -1
		case a.score > b.score:
			return 1
		}
		return strings.Compare(a.elem, b.elem)
	}
	if byPattern {
		switch {
		case !a.hasCmp && !b.hasCmp:
		case !a.hasCmp:
			return -1
		case !b.hasCmp:
			return 1
		default:
			if r := strings.Compare(a.cmp, b.cmp); r != 0 {
				return r
			}
		}
	}
	return strings.Compare(a.elem, b.elem)
}

// sortLookup resolves a BY/GET pattern for element subst, as Redis's
// lookupKeyByPattern: "#" is the element itself; otherwise the first '*'
// is replaced by subst, and "key->field" reads a hash field. Missing keys,
// wrong types and patterns without '*' yield false.
func sortLookup(c *Ctx, pattern []byte, subst string) (string, bool) {
	pat := bstr(pattern)
	if pat == "#" {
		return subst, true
	}
	star := strings.IndexByte(pat, '*')
	if star < 0 {
		return "", false
	}
	rest := pat[star+1:]
	field := ""
	hasField := false
	// Only an arrow after the '*' with a non-empty field name dereferences a hash.
	if f := strings.Index(rest, "->"); f >= 0 && f+2 < len(rest) {
		field, hasField = rest[f+2:], true
		rest = rest[:f]
	}
	key := pat[:star] + subst + rest
	switch v := c.Get([]byte(key)).(type) {
	case *strValue:
		if !hasField {
			return v.String(), true
		}
	case *hashValue:
		if hasField {
			return v.d.Get(field)
		}
	}
	return "", false
}

// sortParseScore converts a sort weight to a double the way Redis does with
// strtod plus its checks: leading whitespace is skipped, the whole string
// must be consumed, NaN and out-of-range values are rejected. An empty
// string converts to 0, as strtod consumes nothing and ends at the NUL.
func sortParseScore(s string) (float64, bool) {
	if s == "" {
		return 0, true
	}
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	if t == "" || strings.ContainsRune(t, '_') {
		return 0, false
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil && errors.Is(err, strconv.ErrSyntax) {
		// strtod takes hex without a binary exponent ("0x1A"); Go wants "p".
		u := strings.TrimLeft(t, "+-")
		if len(u) > 2 && (u[:2] == "0x" || u[:2] == "0X") && !strings.ContainsAny(u, "pP") {
			f, err = strconv.ParseFloat(t+"p0", 64)
		}
	}
	if err != nil || f != f {
		return 0, false
	}
	if f == 0 && sortMantissaNonZero(t) {
		// Underflow to zero: strtod reports ERANGE, which Redis rejects.
		return 0, false
	}
	return f, true
}

// sortMantissaNonZero reports whether a decimal or hex number has a
// non-zero digit before its exponent.
func sortMantissaNonZero(t string) bool {
	t = strings.TrimLeft(t, "+-")
	hex := len(t) > 2 && (t[:2] == "0x" || t[:2] == "0X")
	if hex {
		t = t[2:]
	}
	for i := 0; i < len(t); i++ {
		ch := t[i]
		switch {
		case ch >= '1' && ch <= '9':
			return true
		case hex && (ch >= 'a' && ch <= 'f' || ch >= 'A' && ch <= 'F'):
			return true
		case !hex && (ch == 'e' || ch == 'E'), hex && (ch == 'p' || ch == 'P'):
			return false
		}
	}
	return false
}

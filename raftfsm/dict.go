package raftfsm

// dict is a map whose iteration order depends only on the sequence of
// operations applied to it (never on Go's randomised map order), so replicas
// that apply the same log agree on it. Elements live in a dense slice;
// deletion moves the last element into the hole. That gives O(1) lookup,
// insert, delete and access by index (random picks for SPOP, HRANDFIELD).
type dict[V any] struct {
	idx   map[string]int32
	items []dictItem[V]
}

type dictItem[V any] struct {
	Key string
	Val V
}

func newDict[V any](hint int) *dict[V] {
	return &dict[V]{idx: make(map[string]int32, hint), items: make([]dictItem[V], 0, hint)}
}

// Len returns the number of elements.
func (d *dict[V]) Len() int { return len(d.items) }

// Get returns the value stored under k.
func (d *dict[V]) Get(k string) (V, bool) {
	if i, ok := d.idx[k]; ok {
		return d.items[i].Val, true
	}
	var zero V
	return zero, false
}

// GetB is Get for a []byte key, without allocating.
func (d *dict[V]) GetB(k []byte) (V, bool) {
	if i, ok := d.idx[string(k)]; ok {
		return d.items[i].Val, true
	}
	var zero V
	return zero, false
}

// Has reports whether k is present.
func (d *dict[V]) Has(k []byte) bool {
	_, ok := d.idx[string(k)]
	return ok
}

// Set stores v under k and reports whether k was added (not replaced).
func (d *dict[V]) Set(k string, v V) bool {
	if i, ok := d.idx[k]; ok {
		d.items[i].Val = v
		return false
	}
	d.idx[k] = int32(len(d.items))
	d.items = append(d.items, dictItem[V]{k, v})
	return true
}

// Delete removes k and reports whether it was present.
func (d *dict[V]) Delete(k []byte) bool {
	i, ok := d.idx[string(k)]
	if !ok {
		return false
	}
	delete(d.idx, string(k))
	last := len(d.items) - 1
	if int(i) != last {
		d.items[i] = d.items[last]
		d.idx[d.items[i].Key] = i
	}
	d.items[last] = dictItem[V]{}
	d.items = d.items[:last]
	return true
}

// At returns the i-th element in the dict's deterministic order.
func (d *dict[V]) At(i int) (string, V) {
	it := d.items[i]
	return it.Key, it.Val
}

// Clone returns an independent copy (same order).
func (d *dict[V]) Clone() *dict[V] {
	nd := &dict[V]{idx: make(map[string]int32, len(d.items)), items: make([]dictItem[V], len(d.items))}
	copy(nd.items, d.items)
	for i, it := range nd.items {
		nd.idx[it.Key] = int32(i)
	}
	return nd
}

// Scan visits about count elements from cursor and returns the next cursor
// (0 when done). It walks the slice from the end: deletion only moves the
// last element into a hole, so an element present for the whole scan is
// never moved from the unvisited part into the visited one and is returned
// at least once, which is SCAN's guarantee. Cursor 0 starts a scan; other
// cursors are the number of unvisited positions plus one.
func (d *dict[V]) Scan(cursor uint64, count int, fn func(k string, v V)) uint64 {
	rem := len(d.items)
	if cursor != 0 && cursor-1 < uint64(rem) {
		rem = int(cursor - 1)
	}
	if count < 1 {
		count = 1
	}
	for n := 0; n < count && rem > 0; n++ {
		rem--
		it := d.items[rem]
		fn(it.Key, it.Val)
	}
	if rem == 0 {
		return 0
	}
	return uint64(rem) + 1
}

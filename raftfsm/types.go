package raftfsm

import "unsafe"

// strValue is a string. The bytes up to len(b) are never changed once
// stored (replies and snapshots alias them); APPEND may write past len(b)
// into spare capacity, which no one else can see.
type strValue struct{ b []byte }

func (*strValue) Type() string   { return "string" }
func (v *strValue) Clone() Value { return v } // immutable below len: sharing is safe

// String returns the value as a string without copying.
func (v *strValue) String() string { return unsafe.String(unsafe.SliceData(v.b), len(v.b)) }

func newStr(b []byte) *strValue { return &strValue{b: append([]byte(nil), b...)} }

// hashValue is a hash: field -> value.
type hashValue struct{ d *dict[string] }

func newHash(hint int) *hashValue { return &hashValue{d: newDict[string](hint)} }
func (*hashValue) Type() string   { return "hash" }
func (v *hashValue) Clone() Value { return &hashValue{d: v.d.Clone()} }

// setValue is a set of members.
type setValue struct{ d *dict[struct{}] }

func newSet(hint int) *setValue  { return &setValue{d: newDict[struct{}](hint)} }
func (*setValue) Type() string   { return "set" }
func (v *setValue) Clone() Value { return &setValue{d: v.d.Clone()} }

package node

import (
	"strings"
	"testing"
)

// TestImportChunks checks how a Transfer's records are cut into log
// entries: about the limit each, never between the parts of one value.
func TestImportChunks(t *testing.T) {
	rec := func(key string, size int, merge bool) [][]byte {
		m := "0"
		if merge {
			m = "1"
		}
		return [][]byte{[]byte(key), []byte("0"), make([]byte, size), []byte(m)}
	}
	// shape renders chunks as keys per chunk, e.g. "a b|c".
	shape := func(chunks [][][][]byte) string {
		var out []string
		for _, c := range chunks {
			var keys []string
			for _, r := range c {
				k := string(r[0])
				if string(r[3]) == "1" {
					k += "+"
				}
				keys = append(keys, k)
			}
			out = append(out, strings.Join(keys, " "))
		}
		return strings.Join(out, "|")
	}
	tests := []struct {
		name string
		cmds [][][]byte
		want string
	}{
		{"one small record", [][][]byte{rec("a", 10, false)}, "a"},
		{"fits in one", [][][]byte{rec("a", 30, false), rec("b", 30, false)}, "a b"},
		{"cut once the limit is reached", [][][]byte{rec("a", 60, false), rec("b", 60, false), rec("c", 10, false)}, "a b|c"},
		{"filled then cut", [][][]byte{rec("a", 40, false), rec("b", 40, false), rec("c", 40, false), rec("d", 40, false)}, "a b|c d"},
		{"record larger than the limit", [][][]byte{rec("a", 500, false), rec("b", 1, false)}, "a|b"},
		{"parts stay together", [][][]byte{rec("a", 60, false), rec("a", 60, true), rec("a", 60, true), rec("b", 60, false)}, "a a+ a+|b"},
		{"leading parts of a value begun in an earlier message", [][][]byte{rec("a", 60, true), rec("a", 60, true), rec("b", 60, false), rec("c", 1, false)}, "a+ a+|b c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := importChunks(tt.cmds, 64)
			if s := shape(got); s != tt.want {
				t.Errorf("got %s, want %s", s, tt.want)
			}
			n := 0
			for _, c := range got {
				n += len(c)
			}
			if n != len(tt.cmds) {
				t.Errorf("%d records in chunks, %d given", n, len(tt.cmds))
			}
		})
	}
}

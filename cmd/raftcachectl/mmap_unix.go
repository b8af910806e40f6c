//go:build unix

package main

import (
	"os"
	"syscall"
)

// mapFile maps f read-only: an RDB file of many gigabytes is read without
// holding it in the heap. release unmaps it.
func mapFile(f *os.File) (b []byte, release func(), err error) {
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if st.Size() == 0 {
		return nil, func() {}, nil
	}
	b, err = syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, err
	}
	return b, func() { _ = syscall.Munmap(b) }, nil
}

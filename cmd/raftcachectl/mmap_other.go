//go:build !unix

package main

import (
	"io"
	"os"
)

// mapFile reads f whole where there is no mmap.
func mapFile(f *os.File) (b []byte, release func(), err error) {
	b, err = io.ReadAll(f)
	return b, func() {}, err
}

//go:build linux || darwin || freebsd || netbsd || openbsd

package importer

import (
	"syscall"
	"unsafe"
)

// slots is zeroed memory for keys, mapped outside the Go heap: it holds no
// pointers, lives as long as the run, and the collector need not count it.
type slots struct {
	keys []uint64
	mem  []byte // the mapping; nil when the heap had to be used
}

func newSlots(n int) slots {
	mem, err := syscall.Mmap(-1, 0, n*8, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return slots{keys: make([]uint64, n)} // still correct, only heavier
	}
	return slots{keys: unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(mem))), n), mem: mem}
}

func (s slots) free() {
	if s.mem != nil {
		syscall.Munmap(s.mem)
	}
}

//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package importer

// slots is memory for keys; on this system it comes from the Go heap.
type slots struct{ keys []uint64 }

func newSlots(n int) slots { return slots{keys: make([]uint64, n)} }

func (slots) free() {}

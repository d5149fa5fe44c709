package importer

import "math/bits"

// keySet is the set of numbers seen so far in the file, for in-file dedupe.
// It is the one structure that grows with the file, so it is built for
// memory: keys (E.164 digits as a uint64, never 0) sit in 256 open-addressing
// shards that each grow by half when three quarters full — about 13 bytes
// per number where a map[uint64]struct{} takes 16 to 25, and never more than
// one shard rehashed at a time. The shards live outside the Go heap where
// the system allows (see slots_mmap.go), so the collector's headroom, which
// doubles whatever is live, does not double them too.
type keySet struct {
	shards [256]slots
	counts [256]int
}

const (
	keySetInitial = 512 // slots: one 4 KiB page
	keySetMaxLoad = 0.75
)

// add inserts k and reports whether it was new.
func (s *keySet) add(k uint64) bool {
	h := mix(k)
	i := h >> 56
	t := s.shards[i].keys
	if float64(s.counts[i]+1) > keySetMaxLoad*float64(len(t)) {
		t = s.grow(int(i))
	}
	if !insert(t, k, h) {
		return false
	}
	s.counts[i]++
	return true
}

func (s *keySet) grow(i int) []uint64 {
	old := s.shards[i]
	next := newSlots(max(keySetInitial, len(old.keys)+len(old.keys)/2))
	for _, k := range old.keys {
		if k != 0 {
			insert(next.keys, k, mix(k))
		}
	}
	old.free()
	s.shards[i] = next
	return next.keys
}

// has reports whether k is in the set.
func (s *keySet) has(k uint64) bool {
	h := mix(k)
	t := s.shards[h>>56].keys
	if len(t) == 0 {
		return false
	}
	hi, _ := bits.Mul64(h<<8, uint64(len(t)))
	for j := int(hi); ; j++ {
		if j == len(t) {
			j = 0
		}
		switch t[j] {
		case 0:
			return false
		case k:
			return true
		}
	}
}

// release returns the set's memory; the set is empty afterwards.
func (s *keySet) release() {
	for i := range s.shards {
		s.shards[i].free()
		s.shards[i], s.counts[i] = slots{}, 0
	}
}

// insert places k in t by linear probing from its home slot.
func insert(t []uint64, k, h uint64) bool {
	hi, _ := bits.Mul64(h<<8, uint64(len(t))) // home slot: the hash's low bits scaled to len(t)
	for j := int(hi); ; j++ {
		if j == len(t) {
			j = 0
		}
		switch t[j] {
		case 0:
			t[j] = k
			return true
		case k:
			return false
		}
	}
}

// mix is a bijective 64-bit finaliser (splitmix64): numbers that share
// their leading digits land in different shards and slots.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

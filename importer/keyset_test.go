package importer

import (
	"math/rand/v2"
	"testing"
)

// The set agrees with a map on every insertion, duplicates included.
func TestKeySetAgreesWithMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var s keySet
	defer s.release()
	m := map[uint64]bool{}
	for range 300_000 {
		k := 33600000000 + rng.Uint64N(400_000) // dense, with many repeats
		if s.has(k) != m[k] {
			t.Fatalf("has(%d) = %v before add", k, s.has(k))
		}
		if got, want := s.add(k), !m[k]; got != want {
			t.Fatalf("add(%d) = %v, want %v", k, got, want)
		}
		m[k] = true
	}
	n := 0
	for i := range s.shards {
		n += s.counts[i]
		if float64(s.counts[i]) > keySetMaxLoad*float64(len(s.shards[i].keys)) {
			t.Fatalf("shard %d over its load", i)
		}
	}
	if n != len(m) {
		t.Fatalf("%d keys, want %d", n, len(m))
	}
}

func BenchmarkKeySet(b *testing.B) {
	b.ReportAllocs()
	var s keySet
	defer s.release()
	for i := 0; b.Loop(); i++ {
		s.add(33600000000 + uint64(i)*7919)
	}
}

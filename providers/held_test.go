package providers

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Held gives back what was put, whatever the values' sizes, however many
// chunks they take.
func TestHeld(t *testing.T) {
	var none *Held
	if got := none.Get(1); got != nil {
		t.Fatalf("a nil Held holds %q", got)
	}
	h := NewHeld()
	huge := strings.Repeat("é", MaxItemSize)
	want := map[uint64][]string{}
	for k := range uint64(3000) {
		v := []string{fmt.Sprint(k), "", strings.Repeat("x", int(k%700))}
		if k == 1234 {
			v = append(v, huge)
		}
		h.Put(k, v)
		want[k] = v
	}
	h.Put(7, []string{"replaced"})
	want[7] = []string{"replaced"}
	h.Put(8, nil)
	want[8] = []string{}
	for k, v := range want {
		if got := h.Get(k); !slices.Equal(got, v) {
			t.Fatalf("key %d: %.40q, want %.40q", k, got, v)
		}
	}
	if got := h.Get(99999); got != nil {
		t.Fatalf("an absent key holds %q", got)
	}
}

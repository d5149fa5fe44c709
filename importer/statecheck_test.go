package importer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

var discardLog = slog.New(slog.DiscardHandler)

// sampleState returns the bytes of a state file as a run leaves it when it
// is killed: a folded tree of n numbers over several pages, and a journal
// of what the killed run confirmed.
func sampleState(t testing.TB, n int) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := openState(path, "p", "a", "l", discardLog)
	if err != nil {
		t.Fatal(err)
	}
	writes := make([]stateWrite, n)
	for i := range writes {
		writes[i] = stateWrite{key: uint64(33600000000 + i*7919), record: stateRecord{kind: recordAdded, fingerprint: uint64(i), id: "id"}}
	}
	if err := s.apply(writes); err != nil {
		t.Fatal(err)
	}
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	if s, err = openState(path, "p", "a", "l", discardLog); err != nil {
		t.Fatal(err)
	}
	refused := stateRecord{kind: recordRejected, fingerprint: 1, reason: "invalid_phone"}
	if err := s.apply([]stateWrite{{key: 1, record: refused}, {key: 33600000000, delete: true}}); err != nil {
		t.Fatal(err)
	}
	s.db.Close() // killed: the journal is not folded
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// bbolt grows its file ahead of its data; the rest is of no interest.
	return data[:dataEnd(t, data)]
}

// dataEnd is where the pages the state file holds end.
func dataEnd(t testing.TB, data []byte) int {
	t.Helper()
	c := &boltCheck{f: bytes.NewReader(data), size: int64(len(data))}
	m, err := c.meta()
	if err != nil {
		t.Fatal(err)
	}
	return int(m.hwm * m.pageSize)
}

// useState opens the bytes as a state file and uses it as a run would. It
// must never crash: a damaged file is refused with a *DamagedStateError, or
// it opens and works.
func useState(t *testing.T, path string, data []byte) error {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := openState(path, "p", "a", "l", discardLog)
	if err != nil {
		return err
	}
	err = s.lookup(func(read func(uint64) (stateRecord, bool)) {
		for i := range uint64(50) {
			read(33600000000 + i*7919)
		}
	})
	if err == nil {
		err = s.apply([]stateWrite{{key: 2, record: stateRecord{kind: recordUpdated, fingerprint: 2, id: "x"}}})
	}
	if err == nil {
		err = s.sent(func(uint64, stateRecord) {})
	}
	if cerr := s.close(); err == nil {
		err = cerr
	}
	return err
}

func TestDamagedStateRefused(t *testing.T) {
	good := sampleState(t, 3000)
	if n := len(good) / os.Getpagesize(); n < 8 {
		t.Fatalf("the sample state has %d pages: too few to cut", n)
	}
	page := os.Getpagesize()
	if err := useState(t, filepath.Join(t.TempDir(), "state.db"), good); err != nil {
		t.Fatalf("a sound state: %v", err)
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "it is empty: 0 bytes"},
		{"one byte", good[:1], "cut short"},
		{"first page", good[:page], "cut short"},
		{"two pages", good[:2*page], "cut short"},
		{"three pages", good[:3*page], "cut short"},
		{"four pages", good[:4*page], "cut short"},
		{"mid-page", good[:5*page+100], "cut short"},
		{"last page", good[:len(good)-page], "cut short"},
		{"a branch's key not its child's first", parentKeyChanged(t, good), "the first key of page"},
		{"a CSV file", []byte("first name,mobile\n" + strings.Repeat("Ada,0612345678\n", 1000)), "header pages are unreadable"},
		{"zeros", make([]byte, 8*page), "header pages are unreadable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.db")
			err := useState(t, path, tt.data)
			var de *DamagedStateError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) ||
				!strings.Contains(err.Error(), "move it aside") {
				t.Fatalf("err = %v", err)
			}
			if _, err := os.Stat(path + ".pid"); err == nil {
				t.Error("a refused state left its .pid file")
			}
		})
	}
}

// Flipped bits in every page: refused as damaged, or harmless (a
// fingerprint or ID changed, a row is sent again); never a crash. The flips
// fall in each page's header, its first elements and its first keys and
// values, where bbolt finds its way.
func TestStateBitFlips(t *testing.T) {
	good := sampleState(t, 300)
	page := os.Getpagesize()
	path := filepath.Join(t.TempDir(), "state.db")
	refused := 0
	for off := 0; off < len(good); off++ {
		if in := off % page; in >= 96 || in%5 != 0 {
			continue
		}
		data := append([]byte(nil), good...)
		data[off] ^= 1 << (off % 8)
		err := useState(t, path, data)
		var de *DamagedStateError
		switch {
		case errors.As(err, &de):
			refused++
		case err != nil:
			t.Fatalf("flip at %d: %v", off, err)
		}
	}
	if refused == 0 {
		t.Fatal("no flipped bit was found")
	}
	t.Logf("%d of the flips refused", refused)
}

// A file cut short while the run has it mapped faults on the next read: the
// fault is an error, not a crash.
func TestStateCutShortWhileOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	if err := os.WriteFile(path, sampleState(t, 3000), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := openState(path, "p", "a", "l", discardLog)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, int64(2*os.Getpagesize())); err != nil {
		t.Fatal(err)
	}
	err = s.lookup(func(read func(uint64) (stateRecord, bool)) {
		for i := range uint64(3000) {
			read(33600000000 + i*7919)
		}
	})
	var de *DamagedStateError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), path) {
		t.Fatalf("lookup: %v", err)
	}
	if err := s.close(); !errors.As(err, &de) {
		t.Fatalf("close: %v", err)
	}
	// The lock is released although bbolt's map of the file remains.
	if _, err := openState(path, "p", "a", "l", discardLog); !errors.As(err, &de) || !strings.Contains(err.Error(), "cut short") {
		t.Fatalf("reopening: %v", err)
	}
}

// FuzzStateOpen writes arbitrary bytes as a state file and opens it: the
// program must never crash, only refuse the file or work with it.
func FuzzStateOpen(f *testing.F) {
	good := sampleState(f, 300)
	page := os.Getpagesize()
	f.Add(good)
	for _, n := range []int{0, 1, page, 2 * page, 3*page + 17, 4 * page, len(good) - page} {
		f.Add(good[:n])
	}
	for _, off := range []int{page + 40, 2*page + 10, 3*page + 20, 4*page + 9, 5*page + 30} {
		flipped := append([]byte(nil), good...)
		flipped[off] ^= 0x10
		f.Add(flipped)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		// Unprotected, so that a bug of the walk shows as one: in a run,
		// protect would take its panic for damage to the file.
		checkStateFile(bytes.NewReader(data), int64(len(data)))
		err := useState(t, filepath.Join(dir, "state.db"), data)
		var de *DamagedStateError
		if err != nil && !errors.As(err, &de) {
			t.Fatalf("an error that does not say the file is damaged: %v", err)
		}
	})
}

// The check accepts whatever bbolt writes: puts and deletes at random over
// many transactions, keys and values of many sizes, values that overflow a
// page, buckets created and deleted whole (as the journal is), nested ones.
func TestCheckAcceptsWhatBboltWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bolt.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	key := func() []byte {
		k := binary.BigEndian.AppendUint64(nil, rng.Uint64N(3000))
		return append(k, bytes.Repeat([]byte{'k'}, rng.IntN(3)*rng.IntN(60))...)
	}
	for txn := range 150 {
		err := db.Update(func(tx *bolt.Tx) error {
			data, err := tx.CreateBucketIfNotExists([]byte("data"))
			if err != nil {
				return err
			}
			for range rng.IntN(200) {
				if rng.IntN(3) == 0 {
					err = data.Delete(key())
				} else {
					err = data.Put(key(), make([]byte, rng.IntN(40)))
				}
				if err != nil {
					return err
				}
			}
			journal, err := tx.CreateBucketIfNotExists([]byte("journal"))
			if err != nil {
				return err
			}
			seq, _ := journal.NextSequence()
			if err := journal.Put(binary.BigEndian.AppendUint64(nil, seq), make([]byte, rng.IntN(3)*rng.IntN(9000))); err != nil {
				return err
			}
			if rng.IntN(6) == 0 {
				if err := tx.DeleteBucket([]byte("journal")); err != nil {
					return err
				}
			}
			nested, err := data.CreateBucketIfNotExists([]byte{0xff, byte(rng.IntN(4))})
			if err != nil {
				return err
			}
			return nested.Put(key(), []byte("v"))
		})
		if err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		err = checkStateFile(f, info.Size())
		f.Close()
		if err != nil {
			t.Fatalf("after transaction %d: %v", txn, err)
		}
	}
	db.View(func(tx *bolt.Tx) error {
		if st := tx.Bucket([]byte("data")).Stats(); st.BranchPageN == 0 || st.LeafPageN < 10 {
			t.Errorf("too small a tree to tell: %+v", st)
		}
		return nil
	})
}

// parentKeyChanged returns the state with the first key of a leaf changed,
// but still in order: the branch above it no longer holds that key, which
// makes bbolt corrupt the file the next time it rewrites the leaf.
func parentKeyChanged(t *testing.T, data []byte) []byte {
	t.Helper()
	data = bytes.Clone(data)
	page := os.Getpagesize()
	for off := 2 * page; off < len(data); off += page {
		p := data[off:]
		if boltOrder.Uint16(p[8:]) != boltBranchPage {
			continue
		}
		child := int(boltOrder.Uint64(p[boltPageHeader+8:])) * page
		elem := data[child+boltPageHeader:]
		pos, ksize := boltOrder.Uint32(elem[4:]), boltOrder.Uint32(elem[8:])
		elem[int(pos)+int(ksize)-1]++ // the last byte of its first key, which the next key exceeds by more
		return data
	}
	t.Fatal("the sample state has no branch page")
	return nil
}

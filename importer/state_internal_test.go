package importer

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// What a run confirmed is in the journal; a run killed before folding it
// leaves it there, and the next run folds it when it opens the state.
func TestStateJournalSurvivesACrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := openState(path, "p", "a", "l")
	if err != nil {
		t.Fatal(err)
	}
	sent := stateRecord{kind: recordAdded, fingerprint: 7, id: "42"}
	refused := stateRecord{kind: recordRejected, fingerprint: 9, reason: "invalid_phone"}
	if err := s.apply([]stateWrite{{key: 1, record: sent}, {key: 2, record: sent}}); err != nil {
		t.Fatal(err)
	}
	if err := s.apply([]stateWrite{{key: 2, delete: true}, {key: 3, record: refused}, {key: 1, record: refused}}); err != nil {
		t.Fatal(err)
	}
	s.db.Close() // killed: no fold

	s, err = openState(path, "p", "a", "l")
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	got := map[uint64]stateRecord{}
	s.lookup(func(read func(uint64) (stateRecord, bool)) {
		for k := range uint64(5) {
			if r, ok := read(k); ok {
				got[k] = r
			}
		}
	})
	if len(got) != 2 || got[1] != refused || got[3] != refused {
		t.Fatalf("after the crash the state holds %+v", got)
	}
	// Another list of the same file is another target.
	other, err := openState(filepath.Join(t.TempDir(), "other.db"), "p", "a", "l2")
	if err != nil {
		t.Fatal(err)
	}
	defer other.close()
}

func TestJournalEncoding(t *testing.T) {
	writes := []stateWrite{{key: 1 << 60, record: stateRecord{kind: recordAdded, fingerprint: 1, id: "abc"}}, {key: 3, delete: true},
		{key: 5, record: stateRecord{kind: recordUpdated, fingerprint: 3, id: "x"}},
		{key: 4, record: stateRecord{kind: recordRejected, fingerprint: 2, reason: "opted_out"}}}
	if n, err := countWrites(encodeWrites(writes)); n != 4 || err != nil {
		t.Fatalf("count %d %v", n, err)
	}
	got, err := decodeWrites(nil, encodeWrites(writes))
	if err != nil || len(got) != 4 || got[0] != writes[0] || got[1] != writes[1] || got[2] != writes[2] || got[3] != writes[3] {
		t.Fatalf("%+v %v", got, err)
	}
	if _, err := decodeWrites(nil, encodeWrites(writes)[:12]); err == nil {
		t.Fatal("a truncated record was read")
	}
}

// A state that cannot be written stops the run: carrying on would forget
// what was sent.
func TestStateWriteFailureStopsTheRun(t *testing.T) {
	s, err := openState(filepath.Join(t.TempDir(), "state.db"), "p", "a", "l")
	if err != nil {
		t.Fatal(err)
	}
	r := &run{report: newReport(), state: s}
	r.stop, r.stopSend = context.WithCancel(context.Background())
	r.sendCtx, r.cancel = context.WithCancel(context.Background())
	s.db.Close() // the disk went away
	batches := make(chan commit, 2)
	batches <- commit{writes: []stateWrite{{key: 1, record: stateRecord{kind: recordAdded, fingerprint: 1}}}}
	batches <- commit{writes: []stateWrite{{key: 2, record: stateRecord{kind: recordAdded, fingerprint: 2}}}}
	close(batches)
	r.writeState(batches)
	var se *StateError
	if !errors.As(r.haltErr, &se) || r.halted() != reasonAborted || r.sendCtx.Err() == nil {
		t.Fatalf("halt %q, error %v, requests cancelled: %v", r.halted(), r.haltErr, r.sendCtx.Err() != nil)
	}
}

// A dry run reads the state as the run that sends would find it, a killed
// run's journal included, and leaves the file exactly as it was: not
// folded, nothing created, no process named.
func TestReadOnlyStateSeesTheJournalAndWritesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := openState(path, "p", "a", "l")
	if err != nil {
		t.Fatal(err)
	}
	sent := stateRecord{kind: recordAdded, fingerprint: 7, id: "42"}
	updated := stateRecord{kind: recordUpdated, fingerprint: 8}
	refused := stateRecord{kind: recordRejected, fingerprint: 9, reason: "invalid_phone"}
	if err := s.apply([]stateWrite{{key: 1, record: sent}, {key: 2, record: sent}, {key: 4, record: sent}}); err != nil {
		t.Fatal(err)
	}
	if err := s.close(); err != nil { // folded: 1, 2 and 4 in the tree
		t.Fatal(err)
	}
	s, err = openState(path, "p", "a", "l")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.apply([]stateWrite{{key: 2, delete: true}, {key: 3, record: updated}, {key: 4, record: refused}, {key: 5, record: sent}}); err != nil {
		t.Fatal(err)
	}
	s.db.Close() // killed: the journal is not folded
	os.Remove(path + ".pid")
	before, _ := os.ReadFile(path)

	for _, account := range []string{"a", ""} { // "": a dry run without credentials
		ro, accounts, err := openStateReadOnly(path, "p", account, "l")
		if err != nil || accounts != 1 {
			t.Fatalf("account %q: %v, %d accounts", account, err, accounts)
		}
		got := map[uint64]stateRecord{}
		ro.lookup(func(read func(uint64) (stateRecord, bool)) {
			for k := range uint64(7) {
				if r, ok := read(k); ok {
					got[k] = r
				}
			}
		})
		if len(got) != 4 || got[1] != sent || got[3] != updated || got[4] != refused || got[5] != sent {
			t.Fatalf("account %q: lookups see %+v", account, got)
		}
		var held []uint64
		if err := ro.sent(func(key uint64, _ stateRecord) { held = append(held, key) }); err != nil || !slices.Equal(held, []uint64{1, 3, 5}) {
			t.Fatalf("account %q: sent %v %v, want [1 3 5] in key order", account, held, err)
		}
		if err := ro.close(); err != nil {
			t.Fatal(err)
		}
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("a read-only state changed the file")
	}
	if _, err := os.Stat(path + ".pid"); err == nil {
		t.Fatal("a read-only state named its process")
	}

	// No file: nothing was sent, and none is created.
	missing := filepath.Join(t.TempDir(), "none.db")
	if s, _, err := openStateReadOnly(missing, "p", "a", "l"); s != nil || err != nil {
		t.Fatalf("%v %v", s, err)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Fatal("a read-only state created the file")
	}

	// Two accounts for the list: without credentials, neither is read.
	other, err := openState(path, "p", "b", "l")
	if err != nil {
		t.Fatal(err)
	}
	other.close()
	ro, accounts, err := openStateReadOnly(path, "p", "", "l")
	if err != nil || accounts != 2 {
		t.Fatalf("%v, %d accounts", err, accounts)
	}
	defer ro.close()
	ro.lookup(func(read func(uint64) (stateRecord, bool)) {
		if _, ok := read(1); ok {
			t.Error("an ambiguous account was read")
		}
	})
}

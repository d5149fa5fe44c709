package importer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// What a run confirmed is in the journal; a run killed before folding it
// leaves it there, and the next run folds it when it opens the state.
func TestStateJournalSurvivesACrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := openState(path, "p", "a", "l", slog.New(slog.DiscardHandler))
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

	s, err = openState(path, "p", "a", "l", slog.New(slog.DiscardHandler))
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
	other, err := openState(filepath.Join(t.TempDir(), "other.db"), "p", "a", "l2", slog.New(slog.DiscardHandler))
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
	s, err := openState(filepath.Join(t.TempDir(), "state.db"), "p", "a", "l", slog.New(slog.DiscardHandler))
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

// A state file in use names the run that holds it, or says that it cannot
// tell, and which file should have said.
func TestStateInUseOwner(t *testing.T) {
	tests := []struct {
		name  string
		owner func(pid string) error // what became of the holder's .pid file
		want  string
	}{
		{"named", func(string) error { return nil }, fmt.Sprintf("(process %d, ", os.Getpid())},
		{"missing", os.Remove, "(its owner is unknown: %s.pid is missing)"},
		{"empty", func(pid string) error { return os.WriteFile(pid, nil, 0o600) }, "(its owner is unknown: %s.pid is empty)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.db")
			holder, err := openState(path, "p", "a", "l", slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer holder.close()
			if err := tt.owner(path + ".pid"); err != nil {
				t.Fatal(err)
			}
			_, err = openState(path, "p", "a", "l", slog.New(slog.DiscardHandler))
			want := tt.want
			if strings.Contains(want, "%s") {
				want = fmt.Sprintf(want, path)
			}
			if err == nil || !strings.Contains(err.Error(), "the state file "+path+" is in use by another run "+want) {
				t.Fatalf("err = %v, want %q", err, want)
			}
		})
	}
}

// A .pid file that cannot be written is said, not swallowed; the run goes
// on, and a second run says that the owner is unknown.
func TestStateOwnerNotWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	if err := os.Mkdir(path+".pid", 0o700); err != nil { // no file can be written there
		t.Fatal(err)
	}
	var logged bytes.Buffer
	holder, err := openState(path, "p", "a", "l", slog.New(slog.NewTextHandler(&logged, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer holder.close()
	if !strings.Contains(logged.String(), "cannot name this run as the state file's owner") {
		t.Fatalf("logged %q", logged.String())
	}
	_, err = openState(path, "p", "a", "l", slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "is in use by another run (its owner is unknown: ") || !strings.Contains(err.Error(), path+".pid") {
		t.Fatalf("err = %v", err)
	}
}

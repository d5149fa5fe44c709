package importer

import (
	"log/slog"
	"path/filepath"
	"testing"
)

// The labels of an account live beside its lists' records, and a list
// cannot be named so that its bucket is theirs.
func TestLabelStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := openState(path, "amootsms", "acct", "labels", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	l, err := openLabels(s, "amootsms", "acct")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.apply([]labelWrite{{key: 1, labels: "a,b"}, {key: 2, labels: "c"}, {key: 3, labels: "d"}}); err != nil {
		t.Fatal(err)
	}
	if err := l.apply([]labelWrite{{key: 2, labels: ""}, {key: 3, labels: "d,e"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.apply([]stateWrite{{key: 1, record: stateRecord{kind: recordAdded, fingerprint: 7, id: "9"}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.close(); err != nil {
		t.Fatal(err)
	}

	// Another list of the account, another run.
	s, err = openState(path, "amootsms", "acct", "other", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	l, err = openLabels(s, "amootsms", "acct")
	if err != nil {
		t.Fatal(err)
	}
	got := map[uint64]string{}
	l.lookup(func(read func(uint64) string) {
		for k := range uint64(5) {
			got[k] = read(k)
		}
	})
	want := map[uint64]string{0: "", 1: "a,b", 2: "", 3: "d,e", 4: ""}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("labels of %d: %q, want %q", k, got[k], v)
		}
	}
	other, err := openLabels(s, "amootsms", "another account")
	if err != nil {
		t.Fatal(err)
	}
	other.lookup(func(read func(uint64) string) {
		if v := read(1); v != "" {
			t.Errorf("another account reads %q", v)
		}
	})
}

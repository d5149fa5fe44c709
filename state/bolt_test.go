package state

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// What a run confirmed is in the journal; a run killed before folding it
// leaves it there, and the next run folds it when it opens the state (a dry
// run, which writes nothing, reads it too).
func TestJournalSurvivesACrash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := openState(path, "p", "a", "l", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	sent := Record{Kind: Added, Fingerprint: 7, ID: "42"}
	refused := Record{Kind: Rejected, Fingerprint: 9, Reason: "invalid_phone"}
	if err := s.commitWrites([]Write{{Key: 1, Record: sent}, {Key: 2, Record: sent}}); err != nil {
		t.Fatal(err)
	}
	if err := s.commitWrites([]Write{{Key: 2, Delete: true}, {Key: 3, Record: refused}, {Key: 1, Record: refused}}); err != nil {
		t.Fatal(err)
	}
	s.db.Close() // killed: no fold
	os.Remove(path + ".pid")

	for _, ro := range []bool{true, false} {
		s, err := openTarget(path, Target{"p", "a", "l"}, Options{ReadOnly: ro})
		if err != nil {
			t.Fatal(err)
		}
		got := make([]Record, 5)
		if err := s.Lookup([]uint64{0, 1, 2, 3, 4}, got); err != nil {
			t.Fatal(err)
		}
		if want := []Record{{}, refused, {}, refused, {}}; !slices.Equal(got, want) {
			t.Fatalf("read-only %v: after the crash the state holds %+v", ro, got)
		}
		s.Close()
	}
}

func TestJournalEncoding(t *testing.T) {
	writes := []Write{{Key: 1 << 60, Record: Record{Kind: Added, Fingerprint: 1, ID: "abc"}}, {Key: 3, Delete: true},
		{Key: 5, Record: Record{Kind: Updated, Fingerprint: 3, ID: "x"}},
		{Key: 4, Record: Record{Kind: Rejected, Fingerprint: 2, Reason: "opted_out"}}}
	if n, err := countWrites(encodeWrites(writes)); n != 4 || err != nil {
		t.Fatalf("count %d %v", n, err)
	}
	got, err := decodeWrites(nil, encodeWrites(writes))
	if err != nil || !slices.Equal(got, writes) {
		t.Fatalf("%+v %v", got, err)
	}
	if _, err := decodeWrites(nil, encodeWrites(writes)[:12]); err == nil {
		t.Fatal("a truncated record was read")
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
		{"named", func(string) error { return nil }, "(nightly, started "},
		{"missing", os.Remove, "(its owner is unknown: %s.pid is missing)"},
		{"empty", func(pid string) error { return os.WriteFile(pid, nil, 0o600) }, "(its owner is unknown: %s.pid is empty)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.db")
			holder, err := openTarget(path, Target{"p", "a", "l"}, Options{Owner: "nightly"})
			if err != nil {
				t.Fatal(err)
			}
			defer holder.Close()
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
	defer holder.Close()
	if !strings.Contains(logged.String(), "cannot name this run as the state file's owner") {
		t.Fatalf("logged %q", logged.String())
	}
	_, err = openState(path, "p", "a", "l", slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "is in use by another run (its owner is unknown: ") || !strings.Contains(err.Error(), path+".pid") {
		t.Fatalf("err = %v", err)
	}
}

// A state file an older contactsync wrote, which held every target in one
// file, is carried over target by target, and left as it was.
func TestCarryOverAnOlderStateFile(t *testing.T) {
	where := filepath.Join(t.TempDir(), "state.db")
	tg := Target{Provider: "amootsms", Account: "acct", List: "customers"}
	name := tg.Provider + "\x00" + tg.Account + "\x00" + tg.List
	db, err := bolt.Open(where, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	key := func(k uint64) []byte { return binary.BigEndian.AppendUint64(nil, k) }
	err = db.Update(func(tx *bolt.Tx) error {
		b, _ := tx.CreateBucket([]byte(name))
		b.Put(key(989120000001), encodeRecord(Record{Kind: Added, Fingerprint: 1, ID: "7"}))
		b.Put(key(989120000002), encodeRecord(Record{Kind: Added, Fingerprint: 2}))
		j, _ := tx.CreateBucket([]byte(name + "\x00journal"))
		j.Put(key(1), encodeWrites([]Write{{Key: 989120000002, Delete: true}, {Key: 989120000003, Record: Record{Kind: Rejected, Fingerprint: 3, Reason: "x"}}}))
		o, _ := tx.CreateBucket([]byte("amootsms\x00acct\x00other"))
		o.Put(key(989120000009), encodeRecord(Record{Kind: Added, Fingerprint: 9}))
		l, _ := tx.CreateBucket([]byte("amootsms\x00acct\x00\x00labels"))
		l.Put(key(989120000001), []byte("customers,vip"))
		s, _ := tx.CreateBucket([]byte("sources"))
		s.Put(append([]byte(name+"\x00"), urlDigest("https://example.com/x.csv")...), []byte(`{"etag":"\"v1\"","settings":5}`))
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(where)

	ro, err := Open(where, tg, Options{ReadOnly: true}) // a dry run before the first run reads the old file
	if err != nil {
		t.Fatal(err)
	}
	got := make([]Record, 3)
	if err := ro.Lookup([]uint64{989120000001, 989120000002, 989120000003}, got); err != nil || got[0].ID != "7" || got[1].Kind != 0 || got[2].Kind != Rejected {
		t.Fatalf("read-only before the carry-over: %+v %v", got, err)
	}
	ro.Close()

	s, err := Open(where, tg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Lookup([]uint64{989120000001, 989120000002, 989120000003}, got); err != nil || got[0].ID != "7" || got[1].Kind != 0 || got[2].Kind != Rejected {
		t.Fatalf("carried over: %+v %v", got, err)
	}
	labels := make([]string, 1)
	if err := s.Labels([]uint64{989120000001}, labels); err != nil || labels[0] != "customers,vip" {
		t.Fatalf("labels %q %v", labels, err)
	}
	if d, err := s.Download("https://example.com/x.csv"); err != nil || d.ETag != `"v1"` || d.Settings != 5 {
		t.Fatalf("download %+v %v", d, err)
	}
	if after, _ := os.ReadFile(where); !bytes.Equal(before, after) {
		t.Fatal("the older file was changed")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if accounts, err := Accounts(where, "amootsms", "customers"); err != nil || !slices.Equal(accounts, []string{"acct"}) {
		t.Fatalf("accounts %q %v", accounts, err)
	}
	accounts, err := Accounts(where, "amootsms", "other")
	if err != nil || !slices.Equal(accounts, []string{"acct"}) {
		t.Fatalf("accounts %q %v", accounts, err)
	}
}

// A dry run without credentials lists the accounts of its list without
// opening the files of other lists, which other runs hold.
func TestAccountsBesideAnotherListsRun(t *testing.T) {
	where := filepath.Join(t.TempDir(), "state.db")
	other := mustOpen(t, where, Target{Provider: "octopush", Account: "acct", List: "b"}, Options{})
	defer other.Close()
	mine := mustOpen(t, where, Target{Provider: "octopush", Account: "acct", List: "a"}, Options{})
	mine.Close()
	if got, err := Accounts(where, "octopush", "a"); err != nil || !slices.Equal(got, []string{"acct"}) {
		t.Fatalf("accounts %q %v", got, err)
	}
}

// A damaged labels file stops the run at open, before anything is sent,
// with what its loss costs.
func TestDamagedLabelsFileRefusedAtOpen(t *testing.T) {
	where := filepath.Join(t.TempDir(), "state.db")
	tg := Target{Provider: "amootsms", Account: "acct", List: "a"}
	s := mustOpen(t, where, tg, Options{})
	if err := s.Commit(nil, []LabelWrite{{Key: 98912, Labels: "a"}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	labels := accountFile(where, tg)
	if err := os.Truncate(labels, 4096); err != nil {
		t.Fatal(err)
	}
	checked.Delete(labels) // another process's view: nothing checked yet
	var de *DamagedStateError
	if _, err := Open(where, tg, Options{}); !errors.As(err, &de) || !de.Labels || !strings.Contains(err.Error(), "labels file") {
		t.Fatalf("%v", err)
	}
}

package state

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"contactsync/internal/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// backends runs a test against each backend, with a place of its own.
func backends(t *testing.T, test func(t *testing.T, where string)) {
	t.Run("bbolt", func(t *testing.T) { test(t, filepath.Join(t.TempDir(), "state.db")) })
	t.Run("postgres", func(t *testing.T) { test(t, pgtest.URL(t)) })
}

// target gives each test its own target, so that tests sharing the
// PostgreSQL cluster never see each other's.
func target(t *testing.T, list string) Target {
	return Target{Provider: "octopush", Account: strings.ReplaceAll(t.Name(), "/", "-"), List: list}
}

func mustOpen(t *testing.T, where string, tg Target, o Options) Store {
	t.Helper()
	s, err := Open(where, tg, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// What a run commits, the next run reads: records, deletions, mirror's
// list of what was sent; the last write of a number wins.
func TestCommitThenLookup(t *testing.T) {
	backends(t, func(t *testing.T, where string) {
		tg := target(t, "customers")
		s := mustOpen(t, where, tg, Options{Owner: "test"})
		err := s.Commit([]Write{
			{Key: 33612345678, Record: Record{Kind: Added, Fingerprint: 1, ID: "a"}},
			{Key: 33612345679, Record: Record{Kind: Rejected, Fingerprint: 2, Reason: "invalid_phone"}},
			{Key: 33612345680, Record: Record{Kind: Added, Fingerprint: 3}},
			{Key: 33612345678, Record: Record{Kind: Updated, Fingerprint: 4, ID: "a"}},
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Commit([]Write{{Key: 33612345680, Delete: true}}, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = mustOpen(t, where, tg, Options{Owner: "test"})
		defer s.Close()
		keys := []uint64{33612345678, 33612345679, 33612345680, 1, 33612345678}
		got := make([]Record, len(keys))
		if err := s.Lookup(keys, got); err != nil {
			t.Fatal(err)
		}
		want := []Record{{Kind: Updated, Fingerprint: 4, ID: "a"}, {Kind: Rejected, Fingerprint: 2, Reason: "invalid_phone"}, {}, {},
			{Kind: Updated, Fingerprint: 4, ID: "a"}}
		if !slices.Equal(got, want) {
			t.Fatalf("lookup\n got  %+v\n want %+v", got, want)
		}
		var sent []uint64
		if err := s.Sent(func(k uint64, r Record) { sent = append(sent, k) }); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(sent, []uint64{33612345678}) {
			t.Fatalf("sent %v", sent)
		}
	})
}

// One run per target: a second run on the same target is refused, naming
// the first; a run on another list goes on beside it.
func TestLockPerTarget(t *testing.T) {
	backends(t, func(t *testing.T, where string) {
		first := mustOpen(t, where, target(t, "a"), Options{Owner: "process 1 (nightly a)"})
		_, err := Open(where, target(t, "a"), Options{Owner: "process 2"})
		var le *LockedError
		if !errors.As(err, &le) || !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "process 1 (nightly a)") {
			t.Fatalf("a second run on the target: %v", err)
		}
		other := mustOpen(t, where, target(t, "b"), Options{Owner: "process 3"})
		if err := other.Commit([]Write{{Key: 1, Record: Record{Kind: Added, Fingerprint: 1}}}, nil); err != nil {
			t.Fatal(err)
		}
		if err := first.Commit([]Write{{Key: 2, Record: Record{Kind: Added, Fingerprint: 2}}}, nil); err != nil {
			t.Fatal(err)
		}
		other.Close()
		first.Close()
		again := mustOpen(t, where, target(t, "a"), Options{Owner: "process 4"})
		again.Close()
	})
}

// Labels are the account's, whichever list gave them.
func TestLabelsPerAccount(t *testing.T) {
	backends(t, func(t *testing.T, where string) {
		a := mustOpen(t, where, target(t, "a"), Options{})
		if err := a.Commit(nil, []LabelWrite{{Key: 98912, Labels: "a"}, {Key: 98913, Labels: "a"}}); err != nil {
			t.Fatal(err)
		}
		a.Close()
		b := mustOpen(t, where, target(t, "b"), Options{})
		defer b.Close()
		got := make([]string, 3)
		if err := b.Labels([]uint64{98912, 98913, 98914}, got); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, []string{"a", "a", ""}) {
			t.Fatalf("labels %q", got)
		}
		if err := b.Commit(nil, []LabelWrite{{Key: 98912, Labels: "a,b"}, {Key: 98913, Labels: ""}}); err != nil {
			t.Fatal(err)
		}
		if err := b.Labels([]uint64{98912, 98913}, got[:2]); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got[:2], []string{"a,b", ""}) {
			t.Fatalf("labels %q", got)
		}
	})
}

func TestDownloads(t *testing.T) {
	backends(t, func(t *testing.T, where string) {
		s := mustOpen(t, where, target(t, "a"), Options{})
		defer s.Close()
		url := "https://docs.google.com/spreadsheets/d/e/x/pub?output=csv&token=secret"
		if err := s.SetDownload(url, &Download{ETag: `"v1"`, Settings: 7}); err != nil {
			t.Fatal(err)
		}
		if d, err := s.Download(url); err != nil || d.ETag != `"v1"` || d.Settings != 7 {
			t.Fatalf("%+v %v", d, err)
		}
		if err := s.SetDownload(url, nil); err != nil {
			t.Fatal(err)
		}
		if d, err := s.Download(url); err != nil || d != (Download{}) {
			t.Fatalf("forgotten: %+v %v", d, err)
		}
	})
}

// A dry run reads the state without creating, writing or locking it.
func TestReadOnly(t *testing.T) {
	backends(t, func(t *testing.T, where string) {
		tg := target(t, "a")
		ro := mustOpen(t, where, tg, Options{ReadOnly: true})
		got := make([]Record, 1)
		if err := ro.Lookup([]uint64{1}, got); err != nil || got[0] != (Record{}) {
			t.Fatalf("%+v %v", got, err)
		}
		ro.Close()
		if IsPostgres(where) {
			if created := tablesExist(t, where); created {
				t.Fatal("a read-only open created the tables")
			}
		} else {
			for _, p := range []string{where, where + ".d"} {
				if _, err := os.Stat(p); !os.IsNotExist(err) {
					t.Fatalf("a read-only open created %s: %v", p, err)
				}
			}
		}
		w := mustOpen(t, where, tg, Options{})
		if err := w.Commit([]Write{{Key: 1, Record: Record{Kind: Added, Fingerprint: 9}}}, nil); err != nil {
			t.Fatal(err)
		}
		if IsPostgres(where) { // bbolt's file lock keeps readers from a writer's file
			ro = mustOpen(t, where, tg, Options{ReadOnly: true})
			if err := ro.Commit([]Write{{Key: 2}}, nil); err == nil {
				t.Fatal("a read-only state was written")
			}
			ro.Close()
		}
		w.Close()
		ro = mustOpen(t, where, tg, Options{ReadOnly: true})
		defer ro.Close()
		if err := ro.Lookup([]uint64{1}, got); err != nil || got[0].Fingerprint != 9 {
			t.Fatalf("%+v %v", got, err)
		}
	})
}

// The database's password never appears in what the user sees.
func TestPostgresPasswordNeverShown(t *testing.T) {
	for _, where := range []string{
		"postgres://contactsync:s3cr3t-pw@127.0.0.1:1/contactsync?sslmode=disable&connect_timeout=1",
		"postgresql://127.0.0.1:1/contactsync?password=s3cr3t-pw&sslmode=disable&connect_timeout=1",
		"postgres://contactsync:s3cr3t-pw@[::1:bad/contactsync",
	} {
		_, err := Open(where, Target{Provider: "p", Account: "a", List: "l"}, Options{Password: "s3cr3t-pw"})
		if err == nil || strings.Contains(err.Error(), "s3cr3t") {
			t.Fatalf("%v", err)
		}
	}
}

// tablesExist says whether the database holds contactsync's tables.
func tablesExist(t *testing.T, where string) bool {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), where)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(context.Background(), `SELECT to_regclass('contactsync_numbers') IS NOT NULL`).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	return exists
}

// A run whose session with the database is lost (and with it the target's
// lock) stops writing: another run may have taken the target.
func TestPostgresLostLockStopsWrites(t *testing.T) {
	where := pgtest.URL(t)
	s := mustOpen(t, where, target(t, "a"), Options{Owner: "first"})
	defer s.Close()
	conn, err := pgx.Connect(context.Background(), where)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit([]Write{{Key: 1, Record: Record{Kind: Added, Fingerprint: 1}}}, nil); err == nil {
		t.Fatal("a run that lost its lock went on writing")
	}
}

// Once the tables exist, a user without the right to create tables runs.
func TestPostgresNeedsCreateOnlyOnce(t *testing.T) {
	where := pgtest.URL(t)
	mustOpen(t, where, target(t, "a"), Options{}).Close()
	conn, err := pgx.Connect(context.Background(), where)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, q := range []string{
		`CREATE ROLE limited LOGIN`,
		`REVOKE CREATE ON SCHEMA public FROM PUBLIC`,
		`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO limited`,
	} {
		if _, err := conn.Exec(context.Background(), q); err != nil && !strings.Contains(err.Error(), "already exists") {
			t.Fatal(err)
		}
	}
	limited := strings.Replace(where, "postgres://postgres@", "postgres://limited@", 1)
	s, err := Open(limited, target(t, "a"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit([]Write{{Key: 1, Record: Record{Kind: Added, Fingerprint: 1}}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

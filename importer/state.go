package importer

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	boltErrors "go.etcd.io/bbolt/errors"

	"contactsync/mapping"
)

// state is what contactsync remembers of a target list between runs, in a
// bbolt file: per number, a fingerprint of the fields the provider last
// confirmed (or refused), and the provider's contact ID.
//
// Confirmed batches are appended to a journal, one record per transaction:
// numbers come in no order, and writing them straight into the tree keyed by
// number rewrote leaves all over the file for every batch (a 1M-row import
// spent most of its time there). The journal is folded into the tree, sorted,
// when the run ends, or when the next run opens the state after a crash; so
// a run killed at any point resumes where it was, and only the batches in
// flight are sent again.
type state struct {
	db      *bolt.DB
	file    *os.File // bbolt's, to let go of the file when bbolt cannot
	bucket  []byte   // number → record
	journal []byte   // sequence → the writes of one commit
	path    string
	// wedged is set once bbolt panicked or faulted on the file: a write
	// that fails half-way may leave bbolt's locks held, so the state is not
	// touched again, and closing it only closes the file.
	wedged atomic.Pointer[DamagedStateError]
}

// The kinds of record.
const (
	recordAdded    byte = 1 // the provider confirmed these fields, adding the contact
	recordRejected byte = 2 // the provider refused these fields: not sent again until they change
	recordUpdated  byte = 3 // the provider confirmed these fields, updating the contact
)

// stateRecord is what the state holds for one number.
type stateRecord struct {
	kind        byte
	fingerprint uint64
	id          string // added or updated: the provider's contact ID
	reason      string // recordRejected: the report's reason
}

// stateWrite is one change after a confirmed batch.
type stateWrite struct {
	key    uint64
	delete bool
	record stateRecord
}

// openState opens (creating it if needed) the state file and its bucket for
// one target: provider, account, list. A state file in use by another run
// is refused with that run's process; a damaged one with a
// *DamagedStateError, before bbolt has read anything it could fault on.
func openState(path, provider, account, list string, log *slog.Logger) (*state, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating the state directory: %w", err)
	}
	db, file, err := openBolt(path)
	if errors.Is(err, boltErrors.ErrTimeout) {
		return nil, fmt.Errorf("the state file %s is in use by another run (%s); wait for it to finish or pass another --state", path, stateOwner(path))
	}
	if err != nil {
		return nil, err
	}
	// Name the run holding the lock, for the run that finds it taken.
	owner := fmt.Sprintf("process %d, %s, started %s", os.Getpid(), strings.Join(os.Args, " "), time.Now().Format(time.RFC3339))
	if err := os.WriteFile(path+".pid", []byte(owner+"\n"), 0o600); err != nil {
		// Not worth stopping for: a run that finds the state in use then
		// says that its owner is unknown.
		log.Warn("cannot name this run as the state file's owner", "error", err)
	}
	name := provider + "\x00" + account + "\x00" + list
	s := &state{db: db, file: file, bucket: []byte(name), journal: []byte(name + "\x00journal"), path: path}
	err = s.guard(func() error {
		return db.Update(func(tx *bolt.Tx) error {
			if _, err := tx.CreateBucketIfNotExists(s.bucket); err != nil {
				return err
			}
			_, err := tx.CreateBucketIfNotExists(s.journal)
			return err
		})
	})
	if err == nil {
		err = s.fold() // what a killed run confirmed
	}
	if err != nil {
		var de *DamagedStateError
		if !errors.As(err, &de) {
			err = fmt.Errorf("writing the state file %s: %w", path, err)
		}
		return nil, errors.Join(err, s.release())
	}
	return s, nil
}

// openBolt opens the bbolt file at path once checkStateFile found nothing
// wrong with it, under the lock. It returns the file bbolt opened as well.
func openBolt(path string) (*bolt.DB, *os.File, error) {
	_, err := os.Stat(path)
	existed := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("opening the state file %s: %w", path, err)
	}
	var file *os.File
	openFile := func(name string, flag int, mode os.FileMode) (*os.File, error) {
		f, err := os.OpenFile(name, flag, mode)
		if err != nil {
			return nil, err
		}
		if err := lockFile(f, stateLockTimeout); err != nil {
			f.Close()
			return nil, err
		}
		if err := checkFile(f, existed); err != nil {
			f.Close()
			return nil, err
		}
		file = f
		return f, nil
	}
	var db *bolt.DB
	err = protect(func() error {
		var err error
		db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: stateLockTimeout, OpenFile: openFile})
		return err
	})
	var d *damaged
	switch {
	case errors.As(err, &d):
		if file != nil && db == nil {
			letGo(file) // bbolt panicked part-way
		}
		return nil, nil, &DamagedStateError{Path: path, Problem: d.problem}
	case errors.Is(err, boltErrors.ErrTimeout):
		return nil, nil, err
	case err != nil:
		return nil, nil, fmt.Errorf("opening the state file %s: %w", path, err)
	}
	return db, file, nil
}

// checkFile checks an open state file. An empty file is one bbolt is about
// to create, unless it was there before: then it is no state at all, and
// taking it for a new one would send every row again without a word.
func checkFile(f *os.File, existed bool) error {
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if info.Size() == 0 {
		if existed {
			return &damaged{problem: "it is empty: 0 bytes"}
		}
		return nil
	}
	return checkStateFile(f, info.Size())
}

// stateLockTimeout is how long a run waits for another to release the
// state file.
const stateLockTimeout = 300 * time.Millisecond

// stateOwner names the run that holds the state file, from what it wrote
// next to it.
func stateOwner(path string) string {
	owner, err := os.ReadFile(path + ".pid")
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("its owner is unknown: %s.pid is missing", path)
	case err != nil:
		return fmt.Sprintf("its owner is unknown: %v", err)
	case len(bytes.TrimSpace(owner)) == 0:
		return fmt.Sprintf("its owner is unknown: %s.pid is empty", path)
	}
	return string(bytes.TrimSpace(owner))
}

// DamagedStateError is a state file that cannot be trusted: cut short,
// overwritten, or with pages that do not hold together. It is found when
// the state is opened, before anything is sent, and a run that meets it
// later stops with a *StateError that wraps it.
type DamagedStateError struct {
	Path    string
	Problem string
}

func (e *DamagedStateError) Error() string {
	return fmt.Sprintf("the state file %s is damaged (%s); move it aside (mv %s %s.damaged) and run again: "+
		"that run sends every row again, which is harmless (contacts the provider already holds are updated)",
		e.Path, e.Problem, e.Path, e.Path)
}

// protect runs fn, which reads or writes a bbolt file, and turns what bbolt
// does on a damaged file into an error: a panic (its assertions), or a
// fault on its memory map (a file cut short while mapped), which
// SetPanicOnFault makes a panic on this goroutine instead of a crash.
func protect(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			err = &damaged{problem: fmt.Sprintf("bbolt failed on it: %v", p), panicked: true}
		}
	}()
	return fn()
}

// guard runs fn under protect and names the file in what goes wrong.
func (s *state) guard(fn func() error) error {
	if de := s.wedged.Load(); de != nil {
		return de
	}
	err := protect(fn)
	var d *damaged
	if !errors.As(err, &d) {
		return err
	}
	de := &DamagedStateError{Path: s.path, Problem: d.problem}
	if d.panicked {
		s.wedged.CompareAndSwap(nil, de)
	}
	return de
}

// close folds the journal into the tree and closes the file.
func (s *state) close() error {
	err := s.fold()
	if cerr := s.release(); err == nil {
		err = cerr
	}
	return err
}

// release closes the file, and removes the name of the run that held it.
func (s *state) release() error {
	os.Remove(s.path + ".pid")
	if s.wedged.Load() != nil {
		// bbolt's Close could wait for good on a lock that a failed write
		// left held.
		return letGo(s.file)
	}
	return s.db.Close()
}

// letGo closes a state file bbolt cannot close, and releases the lock on
// it; the memory map bbolt made of it stays until the program ends.
func letGo(f *os.File) error {
	return errors.Join(unlockFile(f), f.Close())
}

// fold applies the journal to the tree, in key order, the later write of a
// number winning, then empties the journal. The writes go in transactions of
// foldChunk consecutive keys, each touching one stretch of the tree, so that
// bbolt never holds the whole tree in memory; a crash part-way leaves the
// journal whole, and folding it again writes the same values.
func (s *state) fold() error {
	return s.guard(s.foldJournal)
}

func (s *state) foldJournal() error {
	var all []stateWrite
	err := s.db.View(func(tx *bolt.Tx) error {
		j := tx.Bucket(s.journal)
		// Counted first: growing a slice of a million writes by doubling
		// held two copies of it at once.
		n := 0
		if err := j.ForEach(func(_, v []byte) error {
			c, err := countWrites(v)
			n += c
			return err
		}); err != nil {
			return err
		}
		all = make([]stateWrite, 0, n)
		return j.ForEach(func(_, v []byte) error {
			var err error
			all, err = decodeWrites(all, v)
			return err
		})
	})
	if err != nil || len(all) == 0 {
		return err
	}
	// A stable sort keeps journal order among writes of one number; the
	// last of them is the one kept.
	slices.SortStableFunc(all, func(a, b stateWrite) int { return cmp.Compare(a.key, b.key) })
	last := all[:0]
	for i, w := range all {
		if i+1 == len(all) || all[i+1].key != w.key {
			last = append(last, w)
		}
	}
	for chunk := range slices.Chunk(last, foldChunk) {
		err := s.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(s.bucket)
			var k [8]byte
			for _, w := range chunk {
				binary.BigEndian.PutUint64(k[:], w.key)
				var err error
				if w.delete {
					err = b.Delete(k[:])
				} else {
					err = b.Put(k[:], encodeRecord(w.record))
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(s.journal); err != nil {
			return err
		}
		_, err := tx.CreateBucket(s.journal)
		return err
	})
}

// foldChunk is how many numbers one folding transaction writes.
const foldChunk = 20_000

// lookup calls get with a function that reads records, inside one read
// transaction.
func (s *state) lookup(get func(read func(key uint64) (stateRecord, bool))) error {
	return s.guard(func() error {
		return s.db.View(func(tx *bolt.Tx) error {
			b := tx.Bucket(s.bucket)
			var k [8]byte
			get(func(key uint64) (stateRecord, bool) {
				binary.BigEndian.PutUint64(k[:], key)
				return decodeRecord(b.Get(k[:]))
			})
			return nil
		})
	})
}

// apply journals the changes of confirmed batches in one transaction.
func (s *state) apply(writes []stateWrite) error {
	if len(writes) == 0 {
		return nil
	}
	err := s.guard(func() error {
		return s.db.Update(func(tx *bolt.Tx) error {
			j := tx.Bucket(s.journal)
			seq, err := j.NextSequence()
			if err != nil {
				return err
			}
			var k [8]byte
			binary.BigEndian.PutUint64(k[:], seq)
			return j.Put(k[:], encodeWrites(writes))
		})
	})
	var de *DamagedStateError
	if errors.As(err, &de) {
		return err
	}
	if err != nil {
		return fmt.Errorf("writing the state file %s: %w", s.path, err)
	}
	return nil
}

// encodeWrites packs writes as key (8 bytes), length (uvarint), then the
// record, or length 0 for a deletion.
func encodeWrites(writes []stateWrite) []byte {
	b := make([]byte, 0, len(writes)*24)
	for _, w := range writes {
		b = binary.BigEndian.AppendUint64(b, w.key)
		var rec []byte
		if !w.delete {
			rec = encodeRecord(w.record)
		}
		b = binary.AppendUvarint(b, uint64(len(rec)))
		b = append(b, rec...)
	}
	return b
}

// errJournalRecord is a journal record that does not decode: only damage
// to the file makes one.
var errJournalRecord = &damaged{problem: "a record of its journal is unreadable"}

// countWrites counts the writes of one journal record.
func countWrites(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		if len(b) < 9 {
			return 0, errJournalRecord
		}
		size, w := binary.Uvarint(b[8:])
		if w <= 0 || uint64(len(b)-8-w) < size {
			return 0, errJournalRecord
		}
		b = b[8+w+int(size):]
		n++
	}
	return n, nil
}

// decodeWrites appends the writes of one journal record to out.
func decodeWrites(out []stateWrite, b []byte) ([]stateWrite, error) {
	for len(b) > 0 {
		if len(b) < 9 {
			return nil, errJournalRecord
		}
		w := stateWrite{key: binary.BigEndian.Uint64(b)}
		n, size := binary.Uvarint(b[8:])
		if size <= 0 || uint64(len(b)-8-size) < n {
			return nil, errJournalRecord
		}
		b = b[8+size:]
		if n == 0 {
			w.delete = true
		} else {
			var ok bool
			if w.record, ok = decodeRecord(b[:n]); !ok {
				return nil, errJournalRecord
			}
		}
		b = b[n:]
		out = append(out, w)
	}
	return out, nil
}

// sent calls fn for every number the provider holds, in key order.
func (s *state) sent(fn func(key uint64, r stateRecord)) error {
	return s.guard(func() error {
		return s.db.View(func(tx *bolt.Tx) error {
			return tx.Bucket(s.bucket).ForEach(func(k, v []byte) error {
				if r, ok := decodeRecord(v); ok && r.sent() && len(k) == 8 {
					fn(binary.BigEndian.Uint64(k), r)
				}
				return nil
			})
		})
	})
}

// sent reports whether the provider holds the record's fields.
func (r stateRecord) sent() bool { return r.kind == recordAdded || r.kind == recordUpdated }

func encodeRecord(r stateRecord) []byte {
	extra := r.id
	if r.kind == recordRejected {
		extra = r.reason
	}
	b := make([]byte, 9, 9+len(extra))
	b[0] = r.kind
	binary.BigEndian.PutUint64(b[1:9], r.fingerprint)
	return append(b, extra...)
}

func decodeRecord(v []byte) (stateRecord, bool) {
	if len(v) < 9 {
		return stateRecord{}, false
	}
	r := stateRecord{kind: v[0], fingerprint: binary.BigEndian.Uint64(v[1:9])}
	switch r.kind {
	case recordAdded, recordUpdated:
		r.id = string(v[9:])
	case recordRejected:
		r.reason = string(v[9:])
	default:
		return stateRecord{}, false
	}
	return r, true
}

// fingerprint hashes every field of a contact that a provider may receive,
// so that a change in any of them sends the contact again.
func fingerprint(c *mapping.Contact) uint64 {
	h := fnv.New64a()
	for _, f := range []string{c.Phone, c.FirstName, c.LastName, c.Email, c.Birthday, c.Civility.String(), c.Tag, c.ID} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	keys := make([]string, 0, len(c.Custom))
	for k := range c.Custom {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{1})
		h.Write([]byte(c.Custom[k]))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// accountOf names the account in the state without storing a secret: a
// digest of the provider's first credential (the login where there is one).
func accountOf(provider string, credentials map[string]string, names []string) string {
	if len(names) == 0 {
		return "-"
	}
	sum := sha256.Sum256([]byte(provider + "\x00" + credentials[names[0]]))
	return hex.EncodeToString(sum[:8])
}

// DefaultStatePath is where the state lives unless --state says otherwise:
// $XDG_STATE_HOME/contactsync/state.db, or ~/.local/state/contactsync/state.db.
func DefaultStatePath(getenv func(string) string) string {
	return filepath.Join(userDir(getenv, "XDG_STATE_HOME", filepath.Join(".local", "state")), "state.db")
}

// view and update are bbolt's transactions under guard.
func (s *state) view(fn func(*bolt.Tx) error) error {
	return s.guard(func() error { return s.db.View(fn) })
}

func (s *state) update(fn func(*bolt.Tx) error) error {
	return s.guard(func() error { return s.db.Update(fn) })
}

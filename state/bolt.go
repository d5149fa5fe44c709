package state

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	boltErrors "go.etcd.io/bbolt/errors"
)

// The bbolt state keeps each target in a file of its own, and each
// account's labels in another: bbolt locks a whole file for as long as it is
// open, so one file for every list made a cron table that imports two lists
// at once refuse its second run. --state FILE names the place: the files are
// FILE.d/<provider>-<digest>.db (targets) and …labels.db (accounts). A FILE
// written by an older contactsync, which held every target, is read once
// per target, to carry its state over.
//
// Confirmed batches are appended to a journal, one record per transaction:
// numbers come in no order, and writing them straight into the tree keyed by
// number rewrote leaves all over the file for every batch (a 1M-row import
// spent most of its time there). The journal is folded into the tree, sorted,
// when the run ends, or when the next run opens the state after a crash; so
// a run killed at any point resumes where it was, and only the batches in
// flight are sent again.
type boltStore struct {
	db      *bolt.DB
	file    *os.File // bbolt's, to let go of the file when bbolt cannot
	bucket  []byte   // number → record
	journal []byte   // sequence → the writes of one commit
	path    string
	// wedged is set once bbolt panicked or faulted on the file: a write
	// that fails half-way may leave bbolt's locks held, so the state is not
	// touched again, and closing it only closes the file.
	wedged atomic.Pointer[DamagedStateError]
	// overlay holds, in a read-only state, the journal a killed run left:
	// what the next real run folds before it reads.
	overlay map[uint64]Write
	// accounts is the account's labels file, opened for each use: other
	// runs on the account's other lists use it too.
	accounts   string
	accountsMu sync.Mutex
	// legacyLabels are the labels a dry run read from an older
	// contactsync's file, not carried over yet.
	legacyLabels map[uint64]string
	readOnly     bool
	empty        bool // read-only, and there is no file: nothing to read
}

// Names of the buckets of a target's file, and of an account's.
var (
	recordsBucket   = []byte("records")
	metaBucket      = []byte("meta") // the target, in JSON under metaKey: what the file's name digests
	metaKey         = []byte("target")
	journalBucket   = []byte("journal")
	downloadsBucket = []byte("sources")
	labelsBucket    = []byte("labels")
)

// targetFile and accountFile are where a target's and an account's state
// live, for --state FILE.
// A target's file is named by its list and its account, so that the files
// of one list are found without opening the others (which other runs hold).
func targetFile(where string, t Target) string {
	acct := sha256.Sum256([]byte(t.Account))
	return filepath.Join(where+".d", listPrefix(t.Provider, t.List)+hex.EncodeToString(acct[:6])+".db")
}

func listPrefix(provider, list string) string {
	sum := sha256.Sum256([]byte(list))
	return safeName(provider) + "-" + hex.EncodeToString(sum[:6]) + "-"
}

func accountFile(where string, t Target) string {
	sum := sha256.Sum256([]byte(t.Account))
	return filepath.Join(where+".d", safeName(t.Provider)+"-"+hex.EncodeToString(sum[:6])+".labels.db")
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

func openBolt(where string, t Target, o Options) (Store, error) {
	path := targetFile(where, t)
	var old *legacy
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		// Not carried over yet from an older contactsync's file, if any: a
		// dry run reads what the real run will carry over.
		if old, err = readLegacy(where, t); err != nil {
			return nil, err
		}
		if old != nil && o.ReadOnly {
			return old.store(), nil
		}
	}
	if !o.ReadOnly {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("creating the state directory: %w", err)
		}
	}
	s, err := openTarget(path, t, o)
	if err != nil {
		return nil, err
	}
	s.accounts = accountFile(where, t)
	if old != nil {
		err = s.carryLabels(old)
	}
	if err == nil {
		err = s.checkAccount()
	}
	if err == nil && old != nil {
		err = s.carryRecords(old)
		if err == nil && o.Logger != nil {
			o.Logger.Info("carried the state of an older contactsync over", "from", where, "to", path, "numbers", len(old.records))
		}
	}
	if err != nil {
		return nil, errors.Join(err, s.release())
	}
	return s, nil
}

// openTarget opens (creating it if needed) the state file of one target. A
// state file in use by another run is refused with that run's process; a
// damaged one with a *DamagedStateError, before bbolt has read anything it
// could fault on.
func openTarget(path string, t Target, o Options) (*boltStore, error) {
	s := &boltStore{path: path, bucket: recordsBucket, journal: journalBucket, readOnly: o.ReadOnly}
	if o.ReadOnly {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			s.empty = true
			return s, nil
		}
	}
	var err error
	s.db, s.file, err = openFile(path, o.ReadOnly, stateLockTimeout)
	if errors.Is(err, boltErrors.ErrTimeout) {
		return nil, &LockedError{Target: t, Where: "the state file " + path, Owner: stateOwner(path)}
	}
	if err != nil {
		return nil, err
	}
	if o.ReadOnly {
		if err := s.readJournal(); err != nil {
			return nil, errors.Join(err, s.release())
		}
		return s, nil
	}
	// Name the run holding the lock, for the run that finds it taken.
	owner := o.Owner
	if owner == "" {
		owner = fmt.Sprintf("process %d", os.Getpid())
	}
	owner += ", started " + time.Now().Format(time.RFC3339)
	if err := os.WriteFile(path+".pid", []byte(owner+"\n"), 0o600); err != nil && o.Logger != nil {
		// Not worth stopping for: a run that finds the state in use then
		// says that its owner is unknown.
		o.Logger.Warn("cannot name this run as the state file's owner", "error", err)
	}
	err = s.update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(s.bucket); err != nil {
			return err
		}
		if _, err := tx.CreateBucketIfNotExists(s.journal); err != nil {
			return err
		}
		meta, err := tx.CreateBucketIfNotExists(metaBucket)
		if err != nil || meta.Get(metaKey) != nil {
			return err
		}
		data, err := json.Marshal(t)
		if err != nil {
			return err
		}
		return meta.Put(metaKey, data)
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

// openFile opens the bbolt file at path once checkStateFile found nothing
// wrong with it, under the lock (shared when read-only). It returns the file
// bbolt opened as well.
func openFile(path string, readOnly bool, timeout time.Duration) (*bolt.DB, *os.File, error) {
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
		if err := lockFile(f, !readOnly, timeout); err != nil {
			f.Close()
			return nil, err
		}
		if !verified(f) {
			if err := checkFile(f, existed); err != nil {
				f.Close()
				return nil, err
			}
			remember(f)
		}
		file = f
		return f, nil
	}
	var db *bolt.DB
	err = protect(func() error {
		var err error
		db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, OpenFile: openFile, ReadOnly: readOnly})
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

// checked remembers, per file, the file as it was when the check last
// passed or this process last wrote it: an account's labels file is opened
// for every transaction, and walking it whole each time cost more than the
// transaction (23 ms for 400k numbers).
var checked sync.Map // path → fileStamp

type fileStamp struct {
	size, mtime int64
	ino         uint64
}

func stampOf(info os.FileInfo) fileStamp {
	return fileStamp{size: info.Size(), mtime: info.ModTime().UnixNano(), ino: inodeOf(info)}
}

// verified reports whether f is as it was when last checked or written here.
func verified(f *os.File) bool {
	info, err := f.Stat()
	if err != nil {
		return false
	}
	was, ok := checked.Load(f.Name())
	return ok && was.(fileStamp) == stampOf(info) && info.Size() > 0
}

// remember notes f as checked (or as this process left it).
func remember(f *os.File) {
	if info, err := f.Stat(); err == nil {
		checked.Store(f.Name(), stampOf(info))
	}
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

// stateLockTimeout is how long a run waits for another to release a state
// file. An account's labels file is held only for a transaction, and waited
// for longer.
const (
	stateLockTimeout   = 300 * time.Millisecond
	accountLockTimeout = 30 * time.Second
)

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
// the state is opened, before anything is sent; a run that meets it later
// stops with an error that wraps it.
type DamagedStateError struct {
	Path    string
	Problem string
	// Labels says it is an account's labels file, whose loss costs more
	// than a resend.
	Labels bool
}

func (e *DamagedStateError) Error() string {
	if e.Labels {
		return fmt.Sprintf("the labels file %s is damaged (%s); move it aside (mv %s %s.damaged) and run again: "+
			"contactsync then no longer knows the labels it gave this account's contacts on other lists, and the edits of "+
			"the next runs keep only each run's own labels (a label given on another list must be given again by a run into it)",
			e.Path, e.Problem, e.Path, e.Path)
	}
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
func (s *boltStore) guard(fn func() error) error {
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

// view and update are bbolt's transactions under guard.
func (s *boltStore) view(fn func(*bolt.Tx) error) error {
	return s.guard(func() error { return s.db.View(fn) })
}

func (s *boltStore) update(fn func(*bolt.Tx) error) error {
	return s.guard(func() error { return s.db.Update(fn) })
}

// Close folds the journal into the tree and closes the file.
func (s *boltStore) Close() error {
	if s.empty {
		return nil
	}
	var err error
	if !s.readOnly {
		err = s.fold()
	}
	if cerr := s.release(); err == nil {
		err = cerr
	}
	return err
}

// release closes the file, and removes the name of the run that held it.
func (s *boltStore) release() error {
	if !s.readOnly {
		os.Remove(s.path + ".pid")
	}
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
func (s *boltStore) fold() error {
	return s.guard(s.foldJournal)
}

func (s *boltStore) foldJournal() error {
	all, err := s.journalWrites()
	if err != nil || len(all) == 0 {
		return err
	}
	for chunk := range slices.Chunk(all, foldChunk) {
		err := s.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(s.bucket)
			var k [8]byte
			for _, w := range chunk {
				binary.BigEndian.PutUint64(k[:], w.Key)
				var err error
				if w.Delete {
					err = b.Delete(k[:])
				} else {
					err = b.Put(k[:], encodeRecord(w.Record))
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

// journalWrites reads the journal: each number's last write, in key order.
func (s *boltStore) journalWrites() ([]Write, error) {
	var all []Write
	err := s.db.View(func(tx *bolt.Tx) error {
		j := tx.Bucket(s.journal)
		if j == nil {
			return nil
		}
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
		all = make([]Write, 0, n)
		return j.ForEach(func(_, v []byte) error {
			var err error
			all, err = decodeWrites(all, v)
			return err
		})
	})
	if err != nil || len(all) == 0 {
		return nil, err
	}
	// A stable sort keeps journal order among writes of one number; the
	// last of them is the one kept.
	slices.SortStableFunc(all, func(a, b Write) int { return cmp.Compare(a.Key, b.Key) })
	last := all[:0]
	for i, w := range all {
		if i+1 == len(all) || all[i+1].Key != w.Key {
			last = append(last, w)
		}
	}
	return last, nil
}

// readJournal keeps, in a read-only state, what the journal of a killed
// run holds, so that lookups see what the next run will have folded.
func (s *boltStore) readJournal() error {
	return s.guard(func() error {
		all, err := s.journalWrites()
		if err != nil || len(all) == 0 {
			return err
		}
		s.overlay = make(map[uint64]Write, len(all))
		for _, w := range all {
			s.overlay[w.Key] = w
		}
		return nil
	})
}

// foldChunk is how many numbers one folding transaction writes.
const foldChunk = 20_000

func (s *boltStore) Lookup(keys []uint64, out []Record) error {
	clear(out)
	if s.empty {
		for i, key := range keys {
			if w, ok := s.overlay[key]; ok && !w.Delete {
				out[i] = w.Record
			}
		}
		return nil
	}
	return s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(s.bucket)
		if b == nil {
			return nil
		}
		var k [8]byte
		for i, key := range keys {
			if w, ok := s.overlay[key]; ok {
				if !w.Delete {
					out[i] = w.Record
				}
				continue
			}
			binary.BigEndian.PutUint64(k[:], key)
			out[i], _ = decodeRecord(b.Get(k[:]))
		}
		return nil
	})
}

// Commit writes the account's labels, then journals the target's changes,
// each in one transaction.
func (s *boltStore) Commit(writes []Write, labels []LabelWrite) error {
	if s.readOnly {
		return errors.New("a read-only state is never written")
	}
	if len(labels) > 0 {
		if err := s.writeLabels(labels); err != nil {
			return err
		}
	}
	if len(writes) == 0 {
		return nil
	}
	err := s.update(func(tx *bolt.Tx) error {
		j := tx.Bucket(s.journal)
		seq, err := j.NextSequence()
		if err != nil {
			return err
		}
		var k [8]byte
		binary.BigEndian.PutUint64(k[:], seq)
		return j.Put(k[:], encodeWrites(writes))
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

// Sent calls fn for the numbers of the tree in key order; in a read-only
// state, then for those a killed run's journal adds, in key order too.
func (s *boltStore) Sent(fn func(key uint64, r Record)) error {
	var inTree []uint64 // keys of the tree the journal overrides
	if !s.empty {
		err := s.view(func(tx *bolt.Tx) error {
			b := tx.Bucket(s.bucket)
			if b == nil {
				return nil
			}
			return b.ForEach(func(k, v []byte) error {
				if len(k) != 8 {
					return nil
				}
				key := binary.BigEndian.Uint64(k)
				r, ok := decodeRecord(v)
				if w, over := s.overlay[key]; over {
					inTree = append(inTree, key)
					r, ok = w.Record, !w.Delete
				}
				if ok && r.Sent() {
					fn(key, r)
				}
				return nil
			})
		})
		if err != nil {
			return err
		}
	}
	var extra []uint64
	for k, w := range s.overlay {
		if _, found := slices.BinarySearch(inTree, k); !found && !w.Delete && w.Record.Sent() {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	for _, k := range extra {
		fn(k, s.overlay[k].Record)
	}
	return nil
}

// withAccount runs fn on the account's labels file, opened for it alone:
// the account's other lists may be imported at the same time.
func (s *boltStore) withAccount(write bool, fn func(b *bolt.Bucket) error) error {
	s.accountsMu.Lock()
	defer s.accountsMu.Unlock()
	if !write {
		if _, err := os.Stat(s.accounts); errors.Is(err, fs.ErrNotExist) {
			return nil
		}
	}
	db, file, err := openFile(s.accounts, !write, accountLockTimeout)
	if errors.Is(err, boltErrors.ErrTimeout) {
		err = fmt.Errorf("the labels file %s stayed in use by another run (%s)", s.accounts, stateOwner(s.accounts))
	}
	var de *DamagedStateError
	if errors.As(err, &de) {
		de.Labels = true
	}
	if err != nil {
		return err
	}
	other := &boltStore{db: db, file: file, path: s.accounts}
	err = other.guard(func() error {
		if write {
			return db.Update(func(tx *bolt.Tx) error {
				b, err := tx.CreateBucketIfNotExists(labelsBucket)
				if err != nil {
					return err
				}
				return fn(b)
			})
		}
		return db.View(func(tx *bolt.Tx) error { return fn(tx.Bucket(labelsBucket)) })
	})
	if errors.As(err, &de) {
		de.Labels = true
	}
	if write && err == nil {
		remember(file) // what this process wrote needs no check
	}
	return errors.Join(err, other.release())
}

// checkAccount checks the account's labels file at open, so that a damaged
// one stops the run before anything is sent.
func (s *boltStore) checkAccount() error {
	return s.withAccount(false, func(*bolt.Bucket) error { return nil })
}

func (s *boltStore) Labels(keys []uint64, out []string) error {
	clear(out)
	if s.legacyLabels != nil {
		for i, key := range keys {
			out[i] = s.legacyLabels[key]
		}
		return nil
	}
	if s.accounts == "" {
		return nil
	}
	return s.withAccount(false, func(b *bolt.Bucket) error {
		if b == nil {
			return nil
		}
		var k [8]byte
		for i, key := range keys {
			binary.BigEndian.PutUint64(k[:], key)
			out[i] = string(b.Get(k[:]))
		}
		return nil
	})
}

func (s *boltStore) writeLabels(labels []LabelWrite) error {
	return s.withAccount(true, func(b *bolt.Bucket) error {
		var k [8]byte
		for _, w := range labels {
			binary.BigEndian.PutUint64(k[:], w.Key)
			var err error
			if w.Labels == "" {
				err = b.Delete(k[:])
			} else {
				err = b.Put(k[:], []byte(w.Labels))
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *boltStore) Download(url string) (Download, error) {
	var d Download
	if s.empty {
		return d, nil
	}
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(downloadsBucket)
		if b == nil {
			return nil
		}
		if v := b.Get(urlDigest(url)); v != nil {
			return json.Unmarshal(v, &d)
		}
		return nil
	})
	if err != nil {
		return Download{}, fmt.Errorf("reading the state file %s: %w", s.path, err)
	}
	return d, nil
}

func (s *boltStore) SetDownload(url string, d *Download) error {
	if s.readOnly {
		return errors.New("a read-only state is never written")
	}
	return s.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(downloadsBucket)
		if err != nil {
			return err
		}
		if d == nil {
			return b.Delete(urlDigest(url))
		}
		data, err := json.Marshal(d)
		if err != nil {
			return err
		}
		return b.Put(urlDigest(url), data)
	})
}

// encodeWrites packs writes as key (8 bytes), length (uvarint), then the
// record, or length 0 for a deletion.
func encodeWrites(writes []Write) []byte {
	b := make([]byte, 0, len(writes)*24)
	for _, w := range writes {
		b = binary.BigEndian.AppendUint64(b, w.Key)
		var rec []byte
		if !w.Delete {
			rec = encodeRecord(w.Record)
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
func decodeWrites(out []Write, b []byte) ([]Write, error) {
	for len(b) > 0 {
		if len(b) < 9 {
			return nil, errJournalRecord
		}
		w := Write{Key: binary.BigEndian.Uint64(b)}
		n, size := binary.Uvarint(b[8:])
		if size <= 0 || uint64(len(b)-8-size) < n {
			return nil, errJournalRecord
		}
		b = b[8+size:]
		if n == 0 {
			w.Delete = true
		} else {
			var ok bool
			if w.Record, ok = decodeRecord(b[:n]); !ok {
				return nil, errJournalRecord
			}
		}
		b = b[n:]
		out = append(out, w)
	}
	return out, nil
}

func encodeRecord(r Record) []byte {
	extra := r.ID
	if r.Kind == Rejected {
		extra = r.Reason
	}
	b := make([]byte, 9, 9+len(extra))
	b[0] = byte(r.Kind)
	binary.BigEndian.PutUint64(b[1:9], r.Fingerprint)
	return append(b, extra...)
}

func decodeRecord(v []byte) (Record, bool) {
	if len(v) < 9 {
		return Record{}, false
	}
	r := Record{Kind: Kind(v[0]), Fingerprint: binary.BigEndian.Uint64(v[1:9])}
	switch r.Kind {
	case Added, Updated:
		r.ID = string(v[9:])
	case Rejected:
		r.Reason = string(v[9:])
	default:
		return Record{}, false
	}
	return r, true
}

// legacy is what a state file of an older contactsync, which held every
// target, holds of one target: its records with its journal folded in, its
// downloads, and its account's labels.
type legacy struct {
	records   []Write // key order, the last write of each number
	downloads [][2][]byte
	labels    []LabelWrite
}

// readLegacy reads the older file --state FILE itself is, if it is one and
// holds anything of the target; nil otherwise. The file is only read.
func readLegacy(where string, t Target) (*legacy, error) {
	info, err := os.Stat(where)
	if err != nil || !info.Mode().IsRegular() {
		return nil, nil // no older state file
	}
	old, err := openTarget(where, t, Options{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("reading the state of an older contactsync in %s: %w", where, err)
	}
	defer old.release()
	name := t.Provider + "\x00" + t.Account + "\x00" + t.List
	l := &legacy{}
	err = old.view(func(tx *bolt.Tx) error {
		if b := tx.Bucket([]byte(name)); b != nil {
			if err := b.ForEach(func(k, v []byte) error {
				if r, ok := decodeRecord(v); ok && len(k) == 8 {
					l.records = append(l.records, Write{Key: binary.BigEndian.Uint64(k), Record: r})
				}
				return nil
			}); err != nil {
				return err
			}
		}
		if j := tx.Bucket([]byte(name + "\x00journal")); j != nil {
			if err := j.ForEach(func(_, v []byte) error {
				var err error
				l.records, err = decodeWrites(l.records, v)
				return err
			}); err != nil {
				return err
			}
		}
		if b := tx.Bucket([]byte("sources")); b != nil {
			prefix := []byte(name + "\x00")
			c := b.Cursor()
			for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
				l.downloads = append(l.downloads, [2][]byte{bytes.Clone(k[len(prefix):]), bytes.Clone(v)})
			}
		}
		if b := tx.Bucket([]byte(t.Provider + "\x00" + t.Account + "\x00\x00labels")); b != nil {
			return b.ForEach(func(k, v []byte) error {
				if len(k) == 8 {
					l.labels = append(l.labels, LabelWrite{Key: binary.BigEndian.Uint64(k), Labels: string(v)})
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the state of an older contactsync in %s: %w", where, err)
	}
	if len(l.records) == 0 && len(l.downloads) == 0 && len(l.labels) == 0 {
		return nil, nil
	}
	// The tree first, then the journal in order: the last write wins.
	slices.SortStableFunc(l.records, func(a, b Write) int { return cmp.Compare(a.Key, b.Key) })
	l.records = lastBy(l.records, func(w Write) uint64 { return w.Key })
	return l, nil
}

// store is the legacy target as a dry run reads it, from memory.
func (l *legacy) store() *boltStore {
	s := &boltStore{readOnly: true, empty: true, overlay: make(map[uint64]Write, len(l.records)), legacyLabels: map[uint64]string{}}
	for _, w := range l.records {
		s.overlay[w.Key] = w
	}
	for _, w := range l.labels {
		s.legacyLabels[w.Key] = w.Labels
	}
	return s
}

// carryLabels writes the labels the older file held, unless the account's
// labels file already exists (another list's run carried them over).
func (s *boltStore) carryLabels(old *legacy) error {
	if len(old.labels) == 0 {
		return nil
	}
	if _, err := os.Stat(s.accounts); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return s.writeLabels(old.labels)
}

// carryRecords makes the target's records and downloads what the older file
// held of them, through the journal as a run's writes are.
func (s *boltStore) carryRecords(old *legacy) error {
	err := s.update(func(tx *bolt.Tx) error {
		j := tx.Bucket(s.journal)
		var k [8]byte
		binary.BigEndian.PutUint64(k[:], 1)
		if err := j.Put(k[:], encodeWrites(old.records)); err != nil {
			return err
		}
		b, err := tx.CreateBucketIfNotExists(downloadsBucket)
		if err != nil {
			return err
		}
		for _, d := range old.downloads {
			if err := b.Put(d[0], d[1]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.fold()
}

// boltAccounts lists the accounts whose state of the provider's list the
// target files hold (from each file's meta), and an older contactsync's
// file too (from its buckets' names).
func boltAccounts(where, provider, list string) ([]string, error) {
	var found []string
	add := func(a string) {
		if !slices.Contains(found, a) {
			found = append(found, a)
		}
	}
	files, _ := filepath.Glob(filepath.Join(where+".d", listPrefix(provider, list)+"*.db"))
	for _, f := range files {
		s, err := openTarget(f, Target{Provider: provider}, Options{ReadOnly: true})
		if err != nil {
			return nil, err
		}
		var t Target
		err = s.view(func(tx *bolt.Tx) error {
			if b := tx.Bucket(metaBucket); b != nil {
				if v := b.Get(metaKey); v != nil {
					return json.Unmarshal(v, &t)
				}
			}
			return nil
		})
		err = errors.Join(err, s.release())
		if err != nil {
			return nil, err
		}
		if t.Provider == provider && t.List == list {
			add(t.Account)
		}
	}
	if info, err := os.Stat(where); err == nil && info.Mode().IsRegular() {
		s, err := openTarget(where, Target{Provider: provider}, Options{ReadOnly: true})
		if err != nil {
			return nil, err
		}
		err = s.view(func(tx *bolt.Tx) error {
			return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
				if parts := strings.Split(string(name), "\x00"); len(parts) == 3 && parts[0] == provider && parts[2] == list {
					add(parts[1])
				}
				return nil
			})
		})
		if err = errors.Join(err, s.release()); err != nil {
			return nil, err
		}
	}
	return found, nil
}

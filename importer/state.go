package importer

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
	bucket  []byte // number → record
	journal []byte // sequence → the writes of one commit
	path    string
	// readOnly is a dry run's state: nothing is written, not even the
	// fold of a killed run's journal, which pending holds instead, by key,
	// the last write of each number, and lookups read before the tree.
	readOnly bool
	pending  []stateWrite
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
// is refused with that run's process.
func openState(path, provider, account, list string) (*state, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating the state directory: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 300 * time.Millisecond})
	if errors.Is(err, boltErrors.ErrTimeout) {
		owner, _ := os.ReadFile(path + ".pid")
		return nil, fmt.Errorf("the state file %s is in use by another run (%s); wait for it to finish or pass another --state", path, strings.TrimSpace(string(owner)))
	}
	if err != nil {
		return nil, fmt.Errorf("opening the state file %s: %w", path, err)
	}
	// Name the run holding the lock, for the run that finds it taken.
	owner := fmt.Sprintf("process %d, %s, started %s", os.Getpid(), strings.Join(os.Args, " "), time.Now().Format(time.RFC3339))
	os.WriteFile(path+".pid", []byte(owner+"\n"), 0o600)
	name := provider + "\x00" + account + "\x00" + list
	s := &state{db: db, bucket: []byte(name), journal: []byte(name + "\x00journal"), path: path}
	err = db.Update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(s.bucket); err != nil {
			return err
		}
		_, err := tx.CreateBucketIfNotExists(s.journal)
		return err
	})
	if err == nil {
		err = s.fold() // what a killed run confirmed
	}
	if err != nil {
		s.db.Close()
		return nil, fmt.Errorf("writing the state file %s: %w", path, err)
	}
	return s, nil
}

// openStateReadOnly opens the state for a dry run, which must leave it as
// it is: with bbolt's read-only mode (a shared lock: a run sending to the
// list waits for the dry run, and the other way round), no bucket created,
// no process named, and a killed run's journal read instead of folded. It
// returns nil when there is no state file: nothing was sent yet.
//
// When account is "" (a dry run without credentials cannot tell it), it
// reads the account the file holds for the provider and list, when there is
// one only; accounts says how many there are.
func openStateReadOnly(path, provider, account, list string) (s *state, accounts int, err error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 300 * time.Millisecond})
	if errors.Is(err, boltErrors.ErrTimeout) {
		owner, _ := os.ReadFile(path + ".pid")
		return nil, 0, fmt.Errorf("the state file %s is in use by another run (%s); wait for it to finish or pass another --state", path, strings.TrimSpace(string(owner)))
	}
	if err != nil {
		return nil, 0, fmt.Errorf("opening the state file %s: %w", path, err)
	}
	accounts = 1
	if account == "" {
		var found []string
		if found, err = stateAccounts(db, provider, list); len(found) == 1 {
			account = found[0]
		}
		accounts = len(found)
	}
	name := provider + "\x00" + account + "\x00" + list
	s = &state{db: db, bucket: []byte(name), journal: []byte(name + "\x00journal"), path: path, readOnly: true}
	if err == nil {
		s.pending, err = s.journalled()
	}
	if err != nil {
		db.Close()
		return nil, 0, fmt.Errorf("reading the state file %s: %w", path, err)
	}
	return s, accounts, nil
}

// stateAccounts lists the accounts whose state for the provider's list the
// file holds. A list's bucket is provider, account and list joined by NUL;
// its journal's and the labels' have a fourth part.
func stateAccounts(db *bolt.DB, provider, list string) ([]string, error) {
	var found []string
	err := db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			if parts := strings.Split(string(name), "\x00"); len(parts) == 3 && parts[0] == provider && parts[2] == list {
				found = append(found, parts[1])
			}
			return nil
		})
	})
	return found, err
}

// close folds the journal into the tree and closes the file.
func (s *state) close() error {
	if s.readOnly {
		return s.db.Close()
	}
	err := s.fold()
	os.Remove(s.path + ".pid")
	if cerr := s.db.Close(); err == nil {
		err = cerr
	}
	return err
}

// fold applies the journal to the tree, in key order, the later write of a
// number winning, then empties the journal. The writes go in transactions of
// foldChunk consecutive keys, each touching one stretch of the tree, so that
// bbolt never holds the whole tree in memory; a crash part-way leaves the
// journal whole, and folding it again writes the same values.
func (s *state) fold() error {
	last, err := s.journalled()
	if err != nil || len(last) == 0 {
		return err
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

// journalled returns what the journal holds: the last write of each
// number, in key order.
func (s *state) journalled() ([]stateWrite, error) {
	var all []stateWrite
	err := s.db.View(func(tx *bolt.Tx) error {
		j := tx.Bucket(s.journal)
		if j == nil {
			return nil // a read-only state of a list never sent to
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
		all = make([]stateWrite, 0, n)
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
	slices.SortStableFunc(all, func(a, b stateWrite) int { return cmp.Compare(a.key, b.key) })
	last := all[:0]
	for i, w := range all {
		if i+1 == len(all) || all[i+1].key != w.key {
			last = append(last, w)
		}
	}
	return slices.Clip(last), nil
}

// foldChunk is how many numbers one folding transaction writes.
const foldChunk = 20_000

// lookup calls get with a function that reads records, inside one read
// transaction.
func (s *state) lookup(get func(read func(key uint64) (stateRecord, bool))) error {
	return s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(s.bucket)
		var k [8]byte
		get(func(key uint64) (stateRecord, bool) {
			if w, ok := s.pendingWrite(key); ok {
				return w.record, !w.delete
			}
			if b == nil {
				return stateRecord{}, false
			}
			binary.BigEndian.PutUint64(k[:], key)
			return decodeRecord(b.Get(k[:]))
		})
		return nil
	})
}

// pendingWrite returns the journal's last write of a number, in a
// read-only state.
func (s *state) pendingWrite(key uint64) (stateWrite, bool) {
	i, ok := slices.BinarySearchFunc(s.pending, key, func(w stateWrite, k uint64) int { return cmp.Compare(w.key, k) })
	if !ok {
		return stateWrite{}, false
	}
	return s.pending[i], true
}

// apply journals the changes of confirmed batches in one transaction.
func (s *state) apply(writes []stateWrite) error {
	if len(writes) == 0 {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		j := tx.Bucket(s.journal)
		seq, err := j.NextSequence()
		if err != nil {
			return err
		}
		var k [8]byte
		binary.BigEndian.PutUint64(k[:], seq)
		return j.Put(k[:], encodeWrites(writes))
	})
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

// countWrites counts the writes of one journal record.
func countWrites(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		if len(b) < 9 {
			return 0, errors.New("truncated journal record")
		}
		size, w := binary.Uvarint(b[8:])
		if w <= 0 || uint64(len(b)-8-w) < size {
			return 0, errors.New("truncated journal record")
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
			return nil, errors.New("truncated journal record")
		}
		w := stateWrite{key: binary.BigEndian.Uint64(b)}
		n, size := binary.Uvarint(b[8:])
		if size <= 0 || uint64(len(b)-8-size) < n {
			return nil, errors.New("truncated journal record")
		}
		b = b[8+size:]
		if n == 0 {
			w.delete = true
		} else {
			var ok bool
			if w.record, ok = decodeRecord(b[:n]); !ok {
				return nil, errors.New("unreadable journal record")
			}
		}
		b = b[n:]
		out = append(out, w)
	}
	return out, nil
}

// sent calls fn for every number the provider holds, in key order: the
// tree's, and in a read-only state the journal's, which win over them.
func (s *state) sent(fn func(key uint64, r stateRecord)) error {
	pending := s.pending
	emit := func(w stateWrite) {
		if !w.delete && w.record.sent() {
			fn(w.key, w.record)
		}
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(s.bucket)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if len(k) != 8 {
				return nil
			}
			key := binary.BigEndian.Uint64(k)
			for len(pending) > 0 && pending[0].key < key {
				emit(pending[0])
				pending = pending[1:]
			}
			if len(pending) > 0 && pending[0].key == key {
				emit(pending[0])
				pending = pending[1:]
				return nil
			}
			if r, ok := decodeRecord(v); ok {
				emit(stateWrite{key: key, record: r})
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, w := range pending {
		emit(w)
	}
	return nil
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

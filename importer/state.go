package importer

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
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
// confirmed (or refused), and the provider's contact ID. It is written only
// after the provider confirms, one transaction per batch, so that a run
// killed at any point resumes where it was.
type state struct {
	db     *bolt.DB
	bucket []byte
	path   string
}

// The kinds of record.
const (
	recordSent     byte = 1 // the provider confirmed these fields
	recordRejected byte = 2 // the provider refused these fields: not sent again until they change
)

// stateRecord is what the state holds for one number.
type stateRecord struct {
	kind        byte
	fingerprint uint64
	id          string // recordSent: the provider's contact ID
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
	s := &state{db: db, bucket: []byte(provider + "\x00" + account + "\x00" + list), path: path}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(s.bucket)
		return err
	}); err != nil {
		s.close()
		return nil, fmt.Errorf("writing the state file %s: %w", path, err)
	}
	return s, nil
}

func (s *state) close() error {
	os.Remove(s.path + ".pid")
	return s.db.Close()
}

// lookup calls get with a function that reads records, inside one read
// transaction.
func (s *state) lookup(get func(read func(key uint64) (stateRecord, bool))) error {
	return s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(s.bucket)
		var k [8]byte
		get(func(key uint64) (stateRecord, bool) {
			binary.BigEndian.PutUint64(k[:], key)
			return decodeRecord(b.Get(k[:]))
		})
		return nil
	})
}

// apply writes the changes of one confirmed batch in one transaction.
func (s *state) apply(writes []stateWrite) error {
	if len(writes) == 0 {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(s.bucket)
		var k [8]byte
		for _, w := range writes {
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
		return fmt.Errorf("writing the state file %s: %w", s.path, err)
	}
	return nil
}

// sent calls fn for every number the provider confirmed, in key order.
func (s *state) sent(fn func(key uint64, r stateRecord)) error {
	return s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(s.bucket).ForEach(func(k, v []byte) error {
			if r, ok := decodeRecord(v); ok && r.kind == recordSent && len(k) == 8 {
				fn(binary.BigEndian.Uint64(k), r)
			}
			return nil
		})
	})
}

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
	case recordSent:
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

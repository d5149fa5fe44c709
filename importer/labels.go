package importer

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"contactsync/providers"
)

// labelStore is what the state remembers per account rather than per list,
// for a provider with Capabilities.Labels (AmootSMS): the labels contactsync
// gave each number. Such a provider holds one contact per number, grouped by
// labels; an edit replaces the contact's labels and no answer shows them. So
// the label a run into list A gave a contact survives a run into list B that
// edits it only if it is remembered across lists, here.
//
// It is a bucket of the state file beside the lists' own, written directly
// rather than journalled: such a provider takes one contact per request, so
// its writes are few. Each commit writes it before the lists' journal (see
// writeState), so that it is never behind what a list's state says was sent.
type labelStore struct {
	s      *state
	bucket []byte
}

// labelWrite is one change of a number's labels; "" forgets the number.
type labelWrite struct {
	key    uint64
	labels string
}

// openLabels opens (creating it if needed) the account's labels in the
// state. Its bucket's name cannot be a list's: a list's bucket is provider,
// account and list joined by NUL, and no --list holds a NUL.
func openLabels(s *state, provider, account string) (*labelStore, error) {
	l := &labelStore{s: s, bucket: []byte(provider + "\x00" + account + "\x00\x00labels")}
	err := s.update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(l.bucket)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("writing the state file %s: %w", s.path, err)
	}
	return l, nil
}

// lookup calls get with a function that reads a number's labels ("" when
// none are remembered), inside one read transaction.
func (l *labelStore) lookup(get func(read func(key uint64) string)) error {
	return l.s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(l.bucket)
		var k [8]byte
		get(func(key uint64) string {
			binary.BigEndian.PutUint64(k[:], key)
			return string(b.Get(k[:]))
		})
		return nil
	})
}

// apply writes the changes of confirmed batches in one transaction.
func (l *labelStore) apply(writes []labelWrite) error {
	if len(writes) == 0 {
		return nil
	}
	err := l.s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(l.bucket)
		var k [8]byte
		for _, w := range writes {
			binary.BigEndian.PutUint64(k[:], w.key)
			var err error
			if w.labels == "" {
				err = b.Delete(k[:])
			} else {
				err = b.Put(k[:], []byte(w.labels))
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("writing the state file %s: %w", l.s.path, err)
	}
	return nil
}

// rememberLabels notes the labels a provider with Capabilities.Labels says a
// contact holds once it confirmed a write, and forgets those of a contact
// deleted or found gone.
func (r *run) rememberLabels(e *event, writes *[]labelWrite) {
	if r.labels == nil || !e.sent {
		return
	}
	switch {
	case e.outcome == providers.Added || e.outcome == providers.Updated:
		if e.labels != "" {
			*writes = append(*writes, labelWrite{key: e.key, labels: e.labels})
		}
	case e.deletion && (e.outcome == providers.Deleted || e.outcome == providers.Skipped):
		*writes = append(*writes, labelWrite{key: e.key, labels: e.labels})
	}
}

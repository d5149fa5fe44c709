package importer

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"contactsync/source"
)

// The state remembers, per target and per URL, the validators (ETag,
// Last-Modified) of the last download that a run read to the end and sent
// in full, with the settings it ran with, in a bucket of its own beside the
// targets' buckets. The key holds a digest of the URL, never the URL, which
// may carry a token.
var sourcesBucket = []byte("sources")

type sourceRecord struct {
	source.Validators
	Settings uint64 `json:"settings"`
}

func (s *state) sourceKey(url string) []byte {
	sum := sha256.Sum256([]byte(url))
	return append(append([]byte{}, s.bucket...), append([]byte{0}, sum[:16]...)...)
}

// sourceValidators returns the validators to send for url: none when the
// last complete run used other settings, or there was none.
func (s *state) sourceValidators(url string, settings uint64) (source.Validators, error) {
	var rec sourceRecord
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(sourcesBucket)
		if b == nil {
			return nil
		}
		v := b.Get(s.sourceKey(url))
		if v == nil {
			return nil
		}
		return json.Unmarshal(v, &rec)
	})
	if err != nil {
		return source.Validators{}, fmt.Errorf("reading the state file %s: %w", s.path, err)
	}
	if rec.Settings != settings {
		return source.Validators{}, nil
	}
	return rec.Validators, nil
}

// saveSourceValidators remembers the validators of a download read to the
// end and sent in full.
func (s *state) saveSourceValidators(url string, v source.Validators, settings uint64) error {
	data, err := json.Marshal(sourceRecord{Validators: v, Settings: settings})
	if err != nil {
		return err
	}
	return s.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(sourcesBucket)
		if err != nil {
			return err
		}
		return b.Put(s.sourceKey(url), data)
	})
}

// forgetSourceValidators makes the next download of url unconditional.
func (s *state) forgetSourceValidators(url string) error {
	return s.update(func(tx *bolt.Tx) error {
		if b := tx.Bucket(sourcesBucket); b != nil {
			return b.Delete(s.sourceKey(url))
		}
		return nil
	})
}

// Package state is contactsync's memory between runs, behind one interface
// with two backends: bbolt files on the machine (the default) and a
// PostgreSQL database, for runs in containers and across hosts. Per target
// (provider, account, list) and per number it keeps a fingerprint of the
// fields the provider last confirmed (or refused) and the provider's contact
// ID; per account, the labels contactsync gave each number; per target and
// download, the validators that make the next download conditional. Both
// backends are written only after the provider confirms a batch, and let
// one run at a time work on a target.
package state

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// Target is one list of one account of one provider.
type Target struct {
	Provider string
	Account  string // a digest of the account's login, never a secret
	List     string
}

func (t Target) String() string { return t.Provider + " list " + t.List }

// lockKey is a stable 64-bit digest of the target, for locks.
func (t Target) lockKey() int64 {
	sum := sha256.Sum256([]byte(t.Provider + "\x00" + t.Account + "\x00" + t.List))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

// Kind is what the provider last did with a number's fields.
type Kind byte

// The kinds of record. Their values are stored: never renumber them.
const (
	Added    Kind = 1 // the provider confirmed these fields, adding the contact
	Rejected Kind = 2 // the provider refused these fields: not sent again until they change
	Updated  Kind = 3 // the provider confirmed these fields, updating the contact
)

// Record is what the state holds for one number of a target; the zero
// Record is a number the state does not know.
type Record struct {
	Kind        Kind
	Fingerprint uint64
	ID          string // Added or Updated: the provider's contact ID
	Reason      string // Rejected: the report's reason
}

// Sent reports whether the provider holds the record's fields.
func (r Record) Sent() bool { return r.Kind == Added || r.Kind == Updated }

// Write is one change after a confirmed batch.
type Write struct {
	Key    uint64 // the number, as mapping.KeyOf gives it
	Delete bool
	Record Record
}

// LabelWrite is one change of a number's labels in the account; ""
// forgets the number.
type LabelWrite struct {
	Key    uint64
	Labels string
}

// Download is what the state remembers of a download read to the end and
// sent in full: its validators, and a digest of the settings it was read
// with.
type Download struct {
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	Settings     uint64 `json:"settings"`
}

// Store is the state of one target, locked for one run.
type Store interface {
	// Lookup sets out[i] to what the state holds for keys[i] (the zero
	// Record when nothing).
	Lookup(keys []uint64, out []Record) error
	// Commit writes the changes of confirmed batches: the account's labels
	// first, then the target's records, so that a run killed between the
	// two only ever keeps a label, never loses one.
	Commit(writes []Write, labels []LabelWrite) error
	// Sent calls fn for every number the provider holds, in key order.
	Sent(fn func(key uint64, r Record)) error
	// Labels sets out[i] to the labels the account remembers for keys[i].
	Labels(keys []uint64, out []string) error
	// Download returns what the state remembers of the download of url
	// (the zero Download when nothing); SetDownload remembers it, or
	// forgets it when d is nil. Only a digest of url is stored.
	Download(url string) (Download, error)
	SetDownload(url string, d *Download) error
	// Close writes what is pending and releases the target.
	Close() error
}

// Options says how to open a state.
type Options struct {
	// ReadOnly opens the state of a dry run: nothing is created, written
	// or locked.
	ReadOnly bool
	// Owner describes the run, for the one that finds the target taken.
	Owner string
	// Logger hears what is worth a line but does not stop the run.
	Logger *slog.Logger
	// Password is a PostgreSQL state's password, when its URL has none.
	Password string
}

// ErrLocked is the class of a target another run works on; the error names
// that run.
var ErrLocked = errors.New("the target is in use by another run")

// LockedError is a target another run holds.
type LockedError struct {
	Target Target
	Where  string // "the state file …", "the state postgres://…" (without its password)
	Owner  string // the run holding it, or why it is unknown
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("%s is in use by another run (%s), working on %s; wait for it to finish, or pass another --state",
		e.Where, e.Owner, e.Target)
}

func (e *LockedError) Unwrap() error { return ErrLocked }

// Open opens the state of target t where --state says: a PostgreSQL URL,
// or the name of the bbolt files.
func Open(where string, t Target, o Options) (Store, error) {
	if IsPostgres(where) {
		return openPostgres(where, t, o)
	}
	return openBolt(where, t, o)
}

// Accounts lists the accounts the state holds the provider's list for: a
// dry run without credentials cannot tell its own, and takes the state's
// when there is only one.
func Accounts(where, provider, list string) ([]string, error) {
	if IsPostgres(where) {
		return pgAccounts(where, provider, list)
	}
	return boltAccounts(where, provider, list)
}

// IsPostgres reports whether --state names a PostgreSQL database.
func IsPostgres(where string) bool {
	return strings.HasPrefix(where, "postgres://") || strings.HasPrefix(where, "postgresql://")
}

// urlDigest is what the state keeps of a download's URL, which may carry a
// token.
func urlDigest(url string) []byte {
	sum := sha256.Sum256([]byte(url))
	return sum[:16]
}

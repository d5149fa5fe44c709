package importer

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"

	"contactsync/mapping"
	"contactsync/state"
)

// openState opens the run's state (package state): bbolt files or a
// PostgreSQL database, as --state says; read-only in a dry run, which never
// creates or changes a state. A state that is damaged or in use refuses the
// run before anything is sent.
func (r *run) openState(account string) error {
	t := state.Target{Provider: r.name, Account: account, List: r.opts.List}
	// Not the command line: it may hold a database URL with its password,
	// or a sheet's URL with its token, and the owner is shown to other runs.
	owner := fmt.Sprintf("process %d, contactsync import into %s list %s", os.Getpid(), r.name, r.opts.List)
	s, err := state.Open(r.opts.StateFile, t, state.Options{ReadOnly: r.opts.DryRun, Owner: owner, Logger: r.opts.Logger,
		Password: r.opts.StatePassword})
	var de *state.DamagedStateError
	switch {
	case errors.As(err, &de):
		return usagef("nothing was sent: %w", err)
	case err != nil:
		return &UsageError{Err: err}
	}
	r.state = s
	return nil
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
// $XDG_STATE_HOME/contactsync/state.db, or ~/.local/state/contactsync/state.db
// (the name of the per-target files in state.db.d/).
func DefaultStatePath(getenv func(string) string) string {
	return filepath.Join(userDir(getenv, "XDG_STATE_HOME", filepath.Join(".local", "state")), "state.db")
}

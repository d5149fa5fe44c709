// Package providers defines what contactsync needs from an SMS provider: the
// Provider interface, its static Capabilities, the classification of every
// failure (retryable, row, fatal) and the registry the command line looks
// providers up in. Each provider lives in a subpackage with its emulator.
package providers

import (
	"context"
	"net/http"
	"strings"

	"contactsync/mapping"
)

// Mode is the user's --mode: what to do with numbers the list already has.
type Mode string

// The modes of the user contract.
const (
	ModeUpsert Mode = "upsert" // add new numbers, overwrite existing ones
	ModeInsert Mode = "insert" // add new numbers, never touch existing ones
	ModeUpdate Mode = "update" // only modify numbers the list already has
	ModeMirror Mode = "mirror" // upsert, then delete what the file no longer has
)

// Modes lists every mode in the order --help shows them.
var Modes = []Mode{ModeUpsert, ModeInsert, ModeUpdate, ModeMirror}

// Op is what one request does to its contacts. The importer's planner picks
// it per contact from the mode and what the provider knows of the list.
type Op int

// The operations a batch can carry.
const (
	// OpUpsert adds the contact or overwrites the existing one; the provider
	// decides which (Octopush create, Smstools create in upsert mode).
	OpUpsert Op = iota + 1
	// OpCreate adds the contact and must leave an existing one untouched.
	OpCreate
	// OpUpdate modifies an existing contact, found by Contact.ID when set.
	OpUpdate
	// OpDelete removes the contact from the list.
	OpDelete
)

func (o Op) String() string {
	switch o {
	case OpUpsert:
		return "upsert"
	case OpCreate:
		return "create"
	case OpUpdate:
		return "update"
	case OpDelete:
		return "delete"
	}
	return "unknown"
}

// Outcome is what became of one row.
type Outcome int

// The five outcomes of the report; every row ends in exactly one.
const (
	Added Outcome = iota + 1
	Updated
	Skipped
	Rejected
	Failed
	Deleted // only for contacts removed by mirror mode; not a row of the file
)

func (o Outcome) String() string {
	switch o {
	case Added:
		return "added"
	case Updated:
		return "updated"
	case Skipped:
		return "skipped"
	case Rejected:
		return "rejected"
	case Failed:
		return "failed"
	case Deleted:
		return "deleted"
	}
	return "unknown"
}

// Target says where contacts go.
type Target struct {
	List string // Octopush list_name, AvoSMS listContactId, AmootSMS label, Smstools groupid
	Mode Mode
}

// Batch is one request's worth of contacts, all with the same operation and
// tag. Contacts keep the order of the file.
type Batch struct {
	Op       Op
	Tag      string
	Contacts []*mapping.Contact
	// Attempt is 1 on the first send and grows with each retry, so that a
	// provider whose writes are not idempotent can check before repeating one
	// whose answer was lost.
	Attempt int
}

// Result is the provider's answer for one contact of a batch.
type Result struct {
	Outcome Outcome
	Reason  string // report key, e.g. "exists"; empty for plain added/updated
	ID      string // the provider's contact ID, when it has one
	// Labels are, for a provider with Capabilities.Labels, the labels the
	// contact holds once the request is applied, as far as contactsync
	// knows: what an add or an edit sent, what a mirror's edit left. ""
	// after a deletion.
	Labels string
}

// ListInfo is what a provider learnt about the target list before sending.
type ListInfo struct {
	// Region is the list's ISO country when the provider ties lists to one
	// country (AvoSMS); it becomes the default --region and numbers of other
	// countries are rejected locally.
	Region string
	// Existing maps the numbers already in the list (E.164 digits as an
	// integer, see mapping.Contact.Key) to the provider's contact ID ("" when
	// it has none). Nil when the provider cannot list contacts: the planner
	// then lets the provider decide (OpUpsert/OpCreate).
	Existing map[uint64]string
}

// Provider is one SMS provider's contact API.
//
// Implementations are safe for concurrent use by the importer's workers once
// Open has returned. They never sleep or retry on their own: every failure is
// returned as an *Error and the importer's single retry policy decides.
type Provider interface {
	// Capabilities describes the provider statically; it never changes.
	Capabilities() Capabilities
	// Open is called exactly once, before any Apply. It checks the
	// credentials and the target list where the API allows it cheaply, and
	// returns what is known of the list. An error here stops the run.
	Open(ctx context.Context, t Target) (*ListInfo, error)
	// Apply sends one batch and returns one Result per contact, in order.
	// An error means no Result is known for any contact of the batch. Apply
	// must be safe to call again with the same batch (Attempt+1) after a
	// retryable error: the request body must be identical and repeating it
	// must not duplicate a contact.
	Apply(ctx context.Context, b *Batch) ([]Result, error)
}

// Config is what a provider needs to be built.
type Config struct {
	// Endpoint replaces the scheme and host of the documented URLs; the
	// documented paths are appended to it. Empty means the documented host.
	Endpoint string
	// Credentials holds the values of the variables Capabilities.Credentials
	// names, keyed by variable name.
	Credentials map[string]string
	// HTTPClient carries the importer's pacing and request counting.
	HTTPClient *http.Client
}

// Ready is what every provider's New does first: it refuses a config whose
// required credentials are missing, naming them, and fills in a default HTTP
// client. A client that would follow redirects (Go's default) is replaced
// by a copy that refuses them (RefuseRedirects).
func (c Config) Ready(required []string) (Config, error) {
	if err := missingCredentials(c.Credentials, required); err != nil {
		return c, err
	}
	client := http.Client{}
	if c.HTTPClient != nil {
		client = *c.HTTPClient // a copy shares the transport and its connections
	}
	if client.CheckRedirect == nil {
		client.CheckRedirect = RefuseRedirects
	}
	c.HTTPClient = &client
	return c, nil
}

// Credential returns the value of one credential variable.
func (c Config) Credential(name string) string { return c.Credentials[name] }

// Excerpt quotes the head of an answer for a message, the credentials
// redacted before it is cut.
func (c Config) Excerpt(body []byte) string { return Excerpt(body, Secrets(c.Credentials)) }

// Clip bounds a text the provider wrote for a message, the credentials
// redacted before it is cut.
func (c Config) Clip(s string) string { return Clip(s, Secrets(c.Credentials)) }

// URL composes the endpoint (or the documented base when none is set) with a
// documented path, as the user contract describes for --endpoint.
func (c Config) URL(documentedBase, path string) string {
	base := documentedBase
	if c.Endpoint != "" {
		base = c.Endpoint
	}
	return strings.TrimRight(base, "/") + path
}

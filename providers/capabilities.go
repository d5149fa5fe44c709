package providers

import (
	"fmt"
	"slices"
	"strings"

	"contactsync/mapping"
)

// Capabilities is a provider's static description: the importer sizes its
// batches, picks its defaults and refuses unsupported modes from it, and
// `contactsync providers` prints it.
type Capabilities struct {
	// MaxBatch is the most contacts one request may carry; 1 when the API
	// has no batch endpoint.
	MaxBatch int
	// ContactIDs says rows may carry the provider's contact ID (an "ID"
	// column), which makes them updates of that contact.
	ContactIDs bool
	// Modes lists the --mode values the provider can honour.
	Modes []Mode
	// PhoneFormat says how numbers are sent, for humans.
	PhoneFormat string
	// Fields names the contact fields the provider stores.
	Fields []string
	// CustomFields names the provider's free fields a mapping file may fill.
	CustomFields []string
	// Credentials names the environment variables the provider reads.
	Credentials []string
	// ListHelp says what --list means for this provider, and ListHowTo
	// where a user finds the value.
	ListHelp, ListHowTo string
	// Sends says, per field of a mapping, what the provider calls it, in
	// the order `contactsync providers` shows them; the fields it leaves
	// out are not stored.
	Sends []FieldName
	// ListRegion says a list has a country of its own, which is the
	// default region and the only one the list takes (AvoSMS).
	ListRegion bool
	// MaxListLen and MaxTagLen bound --list and the tag when the API does
	// (0: no documented bound).
	MaxListLen, MaxTagLen int
	// DefaultRegion is the country assumed for numbers without an
	// international prefix when --region is not given ("" for none).
	DefaultRegion string
	// Pacing holds the defaults of --rate, --burst, --workers, --batch-size.
	Pacing Pacing
	// Labels says that the provider groups contacts with labels on one
	// contact per number of the account (AmootSMS), that an edit replaces
	// the contact's labels, and that no answer shows them. The importer
	// then remembers, per account, the labels each number was given
	// (Result.Labels) and hands them back with the contact
	// (mapping.Contact.KnownLabels), so that an edit keeps them.
	Labels bool
	// EmptyCells says what an empty cell of a mapped column does to the
	// value the provider holds, for `contactsync providers`.
	EmptyCells string
	// Notes says what a user must know that the rest does not show.
	Notes []Note
}

// Note is something about a provider that its fields and modes do not say.
// `contactsync providers` prints every note; an import prints, once at its
// start, the notes of its mode and of the fields its columns map to, and
// inspect those of the fields.
type Note struct {
	Text string
	// Modes are the modes in which an import prints the note.
	Modes []Mode
	// Field is a contact field the provider does not store: the note is
	// printed when a column maps to it.
	Field mapping.Field
}

// FieldName is what a provider calls a field of the mapping.
type FieldName struct {
	Field mapping.Field
	Name  string // the provider's name, and how the value is written
}

// Pacing is how fast the importer talks to a provider.
type Pacing struct {
	Rate      float64 // requests per second; 0 = no client-side limit
	Burst     int
	Workers   int
	BatchSize int
}

// Supports reports whether the provider can run in mode m.
func (c Capabilities) Supports(m Mode) bool { return slices.Contains(c.Modes, m) }

// CheckTarget refuses a list name or tag the API would refuse, before any
// request is sent.
func (c Capabilities) CheckTarget(list, tag string) error {
	if c.MaxListLen > 0 && len([]rune(list)) > c.MaxListLen {
		return fmt.Errorf("list name %q is %d characters long; the provider accepts at most %d", list, len([]rune(list)), c.MaxListLen)
	}
	if c.MaxTagLen > 0 && len([]rune(tag)) > c.MaxTagLen {
		return fmt.Errorf("tag %q is %d characters long; the provider accepts at most %d", tag, len([]rune(tag)), c.MaxTagLen)
	}
	return nil
}

// Describe renders the capabilities for `contactsync providers`.
func (c Capabilities) Describe(name string) string {
	var b strings.Builder
	modes := make([]string, len(c.Modes))
	for i, m := range c.Modes {
		modes[i] = string(m)
	}
	rate := "no limit"
	if c.Pacing.Rate > 0 {
		rate = fmt.Sprintf("%g requests/s, burst %d", c.Pacing.Rate, c.Pacing.Burst)
	}
	fmt.Fprintf(&b, "%s\n", name)
	fmt.Fprintf(&b, "  --list        %s\n", c.ListHelp)
	if c.ListHowTo != "" {
		fmt.Fprintf(&b, "  finding it    %s\n", c.ListHowTo)
	}
	switch {
	case c.DefaultRegion != "":
		fmt.Fprintf(&b, "  region        %s: numbers without an international prefix are read as %s numbers, unless --region or a mapping file's region says otherwise\n", c.DefaultRegion, c.DefaultRegion)
	case c.ListRegion:
		fmt.Fprintf(&b, "  region        the list's own country, from the list's information: numbers without an international prefix are read as its numbers, and a number of another country is rejected (country_mismatch)\n")
	default:
		fmt.Fprintf(&b, "  region        none: a number without an international prefix needs --region CC (or a mapping file's region)\n")
	}
	fmt.Fprintf(&b, "  fields        what each field of a mapping file (and each column detected) is sent as:\n")
	sent := map[mapping.Field]bool{mapping.FieldCountry: true, mapping.FieldFullName: true}
	for _, f := range c.Sends {
		fmt.Fprintf(&b, "                  %-11s → %s\n", f.Field, f.Name)
		sent[f.Field] = true
	}
	if len(c.CustomFields) > 0 {
		fmt.Fprintf(&b, "                  %-11s → %s (custom: in a mapping file)\n", "custom", strings.Join(c.CustomFields, ", "))
	}
	var dropped []string
	for _, f := range mapping.Fields {
		if !sent[f] {
			dropped = append(dropped, string(f))
		}
	}
	if len(dropped) > 0 {
		fmt.Fprintf(&b, "                  not stored: %s\n", strings.Join(dropped, ", "))
	}
	fmt.Fprintf(&b, "                  (country sets a row's region; full_name is split into first_name and last_name)\n")
	if c.MaxBatch == 1 {
		fmt.Fprintf(&b, "  batch size    one contact per request (the API has no batch endpoint)\n")
	} else {
		fmt.Fprintf(&b, "  batch size    up to %d contacts per request (default --batch-size %d)\n", c.MaxBatch, c.Pacing.BatchSize)
	}
	fmt.Fprintf(&b, "  modes         %s\n", strings.Join(modes, ", "))
	fmt.Fprintf(&b, "  phone format  %s\n", c.PhoneFormat)
	if c.EmptyCells != "" {
		fmt.Fprintf(&b, "  empty cells   %s\n", c.EmptyCells)
	}
	fmt.Fprintf(&b, "  pacing        %s, %d workers\n", rate, c.Pacing.Workers)
	fmt.Fprintf(&b, "  credentials   %s\n", strings.Join(c.Credentials, ", "))
	for _, n := range c.Notes {
		fmt.Fprintf(&b, "  note          %s\n", n.Text)
	}
	return b.String()
}

// ModeNotes returns the notes an import in mode m prints.
func (c Capabilities) ModeNotes(m Mode) []string {
	var out []string
	for _, n := range c.Notes {
		if slices.Contains(n.Modes, m) {
			out = append(out, n.Text)
		}
	}
	return out
}

// FieldNote returns the note about field f, which the provider does not
// store, or "".
func (c Capabilities) FieldNote(f mapping.Field) string {
	for _, n := range c.Notes {
		if n.Field != "" && n.Field == f {
			return n.Text
		}
	}
	return ""
}

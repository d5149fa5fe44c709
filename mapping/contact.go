// Package mapping turns the rows of a spreadsheet export into contacts: it
// reads the CSV (encoding, delimiter, broken rows), maps columns to fields
// (from the header or a YAML mapping file) and normalises values (phones to
// E.164, names, emails, dates).
package mapping

import "strconv"

// Civility is the contact's title, as far as a provider cares: the two
// values AmootSMS's GenderType and AvoSMS's contactCivility can express.
type Civility int

// The civilities; CivilityUnknown sends nothing.
const (
	CivilityUnknown Civility = iota
	CivilityMale
	CivilityFemale
)

func (c Civility) String() string {
	switch c {
	case CivilityMale:
		return "male"
	case CivilityFemale:
		return "female"
	}
	return ""
}

// Contact is one normalised contact, ready for any provider.
type Contact struct {
	// Line is the line of the file where the row starts.
	Line int
	// Phone is the number in E.164 form, with "+".
	Phone string
	// Key is Phone's digits as an integer: unique per number, 8 bytes, the
	// key of in-file dedupe and of the sync state.
	Key uint64
	// PhoneFrom names the column the number was chosen from.
	PhoneFrom string
	FirstName string
	LastName  string
	Email     string
	Birthday  string // yyyy-mm-dd
	Civility  Civility
	// Tag is the Octopush tag or the AmootSMS labels (comma-separated) of
	// this row, on top of the run's list.
	Tag string
	// KnownLabels are the AmootSMS labels (comma-separated) that earlier
	// runs of contactsync gave this number in the account, from the sync
	// state: an edit, which replaces a contact's labels, sends them again.
	KnownLabels string
	// ID is the provider's contact ID: from the file (Smstools updates) or
	// from what the provider said the list holds.
	ID string
	// Custom holds provider free fields by their API name (param1, extra2…).
	Custom map[string]string
}

// KeyOf returns the dedupe key of an E.164 number ("+33612345678" →
// 33612345678), or 0 when it is not one.
func KeyOf(e164 string) uint64 {
	if len(e164) < 2 || e164[0] != '+' {
		return 0
	}
	k, err := strconv.ParseUint(e164[1:], 10, 64)
	if err != nil {
		return 0
	}
	return k
}

// PhoneOfKey is the inverse of KeyOf.
func PhoneOfKey(k uint64) string { return "+" + strconv.FormatUint(k, 10) }

package amootsms

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Wire types of the AmootSMS REST API (seed 003, PROVIDERS.md).

// contact is the record ContactCreate takes and ContactEdit replaces: every
// field of seed 003, as the strings a form carries.
type contact struct {
	Active          string // "true" or "false"
	Mobile          string // national form, 09XXXXXXXXX
	FName           string
	LName           string
	GenderType      string // "True" = male, "False" = female, "" = unknown
	CompanyTitle    string
	JobTitle        string
	Email           string
	CityName        string
	AddressText     string
	BornDate        string // yyyy-MM-dd
	AnniversaryDate string
	CustomText1     string
	CustomText2     string
	CustomText3     string
	CustomText4     string
	CustomText5     string
	CustomText6     string
	CustomDate1     string
	CustomDate2     string
	CustomDate3     string
	Labels          string // comma-separated, as the seed's C# sample joins them
}

type field struct {
	name  string
	value *string
}

// fields names each form field once, for the client that writes the form
// and the emulator that reads it.
func (c *contact) fields() []field {
	return []field{
		{"Active", &c.Active}, {"Mobile", &c.Mobile}, {"FName", &c.FName}, {"LName", &c.LName}, {"GenderType", &c.GenderType},
		{"CompanyTitle", &c.CompanyTitle}, {"JobTitle", &c.JobTitle}, {"Email", &c.Email},
		{"CityName", &c.CityName}, {"AddressText", &c.AddressText}, {"BornDate", &c.BornDate},
		{"AnniversaryDate", &c.AnniversaryDate},
		{"CustomText1", &c.CustomText1}, {"CustomText2", &c.CustomText2}, {"CustomText3", &c.CustomText3},
		{"CustomText4", &c.CustomText4}, {"CustomText5", &c.CustomText5}, {"CustomText6", &c.CustomText6},
		{"CustomDate1", &c.CustomDate1}, {"CustomDate2", &c.CustomDate2}, {"CustomDate3", &c.CustomDate3},
		{"Labels", &c.Labels},
	}
}

// The fields the contact methods take besides the contact's own [doc]:
// ContactGroupID is disabled on ContactCreate and ContactEdit and must be 0
// (labels replace groups), and ContactList requires it, 0 meaning every
// contact; ContactEdit and ContactDelete name the contact by ContactID.
const (
	fieldContactGroupID = "ContactGroupID"
	fieldContactID      = "ContactID"
	// groupNone is ContactGroupID on a create or an edit, and groupAll on
	// ContactList: 0 both times [doc].
	groupNone = "0"
	groupAll  = "0"
	// activeTrue is Active on a create, true in both samples [doc]. The C#
	// sample would send "True"; .NET reads booleans regardless of case,
	// and the PHP sample's "true" is what we send.
	activeTrue = "true"
)

// form renders the full record: every documented field is sent, because
// ContactEdit replaces the whole record.
func (c contact) form() url.Values {
	v := url.Values{fieldContactGroupID: {groupNone}}
	for _, f := range c.fields() {
		v.Set(f.name, *f.value)
	}
	return v
}

// keep fills the fields c leaves empty with held's, the record as AmootSMS
// holds it: ContactEdit replaces the whole record, and an empty cell (or a
// field the file does not map) keeps the value the provider has.
func (c *contact) keep(held contact) {
	have := held.fields()
	for i, f := range c.fields() {
		if *f.value == "" {
			*f.value = *have[i].value
		}
	}
}

// values lists the record's fields in fields' order, for Open's index of
// the account (providers.Held).
func (c *contact) values() []string {
	fs := c.fields()
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = *f.value
	}
	return out
}

// contactOf reads what values listed; nil is the empty record.
func contactOf(values []string) contact {
	var c contact
	for i, f := range c.fields() {
		if i < len(values) {
			*f.value = values[i]
		}
	}
	return c
}

func contactFromForm(v url.Values) contact {
	var c contact
	for _, f := range c.fields() {
		*f.value = v.Get(f.name)
	}
	return c
}

// envelope is the answer of every method: {"Status": "Success", "Data": ...}.
// The client reads it with readAnswer, which also accepts the numeric
// statuses and the bare-string answers; the emulator writes it.
type envelope struct {
	Status string
	Data   any
}

// record is a contact as the API returns it (seed 003's result.Data and
// the ContactList, ContactGet and ContactSearch pages), Mobile written as a
// number, 989120000000 [doc]. No answer carries the contact's labels [doc].
type record struct {
	ID              int64
	ContactGroupID  int64
	Active          bool
	Mobile          int64
	FName           string
	LName           string
	GenderType      *bool
	CompanyTitle    string
	JobTitle        string
	Email           string
	CityName        string
	AddressText     string
	BornDate        *string
	AnniversaryDate *string
	CustomText1     string
	CustomText2     string
	CustomText3     string
	CustomText4     string
	CustomText5     string
	CustomText6     string
	CustomDate1     *string
	CustomDate2     *string
	CustomDate3     *string
	Deleted         bool
}

// listedContact is what the client reads of a record from ContactList,
// ContactSearch and ContactCreate: every field an edit must send back, each
// as a string, a number, a boolean or null.
type listedContact struct {
	ID, Mobile, Active, Deleted                                     flexString
	FName, LName, GenderType, CompanyTitle, JobTitle, Email         flexString
	CityName, AddressText, BornDate, AnniversaryDate                flexString
	CustomText1, CustomText2, CustomText3, CustomText4, CustomText5 flexString
	CustomText6, CustomDate1, CustomDate2, CustomDate3              flexString
	// Labels is read should an answer carry it after all.
	Labels flexLabels
}

// deleted reports a record marked deleted [doc: Deleted, "logical
// deletion"]: it is no contact to edit or to match a number with.
func (lc *listedContact) deleted() bool { return string(lc.Deleted) == "true" }

// held returns the record as an edit sends it back: GenderType in the
// spelling we send, dates as yyyy-MM-dd.
func (lc *listedContact) held() contact {
	return contact{
		Active: string(lc.Active), FName: string(lc.FName), LName: string(lc.LName),
		GenderType: heldGender(string(lc.GenderType)), CompanyTitle: string(lc.CompanyTitle), JobTitle: string(lc.JobTitle),
		Email: string(lc.Email), CityName: string(lc.CityName), AddressText: string(lc.AddressText),
		BornDate: heldDate(string(lc.BornDate)), AnniversaryDate: heldDate(string(lc.AnniversaryDate)),
		CustomText1: string(lc.CustomText1), CustomText2: string(lc.CustomText2), CustomText3: string(lc.CustomText3),
		CustomText4: string(lc.CustomText4), CustomText5: string(lc.CustomText5), CustomText6: string(lc.CustomText6),
		CustomDate1: heldDate(string(lc.CustomDate1)), CustomDate2: heldDate(string(lc.CustomDate2)),
		CustomDate3: heldDate(string(lc.CustomDate3)), Labels: string(lc.Labels),
	}
}

// heldGender writes an answer's GenderType (true, false or null [doc]) as
// the form sends it.
func heldGender(v string) string {
	switch v {
	case "true":
		return "True"
	case "false":
		return "False"
	}
	return ""
}

// heldDate reads a date of an answer as the form's yyyy-MM-dd.
//
// [guess] The pages show only null dates: a .NET DateTime is written
// "1990-03-21T00:00:00", so what comes before a "T" is taken, and any
// other text is sent back as it came.
func heldDate(v string) string {
	if d, _, ok := strings.Cut(v, "T"); ok && len(d) == len("2006-01-02") {
		return d
	}
	return v
}

// flexString reads a JSON string, number or boolean as its text; null reads
// as "".
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		*s = ""
		return nil
	case string(b) == "true" || string(b) == "false":
		*s = flexString(b)
		return nil
	case len(b) > 1 && b[0] == '"' && bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b):
		// Most values hold no escape: no need to decode them.
		*s = flexString(b[1 : len(b)-1])
		return nil
	case len(b) > 0 && b[0] == '"':
		var v string
		err := json.Unmarshal(b, &v)
		*s = flexString(v)
		return err
	}
	var n json.Number
	err := json.Unmarshal(b, &n)
	*s = flexString(n)
	return err
}

// flexLabels reads a contact's labels, should an answer carry them.
//
// [doc] No answer documents a Labels field, and the emulator sends none.
// Reading one costs nothing: as a list of titles (what ContactCreate takes,
// String[]) or as the comma-separated string its samples send. Without it,
// an edit keeps only the labels the state remembers (see Client.update).
type flexLabels string

func (l *flexLabels) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	var parts []string
	switch v := v.(type) {
	case string:
		parts = []string{v}
	case []any:
		for _, p := range v {
			if s, ok := p.(string); ok {
				parts = append(parts, s)
			}
		}
	}
	*l = flexLabels(mergeLabels(strings.Join(parts, ",")))
	return nil
}

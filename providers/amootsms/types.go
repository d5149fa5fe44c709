package amootsms

import (
	"encoding/json"
	"net/url"
	"strings"
)

// Wire types of the AmootSMS REST API (seed 003, PROVIDERS.md).

// contact is the record ContactCreate takes and ContactEdit replaces: every
// field of seed 003, as the strings a form carries.
type contact struct {
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
		{"Mobile", &c.Mobile}, {"FName", &c.FName}, {"LName", &c.LName}, {"GenderType", &c.GenderType},
		{"CompanyTitle", &c.CompanyTitle}, {"JobTitle", &c.JobTitle}, {"Email", &c.Email},
		{"CityName", &c.CityName}, {"AddressText", &c.AddressText}, {"BornDate", &c.BornDate},
		{"AnniversaryDate", &c.AnniversaryDate},
		{"CustomText1", &c.CustomText1}, {"CustomText2", &c.CustomText2}, {"CustomText3", &c.CustomText3},
		{"CustomText4", &c.CustomText4}, {"CustomText5", &c.CustomText5}, {"CustomText6", &c.CustomText6},
		{"CustomDate1", &c.CustomDate1}, {"CustomDate2", &c.CustomDate2}, {"CustomDate3", &c.CustomDate3},
		{"Labels", &c.Labels},
	}
}

// The fields seed 003 requires besides the contact's own: ContactGroupID is
// disabled and must be 0 (labels replace groups), and Active is true in both
// samples. The C# sample would send "True"; .NET reads booleans regardless
// of case, and the PHP sample's "true" is what we send.
const (
	fieldContactGroupID = "ContactGroupID"
	fieldActive         = "Active"
	// fieldContactID names the contact ContactEdit changes [doc]. That
	// ContactDelete takes the same field is our reading of the method list
	// [guess]; this constant is the one place to change if it does not.
	fieldContactID = "ContactID"
)

// form renders the full record: every documented field is sent, empty when
// unknown, because ContactEdit replaces the whole record.
func (c contact) form() url.Values {
	v := url.Values{fieldContactGroupID: {"0"}, fieldActive: {"true"}}
	for _, f := range c.fields() {
		v.Set(f.name, *f.value)
	}
	return v
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

// record is a contact as the API returns it (seed 003's result.Data), Mobile
// written as a number, 989120000000 [doc]. Labels is not in seed 003's list
// of returned fields: see listedContact.
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
	Labels          []string
}

// listedContact is what the client reads of a record from ContactList,
// ContactSearch and ContactCreate: IDs and numbers may come as JSON numbers
// or strings.
type listedContact struct {
	ID     flexString
	Mobile flexString
	Labels flexLabels
}

// flexString reads a JSON string or number as its text; null reads as "".
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		*s = ""
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

// flexLabels reads a contact's labels.
//
// [guess] AmootSMS documents no answer field for labels. We read them from
// "Labels", either as a list of titles (what ContactCreate takes, String[])
// or as the comma-separated string its samples send. Should ContactList not
// return them at all, an edit replaces the contact's labels with the run's
// instead of adding to them.
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

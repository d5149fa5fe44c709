package avosms

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// Wire types of the AvoSMS contact API (seeds 000 and 001, PROVIDERS.md).
// Requests are forms (see Client.toWire); answers are JSON.

// answer is what every endpoint answers: {"status": …, "code": "OK"} or
// an error code such as "ERR_104".
type answer struct {
	Status string `json:"status"`
	Code   string `json:"code"`
}

// listInfoResponse is the answer of /contact/list/information (seed 001).
// The client reads it as a stream (readListInfo); the emulator writes it
// whole.
type listInfoResponse struct {
	Status                  string        `json:"status"`
	Code                    string        `json:"code"`
	ListContactName         string        `json:"list_contact_name"`
	ListContactCountryName  string        `json:"list_contact_country_name"`
	ListContactCountryCode  string        `json:"list_contact_country_code"`
	NbContactList           int           `json:"nb_contact_list"`
	ListContactCreationDate string        `json:"list_contact_creation_date"` // AAAA-MM-DD HH:MM:SS
	ListContact             []listContact `json:"list_contact"`
}

// listContact is one item of list_contact.
type listContact struct {
	Civility        string `json:"contact_civility"`
	Name            string `json:"contact_name"`
	FirstName       string `json:"contact_first_name"`
	TelephoneNumber string `json:"contact_telephone_number"`
	Email           string `json:"contact_email"`
	Birthday        string `json:"contact_birthday"`
	Other           string `json:"contact_other"`
}

// listedContact is what the client reads of a list_contact item, each field
// a string, a number or null: the page does not say how values are written,
// and APIs of its kind send numbers as JSON numbers too.
type listedContact struct {
	Civility        flexString `json:"contact_civility"`
	Name            flexString `json:"contact_name"`
	FirstName       flexString `json:"contact_first_name"`
	TelephoneNumber flexString `json:"contact_telephone_number"`
	Email           flexString `json:"contact_email"`
	Birthday        flexString `json:"contact_birthday"`
	Other           flexString `json:"contact_other"`
}

func (lc listedContact) fields() listContact {
	return listContact{Civility: string(lc.Civility), Name: string(lc.Name), FirstName: string(lc.FirstName),
		TelephoneNumber: string(lc.TelephoneNumber), Email: string(lc.Email), Birthday: string(lc.Birthday), Other: string(lc.Other)}
}

// flexString reads a JSON string, number or boolean as its text. Null, an
// object or an array read as "": a field of an unexpected type costs that
// field, not the listing. The decoder hands it one whole, valid value.
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	switch b[0] {
	case '"':
		if bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b) {
			// Most values hold no escape: no need to decode them.
			*s = flexString(b[1 : len(b)-1])
			return nil
		}
		var v string
		err := json.Unmarshal(b, &v)
		*s = flexString(v)
		return err
	case '{', '[', 'n':
		*s = ""
	default: // a number, true or false
		*s = flexString(b)
	}
	return nil
}

package avosms

import (
	"encoding/json"
	"fmt"
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

// listedNumber is what the client reads of a list_contact item: the number
// alone, so that an unexpected type in a field it does not need costs
// nothing.
type listedNumber struct {
	Number flexString `json:"contact_telephone_number"`
}

// flexString reads a JSON string or number: the page does not say how
// numbers are written, and APIs of its kind send them as JSON numbers too.
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err == nil {
		*s = flexString(str)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("contact_telephone_number is neither a string nor a number: %s", b)
	}
	*s = flexString(n)
	return nil
}

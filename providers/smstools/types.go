package smstools

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// Wire types of the Smstools contact API (seed 004, PROVIDERS.md).

// contact is one object of a create (POST) or update (PATCH) request, and of
// the emulator's listing. Empty properties are left out: PATCH leaves an
// omitted property as it is.
type contact struct {
	// ID is set in PATCH requests only.
	ID        intOrString `json:"ID,omitempty"`
	Phone     string      `json:"phone,omitempty"`
	GroupID   intOrString `json:"groupid"`
	FirstName string      `json:"firstname,omitempty"`
	LastName  string      `json:"lastname,omitempty"`
	Birthday  string      `json:"birthday,omitempty"`
	Extra1    string      `json:"extra1,omitempty"`
	Extra2    string      `json:"extra2,omitempty"`
	Extra3    string      `json:"extra3,omitempty"`
	Extra4    string      `json:"extra4,omitempty"`
	Extra5    string      `json:"extra5,omitempty"`
	Extra6    string      `json:"extra6,omitempty"`
	Extra7    string      `json:"extra7,omitempty"`
	Extra8    string      `json:"extra8,omitempty"`
}

// createResponse is the answer to a create: {"IDs": [...]} in request
// order for an array, {"ID": n} for one object.
type createResponse struct {
	ID  intOrString   `json:"ID"`
	IDs []intOrString `json:"IDs"`
}

// listedContact is one contact of the listing (GET /v1/contact), which is
// not on the documented pages [lib, unverified]: only what the index needs
// is read. One client library's mocks name the phone "number".
type listedContact struct {
	ID      intOrString `json:"ID"`
	Phone   intOrString `json:"phone"`
	Number  intOrString `json:"number"`
	GroupID intOrString `json:"groupid"`
}

// errorResponse is the body of a refused request: {"error": "104",
// "errorMsg": "..."}, the code written as a string or a number [doc].
type errorResponse struct {
	Error    intOrString `json:"error"`
	ErrorMsg string      `json:"errorMsg"`
}

// intOrString is an integer the API writes either as a JSON number or as a
// string (IDs, groupid, codes, phones in a listing). It reads both forms.
type intOrString string

func (v *intOrString) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*v = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*v = intOrString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		// Not b itself: an object may be a megabyte, and messages quote it.
		return fmt.Errorf("want a number or a string, got %s", jsonKind(b))
	}
	*v = intOrString(n)
	return nil
}

// jsonKind names the kind of a JSON value that is not a string or a number.
func jsonKind(b []byte) string {
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	}
	return "something else"
}

// MarshalJSON writes an integer as a JSON number and anything else as a
// string. [guess] The seed's example writes "ID": "{ID}" in quotes, but its
// PHP sample and the create answer use numbers, and a strictly typed API may
// refuse a quoted integer: the number form is the safer bet. Change this one
// function if the API turns out to want strings.
func (v intOrString) MarshalJSON() ([]byte, error) {
	s := string(v)
	if isInteger(s) {
		return []byte(s), nil
	}
	return json.Marshal(s)
}

// isInteger reports whether s is written as JSON writes an unsigned
// integer that fits in an int64 (no sign, no leading zero).
func isInteger(s string) bool {
	if s == "" || len(s) > 18 || (s[0] == '0' && len(s) > 1) {
		return false
	}
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

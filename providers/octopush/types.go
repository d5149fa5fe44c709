package octopush

import (
	"encoding/json"
	"strconv"
)

// Wire types of the Octopush contact API (seed 002, PROVIDERS.md).

type createRequest struct {
	Contacts       []contact `json:"contacts"`
	ListName       string    `json:"list_name,omitempty"`
	TagName        string    `json:"tag_name,omitempty"`
	TagNames       []string  `json:"tag_names,omitempty"`
	DoNotOverwrite bool      `json:"do_not_overwrite"`
}

// contact holds the fields a create documents [doc]. An empty one is left
// out: whether Octopush's overwrite then keeps the value it holds is not
// documented, but leaving the field out is the only way to ask for it.
// There is no e-mail: it is not documented, unknown fields are ignored
// [doc], and an address sent for nothing is personal data sent for nothing.
type contact struct {
	PhoneNumber string `json:"phone_number"`
	FirstName   string `json:"first_name,omitempty"`
	LastName    string `json:"last_name,omitempty"`
	Param1      string `json:"param1,omitempty"`
	Param2      string `json:"param2,omitempty"`
	Param3      string `json:"param3,omitempty"`
	Param4      string `json:"param4,omitempty"`
	Param5      string `json:"param5,omitempty"`
}

type createResponse struct {
	Items []item `json:"items"`
}

// item is one contact of a create's answer. Its documented "email" is not
// read: contactsync sends none (Capabilities' note on e-mail).
type item struct {
	PhoneNumber string `json:"phone_number"`
	Status      string `json:"status"`
}

type deleteRequest struct {
	PhoneNumbers []string `json:"phone_numbers"`
	ListName     string   `json:"list_name,omitempty"`
}

// errorResponse is the body of a refused request: {"code": 101, "message":
// "..."}. Some answers write the code as a string; both are read.
type errorResponse struct {
	Code    flexCode `json:"code"`
	Message string   `json:"message"`
}

type flexCode int

func (c *flexCode) UnmarshalJSON(b []byte) error {
	var n int
	if err := json.Unmarshal(b, &n); err == nil {
		*c = flexCode(n)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	n, err := strconv.Atoi(s)
	*c = flexCode(n)
	return err
}

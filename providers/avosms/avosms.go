// Package avosms talks to AvoSMS's contact API: one contact per form-encoded
// POST (add, update, delete) into a list named by its listContactId, after
// one read of the list (its country and every number it holds). It also
// carries an emulator of that API for tests and --sandbox.
package avosms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"contactsync/mapping"
	"contactsync/providers"
)

// Name is the --provider value.
const Name = "avosms"

const (
	// DocumentedBase is the scheme and host --endpoint replaces.
	DocumentedBase = "https://api.avosms.com"
	pathAdd        = "/v1/contact/add"
	pathUpdate     = "/v1/contact/update"
	pathDelete     = "/v1/contact/delete"
	pathListInfo   = "/v1/contact/list/information"

	envID  = "AVOSMS_ID"
	envKey = "AVOSMS_KEY"

	// birthdayLayout [guess]: AvoSMS does not document the format of
	// contactBirthday; the rest of their API writes dates as DD/MM/YYYY.
	birthdayLayout = "02/01/2006"

	// codeOK is the code of a successful answer.
	codeOK = "OK"
	// The ERR_104 of each endpoint: the same code with three meanings.
	codeAddExists     = "ERR_104" // add: the number is already in the list
	codeUpdateMissing = "ERR_104" // update: no such contact in the list
	codeDeleteMissing = "ERR_104" // delete: no such contact in the list

	// documentedAnswer and documentedListInfo describe the answers that
	// confirm a request [doc, seeds 000 and 001], for the message of any
	// other.
	documentedAnswer   = `AvoSMS's {"status", "code"}`
	documentedListInfo = `AvoSMS's list information {"code", "list_contact_country_code", "list_contact": [...]}`
)

var capabilities = providers.Capabilities{
	MaxBatch:     1,
	Modes:        []providers.Mode{providers.ModeUpsert, providers.ModeInsert, providers.ModeUpdate, providers.ModeMirror},
	PhoneFormat:  "E.164 with +, e.g. +33612345678 (undocumented; a guess), of the list's own country only",
	Fields:       []string{"contactTelephoneNumber", "contactCivility", "contactName", "contactFirstName", "contactEmail", "contactBirthday"},
	CustomFields: []string{"contactOther"},
	Credentials:  []string{envID, envKey},
	ListHelp:     "the listContactId",
	ListHowTo:    "the list's ID, a number: AvoSMS's /contact/list call lists the account's lists with their IDs",
	ListRegion:   true,
	Sends: []providers.FieldName{{Field: mapping.FieldPhone, Name: "contactTelephoneNumber"},
		{Field: mapping.FieldFirstName, Name: "contactFirstName"}, {Field: mapping.FieldLastName, Name: "contactName"},
		{Field: mapping.FieldEmail, Name: "contactEmail"}, {Field: mapping.FieldBirthday, Name: "contactBirthday, as DD/MM/YYYY (a guess)"},
		{Field: mapping.FieldCivility, Name: "contactCivility, as M or Mme (a guess)"}},
	Pacing: providers.Pacing{Rate: 20, Burst: 10, Workers: 8, BatchSize: 1},
	EmptyCells: "keep the value AvoSMS holds: an update clears what it is not sent, so it sends, for every field the row " +
		"leaves empty, the value list/information showed (a contact added to the list by someone else after that read " +
		"has those fields cleared)",
}

func init() {
	providers.Register(providers.Registration{
		Name:         Name,
		Capabilities: capabilities,
		New:          func(c providers.Config) (providers.Provider, error) { return New(c) },
		NewSandbox:   func(o providers.SandboxOptions) providers.Sandbox { return NewEmulator(o) },
	})
}

// Client is an AvoSMS API client.
type Client struct {
	cfg    providers.Config
	id     string
	key    string
	target providers.Target
	// held is each listed contact's fields (contactFields' order), by
	// number key, as Open read them.
	held *providers.Held
}

var _ providers.Provider = (*Client)(nil)

// New returns a client; the credentials must be set.
func New(cfg providers.Config) (*Client, error) {
	cfg, err := cfg.Ready(capabilities.Credentials)
	if err != nil {
		return nil, err
	}
	return &Client{cfg: cfg, id: cfg.Credential(envID), key: cfg.Credential(envKey)}, nil
}

// Capabilities describes AvoSMS.
func (c *Client) Capabilities() providers.Capabilities { return capabilities }

// Open reads the list once: it checks the credentials and the listContactId,
// learns the list's country (numbers of other countries are refused by the
// API, so the importer rejects them locally) and every contact the list
// holds, so that the planner sends adds and updates instead of guessing,
// and an update sends back the fields a row leaves empty.
func (c *Client) Open(ctx context.Context, t providers.Target) (*providers.ListInfo, error) {
	c.target = t
	resp, err := c.post(ctx, pathListInfo, url.Values{"listContactId": {t.List}})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	// The answer holds every contact of the list: it is streamed, within
	// providers.MaxListingSize.
	body := providers.NewBody(resp.Body, resp.StatusCode, providers.MaxListingSize)
	code, info, held, err := readListInfo(body)
	if err != nil {
		return nil, body.Fail(err, documentedListInfo)
	}
	if normaliseCode(code) == "" {
		return nil, providers.Unreadable(resp.StatusCode, documentedListInfo, errors.New("it has no code"))
	}
	if err := c.checkCode(pathListInfo, code, resp.StatusCode); err != nil {
		return nil, err
	}
	c.held = held
	return info, nil
}

// listRegion keeps the list's country when it reads as an ISO2 code, so that
// an unexpected value costs the local country check rather than the run.
func listRegion(country string) string {
	country = strings.ToUpper(strings.TrimSpace(country))
	if len(country) != 2 || country[0] < 'A' || country[0] > 'Z' || country[1] < 'A' || country[1] > 'Z' {
		return ""
	}
	return country
}

// listedKey reads a number of list/information. [guess] Its format (the
// page does not say) is read as tolerantly as a spreadsheet cell, in
// the list's country. A number that cannot be read is left out: should the
// file hold it, the add is answered ERR_104 and handled like any other
// contact that exists after all.
func listedKey(number, region string) uint64 {
	p, problem := mapping.ParsePhone(number, region)
	if problem != nil {
		return 0
	}
	return mapping.KeyOf(p.E164)
}

// Apply sends the batch's one contact: add (upsert and create alike: AvoSMS
// has no upsert), update or delete.
func (c *Client) Apply(ctx context.Context, b *providers.Batch) ([]providers.Result, error) {
	if len(b.Contacts) != 1 {
		return nil, fmt.Errorf("avosms sends one contact per request, got a batch of %d", len(b.Contacts))
	}
	ct := b.Contacts[0]
	var res providers.Result
	var err error
	switch b.Op {
	case providers.OpUpsert, providers.OpCreate:
		res, err = c.add(ctx, ct)
	case providers.OpUpdate:
		res, err = c.update(ctx, ct)
	case providers.OpDelete:
		res, err = c.delete(ctx, ct)
	default:
		return nil, fmt.Errorf("avosms cannot %s a contact", b.Op)
	}
	if err != nil {
		return nil, err
	}
	return []providers.Result{res}, nil
}

// overwrites says whether the run's mode may change a contact the list
// already holds.
func (c *Client) overwrites() bool {
	return c.target.Mode == providers.ModeUpsert || c.target.Mode == providers.ModeMirror
}

func (c *Client) add(ctx context.Context, ct *mapping.Contact) (providers.Result, error) {
	form := c.toWire(ct)
	err := c.do(ctx, pathAdd, form)
	switch {
	case err == nil:
		return providers.Result{Outcome: providers.Added}, nil
	case !hasCode(err, codeAddExists):
		return providers.Result{}, err
	case !c.overwrites():
		return providers.Result{Outcome: providers.Skipped, Reason: "exists"}, nil
	}
	// The number is in the list after all: another writer added it since
	// Open, or an earlier attempt of this add was applied and its answer
	// lost. Upsert means the file's values win.
	if err := c.do(ctx, pathUpdate, form); err != nil {
		return providers.Result{}, changedMeanwhile(err, codeUpdateMissing)
	}
	return providers.Result{Outcome: providers.Updated}, nil
}

func (c *Client) update(ctx context.Context, ct *mapping.Contact) (providers.Result, error) {
	form := c.toWire(ct)
	err := c.do(ctx, pathUpdate, form)
	switch {
	case err == nil:
		return providers.Result{Outcome: providers.Updated}, nil
	case !hasCode(err, codeUpdateMissing):
		return providers.Result{}, err
	case !c.overwrites():
		return providers.Result{Outcome: providers.Skipped, Reason: "not_found"}, nil
	}
	// The contact left the list since Open; upsert puts it back.
	if err := c.do(ctx, pathAdd, form); err != nil {
		return providers.Result{}, changedMeanwhile(err, codeAddExists)
	}
	return providers.Result{Outcome: providers.Added}, nil
}

func (c *Client) delete(ctx context.Context, ct *mapping.Contact) (providers.Result, error) {
	form := url.Values{"listContactId": {c.target.List}, "contactTelephoneNumber": {formatPhone(ct.Phone)}}
	if err := c.do(ctx, pathDelete, form); err != nil && !hasCode(err, codeDeleteMissing) {
		return providers.Result{}, err
	}
	// ERR_104 means the contact is already gone, which is what was asked.
	return providers.Result{Outcome: providers.Deleted}, nil
}

// changedMeanwhile makes the second request of a fallback retryable when it
// is answered with the very code that the first one's answer contradicts
// (added then gone, or gone then back): another writer changed the contact
// between the two requests, and a new attempt starts over from its new
// state.
func changedMeanwhile(err error, code string) error {
	if !hasCode(err, code) {
		return err
	}
	var pe *providers.Error
	errors.As(err, &pe)
	return &providers.Error{Class: providers.Retryable, Reason: "contact_changed", Code: pe.Code, Status: pe.Status,
		Message: "the contact was changed by another writer during the request"}
}

// hasCode reports whether err is AvoSMS's answer code.
func hasCode(err error, code string) bool {
	var pe *providers.Error
	return errors.As(err, &pe) && pe.Code == code
}

// toWire renders a contact as the add and update forms. Every field is sent,
// because update clears the fields it is not sent [doc]; a field the row
// leaves empty gets the value the list held when Open read it, so that an
// empty cell keeps it. Add gets the same form so that a fallback from one
// to the other sends the same contact.
func (c *Client) toWire(ct *mapping.Contact) url.Values {
	form := url.Values{
		"listContactId":          {c.target.List},
		"contactTelephoneNumber": {formatPhone(ct.Phone)},
	}
	row := []string{formatCivility(ct.Civility), ct.LastName, ct.FirstName, ct.Email, formatBirthday(ct.Birthday), ct.Custom["contactOther"]}
	held := c.held.Get(ct.Key)
	for i, name := range contactFields {
		v := row[i]
		if v == "" && i < len(held) {
			v = held[i]
		}
		form.Set(name, v)
	}
	return form
}

// contactFields are the form's fields of a contact besides its number, in
// the order toWire and heldValues list them.
var contactFields = [...]string{"contactCivility", "contactName", "contactFirstName", "contactEmail", "contactBirthday", "contactOther"}

// heldValues lists a listed contact's fields in contactFields' order, as an
// update sends them back; nil when all are empty.
func heldValues(lc listContact) []string {
	v := []string{lc.Civility, lc.Name, lc.FirstName, lc.Email, heldBirthday(lc.Birthday), lc.Other}
	for _, f := range v {
		if f != "" {
			return v
		}
	}
	return nil
}

// heldBirthday writes a birthday as list/information shows it in the form
// an update sends.
//
// [guess] Neither format is documented: a yyyy-mm-dd date is rewritten as
// birthdayLayout, which is what contactsync sends; any other is sent back
// as AvoSMS wrote it.
func heldBirthday(listed string) string {
	d, err := time.Parse(time.DateOnly, strings.TrimSpace(listed))
	if err != nil {
		return listed
	}
	return d.Format(birthdayLayout)
}

// formatPhone writes a number as it is sent. [guess] AvoSMS does not
// document the format; the international "+" form is unambiguous whatever
// the list's country.
func formatPhone(e164 string) string { return e164 }

// formatCivility writes the civility. [guess] AvoSMS does not document the
// values of contactCivility; these are the usual French abbreviations (the
// service is French).
func formatCivility(c mapping.Civility) string {
	switch c {
	case mapping.CivilityMale:
		return "M"
	case mapping.CivilityFemale:
		return "Mme"
	}
	return ""
}

// formatBirthday turns the normalised yyyy-mm-dd into birthdayLayout. The
// mapping only lets valid dates through; anything else is sent as it is.
func formatBirthday(iso string) string {
	if iso == "" {
		return ""
	}
	d, err := time.Parse(time.DateOnly, iso)
	if err != nil {
		return iso
	}
	return d.Format(birthdayLayout)
}

// post sends one form with the credentials and returns a 2xx answer for the
// caller to read and close; any other answer becomes a classified error.
func (c *Client) post(ctx context.Context, path string, form url.Values) (*http.Response, error) {
	body := url.Values{"id": {c.id}, "key": {c.key}}
	for k, v := range form {
		body[k] = v
	}
	// Encode sorts the keys: a retried request has the very same body.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.URL(DocumentedBase, path), strings.NewReader(body.Encode()))
	if err != nil {
		return nil, fmt.Errorf("building the request to %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, providers.NetworkError(err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	if e := providers.CheckTransient(resp); e != nil {
		return nil, e
	}
	data, err := providers.NewBody(resp.Body, resp.StatusCode, providers.MaxAnswerSize).ReadAll()
	if err != nil {
		return nil, err
	}
	// AvoSMS answers its codes with HTTP 200; one in another answer is
	// still read, since it says more than the status does.
	var ans answer
	if json.Unmarshal(data, &ans) == nil {
		if code := normaliseCode(ans.Code); code != "" && code != codeOK {
			return nil, classify(path, c.cfg.Clip(code), resp.StatusCode)
		}
	}
	// The answer is quoted with the credentials redacted before it is cut:
	// it may echo the form, which carries them.
	return nil, &providers.Error{Class: providers.Fatal, Reason: "unexpected_answer", Status: resp.StatusCode,
		Message: "unexpected answer from AvoSMS: " + c.cfg.Excerpt(data)}
}

// do sends one form and checks the answer's code. Only the documented
// answer with a code confirms the request: any other is retried, which is
// harmless (an add already applied is answered ERR_104, which Apply
// handles), and its row fails not_confirmed.
func (c *Client) do(ctx context.Context, path string, form url.Values) error {
	resp, err := c.post(ctx, path, form)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var ans answer
	err = providers.DecodeAnswer(resp, documentedAnswer, &ans, func() error {
		if normaliseCode(ans.Code) == "" {
			return errors.New("it has no code")
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.checkCode(path, ans.Code, resp.StatusCode)
}

// checkCode turns an answer's code into nil (OK) or a classified error,
// whose message quotes the code clipped: it is the API's to write.
func (c *Client) checkCode(path, code string, status int) error {
	if normaliseCode(code) == codeOK {
		return nil
	}
	return classify(path, normaliseCode(c.cfg.Clip(code)), status)
}

// normaliseCode reads a code however it is spaced or cased (the page quotes
// it as " OK ").
func normaliseCode(code string) string { return strings.ToUpper(strings.TrimSpace(code)) }

// classify turns an error code of one endpoint into a classified error
// (PROVIDERS.md, AvoSMS error codes; seeds 000 and 001).
func classify(path, code string, status int) *providers.Error {
	e := &providers.Error{Code: code, Status: status}
	if isProcessingError(code) {
		e.Class, e.Reason, e.Message = providers.Retryable, "server_error", "AvoSMS failed to process the request"
		return e
	}
	rule, ok := codes[codeKey{path, code}]
	if !ok {
		e.Class, e.Reason, e.Message = providers.Fatal, "unexpected_error", "AvoSMS refused the request to "+path+" with an undocumented code"
		return e
	}
	e.Class, e.Reason, e.Outcome, e.Message, e.Hint = rule.class, rule.reason, rule.outcome, rule.message, rule.hint
	return e
}

// isProcessingError reports an ERR_9XX, "XX = non-fixed digits": AvoSMS's
// own "try again" on every endpoint.
func isProcessingError(code string) bool {
	return len(code) == len("ERR_9XX") && strings.HasPrefix(code, "ERR_9") &&
		code[5] >= '0' && code[5] <= '9' && code[6] >= '0' && code[6] <= '9'
}

type codeKey struct{ path, code string }

type codeRule struct {
	class   providers.Class
	reason  string
	outcome providers.Outcome
	message string
	hint    string
}

const (
	hintCredentials = "check " + envID + " (the account's e-mail) and " + envKey
	hintList        = "check --list: AvoSMS has no contact list with that listContactId"
)

// codes classifies each endpoint's error codes: AvoSMS numbers them per
// endpoint, so that ERR_105 is a bad number on add and a duplicate on
// update.
var codes = map[codeKey]codeRule{
	{pathListInfo, "ERR_100"}: {providers.Fatal, "credentials", 0, "AvoSMS did not recognise the API credentials", hintCredentials},
	{pathListInfo, "ERR_101"}: {providers.Fatal, "unknown_list", 0, "no contact list has this ID", hintList},

	{pathAdd, "ERR_100"}: {providers.Fatal, "credentials", 0, "AvoSMS did not recognise the API credentials", hintCredentials},
	{pathAdd, "ERR_101"}: {providers.Fatal, "unknown_list", 0, "the contact list ID is empty", "pass --list with the listContactId"},
	{pathAdd, "ERR_102"}: {providers.Row, "missing_phone", providers.Rejected, "the contact number is empty", ""},
	{pathAdd, "ERR_103"}: {providers.Fatal, "unknown_list", 0, "no contact list has this ID", hintList},
	{pathAdd, "ERR_104"}: {providers.Row, "exists", providers.Skipped, "the number is already in the list", ""},
	{pathAdd, "ERR_105"}: {providers.Row, "invalid_phone", providers.Rejected, "the number's format is not valid", ""},
	{pathAdd, "ERR_106"}: {providers.Row, "country_mismatch", providers.Rejected, "the number's country is not the list's", ""},
	{pathAdd, "ERR_107"}: {providers.Row, "number_type_not_allowed", providers.Rejected, "this type of number is not allowed", ""},

	{pathUpdate, "ERR_100"}: {providers.Fatal, "credentials", 0, "AvoSMS did not recognise the API credentials", hintCredentials},
	{pathUpdate, "ERR_101"}: {providers.Fatal, "unknown_list", 0, "the contact list ID is empty", "pass --list with the listContactId"},
	{pathUpdate, "ERR_102"}: {providers.Row, "missing_phone", providers.Rejected, "the contact number is empty", ""},
	{pathUpdate, "ERR_103"}: {providers.Fatal, "unknown_list", 0, "no contact list has this ID", hintList},
	{pathUpdate, "ERR_104"}: {providers.Row, "not_found", providers.Skipped, "the list has no such contact", ""},
	{pathUpdate, "ERR_105"}: {providers.Row, "exists", providers.Rejected, "the number already exists", ""},
	{pathUpdate, "ERR_106"}: {providers.Row, "invalid_phone", providers.Rejected, "the number's format is not valid", ""},
	{pathUpdate, "ERR_107"}: {providers.Row, "country_mismatch", providers.Rejected, "the number's country is not the list's", ""},
	{pathUpdate, "ERR_108"}: {providers.Row, "number_type_not_allowed", providers.Rejected, "this type of number is not allowed", ""},

	{pathDelete, "ERR_100"}: {providers.Fatal, "credentials", 0, "AvoSMS did not recognise the API credentials", hintCredentials},
	{pathDelete, "ERR_101"}: {providers.Fatal, "unknown_list", 0, "the contact list ID is empty", "pass --list with the listContactId"},
	{pathDelete, "ERR_102"}: {providers.Row, "missing_phone", providers.Rejected, "the contact number is empty", ""},
	{pathDelete, "ERR_103"}: {providers.Fatal, "unknown_list", 0, "no contact list has this ID", hintList},
	{pathDelete, "ERR_104"}: {providers.Row, "not_found", providers.Skipped, "the list has no such contact", ""},
}

// readListInfo decodes a list/information answer as a stream: a list may
// hold a million contacts, and only their numbers (as keys) and their
// fields (in a providers.Held) are kept. A national number is read in
// the list's country, so the contacts that come before the country in the
// answer wait for it.
func readListInfo(body *providers.Body) (code string, info *providers.ListInfo, held *providers.Held, err error) {
	dec := json.NewDecoder(body)
	if err := expectDelim(dec, '{'); err != nil {
		return "", nil, nil, err
	}
	info = &providers.ListInfo{Existing: map[uint64]string{}}
	held = providers.NewHeld()
	var countryRead bool
	var waiting []listContact
	keep := func(lc listContact) {
		if key := listedKey(lc.TelephoneNumber, info.Region); key != 0 {
			info.Existing[key] = ""
			if v := heldValues(lc); v != nil {
				held.Put(key, v)
			}
		}
	}
	each := func(lc listContact) {
		if countryRead || strings.HasPrefix(lc.TelephoneNumber, "+") {
			keep(lc)
		} else {
			waiting = append(waiting, lc)
		}
	}
	for dec.More() {
		body.StartItem()
		tok, err := dec.Token()
		if err != nil {
			return "", nil, nil, err
		}
		switch tok {
		case "code":
			err = dec.Decode(&code)
		case "list_contact_country_code":
			var country string
			err = dec.Decode(&country)
			info.Region, countryRead = listRegion(country), true
		case "list_contact":
			err = readContacts(dec, body, each)
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return "", nil, nil, fmt.Errorf("reading %v: %w", tok, err)
		}
	}
	for _, lc := range waiting {
		keep(lc)
	}
	return code, info, held, expectDelim(dec, '}')
}

// readContacts reads list_contact: an array, or an object keyed by contact
// (what PHP's json_encode makes of an array that is not a list), or null for
// an empty list.
func readContacts(dec *json.Decoder, body *providers.Body, each func(listContact)) error {
	tok, err := dec.Token()
	if err != nil || tok == nil {
		return err
	}
	open, ok := tok.(json.Delim)
	if !ok || (open != '[' && open != '{') {
		return fmt.Errorf("list_contact is %v, not an array", tok)
	}
	for dec.More() {
		body.StartItem()
		if open == '{' {
			if _, err := dec.Token(); err != nil {
				return err
			}
		}
		var lc listedContact
		if err := dec.Decode(&lc); err != nil {
			return err
		}
		each(lc.fields())
	}
	_, err = dec.Token()
	return err
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != want {
		return fmt.Errorf("found %v where %v was expected", tok, want)
	}
	return nil
}

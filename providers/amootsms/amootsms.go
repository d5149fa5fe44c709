// Package amootsms talks to AmootSMS's contact API (portal.amootsms.com/rest):
// one contact per form-encoded POST, labels instead of lists, and HTTP 200
// whatever happened, the outcome being in the answer's Status. It also
// carries an emulator of that API for tests and --sandbox.
//
// AmootSMS does not say what ContactCreate does with a number the account
// already holds; this package assumes it makes a duplicate (see Client.Open),
// so it never creates a number without having looked for it first.
//
// A contact is one record per number of the account, its labels being the
// lists it is in. ContactEdit replaces the whole record, labels included
// [guess, the safe reading], and no answer shows labels [doc]: an edit sends
// back the fields the row leaves empty as ContactList showed them, and the
// labels the importer remembers contactsync gave the number
// (Capabilities.Labels) besides the run's own.
package amootsms

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"contactsync/mapping"
	"contactsync/providers"
)

// Name is the --provider value.
const Name = "amootsms"

const (
	// DocumentedBase is the scheme and host --endpoint replaces.
	DocumentedBase = "https://portal.amootsms.com"
	pathCreate     = "/rest/ContactCreate"
	pathEdit       = "/rest/ContactEdit"
	pathDelete     = "/rest/ContactDelete"
	pathSearch     = "/rest/ContactSearch"
	pathList       = "/rest/ContactList"

	envToken = "AMOOTSMS_TOKEN"

	// region is the country of the numbers the API reads and writes.
	region = "IR"
)

var capabilities = providers.Capabilities{
	MaxBatch:     1,
	Modes:        []providers.Mode{providers.ModeUpsert, providers.ModeInsert, providers.ModeUpdate, providers.ModeMirror},
	PhoneFormat:  "Iranian national form 09XXXXXXXXX",
	Fields:       []string{"Mobile", "FName", "LName", "Email", "BornDate", "GenderType", "Labels"},
	CustomFields: []string{"CustomText1", "CustomText2", "CustomText3", "CustomText4", "CustomText5", "CustomText6"},
	Credentials:  []string{envToken},
	ListHelp:     "a label: contacts get it in Labels",
	ListHowTo:    "any text: it is a label given to each contact, nothing to look up",
	Sends: []providers.FieldName{{Field: mapping.FieldPhone, Name: "Mobile"}, {Field: mapping.FieldFirstName, Name: "FName"},
		{Field: mapping.FieldLastName, Name: "LName"}, {Field: mapping.FieldEmail, Name: "Email"},
		{Field: mapping.FieldBirthday, Name: "BornDate, as yyyy-MM-dd"}, {Field: mapping.FieldCivility, Name: "GenderType (true male, false female)"},
		{Field: mapping.FieldTag, Name: "Labels, with the --list label"}},
	DefaultRegion: region,
	Pacing:        providers.Pacing{Rate: 20, Burst: 10, Workers: 8, BatchSize: 1},
	Labels:        true,
	EmptyCells: "keep the value AmootSMS holds: an edit replaces the whole record, so it sends back, for every field " +
		"the row leaves empty or the file does not map, the value ContactList showed",
	Notes: []providers.Note{
		{Text: "AmootSMS answers do not show a contact's labels, and an edit replaces them: an edit sends the labels " +
			"contactsync gave the number in earlier runs into any list (remembered per account in the state; none with " +
			"--state none) and the run's own, but a label given in the AmootSMS panel or by another program is lost when " +
			"this run edits the contact; --mode insert leaves existing contacts as they are",
			Modes: []providers.Mode{providers.ModeUpsert, providers.ModeUpdate, providers.ModeMirror}},
		{Text: "--mode mirror deletes a contact from the whole phonebook (ContactDelete) only when, as far as contactsync " +
			"knows, the run's label is the only one it holds; otherwise it takes that label off with an edit. A label " +
			"given outside contactsync cannot be seen, so a contact holding only such a label besides the run's is deleted",
			Modes: []providers.Mode{providers.ModeMirror}},
	},
}

func init() {
	providers.Register(providers.Registration{
		Name:         Name,
		Capabilities: capabilities,
		New:          func(c providers.Config) (providers.Provider, error) { return New(c) },
		NewSandbox:   func(o providers.SandboxOptions) providers.Sandbox { return NewEmulator(o) },
	})
}

// Client is an AmootSMS API client.
type Client struct {
	cfg    providers.Config
	token  string
	target providers.Target
	// existing and records are written by Open and only read afterwards, so
	// the importer's workers share them without a lock.
	existing map[uint64]string // number key → contact ID, as Open returned it
	records  *providers.Held   // number key → the contact's record as listed (contact.values)
}

var _ providers.Provider = (*Client)(nil)

// New returns a client; the token must be set.
func New(cfg providers.Config) (*Client, error) {
	cfg, err := cfg.Ready(capabilities.Credentials)
	if err != nil {
		return nil, err
	}
	return &Client{cfg: cfg, token: cfg.Credential(envToken)}, nil
}

// Capabilities describes AmootSMS.
func (c *Client) Capabilities() providers.Capabilities { return capabilities }

// Open reads the whole account with one ContactList and returns it as the
// index the planner decides create or edit from; it keeps each contact's
// record, which an edit sends back for the fields the row leaves empty and
// a mirror's edit sends back whole. A refused token stops the run here.
//
// [guess] That ContactCreate duplicates a number the account already holds
// is not documented. Because of it, a number is created only when this index
// does not hold it, and a create is repeated only after a ContactSearch (see
// create). Were the guess wrong, nothing would break: the ContactList would
// merely be one request more than needed.
func (c *Client) Open(ctx context.Context, t providers.Target) (*providers.ListInfo, error) {
	existing := map[uint64]string{}
	records := providers.NewHeld()
	err := c.listAll(ctx, func(lc listedContact) {
		key := keyOf(string(lc.Mobile))
		if key == 0 || lc.deleted() {
			return // a number we cannot read matches no row; a deleted record is no contact
		}
		if _, dup := existing[key]; dup {
			// The account holds the number twice (created twice before
			// this program, or by hand): the first is the one the run
			// edits; the others are left as they are.
			return
		}
		existing[key] = string(lc.ID)
		held := lc.held()
		records.Put(key, held.values())
	})
	if err != nil {
		return nil, err
	}
	c.target, c.existing, c.records = t, existing, records
	return &providers.ListInfo{Existing: existing}, nil
}

// listAll visits every contact of the account.
//
// [guess] ContactList is documented as returning all contacts, and no
// paging parameter is documented, so one call is taken to return them all;
// the answer is streamed, never held whole. Should it page after all, the
// numbers beyond the first page would look new and be created again: this
// is the function to teach its paging.
func (c *Client) listAll(ctx context.Context, visit func(listedContact)) error {
	return c.contacts(ctx, pathList, url.Values{fieldContactGroupID: {groupAll}}, visit)
}

// contacts asks path (ContactList, ContactSearch) for contacts and visits
// each. No contacts is Data null or [], never no Data: were an answer
// without it taken as empty, the numbers it should have listed would be
// created again.
func (c *Client) contacts(ctx context.Context, path string, form url.Values, visit func(listedContact)) error {
	read := false
	return c.do(ctx, path, form,
		func(dec *json.Decoder, body *providers.Body) error {
			read = true
			return readContacts(dec, body, visit)
		},
		func() error {
			if !read {
				return errors.New("it has no Data")
			}
			return nil
		})
}

// Apply sends a batch of one contact: create, edit or delete.
func (c *Client) Apply(ctx context.Context, b *providers.Batch) ([]providers.Result, error) {
	switch n := len(b.Contacts); {
	case n == 0:
		return nil, nil
	case n > 1:
		// The importer sizes batches to MaxBatch; should a larger one come,
		// a Row error makes it split the batch down to single contacts.
		return nil, &providers.Error{Class: providers.Row, Outcome: providers.Failed, Reason: "batch_too_large",
			Message: "AmootSMS takes one contact per request"}
	}
	ct := b.Contacts[0]
	var res providers.Result
	var err error
	switch b.Op {
	case providers.OpUpsert, providers.OpCreate:
		res, err = c.create(ctx, ct, b.Attempt)
	case providers.OpUpdate:
		res, err = c.update(ctx, ct, b.Attempt)
	case providers.OpDelete:
		res, err = c.delete(ctx, ct)
	default:
		return nil, fmt.Errorf("amootsms cannot %s a contact", b.Op)
	}
	if err != nil {
		return nil, err
	}
	return []providers.Result{res}, nil
}

// create adds the contact. ContactCreate is not idempotent (see Open): a
// retry first searches for the number, since the attempt whose answer was
// lost may have created it.
func (c *Client) create(ctx context.Context, ct *mapping.Contact, attempt int) (providers.Result, error) {
	w, err := c.toWire(ct)
	if err != nil {
		return providers.Result{}, err
	}
	// A new contact has the run's labels alone: those the state remembers
	// were a deleted contact's.
	w.Active, w.Labels = activeTrue, mergeLabels(c.target.List, ct.Tag)
	if attempt > 1 {
		id, found, err := c.search(ctx, w.Mobile, ct.Key)
		if err != nil {
			return providers.Result{}, err
		}
		if found {
			return providers.Result{Outcome: providers.Added, ID: id, Labels: w.Labels}, nil
		}
	}
	// Only a Success whose Data holds the new contact's ID confirms the
	// create [doc, seed 003]. Any other answer is retried, and the retry
	// searches first: a contact the unreadable answer did create is found,
	// not created twice.
	var id string
	err = c.do(ctx, pathCreate, w.form(),
		func(dec *json.Decoder, _ *providers.Body) error {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return err
			}
			id = createdID(raw)
			return nil
		},
		func() error {
			if id == "" {
				return errors.New("its Data holds no contact ID")
			}
			return nil
		})
	if err != nil {
		return providers.Result{}, err
	}
	return providers.Result{Outcome: providers.Added, ID: id, Labels: w.Labels}, nil
}

// createdID reads the new contact's ID from ContactCreate's Data: the record
// seed 003 documents, or the bare ID, which costs nothing to accept; "" when
// there is none.
func createdID(data json.RawMessage) string {
	var rec listedContact
	if json.Unmarshal(data, &rec) == nil {
		return string(rec.ID)
	}
	var id flexString
	if json.Unmarshal(data, &id) == nil {
		return string(id)
	}
	return ""
}

// search looks the number up with ContactSearch (exact match on Mobile).
//
// [guess] Its Data is taken to be a list of records like ContactList's, an
// empty list (or null) when nothing matches. Were "not found" an error
// status instead, it would stop the run as unexpected: a failure one can
// see, never a duplicate.
func (c *Client) search(ctx context.Context, mobile string, key uint64) (id string, found bool, err error) {
	err = c.contacts(ctx, pathSearch, url.Values{"Mobile": {mobile}}, func(lc listedContact) {
		// Checked again here: a search that ignored its filter must not
		// pass another contact off as this one.
		if !found && keyOf(string(lc.Mobile)) == key {
			id, found = string(lc.ID), true
		}
	})
	return id, found, err
}

// update replaces the contact's record with the row's, the fields the row
// leaves empty as Open found them, and its labels merged with those it is
// known to hold. A contact that vanished since Open is created again,
// except in update mode, where it is skipped like any number the account
// lacks.
func (c *Client) update(ctx context.Context, ct *mapping.Contact, attempt int) (providers.Result, error) {
	if id := c.idOf(ct); id != "" {
		w, err := c.toWire(ct)
		if err != nil {
			return providers.Result{}, err
		}
		held := c.heldRecord(ct.Key, id)
		w.keep(held)
		w.Labels = mergeLabels(held.Labels, ct.KnownLabels, c.target.List, ct.Tag)
		err = c.edit(ctx, id, w)
		if err == nil {
			return providers.Result{Outcome: providers.Updated, ID: id, Labels: w.Labels}, nil
		}
		if !isStatus(err, statusContactIDInvalid) {
			return providers.Result{}, err
		}
	}
	if c.target.Mode == providers.ModeUpdate {
		return providers.Result{Outcome: providers.Skipped, Reason: "not_found"}, nil
	}
	return c.create(ctx, ct, attempt)
}

// edit sends ContactEdit with the whole record w.
func (c *Client) edit(ctx context.Context, id string, w contact) error {
	if w.Active == "" {
		w.Active = activeTrue
	}
	form := w.form()
	form.Set(fieldContactID, id)
	return c.do(ctx, pathEdit, form, nil, nil)
}

// delete takes the contact out of the run's label, mirror mode's deletion.
// ContactDelete removes it from the whole phonebook [doc], so it is sent
// only for a contact whose labels, as far as contactsync knows (the state's
// and any an answer showed), are the run's alone; any other is edited with
// the run's label taken off. The contact is found by number in Open's
// index, the account as it is now: a number the account no longer holds is
// gone already.
func (c *Client) delete(ctx context.Context, ct *mapping.Contact) (providers.Result, error) {
	id := c.existing[ct.Key]
	if id == "" {
		return providers.Result{Outcome: providers.Skipped, Reason: "not_found"}, nil
	}
	held := c.heldRecord(ct.Key, id)
	rest := withoutLabel(mergeLabels(held.Labels, ct.KnownLabels), c.target.List)
	var err error
	if rest == "" {
		err = c.do(ctx, pathDelete, url.Values{fieldContactID: {id}}, nil, nil)
	} else {
		w := held
		if w.Mobile, err = formatMobile(ct.Phone); err != nil {
			return providers.Result{}, err
		}
		w.Labels = rest
		err = c.edit(ctx, id, w)
	}
	// [guess] ContactID_Invalid is read as "gone already": deleted by hand,
	// or by the attempt whose answer was lost. Either way the contact is
	// out of the label, as asked.
	switch {
	case isStatus(err, statusContactIDInvalid):
		return providers.Result{Outcome: providers.Deleted, ID: id}, nil
	case err != nil:
		return providers.Result{}, err
	}
	return providers.Result{Outcome: providers.Deleted, ID: id, Labels: rest}, nil
}

// heldRecord returns the record Open listed for the number key, when it is
// the contact id; the empty record otherwise.
func (c *Client) heldRecord(key uint64, id string) contact {
	if c.existing[key] != id {
		return contact{}
	}
	return contactOf(c.records.Get(key))
}

// idOf returns the contact's ID: the one the planner took from Open's
// index, else the index's own for a caller that set none.
func (c *Client) idOf(ct *mapping.Contact) string {
	if ct.ID != "" {
		return ct.ID
	}
	return c.existing[ct.Key]
}

// toWire renders a row's fields; the caller sets Active and Labels.
func (c *Client) toWire(ct *mapping.Contact) (contact, error) {
	mobile, err := formatMobile(ct.Phone)
	if err != nil {
		return contact{}, err
	}
	return contact{
		Mobile:     mobile,
		FName:      ct.FirstName,
		LName:      ct.LastName,
		GenderType: genderType(ct.Civility),
		Email:      ct.Email,
		// mapping writes birthdays as yyyy-mm-dd, the API's date format.
		BornDate:    ct.Birthday,
		CustomText1: ct.Custom["CustomText1"],
		CustomText2: ct.Custom["CustomText2"],
		CustomText3: ct.Custom["CustomText3"],
		CustomText4: ct.Custom["CustomText4"],
		CustomText5: ct.Custom["CustomText5"],
		CustomText6: ct.Custom["CustomText6"],
	}, nil
}

// mobilePattern is the national form of an Iranian mobile number [doc].
var mobilePattern = regexp.MustCompile(`^09\d{9}$`)

// formatMobile writes an E.164 number in the national form the API takes,
// 09XXXXXXXXX [doc]: +989121234567 → 09121234567. Other countries' numbers
// and Iranian landlines cannot be sent.
func formatMobile(e164 string) (string, error) {
	national, ok := strings.CutPrefix(e164, "+98")
	if !ok {
		return "", &providers.Error{Class: providers.Row, Outcome: providers.Rejected, Reason: "country_not_allowed",
			Message: "AmootSMS takes Iranian mobile numbers only"}
	}
	mobile := "0" + national
	if !mobilePattern.MatchString(mobile) {
		return "", &providers.Error{Class: providers.Row, Outcome: providers.Rejected, Reason: "invalid_phone",
			Message: "not an Iranian mobile number (09XXXXXXXXX)"}
	}
	return mobile, nil
}

// keyOf reads a number as the API returns it (989120000000, 09120000000,
// +989120000000), 0 when it cannot.
func keyOf(s string) uint64 {
	p, problem := mapping.ParsePhone(s, region)
	if problem != nil {
		return 0
	}
	return mapping.KeyOf(p.E164)
}

// genderType renders the civility as GenderType: True = male, False =
// female [doc, seed 003], in the C# sample's spelling; unknown is sent empty
// so that the API stores no gender.
func genderType(c mapping.Civility) string {
	switch c {
	case mapping.CivilityMale:
		return "True"
	case mapping.CivilityFemale:
		return "False"
	}
	return ""
}

// mergeLabels joins label sets, each a comma-separated string (the run's
// list, a row's tags, the labels a contact holds), into one: trimmed, empty
// ones and repeats dropped, first seen first, joined with "," as seed 003's
// C# sample does. Repeats are found with a set: a listed contact's labels
// come from the answer, which may hold a great many.
func mergeLabels(sets ...string) string {
	var out []string
	seen := map[string]bool{}
	for _, set := range sets {
		for l := range strings.SplitSeq(set, ",") {
			l = strings.TrimSpace(l)
			if l != "" && !seen[l] {
				seen[l] = true
				out = append(out, l)
			}
		}
	}
	return strings.Join(out, ",")
}

// withoutLabel returns the label set labels without label.
func withoutLabel(labels, label string) string {
	var out []string
	for l := range strings.SplitSeq(labels, ",") {
		if l != label {
			out = append(out, l)
		}
	}
	return strings.Join(out, ",")
}

// readContacts streams a list of records from Data, so that a whole
// account's ContactList is never held in memory at once, each record within
// providers.MaxItemSize; null is an empty list.
func readContacts(dec *json.Decoder, body *providers.Body, visit func(listedContact)) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("the Data field is %v, not a list of contacts", tok)
	}
	for dec.More() {
		body.StartItem()
		var lc listedContact
		if err := dec.Decode(&lc); err != nil {
			return err
		}
		visit(lc)
	}
	_, err = dec.Token()
	return err
}

// readAnswer decodes an answer in any of its three shapes [doc]: the
// envelope {"Status": ..., "Data": ...} whose Status is a name ("Success",
// "Mobile_Invalid") or a number of seed 003's table (1, 101), as a JSON
// number or a numeric string; or a bare JSON string such as
// "Token_NotExists", documented for errors only. It returns the status's
// name. readData, when not nil, reads Data from the stream; it is not called
// when Status, read first, says the request failed, and must accept null.
// Each field of the envelope is read within providers.MaxItemSize, and
// nothing may follow the answer.
func readAnswer(body *providers.Body, readData func(*json.Decoder, *providers.Body) error) (string, error) {
	dec := json.NewDecoder(body)
	dec.UseNumber()
	body.StartItem()
	tok, err := dec.Token()
	if err != nil {
		return "", err
	}
	status := ""
	switch v := tok.(type) {
	case string:
		status = statusName(v)
	case json.Number:
		status = statusName(v.String())
	case json.Delim:
		if v != '{' {
			return "", fmt.Errorf("the answer starts with %v", tok)
		}
		if status, err = readEnvelope(dec, body, readData); err != nil {
			return "", err
		}
	default:
		return "", fmt.Errorf("the answer starts with %v", tok)
	}
	if _, ok := tok.(json.Delim); !ok && status == statusSuccess {
		// A bare Success is not documented: it confirms nothing, and it
		// carries no Data to read.
		return "", errors.New("the answer is a bare status without Data")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return "", errors.New("more follows the answer")
	}
	return status, nil
}

// readEnvelope reads the fields of {"Status": ..., "Data": ...} once its
// '{' was read.
func readEnvelope(dec *json.Decoder, body *providers.Body, readData func(*json.Decoder, *providers.Body) error) (string, error) {
	status := ""
	for dec.More() {
		body.StartItem()
		key, err := dec.Token()
		if err != nil {
			return "", err
		}
		name, _ := key.(string)
		switch {
		case strings.EqualFold(name, "Status"):
			var s any
			if err := dec.Decode(&s); err != nil {
				return "", err
			}
			switch s := s.(type) {
			case string:
				status = statusName(s)
			case json.Number:
				status = statusName(s.String())
			default:
				return "", fmt.Errorf("the Status field is %v", s)
			}
		case strings.EqualFold(name, "Data") && readData != nil && (status == "" || status == statusSuccess):
			if err := readData(dec, body); err != nil {
				return "", fmt.Errorf("reading Data: %w", err)
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return "", err
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return "", err
	}
	if status == "" {
		return "", errors.New("the answer has no Status")
	}
	return status, nil
}

// statusName returns the name of a status given by its number, and any
// other status as it is.
func statusName(s string) string {
	if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
		if name, ok := statusNames[n]; ok {
			return name
		}
	}
	return s
}

// documentedAnswer describes the answers that confirm a request [doc, seed
// 003], for the message of any other.
const documentedAnswer = `AmootSMS's {"Status": "Success", "Data": ...}`

// do POSTs the form to path and reads the answer, handing its Data to
// readData on success, then asking check (when not nil) whether the answer
// confirms what was asked; any other answer becomes a classified
// *providers.Error, wrapped with the method's name.
func (c *Client) do(ctx context.Context, path string, form url.Values, readData func(*json.Decoder, *providers.Body) error, check func() error) error {
	if err := c.post(ctx, path, form, readData, check); err != nil {
		return fmt.Errorf("%s: %w", strings.TrimPrefix(path, "/rest/"), err)
	}
	return nil
}

func (c *Client) post(ctx context.Context, path string, form url.Values, readData func(*json.Decoder, *providers.Body) error, check func() error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.URL(DocumentedBase, path), strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("building the request: %w", err)
	}
	// Persian text travels as UTF-8, percent-encoded by form.Encode.
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", c.token) // the raw token, no scheme [doc]
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return providers.NetworkError(err)
	}
	defer resp.Body.Close()
	if e := providers.CheckTransient(resp); e != nil {
		return e
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		data, err := providers.NewBody(resp.Body, resp.StatusCode, providers.MaxAnswerSize).ReadAll()
		if err != nil {
			return err
		}
		return c.refused(resp.StatusCode, data)
	}
	// ContactList holds the whole account: it is streamed, within
	// providers.MaxListingSize; every other answer is about one contact.
	limit := int64(providers.MaxAnswerSize)
	if path == pathList {
		limit = providers.MaxListingSize
	}
	body := providers.NewBody(resp.Body, resp.StatusCode, limit)
	status, err := readAnswer(body, readData)
	if err != nil {
		// A cut answer is a network error. One that is whole but not the
		// documented answer may have been applied: every method is safe to
		// repeat (create searches first), and the repeat may be readable.
		return body.Fail(err, documentedAnswer)
	}
	if status != statusSuccess {
		return classify(c.cfg.Clip(status), resp.StatusCode)
	}
	if check != nil {
		if err := check(); err != nil {
			return providers.Unreadable(resp.StatusCode, documentedAnswer, err)
		}
	}
	return nil
}

// refused classifies an answer outside 2xx, which AmootSMS does not
// document: by its status when it carries one, else by the HTTP status. The
// answer is quoted with the token redacted before it is cut: it may echo the
// request.
func (c *Client) refused(httpStatus int, data []byte) error {
	if status, err := readAnswer(providers.NewBody(bytes.NewReader(data), httpStatus, providers.MaxAnswerSize), nil); err == nil && status != statusSuccess {
		return classify(c.cfg.Clip(status), httpStatus)
	}
	if httpStatus == http.StatusUnauthorized || httpStatus == http.StatusForbidden {
		return &providers.Error{Class: providers.Fatal, Reason: "credentials", Status: httpStatus,
			Message: "AmootSMS refused the token", Hint: "check " + envToken}
	}
	return &providers.Error{Class: providers.Fatal, Reason: "unexpected_answer", Status: httpStatus,
		Message: "unexpected answer from AmootSMS: " + c.cfg.Excerpt(data)}
}

// classify turns a status other than Success into a classified error
// (PROVIDERS.md, AmootSMS).
func classify(status string, httpStatus int) *providers.Error {
	e := &providers.Error{Code: status, Status: httpStatus}
	rule, ok := statusRules[status]
	if !ok {
		switch {
		case strings.HasPrefix(status, "Token_"):
			rule, ok = tokenRule, true
		case strings.HasPrefix(status, "User_"):
			rule, ok = userRule, true
		}
	}
	if !ok {
		e.Class, e.Reason, e.Message = providers.Fatal, "unexpected_error", "unexpected AmootSMS status "+status
		return e
	}
	e.Class, e.Reason, e.Outcome, e.Hint = rule.class, rule.reason, rule.outcome, rule.hint
	switch rule.class {
	case providers.Retryable:
		e.Message = "AmootSMS failed to process the request"
	case providers.Row:
		e.Message = "AmootSMS refused the contact"
	default:
		e.Message = "AmootSMS refused the request"
	}
	return e
}

// isStatus reports whether err is the API's answer status.
func isStatus(err error, status string) bool {
	var pe *providers.Error
	return errors.As(err, &pe) && pe.Code == status
}

type codeRule struct {
	class   providers.Class
	reason  string
	outcome providers.Outcome
	hint    string
}

// The statuses the client looks for by name.
const (
	statusSuccess          = "Success"
	statusContactIDInvalid = "ContactID_Invalid"
)

var (
	tokenRule = codeRule{providers.Fatal, "credentials", 0, "check " + envToken}
	userRule  = codeRule{providers.Fatal, "account", 0, "check the AmootSMS account: it is disabled, expired or not allowed to use the web service"}
)

// statusRules classifies the statuses a contact method may answer. Token_*
// and User_* statuses not listed here get tokenRule and userRule; any other
// status stops the run as unexpected.
var statusRules = map[string]codeRule{
	// Failed is a generic failure [doc]; for a request about one contact
	// it concerns that contact. Many in a row stop the run (the importer's
	// --max-streak).
	"Failed": {providers.Row, providers.ReasonProviderFailed, providers.Rejected,
		"AmootSMS answered Failed, which does not say why: the row is sent again on the next run"},
	"ServerError":               {providers.Retryable, "server_error", 0, ""},
	"Token_NotExists":           tokenRule,
	"Token_Invalid":             tokenRule,
	"Token_Disabled":            {providers.Fatal, "credentials", 0, "the token is disabled: enable it or set another in " + envToken},
	"Token_Expired":             {providers.Fatal, "credentials", 0, "the token has expired: set a new one in " + envToken},
	"Token_NotAllowIP":          {providers.Fatal, "credentials", 0, "the token may not be used from this machine's IP address: allow it in the AmootSMS panel"},
	"Token_NotAllowMethod":      {providers.Fatal, "credentials", 0, "the token may not use the contact methods: allow them in the AmootSMS panel"},
	"User_NotExists":            userRule,
	"User_MobileNotVerified":    {providers.Fatal, "account", 0, "verify the AmootSMS account's mobile number"},
	"User_Disabled":             userRule,
	"User_Expired":              {providers.Fatal, "account", 0, "the AmootSMS account has expired: renew it"},
	"User_WebServiceBanned":     userRule,
	"User_NotAllowWebService":   userRule,
	"User_NotAllowIP":           {providers.Fatal, "account", 0, "the account may not be used from this machine's IP address: allow it in the AmootSMS panel"},
	"User_NotAllowMethod":       userRule,
	"User_NotAllowHttp":         {providers.Fatal, "account", 0, "the AmootSMS account may not use plain HTTP: use https in --endpoint, or allow HTTP in the AmootSMS panel"},
	"System_Disabled":           {providers.Fatal, "system_disabled", 0, "AmootSMS's web service is disabled: try again later"},
	"CreditNotEnough":           {providers.Fatal, "no_credit", 0, "top up the AmootSMS account"},
	"AccountIsDemo":             {providers.Fatal, "demo_account", 0, "a demo account cannot use the web service: upgrade the AmootSMS account"},
	"Mobile_Empty":              {providers.Row, "missing_phone", providers.Rejected, ""},
	"Mobile_Invalid":            {providers.Row, "invalid_phone", providers.Rejected, ""},
	"Length_Invalid":            {providers.Row, "value_too_long", providers.Rejected, ""},
	"Length_Exceeded":           {providers.Row, "value_too_long", providers.Rejected, ""},
	"FirstNameOrLastName_Empty": {providers.Row, "missing_name", providers.Rejected, ""},
}

// statusNames is seed 003's status table, with -109 from the status page
// [doc]: the number each status name has.
var statusNames = map[int]string{
	0:    "Failed",
	1:    "Success",
	2:    "AccountIsDemo",
	4:    "CreditNotEnough",
	5:    "LineNumber_NotExist",
	6:    "BackupLineNumber_NotExist",
	7:    "Avanak_NotAvailable",
	10:   "UserName_Empty",
	11:   "Password_Empty",
	12:   "LineNumber_Empty",
	13:   "BackupLineNumber_Empty",
	14:   "SMSMessageText_Empty",
	15:   "AvanakMessageText_Empty",
	16:   "Mobile_Empty",
	17:   "Mobiles_Empty",
	18:   "Title_Empty",
	19:   "FirstNameOrLastName_Empty",
	20:   "URLAddress_Empty",
	100:  "UserNameOrPassword_Invalid",
	101:  "Mobile_Invalid",
	102:  "Mobiles_Invalid",
	103:  "Count_Invalid",
	104:  "FromRow_Invalid",
	105:  "FromDate_Invalid",
	106:  "FromDateTime_Invalid",
	107:  "ToDate_Invalid",
	108:  "ToDateTime_Invalid",
	109:  "FromDateIsAfterThanToDate",
	110:  "FromDateTimeIsAfterThanToDateTime",
	111:  "MessageID_Invalid",
	112:  "BulkID_Invalid",
	113:  "ContactID_Invalid",
	114:  "ContactGroupID_Invalid",
	115:  "CourseID_Invalid",
	116:  "CourseGroupID_Invalid",
	117:  "URLAddress_Duplicate",
	118:  "RelayMessageDeliveryID_Invalid",
	119:  "RelayRecieveMessageID_Invalid",
	120:  "Length_Invalid",
	121:  "Length_Exceeded",
	500:  "ServerError",
	-300: "System_Disabled",
	-208: "Token_NotAllowMethod",
	-207: "Token_NotAllowIP",
	-204: "Token_Expired",
	-203: "Token_Disabled",
	-202: "Token_Invalid",
	-201: "Token_NotExists",
	-109: "User_NotAllowHttp",
	-108: "User_NotAllowMethod",
	-107: "User_NotAllowIP",
	-106: "User_NotAllowWebService",
	-105: "User_WebServiceBanned",
	-104: "User_Expired",
	-103: "User_Disabled",
	-102: "User_MobileNotVerified",
	-1:   "User_NotExists",
}

// Package smstools talks to Smstools' contact API (api.smsgatewayapi.com):
// batched creates (POST /v1/contact), batched updates by contact ID (PATCH)
// and a listing of the group (GET) that tells existing numbers from new
// ones. It also carries an emulator of that API for tests and --sandbox.
package smstools

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"

	"contactsync/mapping"
	"contactsync/providers"
)

// Name is the --provider value.
const Name = "smstools"

const (
	// DocumentedBase is the scheme and host --endpoint replaces.
	DocumentedBase = "https://api.smsgatewayapi.com"
	pathContact    = "/v1/contact"

	envClientID     = "SMSTOOLS_CLIENT_ID"
	envClientSecret = "SMSTOOLS_CLIENT_SECRET"

	// maxBatch [guess]: Smstools documents no maximum per POST or PATCH
	// array. A refused array is split by the importer, so a wrong guess
	// costs requests, not rows.
	maxBatch = 200
	// listPageSize is the largest page the listing serves [lib].
	listPageSize = 2000
)

var capabilities = providers.Capabilities{
	MaxBatch:   maxBatch,
	ContactIDs: true,
	// No mirror: Smstools documents no way to delete a contact.
	Modes:        []providers.Mode{providers.ModeUpsert, providers.ModeInsert, providers.ModeUpdate},
	PhoneFormat:  "international digits without +, e.g. 32496123456",
	Fields:       []string{"phone", "groupid", "firstname", "lastname", "birthday"},
	CustomFields: []string{"extra1", "extra2", "extra3", "extra4", "extra5", "extra6", "extra7", "extra8"},
	Credentials:  []string{envClientID, envClientSecret},
	ListHelp:     "the groupid",
	ListHowTo: "the contact group's ID, a number, not its name: GET /v1/groups lists the account's groups " +
		"with their ID and name (seen in a third-party client library)",
	Sends: []providers.FieldName{{Field: mapping.FieldPhone, Name: "phone"}, {Field: mapping.FieldFirstName, Name: "firstname"},
		{Field: mapping.FieldLastName, Name: "lastname"}, {Field: mapping.FieldBirthday, Name: "birthday, as yyyy-MM-dd"},
		{Field: mapping.FieldID, Name: "ID: the row updates that contact"}},
	Pacing: providers.Pacing{Rate: 10, Burst: 5, Workers: 4, BatchSize: maxBatch},
	EmptyCells: "keep the value Smstools holds: a PATCH changes only the properties it is given, and an empty " +
		"cell is not sent (so no cell can clear a value)",
}

func init() {
	providers.Register(providers.Registration{
		Name:         Name,
		Capabilities: capabilities,
		New:          func(c providers.Config) (providers.Provider, error) { return New(c) },
		NewSandbox:   func(o providers.SandboxOptions) providers.Sandbox { return NewEmulator(o) },
	})
}

// Client is a Smstools API client.
type Client struct {
	cfg    providers.Config
	id     string
	secret string
	target providers.Target
	// noListing is set once overwrite too found the listing absent (Open's
	// failure may have been passing): each code 129 would ask again.
	noListing atomic.Bool
}

var _ providers.Provider = (*Client)(nil)

// New returns a client; the credentials must be set.
func New(cfg providers.Config) (*Client, error) {
	cfg, err := cfg.Ready(capabilities.Credentials)
	if err != nil {
		return nil, err
	}
	return &Client{cfg: cfg, id: cfg.Credential(envClientID), secret: cfg.Credential(envClientSecret)}, nil
}

// Capabilities describes Smstools.
func (c *Client) Capabilities() providers.Capabilities { return capabilities }

// Open reads the group's contacts, so that the importer sends existing
// numbers as PATCHes of their IDs and new ones as creates. The listing is
// the first request: it also checks the credentials and the group. When the
// listing endpoint does not answer as guessed, Open returns no index and the
// importer lets create decide (code 129 for an existing number).
func (c *Client) Open(ctx context.Context, t providers.Target) (*providers.ListInfo, error) {
	c.target = t
	existing := map[uint64]string{}
	err := c.listGroup(ctx, func(key uint64, id string) bool {
		existing[key] = id
		return true
	})
	switch {
	case errors.Is(err, errNoListing):
		return &providers.ListInfo{}, nil
	case err != nil:
		return nil, fmt.Errorf("reading group %s: %w", t.List, err)
	}
	return &providers.ListInfo{Existing: existing}, nil
}

// Apply sends one batch: PATCH for updates, POST for creates and upserts.
// Tags have no equivalent in Smstools: the group is the only grouping.
func (c *Client) Apply(ctx context.Context, b *providers.Batch) ([]providers.Result, error) {
	switch b.Op {
	case providers.OpUpdate:
		return c.update(ctx, b)
	case providers.OpUpsert, providers.OpCreate:
		return c.create(ctx, b)
	}
	return nil, fmt.Errorf("smstools cannot %s a contact", b.Op)
}

// update PATCHes the contacts by ID. Smstools applies all or nothing: a 404
// (an unknown ID) refuses the whole array, which classify makes a Row error
// so that the importer splits the batch down to the unknown IDs. Only the
// documented 204 confirms the update; any other 2xx is retried (a PATCH is
// safe to repeat) and its rows fail not_confirmed.
func (c *Client) update(ctx context.Context, b *providers.Batch) ([]providers.Result, error) {
	req := make([]contact, len(b.Contacts))
	for i, ct := range b.Contacts {
		req[i] = c.toWire(ct)
		req[i].ID = intOrString(ct.ID)
	}
	resp, err := c.send(ctx, http.MethodPatch, c.cfg.URL(DocumentedBase, pathContact), req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return nil, providers.Unreadable(resp.StatusCode, "Smstools's 204 No Content", fmt.Errorf("HTTP %d", resp.StatusCode))
	}
	results := make([]providers.Result, len(b.Contacts))
	for i, ct := range b.Contacts {
		results[i] = providers.Result{Outcome: providers.Updated, ID: ct.ID}
	}
	return results, nil
}

// create POSTs the contacts. Whether Smstools refuses a whole array for one
// bad contact is not documented [guess: it does, like PATCH]: a refusal is a
// Row error for the whole batch and the importer splits it.
func (c *Client) create(ctx context.Context, b *providers.Batch) ([]providers.Result, error) {
	req := make([]contact, len(b.Contacts))
	for i, ct := range b.Contacts {
		req[i] = c.toWire(ct)
	}
	resp, err := c.send(ctx, http.MethodPost, c.cfg.URL(DocumentedBase, pathContact), req)
	var pe *providers.Error
	if errors.As(err, &pe) && pe.Code == codeExists && len(b.Contacts) == 1 && c.target.Mode == providers.ModeUpsert {
		return c.overwrite(ctx, b.Contacts[0], pe)
	}
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	ids, err := createdIDs(resp, len(b.Contacts))
	if err != nil {
		return nil, err
	}
	results := make([]providers.Result, len(b.Contacts))
	for i := range results {
		results[i] = providers.Result{Outcome: providers.Added, ID: ids[i]}
	}
	return results, nil
}

// createdIDs reads the IDs of a create's answer, one per contact in request
// order [doc]. Only that answer confirms the create: a 2xx status alone
// does not (an empty body, an HTML page, a cut or unrelated JSON, or a count
// of IDs that is not the contacts'). Such an answer is retried, and resending
// a create that was applied meets code 129, which create handles.
func createdIDs(resp *http.Response, n int) ([]string, error) {
	var answer createResponse
	var ids []string
	err := providers.DecodeAnswer(resp, documentedCreate, &answer, func() error {
		if len(answer.IDs) == 0 && answer.ID != "" {
			answer.IDs = []intOrString{answer.ID}
		}
		if len(answer.IDs) != n {
			return fmt.Errorf("it holds %d IDs for %d contacts", len(answer.IDs), n)
		}
		ids = make([]string, n)
		for i, id := range answer.IDs {
			if id == "" {
				return fmt.Errorf("ID %d of %d is empty", i+1, n)
			}
			ids[i] = string(id)
		}
		return nil
	})
	return ids, err
}

// overwrite is the upsert of a number the group already holds (code 129
// on create): Smstools has no upsert, so the number's ID is looked up in the
// listing and the contact PATCHed. It runs for single-contact batches only:
// the importer splits a refused batch until each 129 stands alone.
func (c *Client) overwrite(ctx context.Context, ct *mapping.Contact, exists *providers.Error) ([]providers.Result, error) {
	notUpdated := &providers.Error{Class: providers.Row, Outcome: providers.Failed, Reason: "exists_not_updated",
		Code: exists.Code, Status: exists.Status,
		Message: "the number is already in the group and its contact ID could not be found to update it"}
	if c.noListing.Load() {
		notUpdated.Err = errNoListing
		return nil, notUpdated
	}
	var id string
	err := c.listGroup(ctx, func(key uint64, cid string) bool {
		if key == ct.Key {
			id = cid
			return false
		}
		return true
	})
	switch {
	case errors.Is(err, errNoListing):
		c.noListing.Store(true)
		notUpdated.Err = err
		return nil, notUpdated
	case err != nil:
		return nil, fmt.Errorf("looking up the existing contact: %w", err)
	case id == "":
		return nil, notUpdated
	}
	found := *ct
	found.ID = id
	return c.update(ctx, &providers.Batch{Op: providers.OpUpdate, Contacts: []*mapping.Contact{&found}})
}

// errNoListing says the listing endpoint did not answer as guessed.
var errNoListing = errors.New("the group's contacts cannot be listed")

// listGroup calls visit with the key and ID of each contact of the target
// group, page by page, until visit returns false or a page comes back short.
//
// [lib, unverified] Everything about the listing is a guess from one client
// library: GET /v1/contact?groupid=&limit=1..2000&page= (pages from 1), the
// answer a bare array or an object holding it under "contacts" or "data",
// IDs and phones as numbers or strings, phones with or without "+". An
// answer that does not fit (404, 405, an unreadable body, a code about the
// request's shape) returns errNoListing; answers about the account or the
// group are returned as they are. Pages are streamed, each within
// providers.MaxListingSize.
func (c *Client) listGroup(ctx context.Context, visit func(key uint64, id string) bool) error {
	var first listedContact
	for page := 1; ; page++ {
		q := url.Values{"groupid": {c.target.List}, "limit": {strconv.Itoa(listPageSize)}, "page": {strconv.Itoa(page)}}
		resp, err := c.send(ctx, http.MethodGet, c.cfg.URL(DocumentedBase, pathContact)+"?"+q.Encode(), nil)
		if err != nil {
			if listingAbsent(err) {
				return fmt.Errorf("%w: %w", errNoListing, err)
			}
			return err
		}
		body := providers.NewBody(resp.Body, resp.StatusCode, providers.MaxListingSize)
		n, done := 0, false
		err = readPage(body, func(lc listedContact) bool {
			n++
			if n == 1 {
				// An API that ignored page would serve the first page forever.
				if page > 1 && lc == first {
					done = true
					return false
				}
				first = lc
			}
			key, ok := c.listedKey(lc)
			if ok && !visit(key, string(lc.ID)) {
				done = true
				return false
			}
			return true
		})
		resp.Body.Close()
		if err != nil {
			// A cut answer is retried and one over a limit stops the run;
			// one that is whole but not a listing says the guess is wrong.
			err = body.Fail(err, "a listing of contacts")
			var pe *providers.Error
			if errors.As(err, &pe) && pe.Reason == providers.ReasonUnreadable {
				return fmt.Errorf("%w: page %d: %w", errNoListing, page, err)
			}
			return err
		}
		if done || n < listPageSize {
			return nil
		}
	}
}

// readPage streams a page of the listing in any of the shapes listGroup
// accepts, handing each contact to each until it returns false.
func readPage(body *providers.Body, each func(listedContact) bool) error {
	dec := json.NewDecoder(body)
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('['):
		_, err := readContacts(dec, body, each)
		return err
	case json.Delim('{'):
	default:
		return fmt.Errorf("the listing is %v, not contacts", tok)
	}
	found := false
	for dec.More() {
		body.StartItem()
		key, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := key.(string)
		if !found && (strings.EqualFold(name, "contacts") || strings.EqualFold(name, "data")) {
			tok, err := dec.Token()
			switch {
			case err != nil:
				return err
			case tok == nil:
				continue // null: look on
			case tok != json.Delim('['):
				return fmt.Errorf("%s is %v, not a list of contacts", name, tok)
			}
			more, err := readContacts(dec, body, each)
			if err != nil || !more {
				return err
			}
			found = true
			continue
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
	}
	if !found {
		return errors.New("no contacts in the listing")
	}
	return nil
}

// readContacts reads an array whose '[' was read, one contact at a time; it
// reports whether each wanted them all.
func readContacts(dec *json.Decoder, body *providers.Body, each func(listedContact) bool) (more bool, err error) {
	for dec.More() {
		body.StartItem()
		var lc listedContact
		if err := dec.Decode(&lc); err != nil {
			return false, err
		}
		if !each(lc) {
			return false, nil
		}
	}
	_, err = dec.Token()
	return true, err
}

// listedKey returns the number of a listed contact as a mapping key. A
// contact without an ID cannot be PATCHed and one of another group (an API
// that ignored groupid) must not be: both are left out of the index.
func (c *Client) listedKey(lc listedContact) (uint64, bool) {
	if lc.ID == "" || (lc.GroupID != "" && string(lc.GroupID) != c.target.List) {
		return 0, false
	}
	raw := lc.Phone
	if raw == "" {
		raw = lc.Number
	}
	// Without a region, ParsePhone reads "32496123456" as international.
	p, problem := mapping.ParsePhone(string(raw), "")
	if problem != nil {
		return 0, false
	}
	return mapping.KeyOf(p.E164), true
}

// listingAbsent reports whether a refused listing says more about our
// guess of the endpoint than about the account: everything but a retryable
// answer and the codes that would refuse every other request too.
func listingAbsent(err error) bool {
	var pe *providers.Error
	if !errors.As(err, &pe) || pe.Class == providers.Retryable {
		return false
	}
	switch pe.Reason {
	case "credentials", "credentials_locked", "account_disabled", "no_access", "no_credit", "unknown_list", "ip_not_allowed":
		return false
	}
	return true
}

func (c *Client) toWire(ct *mapping.Contact) contact {
	return contact{
		Phone:     strings.TrimPrefix(ct.Phone, "+"),
		GroupID:   intOrString(c.target.List),
		FirstName: ct.FirstName,
		LastName:  ct.LastName,
		Birthday:  ct.Birthday,
		Extra1:    ct.Custom["extra1"],
		Extra2:    ct.Custom["extra2"],
		Extra3:    ct.Custom["extra3"],
		Extra4:    ct.Custom["extra4"],
		Extra5:    ct.Custom["extra5"],
		Extra6:    ct.Custom["extra6"],
		Extra7:    ct.Custom["extra7"],
		Extra8:    ct.Custom["extra8"],
	}
}

// documentedCreate describes the answer that confirms a create [doc], for
// the message of any other.
const documentedCreate = `Smstools's {"ID": n} or {"IDs": [...]} with one ID per contact`

// send sends one request, with in as its JSON body unless nil, and returns a
// 2xx answer for the caller to read and close; any other answer becomes a
// classified *providers.Error.
func (c *Client) send(ctx context.Context, method, url string, in any) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("encoding the request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return nil, fmt.Errorf("building the request: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Client-Id", c.id)
	req.Header.Set("X-Client-Secret", c.secret)
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, providers.NetworkError(err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	data, err := providers.NewBody(resp.Body, resp.StatusCode, providers.MaxAnswerSize).ReadAll()
	if err != nil {
		return nil, err
	}
	return nil, c.classify(resp, data)
}

// classify turns a refused request into a classified error (PROVIDERS.md,
// Smstools error codes). What the answer says is quoted with the
// credentials redacted before it is cut: an answer may echo the request.
func (c *Client) classify(resp *http.Response, body []byte) error {
	var er errorResponse
	hasCode := json.Unmarshal(body, &er) == nil && er.Error != ""
	if e := providers.CheckTransient(resp); e != nil {
		if hasCode {
			e.Code, e.Message = c.cfg.Clip(string(er.Error)), c.cfg.Clip(er.ErrorMsg)
		}
		return e
	}
	e := &providers.Error{Status: resp.StatusCode, Code: c.cfg.Clip(string(er.Error)), Message: c.cfg.Clip(er.ErrorMsg)}
	code, err := strconv.Atoi(string(er.Error))
	if rule, ok := codes[code]; hasCode && err == nil && ok {
		e.Class, e.Reason, e.Outcome, e.Hint = rule.class, rule.reason, rule.outcome, rule.hint
		if e.Message == "" {
			e.Message = rule.reason
		}
		return e
	}
	switch {
	case resp.StatusCode == http.StatusNotFound && resp.Request != nil && resp.Request.Method == http.MethodPatch:
		// Documented: one or more IDs are unknown and nothing was applied.
		e.Class, e.Reason, e.Outcome = providers.Row, "not_found", providers.Failed
		if e.Message == "" {
			e.Message = "Smstools has no contact with this ID"
		}
	case hasCode:
		e.Class, e.Reason = providers.Fatal, "unexpected_error"
		if e.Message == "" {
			e.Message = "Smstools refused the request"
		}
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		e.Class, e.Reason, e.Hint = providers.Fatal, "credentials", codes[104].hint
		e.Message = "Smstools refused the credentials"
	default:
		e.Class, e.Reason = providers.Fatal, "unexpected_answer"
		e.Message = "unexpected answer from Smstools: " + c.cfg.Excerpt(body)
	}
	return e
}

type codeRule struct {
	class   providers.Class
	reason  string
	outcome providers.Outcome
	hint    string
}

// codeExists is "number already in group": Skipped in insert mode, a PATCH
// of the existing contact in upsert mode.
const codeExists = "129"

// neverSent is the hint of codes that refuse a request contactsync does not
// send; seeing one means a bug here, not a problem with the account.
const neverSent = "contactsync never sends such a request: please report this as a bug"

// codes classifies Smstools' error codes [doc], and those one client
// library lists besides [lib: GraystackIT/laravel-smstools-api].
var codes = map[int]codeRule{
	103: {providers.Row, "invalid_phone", providers.Rejected, ""},
	104: {providers.Fatal, "credentials", 0, "check " + envClientID + " and " + envClientSecret},
	105: {providers.Retryable, "server_error", 0, ""},
	108: {providers.Fatal, "no_credit", 0, "top up the Smstools account"},
	114: {providers.Fatal, "empty_request", 0, neverSent},
	// Access disabled after a long inactivity [lib].
	116: {providers.Fatal, "account_disabled", 0, "Smstools disabled this account's API access after a long inactivity: ask their support to enable it"},
	122: {providers.Fatal, "no_contacts", 0, neverSent},
	123: {providers.Fatal, "missing_id", 0, neverSent},
	124: {providers.Fatal, "group_required", 0, "pass the groupid with --list"},
	125: {providers.Fatal, "unknown_list", 0, "check --list: Smstools has no group with this groupid"},
	128: {providers.Fatal, "unknown_list", 0, "check --list: Smstools has no group with this groupid"},
	129: {providers.Row, "exists", providers.Skipped, ""},
	131: {providers.Row, "opted_out", providers.Rejected, ""},
	// The listing's limit (1 to 2000) and page (from 1) [lib]: only the
	// guessed listing sends them, and refusing them says the guess is wrong
	// (listGroup carries on without the listing).
	135: {providers.Fatal, "invalid_parameters", 0, neverSent},
	136: {providers.Fatal, "invalid_parameters", 0, neverSent},
	// Missing or invalid parameters [lib]: on a create or an update, a
	// value of the contact (a birthday not in yyyy-MM-dd). Were it the
	// request's shape, every row would get it and --max-streak stops the
	// run.
	139: {providers.Row, "invalid_values", providers.Rejected, "Smstools refused a value of this contact (a birthday must be yyyy-MM-dd): fix the row"},
	200: {providers.Fatal, "ip_not_allowed", 0, "allow this machine's IP address in the Smstools API settings"},
	// Too many failed logins [lib].
	1002: {providers.Fatal, "credentials_locked", 0, "Smstools locked the API keys after too many failed logins: wait before running again, and check " +
		envClientID + " and " + envClientSecret},
	// A team user without access to the items named [lib].
	1403: {providers.Fatal, "no_access", 0, "the team user of these API keys may not manage this group or its contacts: give it access in Smstools, or use the account owner's keys"},
}

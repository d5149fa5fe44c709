// Package octopush talks to Octopush's contact API: batched upserts into a
// named list (POST /v1/public/contact/create) and batched deletes. It also
// carries an emulator of that API for tests and --sandbox.
package octopush

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"contactsync/mapping"
	"contactsync/providers"
)

// Name is the --provider value.
const Name = "octopush"

const (
	// DocumentedBase is the scheme and host --endpoint replaces.
	DocumentedBase = "https://api.octopush.com"
	pathCreate     = "/v1/public/contact/create"
	pathDelete     = "/v1/public/contact/delete"

	envLogin = "OCTOPUSH_API_LOGIN"
	envKey   = "OCTOPUSH_API_KEY"

	// maxBatch [guess]: Octopush documents no maximum per create call.
	// A batch it finds too large is answered with code 305 and split.
	maxBatch = 200
	// maxDelete is documented: 1 to 200 numbers per delete call.
	maxDelete = 200
)

var capabilities = providers.Capabilities{
	MaxBatch:     maxBatch,
	Modes:        []providers.Mode{providers.ModeUpsert, providers.ModeInsert, providers.ModeMirror},
	PhoneFormat:  "E.164 with +, e.g. +33612345678",
	Fields:       []string{"phone_number", "first_name", "last_name"},
	CustomFields: []string{"param1", "param2", "param3", "param4", "param5"},
	Credentials:  []string{envLogin, envKey},
	ListHelp:     "the list_name (at most 30 characters)",
	ListHowTo:    "the list's name as your Octopush account shows it among its contact lists: a name, not a number",
	Sends: []providers.FieldName{{Field: mapping.FieldPhone, Name: "phone_number"}, {Field: mapping.FieldFirstName, Name: "first_name"},
		{Field: mapping.FieldLastName, Name: "last_name"}, {Field: mapping.FieldTag, Name: "tag_name, one per request (at most 20 characters)"}},
	MaxListLen: 30,
	MaxTagLen:  20,
	Pacing:     providers.Pacing{Rate: 20, Burst: 5, Workers: 8, BatchSize: maxBatch},
	EmptyCells: "keep the value Octopush holds, as far as contactsync can ask: an empty cell is not sent; whether " +
		"Octopush's overwrite keeps a field it is not sent is not documented",
	Notes: []providers.Note{{Field: mapping.FieldEmail,
		Text: "Octopush does not store e-mail addresses (a contact has no such field, and unknown fields are ignored), " +
			"so contactsync does not send them; to keep one, map its column to a free field in a mapping file " +
			"(custom: {param1: E-mail}) and use {param1} in messages"}},
}

func init() {
	providers.Register(providers.Registration{
		Name:         Name,
		Capabilities: capabilities,
		New:          func(c providers.Config) (providers.Provider, error) { return New(c) },
		NewSandbox:   func(o providers.SandboxOptions) providers.Sandbox { return NewEmulator(o) },
	})
}

// Client is an Octopush API client.
type Client struct {
	cfg    providers.Config
	login  string
	key    string
	target providers.Target
}

var _ providers.Provider = (*Client)(nil)

// New returns a client; the credentials must be set.
func New(cfg providers.Config) (*Client, error) {
	cfg, err := cfg.Ready(capabilities.Credentials)
	if err != nil {
		return nil, err
	}
	return &Client{cfg: cfg, login: cfg.Credential(envLogin), key: cfg.Credential(envKey)}, nil
}

// Capabilities describes Octopush.
func (c *Client) Capabilities() providers.Capabilities { return capabilities }

// Open remembers the target. Octopush has no documented call to read a list,
// so the credentials are checked by the first batch (which the importer
// sends alone).
func (c *Client) Open(_ context.Context, t providers.Target) (*providers.ListInfo, error) {
	c.target = t
	return &providers.ListInfo{}, nil
}

// Apply sends one batch: create (an upsert, or with do_not_overwrite an
// insert) or delete.
func (c *Client) Apply(ctx context.Context, b *providers.Batch) ([]providers.Result, error) {
	switch b.Op {
	case providers.OpUpsert, providers.OpCreate:
		return c.create(ctx, b)
	case providers.OpDelete:
		return c.delete(ctx, b)
	}
	return nil, fmt.Errorf("octopush cannot %s a contact", b.Op)
}

func (c *Client) create(ctx context.Context, b *providers.Batch) ([]providers.Result, error) {
	req := createRequest{
		Contacts:       make([]contact, len(b.Contacts)),
		ListName:       c.target.List,
		DoNotOverwrite: b.Op == providers.OpCreate,
	}
	if tags := strings.Split(b.Tag, ","); len(tags) > 1 {
		req.TagNames = tags
	} else {
		req.TagName = b.Tag
	}
	for i, ct := range b.Contacts {
		req.Contacts[i] = toWire(ct)
	}
	resp, err := c.send(ctx, http.MethodPost, pathCreate, req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	// Only the documented answer confirms anything: an empty body, an HTML
	// page, a cut or an unrelated JSON document is retried (the create is
	// an upsert, safe to repeat) and its rows fail not_confirmed.
	var answer createResponse
	err = providers.DecodeAnswer(resp, documentedCreate, &answer, func() error {
		if answer.Items == nil {
			return errors.New("it has no items")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	status := make(map[uint64]string, len(answer.Items))
	for _, it := range answer.Items {
		status[phoneKey(it.PhoneNumber)] = it.Status
	}
	results := make([]providers.Result, len(b.Contacts))
	for i, ct := range b.Contacts {
		results[i] = resultOf(status[ct.Key])
	}
	return results, nil
}

// resultOf maps an item's status to an outcome: added, updated and skipped
// are documented [doc, seed 002]. A number missing from the answer, or
// given any other status, is not confirmed: whether it was stored is
// unknown, so the row fails and the next run sends it again. (An
// undocumented status used to become the report reason "refused_" + status:
// an answer could write anything, a credential included, into the report,
// the rejects file and the state.)
func resultOf(status string) providers.Result {
	switch status {
	case "added":
		return providers.Result{Outcome: providers.Added}
	case "updated":
		return providers.Result{Outcome: providers.Updated}
	case "skipped":
		return providers.Result{Outcome: providers.Skipped, Reason: "exists"}
	}
	return providers.Result{Outcome: providers.Failed, Reason: providers.ReasonNotConfirmed}
}

func (c *Client) delete(ctx context.Context, b *providers.Batch) ([]providers.Result, error) {
	if len(b.Contacts) > maxDelete {
		return nil, &providers.Error{Class: providers.Row, Outcome: providers.Failed, Reason: "batch_too_large", Code: "305"}
	}
	req := deleteRequest{PhoneNumbers: make([]string, len(b.Contacts)), ListName: c.target.List}
	for i, ct := range b.Contacts {
		req.PhoneNumbers[i] = ct.Phone
	}
	resp, err := c.send(ctx, http.MethodDelete, pathDelete, req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	// [guess] The answer to a delete is not documented: an empty one or any
	// JSON value is taken as done; an HTML page or a cut answer is not.
	data, err := providers.NewBody(resp.Body, resp.StatusCode, providers.MaxAnswerSize).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(data)) > 0 {
		var answer json.RawMessage
		if err := providers.DecodeJSON(resp.StatusCode, data, "an empty or a JSON answer", &answer, nil); err != nil {
			return nil, err
		}
	}
	results := make([]providers.Result, len(b.Contacts))
	for i := range results {
		results[i] = providers.Result{Outcome: providers.Deleted}
	}
	return results, nil
}

// toWire renders a contact with the fields Octopush documents [doc]: the
// e-mail is not one of them (see the capabilities' note).
func toWire(ct *mapping.Contact) contact {
	return contact{
		PhoneNumber: ct.Phone,
		FirstName:   ct.FirstName,
		LastName:    ct.LastName,
		Param1:      ct.Custom["param1"],
		Param2:      ct.Custom["param2"],
		Param3:      ct.Custom["param3"],
		Param4:      ct.Custom["param4"],
		Param5:      ct.Custom["param5"],
	}
}

// phoneKey reads a number as the API echoes it, with or without "+".
func phoneKey(s string) uint64 {
	if len(s) > 0 && s[0] != '+' {
		s = "+" + s
	}
	return mapping.KeyOf(s)
}

// documentedCreate describes the answer that confirms a create [doc, seed
// 002], for the message of any other.
const documentedCreate = `Octopush's {"items": [{"phone_number", "status"}…]}`

// send sends one JSON request and returns a 2xx answer for the caller to
// read and close; any other answer becomes a classified *providers.Error.
func (c *Client) send(ctx context.Context, method, path string, in any) (*http.Response, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("encoding the request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.cfg.URL(DocumentedBase, path), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("building the request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("api-login", c.login)
	req.Header.Set("api-key", c.key)
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
// Octopush error codes). What the answer says is quoted with the
// credentials redacted before it is cut: an answer may echo the request.
func (c *Client) classify(resp *http.Response, body []byte) error {
	if e := providers.CheckTransient(resp); e != nil {
		var er errorResponse
		if json.Unmarshal(body, &er) == nil && er.Code != 0 {
			e.Code, e.Message = strconv.Itoa(int(er.Code)), c.cfg.Clip(er.Message)
		}
		return e
	}
	var er errorResponse
	if err := json.Unmarshal(body, &er); err != nil || er.Code == 0 {
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			return &providers.Error{Class: providers.Fatal, Reason: "credentials", Status: resp.StatusCode,
				Message: "Octopush refused the credentials", Hint: "check " + envLogin + " and " + envKey}
		}
		return &providers.Error{Class: providers.Fatal, Reason: "unexpected_answer", Status: resp.StatusCode,
			Message: "unexpected answer from Octopush: " + c.cfg.Excerpt(body)}
	}
	e := &providers.Error{Status: resp.StatusCode, Code: strconv.Itoa(int(er.Code)), Message: c.cfg.Clip(er.Message)}
	rule, ok := codes[int(er.Code)]
	if !ok {
		e.Class, e.Reason = providers.Fatal, "unexpected_error"
		if e.Message == "" {
			e.Message = "Octopush refused the request"
		}
		return e
	}
	e.Class, e.Reason, e.Outcome, e.Hint = rule.class, rule.reason, rule.outcome, rule.hint
	if e.Message == "" {
		e.Message = rule.reason
	}
	return e
}

type codeRule struct {
	class   providers.Class
	reason  string
	outcome providers.Outcome
	hint    string
}

// codes classifies Octopush's error codes: v1 answers with the older API's
// numbers [lib], whose table is in Octopush's own older SDK
// (octopush/octopush-sms-node.js, lib/octopush.js).
var codes = map[int]codeRule{
	101: {providers.Fatal, "credentials", 0, "check " + envLogin + " and " + envKey},
	104: {providers.Fatal, "no_credit", 0, "top up the Octopush account"},
	113: {providers.Fatal, "account_not_validated", 0, "finish validating the Octopush account"},
	114: {providers.Fatal, "fraud_check", 0, "the account is held by Octopush's fraud check: contact their support"},
	117: {providers.Row, "invalid_phone", providers.Rejected, ""},
	125: {providers.Retryable, "undefined_error", 0, ""},
	150: {providers.Row, "country_not_allowed", providers.Rejected, ""},
	151: {providers.Row, "country_not_allowed", providers.Rejected, ""},
	300: {providers.Fatal, "no_list_rights", 0, "the account may not manage lists: check its rights"},
	301: {providers.Fatal, "too_many_lists", 0, "delete unused lists or use an existing one"},
	302: {providers.Fatal, "list_exists", 0, "Octopush says a list of that name already exists and would not make it: check --list's spelling against the list in Octopush, or choose another name"},
	303: {providers.Fatal, "unknown_list", 0, "check --list: Octopush has no such list"},
	304: {providers.Fatal, "list_full", 0, "the list is full: use another list"},
	305: {providers.Row, "batch_too_large", providers.Failed, ""},
	306: {providers.Fatal, "unknown_action", 0, "Octopush did not recognise the request: check --endpoint (the API is https://api.octopush.com), or report this as a bug"},
	308: {providers.Fatal, "file_error", 0, "Octopush reported an error with a file, and contactsync sends none: report it to Octopush's support with the time of the run"},
	500: {providers.Retryable, "server_error", 0, ""},
	501: {providers.Retryable, "connection_error", 0, ""},
}

package smstools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"contactsync/importer"
	"contactsync/mapping"
	"contactsync/providers"
	"contactsync/providers/providertest"
)

var testCreds = map[string]string{envClientID: "client-7", envClientSecret: "secret-value-123"}

// newClient starts a server under a path prefix, so that a client that
// ignored --endpoint's path would miss every route, and returns a client
// that has not been opened.
func newClient(t *testing.T, h http.HandlerFunc) *Client {
	t.Helper()
	endpoint, client := providertest.PrefixedServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for name, want := range map[string]string{"X-Client-Id": "client-7", "X-Client-Secret": "secret-value-123", "Accept": "application/json"} {
			if got := r.Header.Get(name); got != want {
				t.Errorf("%s %s: header %s = %q, want %q", r.Method, r.URL.Path, name, got, want)
			}
		}
		if r.URL.Path != "/prefix/v1/contact" {
			t.Errorf("%s %s, want /prefix/v1/contact", r.Method, r.URL.Path)
		}
		h(w, r)
	}))
	c, err := New(providers.Config{Endpoint: endpoint, Credentials: testCreds, HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newTestClient returns a client opened on group 42, found empty; h
// answers the requests that follow Open.
func newTestClient(t *testing.T, mode providers.Mode, h http.HandlerFunc) *Client {
	t.Helper()
	var opened atomic.Bool
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		if opened.Load() {
			h(w, r)
			return
		}
		checkListing(t, r, 1)
		io.WriteString(w, `[]`)
	})
	info, err := c.Open(context.Background(), providers.Target{List: "42", Mode: mode})
	if err != nil || info.Existing == nil || len(info.Existing) != 0 {
		t.Fatalf("Open: %+v, %v", info, err)
	}
	opened.Store(true)
	return c
}

// checkListing asserts that r asks for page of group 42.
func checkListing(t *testing.T, r *http.Request, page int) {
	t.Helper()
	want := fmt.Sprintf("groupid=42&limit=2000&page=%d", page)
	if r.Method != http.MethodGet || r.URL.RawQuery != want {
		t.Errorf("%s ?%s, want GET ?%s", r.Method, r.URL.RawQuery, want)
	}
	if r.Header.Get("Content-Type") != "" || r.ContentLength > 0 {
		t.Errorf("the listing carries a body")
	}
}

// checkBody asserts method, content type and JSON body of a write.
func checkBody(t *testing.T, r *http.Request, method, want string) {
	t.Helper()
	if r.Method != method || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("%s with Content-Type %q, want %s with JSON", r.Method, r.Header.Get("Content-Type"), method)
	}
	var got, exp any
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, exp) {
		t.Errorf("body\n got  %s\n want %s", body, want)
	}
}

func contacts(phones ...string) []*mapping.Contact {
	out := make([]*mapping.Contact, len(phones))
	for i, p := range phones {
		out[i] = &mapping.Contact{Line: i + 2, Phone: p, Key: mapping.KeyOf(p), FirstName: "F" + p[len(p)-2:], LastName: "L",
			Birthday: "1980-01-02", Custom: map[string]string{"extra2": "Building 2B"}}
	}
	return out
}

func TestCreateRequest(t *testing.T) {
	const two = `[
		{"phone":"32470123456","groupid":42,"firstname":"F56","lastname":"L","birthday":"1980-01-02","extra2":"Building 2B"},
		{"phone":"32470123457","groupid":42,"firstname":"F57","lastname":"L","birthday":"1980-01-02","extra2":"Building 2B"}]`
	const one = `[{"phone":"32470123456","groupid":42,"firstname":"F56","lastname":"L","birthday":"1980-01-02","extra2":"Building 2B"}]`
	for _, tt := range []struct {
		name    string
		op      providers.Op
		phones  []string
		want    string
		answer  string
		wantIDs []string
	}{
		{"upsert, IDs as numbers and strings", providers.OpUpsert, []string{"+32470123456", "+32470123457"}, two, `{"IDs":[1001,"1002"]}`, []string{"1001", "1002"}},
		{"create", providers.OpCreate, []string{"+32470123456", "+32470123457"}, two, `{"IDs":[1001,1002]}`, []string{"1001", "1002"}},
		{"one contact answered with ID", providers.OpCreate, []string{"+32470123456"}, one, `{"ID":7}`, []string{"7"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, providers.ModeUpsert, func(w http.ResponseWriter, r *http.Request) {
				checkBody(t, r, http.MethodPost, tt.want)
				w.WriteHeader(http.StatusCreated)
				io.WriteString(w, tt.answer)
			})
			res, err := c.Apply(context.Background(), &providers.Batch{Op: tt.op, Tag: "ignored", Contacts: contacts(tt.phones...)})
			if err != nil {
				t.Fatal(err)
			}
			want := make([]providers.Result, len(tt.phones))
			for i := range want {
				want[i] = providers.Result{Outcome: providers.Added, ID: tt.wantIDs[i]}
			}
			if !reflect.DeepEqual(res, want) {
				t.Fatalf("results %+v, want %+v", res, want)
			}
		})
	}
}

func TestUpdateRequest(t *testing.T) {
	c := newTestClient(t, providers.ModeUpdate, func(w http.ResponseWriter, r *http.Request) {
		// Empty fields are left out: PATCH would otherwise erase them.
		checkBody(t, r, http.MethodPatch, `[
			{"ID":1001,"phone":"32470123456","groupid":42,"firstname":"F56","birthday":"1980-01-02","extra2":"Building 2B"},
			{"ID":"A-7","phone":"32470123457","groupid":42,"firstname":"F57","lastname":"L","birthday":"1980-01-02","extra2":"Building 2B"}]`)
		w.WriteHeader(http.StatusNoContent)
	})
	cts := contacts("+32470123456", "+32470123457")
	cts[0].ID, cts[0].LastName = "1001", ""
	cts[1].ID = "A-7"
	res, err := c.Apply(context.Background(), &providers.Batch{Op: providers.OpUpdate, Contacts: cts})
	if err != nil {
		t.Fatal(err)
	}
	want := []providers.Result{{Outcome: providers.Updated, ID: "1001"}, {Outcome: providers.Updated, ID: "A-7"}}
	if !reflect.DeepEqual(res, want) {
		t.Fatalf("results %+v, want %+v", res, want)
	}
}

func TestOpenIndexesGroup(t *testing.T) {
	items := make([]string, listPageSize)
	for i := range items {
		items[i] = fmt.Sprintf(`{"ID":%d,"phone":"3247%07d"}`, i, i)
	}
	full := "[" + strings.Join(items, ",") + "]"
	for _, tt := range []struct {
		name  string
		pages []string // the answer to page i+1; later pages repeat the last
		want  map[uint64]string
		size  int // when want is nil: how many contacts, the last page's checked
		gets  int
	}{
		{"bare array", []string{`[{"ID":11,"phone":"32470000001","groupid":42},{"ID":12,"phone":"32470000002"}]`},
			map[uint64]string{32470000001: "11", 32470000002: "12"}, 0, 1},
		{"under contacts, string IDs, phones with +", []string{`{"contacts":[{"id":"11","phone":"+32470000001","groupid":"42"}]}`},
			map[uint64]string{32470000001: "11"}, 0, 1},
		{"under data, phone as a number named number", []string{`{"data":[{"ID":11,"number":32470000001}],"total":1}`},
			map[uint64]string{32470000001: "11"}, 0, 1},
		{"other groups, no ID, unreadable phones left out", []string{`[{"ID":11,"phone":"32470000001","groupid":7},{"phone":"32470000002"},{"ID":13,"phone":"12"},{"ID":14,"phone":"32470000004"}]`},
			map[uint64]string{32470000004: "14"}, 0, 1},
		{"empty group", []string{`[]`}, map[uint64]string{}, 0, 1},
		{"two pages", []string{full, `[{"ID":99999,"phone":"32479999999"}]`}, nil, listPageSize + 1, 2},
		{"a full last page", []string{full, `[]`}, nil, listPageSize, 2},
		{"page ignored", []string{full}, nil, listPageSize, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			gets := 0
			c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
				gets++
				checkListing(t, r, gets)
				io.WriteString(w, tt.pages[min(gets, len(tt.pages))-1])
			})
			info, err := c.Open(context.Background(), providers.Target{List: "42", Mode: providers.ModeUpsert})
			if err != nil {
				t.Fatal(err)
			}
			if gets != tt.gets {
				t.Errorf("%d requests, want %d", gets, tt.gets)
			}
			if tt.want == nil {
				last := info.Existing[32470000000+listPageSize-1]
				if tt.size > listPageSize {
					last = info.Existing[32479999999]
				}
				if n := len(info.Existing); n != tt.size || last == "" {
					t.Errorf("index of %d contacts (last %q), want %d", n, last, tt.size)
				}
				return
			}
			if !reflect.DeepEqual(info.Existing, tt.want) {
				t.Errorf("index %v, want %v", info.Existing, tt.want)
			}
		})
	}
}

// The listing is a guess: when it does not answer as guessed, Open returns
// no index and the import goes on; answers about the account or the group
// still stop the run.
func TestOpenWithoutListing(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		body   string
		class  providers.Class // 0: no index, no error
		reason string
	}{
		{"404", 404, `Not Found`, 0, ""},
		{"405", 405, ``, 0, ""},
		{"unreadable body", 200, `<html>contacts</html>`, 0, ""},
		{"object without contacts", 200, `{"count":3}`, 0, ""},
		{"empty request", 400, `{"error":"114","errorMsg":"Empty request"}`, 0, ""},
		{"groupid not read from the query", 400, `{"error":124}`, 0, ""},
		{"unknown code", 400, `{"error":"999"}`, 0, ""},
		{"credentials", 401, `{"error":"104","errorMsg":"Invalid credentials"}`, providers.Fatal, "credentials"},
		{"credentials without body", 401, ``, providers.Fatal, "credentials"},
		{"group not found", 400, `{"error":125}`, providers.Fatal, "unknown_list"},
		{"group not found as 404", 404, `{"error":"128"}`, providers.Fatal, "unknown_list"},
		{"no credit", 400, `{"error":"108"}`, providers.Fatal, "no_credit"},
		{"IP not allowed", 403, `{"error":"200"}`, providers.Fatal, "ip_not_allowed"},
		{"limit refused", 400, `{"error":"135"}`, 0, ""},
		{"page refused", 400, `{"error":136}`, 0, ""},
		{"credentials locked", 401, `{"error":"1002"}`, providers.Fatal, "credentials_locked"},
		{"disabled for inactivity", 403, `{"error":"116"}`, providers.Fatal, "account_disabled"},
		{"no access to the group", 403, `{"error":"1403"}`, providers.Fatal, "no_access"},
		{"server issue", 400, `{"error":"105"}`, providers.Retryable, "server_error"},
		{"5xx", 502, `bad gateway`, providers.Retryable, "server_error"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
				checkListing(t, r, 1)
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			info, err := c.Open(context.Background(), providers.Target{List: "42", Mode: providers.ModeUpsert})
			if tt.class == 0 {
				if err != nil || info == nil || info.Existing != nil {
					t.Fatalf("got %+v, %v; want no index and no error", info, err)
				}
				return
			}
			var pe *providers.Error
			if !errors.As(err, &pe) || pe.Class != tt.class || pe.Reason != tt.reason {
				t.Fatalf("got %v, want %v %q", err, tt.class, tt.reason)
			}
			if !strings.Contains(err.Error(), "group 42") || strings.Contains(err.Error(), "secret-value-123") {
				t.Fatalf("message %q", err)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name       string
		op         providers.Op
		status     int
		header     map[string]string
		body       string // %s is the code, written as a number and as a string
		class      providers.Class
		reason     string
		outcome    providers.Outcome
		retryAfter time.Duration
	}{
		{"103 phone invalid", providers.OpCreate, 400, nil, `{"error":%s,"errorMsg":"Invalid phone"}`, providers.Row, "invalid_phone", providers.Rejected, 0},
		{"104 credentials", providers.OpCreate, 401, nil, `{"error":%s}`, providers.Fatal, "credentials", 0, 0},
		{"105 server issue", providers.OpCreate, 400, nil, `{"error":%s}`, providers.Retryable, "server_error", 0, 0},
		{"108 no credit", providers.OpCreate, 400, nil, `{"error":%s}`, providers.Fatal, "no_credit", 0, 0},
		{"114 empty request", providers.OpCreate, 400, nil, `{"error":%s}`, providers.Fatal, "empty_request", 0, 0},
		{"122 no contacts", providers.OpCreate, 400, nil, `{"error":%s}`, providers.Fatal, "no_contacts", 0, 0},
		{"123 object without ID", providers.OpUpdate, 400, nil, `{"error":%s}`, providers.Fatal, "missing_id", 0, 0},
		{"124 groupid required", providers.OpCreate, 400, nil, `{"error":%s}`, providers.Fatal, "group_required", 0, 0},
		{"125 group not found", providers.OpCreate, 400, nil, `{"error":%s}`, providers.Fatal, "unknown_list", 0, 0},
		{"128 group not found", providers.OpCreate, 404, nil, `{"error":%s}`, providers.Fatal, "unknown_list", 0, 0},
		{"128 on a PATCH", providers.OpUpdate, 404, nil, `{"error":%s}`, providers.Fatal, "unknown_list", 0, 0},
		{"129 already in group", providers.OpCreate, 400, nil, `{"error":%s}`, providers.Row, "exists", providers.Skipped, 0},
		{"131 opted out", providers.OpCreate, 400, nil, `{"error":%s}`, providers.Row, "opted_out", providers.Rejected, 0},
		{"200 IP not allowed", providers.OpCreate, 403, nil, `{"error":%s}`, providers.Fatal, "ip_not_allowed", 0, 0},
		{"116 disabled for inactivity", providers.OpCreate, 403, nil, `{"error":%s}`, providers.Fatal, "account_disabled", 0, 0},
		{"135 limit out of range", providers.OpCreate, 400, nil, `{"error":%s}`, providers.Fatal, "invalid_parameters", 0, 0},
		{"136 page out of range", providers.OpCreate, 400, nil, `{"error":%s}`, providers.Fatal, "invalid_parameters", 0, 0},
		{"139 invalid parameters", providers.OpCreate, 400, nil, `{"error":%s}`, providers.Row, "invalid_values", providers.Rejected, 0},
		{"139 on a PATCH", providers.OpUpdate, 400, nil, `{"error":%s}`, providers.Row, "invalid_values", providers.Rejected, 0},
		{"1002 too many failed logins", providers.OpCreate, 401, nil, `{"error":%s}`, providers.Fatal, "credentials_locked", 0, 0},
		{"1403 team user without access", providers.OpUpdate, 403, nil, `{"error":%s}`, providers.Fatal, "no_access", 0, 0},
		{"999 unknown code", providers.OpCreate, 400, nil, `{"error":%s}`, providers.Fatal, "unexpected_error", 0, 0},
		{"105 as a 500", providers.OpCreate, 500, nil, `{"error":%s,"errorMsg":"Server issue, try again"}`, providers.Retryable, "server_error", 0, 0},
		{"5xx", providers.OpCreate, 503, nil, `<html>unavailable</html>`, providers.Retryable, "server_error", 0, 0},
		{"429 with Retry-After", providers.OpUpdate, 429, map[string]string{"Retry-After": "2"}, ``, providers.Retryable, "rate_limited", 0, 2 * time.Second},
		{"401 without body", providers.OpCreate, 401, nil, ``, providers.Fatal, "credentials", 0, 0},
		{"PATCH 404: unknown ID", providers.OpUpdate, 404, nil, ``, providers.Row, "not_found", providers.Failed, 0},
		{"POST 404: no such endpoint", providers.OpCreate, 404, nil, `not found`, providers.Fatal, "unexpected_answer", 0, 0},
		{"not JSON", providers.OpCreate, 400, nil, `bad request`, providers.Fatal, "unexpected_answer", 0, 0},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		code := strings.Fields(tt.name)[0]
		covered[code] = true
		forms := map[string]string{"": tt.body}
		if strings.Contains(tt.body, "%s") {
			forms = map[string]string{"number": fmt.Sprintf(tt.body, code), "string": fmt.Sprintf(tt.body, `"`+code+`"`)}
		}
		for form, body := range forms {
			t.Run(strings.TrimSpace(tt.name+" "+form), func(t *testing.T) {
				c := newTestClient(t, providers.ModeInsert, func(w http.ResponseWriter, r *http.Request) {
					for k, v := range tt.header {
						w.Header().Set(k, v)
					}
					w.WriteHeader(tt.status)
					io.WriteString(w, body)
				})
				batch := &providers.Batch{Op: tt.op, Contacts: contacts("+32470123456")}
				batch.Contacts[0].ID = "1001"
				_, err := c.Apply(context.Background(), batch)
				var pe *providers.Error
				if !errors.As(err, &pe) {
					t.Fatalf("error %v is not a *providers.Error", err)
				}
				if pe.Class != tt.class || pe.Reason != tt.reason || pe.Outcome != tt.outcome || pe.RetryAfter != tt.retryAfter {
					t.Fatalf("got class %v reason %q outcome %v retry-after %v; want %v %q %v %v", pe.Class, pe.Reason, pe.Outcome, pe.RetryAfter, tt.class, tt.reason, tt.outcome, tt.retryAfter)
				}
				if form != "" && pe.Code != code {
					t.Errorf("code %q, want %q", pe.Code, code)
				}
				if strings.Contains(err.Error(), "secret-value-123") || strings.Contains(err.Error(), "client-7") {
					t.Fatalf("a credential leaked into %q", err)
				}
				if tt.reason == "credentials" && (!strings.Contains(err.Error(), envClientID) || !strings.Contains(err.Error(), envClientSecret)) {
					t.Errorf("the hint does not name both variables: %q", err)
				}
				if pe.Class == providers.Fatal && pe.Reason != "unexpected_error" && pe.Reason != "unexpected_answer" && pe.Hint == "" {
					t.Errorf("fatal %s says nothing of what to do", code)
				}
			})
		}
	}
	for code := range codes {
		if !covered[strconv.Itoa(code)] {
			t.Errorf("code %d is not tested", code)
		}
	}
}

// Smstools has no upsert: in upsert mode, a number create finds already
// in the group (129) is looked up in the listing and PATCHed by its ID.
func TestExistingNumberInUpsertMode(t *testing.T) {
	const create = `[{"phone":"32470123456","groupid":42,"firstname":"F56","lastname":"L","birthday":"1980-01-02","extra2":"Building 2B"}]`
	const patch = `[{"ID":77,"phone":"32470123456","groupid":42,"firstname":"F56","lastname":"L","birthday":"1980-01-02","extra2":"Building 2B"}]`
	exists := func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":129,"errorMsg":"Number already exists in group"}`)
	}
	for _, tt := range []struct {
		name    string
		mode    providers.Mode
		phones  []string
		listing string // "" when the listing answers 404
		steps   []string
		want    *providers.Result
		reason  string // of the error, when there is no result
		outcome providers.Outcome
	}{
		{"found and updated", providers.ModeUpsert, []string{"+32470123456"}, `[{"ID":76,"phone":"32470123455"},{"ID":77,"phone":"32470123456"}]`,
			[]string{"POST", "GET", "PATCH"}, &providers.Result{Outcome: providers.Updated, ID: "77"}, "", 0},
		{"not in the listing", providers.ModeUpsert, []string{"+32470123456"}, `[{"ID":76,"phone":"32470123455"}]`,
			[]string{"POST", "GET"}, nil, "exists_not_updated", providers.Failed},
		{"no listing", providers.ModeUpsert, []string{"+32470123456"}, "",
			[]string{"POST", "GET"}, nil, "exists_not_updated", providers.Failed},
		{"insert mode leaves it alone", providers.ModeInsert, []string{"+32470123456"}, "",
			[]string{"POST"}, nil, "exists", providers.Skipped},
		{"a batch is split first", providers.ModeUpsert, []string{"+32470123456", "+32470123457"}, "",
			[]string{"POST"}, nil, "exists", providers.Skipped},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var steps []string
			c := newTestClient(t, tt.mode, func(w http.ResponseWriter, r *http.Request) {
				steps = append(steps, r.Method)
				switch r.Method {
				case http.MethodPost:
					if len(tt.phones) == 1 {
						checkBody(t, r, http.MethodPost, create)
					}
					exists(w)
				case http.MethodGet:
					checkListing(t, r, 1)
					if tt.listing == "" {
						http.NotFound(w, r)
						return
					}
					io.WriteString(w, tt.listing)
				case http.MethodPatch:
					checkBody(t, r, http.MethodPatch, patch)
					w.WriteHeader(http.StatusNoContent)
				}
			})
			batch := &providers.Batch{Op: providers.OpUpsert, Contacts: contacts(tt.phones...)}
			if tt.mode == providers.ModeInsert {
				batch.Op = providers.OpCreate
			}
			res, err := c.Apply(context.Background(), batch)
			if !reflect.DeepEqual(steps, tt.steps) {
				t.Errorf("requests %v, want %v", steps, tt.steps)
			}
			if batch.Contacts[0].ID != "" {
				t.Errorf("the importer's contact was modified: ID %q", batch.Contacts[0].ID)
			}
			if tt.want != nil {
				if err != nil || len(res) != 1 || res[0] != *tt.want {
					t.Fatalf("got %+v, %v; want %+v", res, err, *tt.want)
				}
				return
			}
			var pe *providers.Error
			if !errors.As(err, &pe) || pe.Class != providers.Row || pe.Reason != tt.reason || pe.RowOutcome() != tt.outcome {
				t.Fatalf("got %+v, %v; want a row error %q (%v)", res, err, tt.reason, tt.outcome)
			}
		})
	}
}

func TestNetworkErrorIsRetryable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	}))
	defer srv.Close()
	c, _ := New(providers.Config{Endpoint: srv.URL, Credentials: testCreds, HTTPClient: srv.Client()})
	if _, err := c.Open(context.Background(), providers.Target{List: "42"}); providers.ClassOf(err) != providers.Retryable {
		t.Fatalf("dropped connection on Open: %v (class %v)", err, providers.ClassOf(err))
	}
	_, err := c.Apply(context.Background(), &providers.Batch{Op: providers.OpUpsert, Contacts: contacts("+32470123456")})
	if providers.ClassOf(err) != providers.Retryable {
		t.Fatalf("dropped connection: %v (class %v)", err, providers.ClassOf(err))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.Apply(ctx, &providers.Batch{Op: providers.OpUpsert, Contacts: contacts("+32470123456")})
	if providers.ClassOf(err) == providers.Retryable {
		t.Fatalf("a cancelled request must not be retried: %v", err)
	}
}

func TestNewNeedsCredentials(t *testing.T) {
	_, err := New(providers.Config{Credentials: map[string]string{envClientID: "me"}})
	if err == nil || !strings.Contains(err.Error(), envClientSecret) {
		t.Fatalf("got %v", err)
	}
}

// fastRetry keeps the importer from waiting on backoff.
var fastRetry = importer.RetryPolicy{Attempts: 4, Initial: time.Millisecond, Max: 5 * time.Millisecond, MaxElapsed: 10 * time.Second}

// sandbox is an emulator behind an HTTP server, as --endpoint reaches it.
type sandbox struct {
	em  *Emulator
	srv *httptest.Server
}

func newSandbox(t *testing.T, wrap func(http.Handler) http.Handler) *sandbox {
	t.Helper()
	em := NewEmulator(providers.SandboxOptions{Record: true})
	var h http.Handler = em
	if wrap != nil {
		h = wrap(em)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &sandbox{em: em, srv: srv}
}

func (s *sandbox) run(t *testing.T, mode providers.Mode, csv string) *importer.Report {
	t.Helper()
	file := filepath.Join(t.TempDir(), "contacts.csv")
	if err := os.WriteFile(file, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := importer.Run(context.Background(), importer.Options{
		File: file, Provider: Name, List: "42", Region: "BE", Mode: mode, Endpoint: s.srv.URL,
		Credentials: s.em.Credentials(), Rate: 0, Workers: 1, BatchSize: 16, Retry: fastRetry,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Balanced() {
		t.Fatalf("the report does not account for every row: %+v", rep)
	}
	return rep
}

// count returns how many recorded requests used method.
func (s *sandbox) count(method string) int {
	n := 0
	for _, r := range s.em.Recorded() {
		if r.Method == method {
			n++
		}
	}
	return n
}

// A PATCH with an unknown ID applies nothing (404); the importer splits the
// batch until each unknown ID stands alone and every other row is updated.
func TestUnknownIDsIsolatedBySplitting(t *testing.T) {
	s := newSandbox(t, nil)
	for i := range 16 {
		if i != 6 && i != 7 {
			s.em.Seed("42", providers.StoredContact{Phone: fmt.Sprintf("+324700000%02d", i), FirstName: "Old"})
		}
	}
	ids := map[string]string{}
	for _, c := range s.em.Contacts("42") {
		ids[c.Phone] = c.ID
	}
	var csv strings.Builder
	csv.WriteString("id,first name,mobile\n")
	for i := range 16 {
		id := ids[fmt.Sprintf("+324700000%02d", i)]
		if id == "" {
			id = fmt.Sprint(9990 + i)
		}
		fmt.Fprintf(&csv, "%s,New%02d,0470 00 00 %02d\n", id, i, i)
	}
	rep := s.run(t, providers.ModeUpsert, csv.String())
	if rep.Updated != 14 || rep.Failed != 2 || rep.FailedByReason["not_found"] != 2 {
		t.Errorf("updated %d, failed %d %v; want 14 and 2 not_found", rep.Updated, rep.Failed, rep.FailedByReason)
	}
	// 16 → 8 → 4 → 2 → 1+1 around the two unknown IDs, one request for each
	// half that goes through: 9 PATCHes instead of 16 single ones.
	if n := s.count(http.MethodPatch); n != 9 || rep.Requests != 10 {
		t.Errorf("%d PATCH requests and %d in all, want 9 and 10", n, rep.Requests)
	}
	for _, c := range s.em.Contacts("42") {
		if want := "New" + c.Phone[len(c.Phone)-2:]; c.FirstName != want {
			t.Errorf("%s: first name %q, want %q", c.Phone, c.FirstName, want)
		}
	}
	if n := len(s.em.Contacts("42")); n != 14 {
		t.Errorf("the group holds %d contacts, want 14", n)
	}
}

// Without the listing (the endpoint is a guess), the import still runs:
// create finds existing numbers with code 129, which the importer isolates.
func TestImportWithoutListing(t *testing.T) {
	const csv = "first name,mobile\nA,0470 00 00 01\nB,0470 00 00 02\nC,0470 00 00 03\nD,0470 00 00 04\nE,0470 00 00 05\nF,0470 00 00 06\n"
	var gets atomic.Int32
	noListing := func(always bool) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			gets.Store(0)
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodGet && (gets.Add(1) == 1 || always) {
					http.NotFound(w, r)
					return
				}
				next.ServeHTTP(w, r)
			})
		}
	}
	for _, tt := range []struct {
		name                     string
		mode                     providers.Mode
		always                   bool
		added, updated           int
		skippedExists, failedNot int
		firstName                string // of a seeded contact afterwards
		listings                 int32  // GET requests
	}{
		{"insert", providers.ModeInsert, true, 4, 0, 2, 0, "Old", 1},
		// Open's failure is checked once more, not at each existing number.
		{"upsert, listing absent", providers.ModeUpsert, true, 4, 0, 0, 2, "Old", 2},
		{"upsert, listing failed at Open only", providers.ModeUpsert, false, 4, 2, 0, 0, "B", 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSandbox(t, noListing(tt.always))
			s.em.Seed("42", providers.StoredContact{Phone: "+32470000002", FirstName: "Old"}, providers.StoredContact{Phone: "+32470000005", FirstName: "Old"})
			rep := s.run(t, tt.mode, csv)
			if rep.Added != tt.added || rep.Updated != tt.updated || rep.SkippedByReason["exists"] != tt.skippedExists || rep.FailedByReason["exists_not_updated"] != tt.failedNot {
				t.Errorf("report %+v", rep)
			}
			if gets.Load() != tt.listings {
				t.Errorf("%d listing requests, want %d", gets.Load(), tt.listings)
			}
			got := s.em.Contacts("42")
			if len(got) != 6 || got[1].Phone != "+32470000002" || got[1].FirstName != tt.firstName {
				t.Errorf("the group holds %+v", got)
			}
		})
	}
}

// The emulator must behave like the API for the tests that rely on it.
func TestEmulator(t *testing.T) {
	em := NewEmulator(providers.SandboxOptions{Lists: []string{"42", "43"}, RefusePhones: []string{"+32470000099"}})
	srv := httptest.NewServer(em)
	defer srv.Close()
	send := func(creds map[string]string, method, query, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+pathContact+query, strings.NewReader(body))
		req.Header.Set("X-Client-Id", creds[envClientID])
		req.Header.Set("X-Client-Secret", creds[envClientSecret])
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	good := em.Credentials()
	for _, step := range []struct {
		name, method, query, body string
		status                    int
		answer                    string
	}{
		{"bad credentials", "POST", "", `{"phone":"32470000001","groupid":42}`, 401, `{"error":"104","errorMsg":"Invalid client id or client secret"}`},
		{"one object", "POST", "", `{"phone":"32470000001","groupid":42,"firstname":"Ann"}`, 201, `{"ID":1}`},
		{"an array", "POST", "", `[{"phone":"32470000002","groupid":"42"},{"phone":"32470000003","groupid":42,"extra2":"x"}]`, 201, `{"IDs":[2,3]}`},
		{"bad number refuses the array", "POST", "", `[{"phone":"32470000004","groupid":42},{"phone":"+3247","groupid":42}]`, 400, `{"error":"103","errorMsg":"Invalid phone number: +3247"}`},
		{"refused number", "POST", "", `[{"phone":"32470000099","groupid":42}]`, 400, `{"error":"103","errorMsg":"Invalid phone number: 32470000099"}`},
		{"number in the group refuses the array", "POST", "", `[{"phone":"32470000005","groupid":42},{"phone":"32470000001","groupid":42}]`, 400, `{"error":"129","errorMsg":"Number already exists in group: 32470000001"}`},
		{"number twice in the array", "POST", "", `[{"phone":"32470000006","groupid":42},{"phone":"32470000006","groupid":42}]`, 400, `{"error":"129","errorMsg":"Number already exists in group: 32470000006"}`},
		{"same number in another group", "POST", "", `{"phone":"32470000001","groupid":43}`, 201, `{"ID":4}`},
		{"groupid required", "POST", "", `{"phone":"32470000007"}`, 400, `{"error":"124","errorMsg":"groupid is required"}`},
		{"unknown group", "POST", "", `{"phone":"32470000007","groupid":44}`, 400, `{"error":"125","errorMsg":"Group not found"}`},
		{"empty array", "POST", "", `[]`, 400, `{"error":"122","errorMsg":"No contacts"}`},
		{"empty body", "POST", "", ``, 400, `{"error":"114","errorMsg":"Empty request"}`},
		{"PATCH sets only what it gives", "PATCH", "", `[{"ID":1,"lastname":"Bee"},{"ID":"3","extra3":"Monday"}]`, 204, ``},
		{"PATCH with an unknown ID applies nothing", "PATCH", "", `[{"ID":2,"firstname":"Nope"},{"ID":999,"firstname":"Nope"}]`, 404, `{"errorMsg":"Contact not found"}`},
		{"PATCH without ID", "PATCH", "", `{"firstname":"Nope"}`, 400, `{"error":"123","errorMsg":"Object without ID"}`},
		{"PATCH to a number in use", "PATCH", "", `{"ID":2,"phone":"32470000001"}`, 400, `{"error":"129","errorMsg":"Number already exists in group: 32470000001"}`},
		{"PATCH swapping two numbers", "PATCH", "", `[{"ID":2,"phone":"32470000003"},{"ID":3,"phone":"32470000002"}]`, 204, ``},
		{"listing, page 2", "GET", "?groupid=42&limit=2&page=2", ``, 200, `[{"ID":3,"phone":"32470000002","groupid":42,"extra2":"x","extra3":"Monday"}]`},
		{"listing, limit out of range", "GET", "?groupid=42&limit=2001&page=1", ``, 400, `{"error":"135","errorMsg":"The limit parameter must be an integer between 1 and 2000"}`},
		{"listing, page out of range", "GET", "?groupid=42&limit=10&page=0", ``, 400, `{"error":"136","errorMsg":"The page parameter must be an integer greater than 0"}`},
		{"birthday not yyyy-MM-dd", "POST", "", `{"phone":"32470000009","groupid":42,"birthday":"24/12/1985"}`, 400, `{"error":"139","errorMsg":"Missing or invalid parameters: birthday"}`},
		{"listing, unknown group", "GET", "?groupid=44&limit=10&page=1", ``, 400, `{"error":"125","errorMsg":"Group not found"}`},
	} {
		creds := good
		if step.name == "bad credentials" {
			creds = map[string]string{envClientID: "x", envClientSecret: "y"}
		}
		status, answer := send(creds, step.method, step.query, step.body)
		if status != step.status || answer != step.answer {
			t.Errorf("%s: %d %s, want %d %s", step.name, status, answer, step.status, step.answer)
		}
	}
	got, _ := json.Marshal(em.Contacts("42"))
	want := `[{"Phone":"+32470000001","ID":"1","FirstName":"Ann","LastName":"Bee","Email":"","Birthday":"","Fields":{}},` +
		`{"Phone":"+32470000002","ID":"3","FirstName":"","LastName":"","Email":"","Birthday":"","Fields":{"extra2":"x","extra3":"Monday"}},` +
		`{"Phone":"+32470000003","ID":"2","FirstName":"","LastName":"","Email":"","Birthday":"","Fields":{}}]`
	if string(got) != want {
		t.Errorf("contents\n got  %s\n want %s", got, want)
	}
	em.Seed("42", providers.StoredContact{Phone: "+32470000001", FirstName: "Seeded"}, providers.StoredContact{Phone: "+32470000010", Birthday: "1990-05-06"})
	if c := em.Contacts("42"); len(c) != 4 || c[0].ID != "1" || c[0].FirstName != "Seeded" || c[3].ID != "5" || c[3].Birthday != "1990-05-06" {
		t.Errorf("after Seed: %+v", c)
	}
	if c := em.Contacts("43"); len(c) != 1 || c[0].Phone != "+32470000001" || c[0].ID != "4" {
		t.Errorf("group 43: %+v", c)
	}
}

// Only the documented answer confirms a write: {"ID"} or {"IDs"} with one
// ID per contact for a create, 204 for a PATCH. Any other 2xx is an
// unreadable answer, which the importer retries and then fails as
// not_confirmed.
func TestUnconfirmedAnswers(t *testing.T) {
	for _, tt := range []struct {
		name   string
		op     providers.Op
		phones []string
		status int
		body   string
	}{
		{"create, empty", providers.OpCreate, []string{"+32470123456"}, 200, ``},
		{"create, HTML", providers.OpCreate, []string{"+32470123456"}, 200, `<!DOCTYPE html><html>Maintenance</html>`},
		{"create, truncated", providers.OpCreate, []string{"+32470123456"}, 201, `{"IDs":[10`},
		{"create, unrelated JSON", providers.OpCreate, []string{"+32470123456"}, 200, `{"result":"ok"}`},
		{"create, fewer IDs than contacts", providers.OpCreate, []string{"+32470123456", "+32470123457"}, 201, `{"IDs":[1001]}`},
		{"create, one ID for two contacts", providers.OpCreate, []string{"+32470123456", "+32470123457"}, 201, `{"ID":1001}`},
		{"create, an empty ID", providers.OpCreate, []string{"+32470123456", "+32470123457"}, 201, `{"IDs":[1001,null]}`},
		{"create, not text", providers.OpCreate, []string{"+32470123456"}, 200, `created`},
		{"update, 200 empty", providers.OpUpdate, []string{"+32470123456"}, 200, ``},
		{"update, 200 with JSON", providers.OpUpdate, []string{"+32470123456"}, 200, `{"ok":true}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, providers.ModeUpsert, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			cts := contacts(tt.phones...)
			for _, ct := range cts {
				ct.ID = "1001"
			}
			res, err := c.Apply(context.Background(), &providers.Batch{Op: tt.op, Contacts: cts})
			var pe *providers.Error
			if !errors.As(err, &pe) || pe.Class != providers.Retryable || pe.Reason != providers.ReasonUnreadable || res != nil {
				t.Fatalf("got %v, %v; want no result and a retryable %s", res, err, providers.ReasonUnreadable)
			}
		})
	}
}

// A listing page is streamed within limits: a contact too large to be a
// Smstools answer stops the run rather than being taken for a listing that
// does not exist.
func TestOpenRefusesHugeListing(t *testing.T) {
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `[{"ID":1,"phone":"32470000001","extra1":"`+strings.Repeat("x", 2*providers.MaxItemSize)+`"}]`)
	})
	_, err := c.Open(context.Background(), providers.Target{List: "42", Mode: providers.ModeUpsert})
	var pe *providers.Error
	if !errors.As(err, &pe) || pe.Class != providers.Fatal || pe.Reason != providers.ReasonTooLarge {
		t.Fatalf("got %.300v, want a fatal %s", err, providers.ReasonTooLarge)
	}
}

// A field of the wrong kind is named by its kind in the message, never
// quoted: an object of 100 kB was copied whole into it (and into the log
// line that says the listing cannot be read).
func TestWrongKindNotQuoted(t *testing.T) {
	for _, tt := range []struct{ value, kind string }{
		{`{"x":"` + strings.Repeat("x", 100<<10) + `"}`, "an object"},
		{`[1,2]`, "an array"},
		{`true`, "a boolean"},
	} {
		var lc listedContact
		err := json.Unmarshal([]byte(`{"ID":`+tt.value+`}`), &lc)
		if err == nil || len(err.Error()) > 200 || !strings.Contains(err.Error(), "got "+tt.kind) {
			t.Errorf("%.20s: got %.300v, want a short message naming %s", tt.value, err, tt.kind)
		}
	}
}

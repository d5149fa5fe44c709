package octopush

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"contactsync/mapping"
	"contactsync/providers"
	"contactsync/providers/providertest"
)

var testCreds = map[string]string{envLogin: "me@example.com", envKey: "secret-key-123"}

// newTestClient starts a server under a path prefix, so that a client that
// ignored --endpoint's path would miss every route.
func newTestClient(t *testing.T, h http.HandlerFunc) *Client {
	t.Helper()
	endpoint, client := providertest.PrefixedServer(t, h)
	c, err := New(providers.Config{Endpoint: endpoint, Credentials: testCreds, HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Open(context.Background(), providers.Target{List: "customers", Mode: providers.ModeUpsert}); err != nil {
		t.Fatal(err)
	}
	return c
}

// contacts makes contacts with an e-mail, which Octopush does not store:
// no request may carry it.
func contacts(phones ...string) []*mapping.Contact {
	out := make([]*mapping.Contact, len(phones))
	for i, p := range phones {
		out[i] = &mapping.Contact{Line: i + 2, Phone: p, Key: mapping.KeyOf(p), FirstName: "F" + p[len(p)-2:], LastName: "L",
			Email: "e" + p[len(p)-2:] + "@example.com", Custom: map[string]string{"param3": "Mme"}}
	}
	return out
}

func TestCreateRequest(t *testing.T) {
	for _, tt := range []struct {
		op             providers.Op
		doNotOverwrite bool
	}{{providers.OpUpsert, false}, {providers.OpCreate, true}} {
		t.Run(tt.op.String(), func(t *testing.T) {
			c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.URL.Path != "/prefix/v1/public/contact/create" {
					t.Errorf("%s %s", r.Method, r.URL.Path)
				}
				for h, want := range map[string]string{"api-login": "me@example.com", "api-key": "secret-key-123", "Content-Type": "application/json"} {
					if got := r.Header.Get(h); got != want {
						t.Errorf("header %s = %q, want %q", h, got, want)
					}
				}
				var req map[string]any
				json.NewDecoder(r.Body).Decode(&req)
				want := map[string]any{
					"contacts": []any{
						map[string]any{"phone_number": "+33612345678", "first_name": "F78", "last_name": "L", "param3": "Mme"},
						map[string]any{"phone_number": "+33612345679", "first_name": "F79", "last_name": "L", "param3": "Mme"},
						map[string]any{"phone_number": "+33612345670", "first_name": "F70", "last_name": "L", "param3": "Mme"},
						map[string]any{"phone_number": "+33612345671", "first_name": "F71", "last_name": "L", "param3": "Mme"},
					},
					"list_name": "customers", "tag_name": "vip", "do_not_overwrite": tt.doNotOverwrite,
				}
				if !reflect.DeepEqual(req, want) {
					t.Errorf("body\n got  %v\n want %v", req, want)
				}
				w.WriteHeader(http.StatusCreated)
				// Items echo numbers in any order; one without "+".
				// An undocumented status confirms nothing.
				io.WriteString(w, `{"items":[{"phone_number":"33612345679","status":"updated"},{"phone_number":"+33612345678","status":"added"},`+
					`{"phone_number":"+33612345671","status":"secret-key-123"}]}`)
			})
			res, err := c.Apply(context.Background(), &providers.Batch{Op: tt.op, Tag: "vip", Contacts: contacts("+33612345678", "+33612345679", "+33612345670", "+33612345671")})
			if err != nil {
				t.Fatal(err)
			}
			want := []providers.Result{{Outcome: providers.Added}, {Outcome: providers.Updated},
				{Outcome: providers.Failed, Reason: "not_confirmed"}, {Outcome: providers.Failed, Reason: "not_confirmed"}}
			if !reflect.DeepEqual(res, want) {
				t.Fatalf("results %+v, want %+v", res, want)
			}
		})
	}
}

func TestDeleteRequest(t *testing.T) {
	c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		var req deleteRequest
		json.NewDecoder(r.Body).Decode(&req)
		if r.Method != http.MethodDelete || !strings.HasSuffix(r.URL.Path, pathDelete) ||
			!reflect.DeepEqual(req, deleteRequest{PhoneNumbers: []string{"+33612345678"}, ListName: "customers"}) {
			t.Errorf("%s %s %+v", r.Method, r.URL.Path, req)
		}
	})
	res, err := c.Apply(context.Background(), &providers.Batch{Op: providers.OpDelete, Contacts: contacts("+33612345678")})
	if err != nil || len(res) != 1 || res[0].Outcome != providers.Deleted {
		t.Fatalf("%v %v", res, err)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		class      providers.Class
		reason     string
		outcome    providers.Outcome
		retryAfter time.Duration
	}{
		{"bad login", 400, nil, `{"code":101,"message":"bad login"}`, providers.Fatal, "credentials", 0, 0},
		{"code as a string", 400, nil, `{"code":"104","message":"no credit"}`, providers.Fatal, "no_credit", 0, 0},
		{"account not validated", 400, nil, `{"code":113}`, providers.Fatal, "account_not_validated", 0, 0},
		{"fraud", 400, nil, `{"code":114}`, providers.Fatal, "fraud_check", 0, 0},
		{"no list rights", 403, nil, `{"code":300}`, providers.Fatal, "no_list_rights", 0, 0},
		{"too many lists", 400, nil, `{"code":301}`, providers.Fatal, "too_many_lists", 0, 0},
		{"list already exists", 400, nil, `{"code":302}`, providers.Fatal, "list_exists", 0, 0},
		{"list full", 400, nil, `{"code":304}`, providers.Fatal, "list_full", 0, 0},
		{"unknown action", 400, nil, `{"code":306,"message":"The requested action is unknown."}`, providers.Fatal, "unknown_action", 0, 0},
		{"error of file", 400, nil, `{"code":308}`, providers.Fatal, "file_error", 0, 0},
		{"undefined error", 400, nil, `{"code":125}`, providers.Retryable, "undefined_error", 0, 0},
		{"unknown list", 400, nil, `{"code":303}`, providers.Fatal, "unknown_list", 0, 0},
		{"no valid number", 400, nil, `{"code":117}`, providers.Row, "invalid_phone", providers.Rejected, 0},
		{"country", 400, nil, `{"code":150}`, providers.Row, "country_not_allowed", providers.Rejected, 0},
		{"country 151", 400, nil, `{"code":151}`, providers.Row, "country_not_allowed", providers.Rejected, 0},
		{"too many contacts", 400, nil, `{"code":305}`, providers.Row, "batch_too_large", providers.Failed, 0},
		{"cannot process", 400, nil, `{"code":500}`, providers.Retryable, "server_error", 0, 0},
		{"connection error", 400, nil, `{"code":501}`, providers.Retryable, "connection_error", 0, 0},
		{"5xx", 503, nil, `<html>bad gateway</html>`, providers.Retryable, "server_error", 0, 0},
		{"429 with Retry-After", 429, map[string]string{"Retry-After": "2"}, ``, providers.Retryable, "rate_limited", 0, 2 * time.Second},
		{"401 without body", 401, nil, ``, providers.Fatal, "credentials", 0, 0},
		{"unknown code", 400, nil, `{"code":999,"message":"?"}`, providers.Fatal, "unexpected_error", 0, 0},
		{"not json", 404, nil, `not found`, providers.Fatal, "unexpected_answer", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			_, err := c.Apply(context.Background(), &providers.Batch{Op: providers.OpUpsert, Contacts: contacts("+33612345678")})
			var pe *providers.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *providers.Error", err)
			}
			if pe.Class != tt.class || pe.Reason != tt.reason || pe.Outcome != tt.outcome || pe.RetryAfter != tt.retryAfter {
				t.Fatalf("got class %v reason %q outcome %v retry-after %v; want %v %q %v %v", pe.Class, pe.Reason, pe.Outcome, pe.RetryAfter, tt.class, tt.reason, tt.outcome, tt.retryAfter)
			}
			if strings.Contains(err.Error(), "secret-key-123") {
				t.Fatalf("the key leaked into %q", err)
			}
			if pe.Class == providers.Fatal && pe.Hint == "" && pe.Reason != "unexpected_error" && pe.Reason != "unexpected_answer" {
				t.Errorf("fatal %s says nothing of what to do", pe.Code)
			}
		})
	}
	covered := map[int]bool{}
	for _, tt := range tests {
		var er errorResponse
		if json.Unmarshal([]byte(tt.body), &er) == nil {
			covered[int(er.Code)] = true
		}
	}
	for code := range codes {
		if !covered[code] {
			t.Errorf("code %d is not tested", code)
		}
	}
}

func TestNetworkErrorIsRetryable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	}))
	defer srv.Close()
	c, _ := New(providers.Config{Endpoint: srv.URL, Credentials: testCreds, HTTPClient: srv.Client()})
	_, err := c.Apply(context.Background(), &providers.Batch{Op: providers.OpUpsert, Contacts: contacts("+33612345678")})
	if providers.ClassOf(err) != providers.Retryable {
		t.Fatalf("dropped connection: %v (class %v)", err, providers.ClassOf(err))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.Apply(ctx, &providers.Batch{Op: providers.OpUpsert, Contacts: contacts("+33612345678")})
	if providers.ClassOf(err) == providers.Retryable {
		t.Fatalf("a cancelled request must not be retried: %v", err)
	}
}

func TestNewNeedsCredentials(t *testing.T) {
	_, err := New(providers.Config{Credentials: map[string]string{envLogin: "me"}})
	if err == nil || !strings.Contains(err.Error(), envKey) {
		t.Fatalf("got %v", err)
	}
}

// The emulator must behave like the API for the tests that rely on it.
func TestEmulator(t *testing.T) {
	em := NewEmulator(providers.SandboxOptions{Lists: []string{"customers"}})
	em.MaxContacts = 2
	srv := httptest.NewServer(em)
	defer srv.Close()
	client := func(creds map[string]string, mode providers.Mode) *Client {
		c, _ := New(providers.Config{Endpoint: srv.URL, Credentials: creds, HTTPClient: srv.Client()})
		c.Open(context.Background(), providers.Target{List: "customers", Mode: mode})
		return c
	}
	c := client(em.Credentials(), providers.ModeUpsert)
	ctx := context.Background()
	apply := func(c *Client, op providers.Op, phones ...string) ([]providers.Result, error) {
		return c.Apply(ctx, &providers.Batch{Op: op, Tag: "t", Contacts: contacts(phones...)})
	}
	if res, err := apply(c, providers.OpUpsert, "+33612345678"); err != nil || res[0].Outcome != providers.Added {
		t.Fatalf("first create: %v %v", res, err)
	}
	if res, err := apply(c, providers.OpUpsert, "+33612345678", "+33612345679"); err != nil || res[0].Outcome != providers.Updated || res[1].Outcome != providers.Added {
		t.Fatalf("upsert: %v %v", res, err)
	}
	if res, err := apply(c, providers.OpCreate, "+33612345678"); err != nil || res[0].Outcome != providers.Skipped {
		t.Fatalf("do_not_overwrite: %v %v", res, err)
	}
	if _, err := apply(c, providers.OpUpsert, "+33612345671", "+33612345672", "+33612345673"); providers.ClassOf(err) != providers.Row {
		t.Fatalf("over MaxContacts: %v", err)
	}
	if _, err := apply(c, providers.OpUpsert, "0612345678"); providers.ClassOf(err) != providers.Row {
		t.Fatalf("not E.164: %v", err)
	}
	if _, err := apply(client(map[string]string{envLogin: "x", envKey: "y"}, providers.ModeUpsert), providers.OpUpsert, "+33612345678"); providers.ClassOf(err) != providers.Fatal {
		t.Fatalf("bad credentials: %v", err)
	}
	other, _ := New(providers.Config{Endpoint: srv.URL, Credentials: em.Credentials(), HTTPClient: srv.Client()})
	other.Open(ctx, providers.Target{List: "nope"})
	if _, err := apply(other, providers.OpUpsert, "+33612345678"); providers.ClassOf(err) != providers.Fatal {
		t.Fatalf("unknown list: %v", err)
	}
	got := em.Contacts("customers")
	if len(got) != 2 || got[0].Phone != "+33612345678" || got[0].Fields["param3"] != "Mme" || got[0].Fields["tags"] != "t" || got[0].Email != "" {
		t.Fatalf("contents %+v", got)
	}
	// An overwrite keeps the fields it is not sent [guess], and an unknown
	// field is ignored.
	body := `{"contacts":[{"phone_number":"+33612345678","first_name":"Nouveau","email":"x@example.com","param9":"?"}],"list_name":"customers"}`
	req, _ := http.NewRequest(http.MethodPost, srv.URL+pathCreate, strings.NewReader(body))
	for k, v := range map[string]string{"api-login": SandboxLogin, "api-key": SandboxKey, "Content-Type": "application/json"} {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("overwrite: %v %v", resp, err)
	}
	resp.Body.Close()
	if got := em.Contacts("customers")[0]; got.FirstName != "Nouveau" || got.LastName != "L" || got.Fields["param3"] != "Mme" || got.Email != "" {
		t.Fatalf("after an overwrite without last_name and param3: %+v", got)
	}
	if _, err := apply(c, providers.OpDelete, "+33612345678"); err != nil || len(em.Contacts("customers")) != 1 {
		t.Fatalf("delete: %v, %d left", err, len(em.Contacts("customers")))
	}
}

// Only the documented answer confirms a write: any other 2xx is an
// unreadable answer, which the importer retries and then fails as
// not_confirmed.
func TestUnconfirmedAnswers(t *testing.T) {
	for _, tt := range []struct {
		name   string
		op     providers.Op
		status int
		body   string
	}{
		{"create, empty", providers.OpUpsert, 201, ``},
		{"create, HTML", providers.OpUpsert, 200, `<html><body>Welcome to nginx!</body></html>`},
		{"create, truncated", providers.OpUpsert, 201, `{"items":[{"phone_number":"+33612345678","status":"ad`},
		{"create, unrelated JSON", providers.OpUpsert, 200, `{"success":true}`},
		{"create, items null", providers.OpUpsert, 201, `{"items":null}`},
		{"create, more after the answer", providers.OpUpsert, 201, `{"items":[]}<html>`},
		{"delete, HTML", providers.OpDelete, 200, `<html>ok</html>`},
		{"delete, truncated", providers.OpDelete, 200, `{"deleted":`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			res, err := c.Apply(context.Background(), &providers.Batch{Op: tt.op, Contacts: contacts("+33612345678")})
			var pe *providers.Error
			if !errors.As(err, &pe) || pe.Class != providers.Retryable || pe.Reason != providers.ReasonUnreadable || res != nil {
				t.Fatalf("got %v, %v; want no result and a retryable %s", res, err, providers.ReasonUnreadable)
			}
		})
	}
}

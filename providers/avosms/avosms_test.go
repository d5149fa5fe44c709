package avosms

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"contactsync/importer"
	"contactsync/mapping"
	"contactsync/providers"
	"contactsync/providers/providertest"
)

var testCreds = map[string]string{envID: "me@example.com", envKey: "secret-key-123"}

// newServer starts a server under a path prefix, so that a client that
// ignored --endpoint's path would miss every route, and returns a client of
// it.
func newServer(t *testing.T, h http.HandlerFunc) *Client {
	t.Helper()
	endpoint, client := providertest.PrefixedServer(t, h)
	c, err := New(providers.Config{Endpoint: endpoint, Credentials: testCreds, HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newTestClient is newServer for Apply tests: the target is set as Open
// sets it, without Open's own request.
func newTestClient(t *testing.T, mode providers.Mode, h http.HandlerFunc) *Client {
	t.Helper()
	c := newServer(t, h)
	c.target = providers.Target{List: "1001", Mode: mode}
	return c
}

// expectForm checks that r is a form POST to path carrying the credentials
// and exactly want, in the body and nowhere else.
func expectForm(t *testing.T, r *http.Request, path string, want url.Values) {
	t.Helper()
	if r.Method != http.MethodPost || r.URL.Path != "/prefix"+path || r.URL.RawQuery != "" {
		t.Errorf("request %s %s?%s, want POST /prefix%s", r.Method, r.URL.Path, r.URL.RawQuery, path)
	}
	for h, v := range map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"} {
		if got := r.Header.Get(h); got != v {
			t.Errorf("header %s = %q, want %q", h, got, v)
		}
	}
	if err := r.ParseForm(); err != nil {
		t.Fatal(err)
	}
	full := url.Values{"id": {"me@example.com"}, "key": {"secret-key-123"}}
	for k, v := range want {
		full[k] = v
	}
	if !reflect.DeepEqual(r.PostForm, full) {
		t.Errorf("form of %s\n got  %v\n want %v", path, r.PostForm, full)
	}
}

func answerCode(w http.ResponseWriter, code string) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"status":"x","code":"`+code+`"}`)
}

func fullContact(phone string) *mapping.Contact {
	return &mapping.Contact{Line: 2, Phone: phone, Key: mapping.KeyOf(phone), FirstName: "Élodie", LastName: "Martin",
		Email: "e@example.com", Birthday: "1985-12-24", Civility: mapping.CivilityFemale, Custom: map[string]string{"contactOther": "VIP"}}
}

func fullForm(phone string) url.Values {
	return url.Values{"listContactId": {"1001"}, "contactTelephoneNumber": {phone}, "contactCivility": {"Mme"},
		"contactName": {"Martin"}, "contactFirstName": {"Élodie"}, "contactEmail": {"e@example.com"},
		"contactBirthday": {"24/12/1985"}, "contactOther": {"VIP"}}
}

func apply(c *Client, op providers.Op, ct *mapping.Contact) ([]providers.Result, error) {
	return c.Apply(context.Background(), &providers.Batch{Op: op, Attempt: 1, Contacts: []*mapping.Contact{ct}})
}

func TestWriteRequests(t *testing.T) {
	sparse := &mapping.Contact{Phone: "+33612345678", Key: 33612345678, FirstName: "Paul"}
	for _, tt := range []struct {
		name string
		op   providers.Op
		ct   *mapping.Contact
		path string
		form url.Values
		want providers.Result
	}{
		{"upsert adds", providers.OpUpsert, fullContact("+33612345678"), pathAdd, fullForm("+33612345678"), providers.Result{Outcome: providers.Added}},
		{"create adds", providers.OpCreate, fullContact("+33612345678"), pathAdd, fullForm("+33612345678"), providers.Result{Outcome: providers.Added}},
		{"update", providers.OpUpdate, fullContact("+33612345678"), pathUpdate, fullForm("+33612345678"), providers.Result{Outcome: providers.Updated}},
		// Update clears what it is not sent: empty fields are sent too.
		{"update sends every field", providers.OpUpdate, sparse, pathUpdate, url.Values{"listContactId": {"1001"},
			"contactTelephoneNumber": {"+33612345678"}, "contactCivility": {""}, "contactName": {""}, "contactFirstName": {"Paul"},
			"contactEmail": {""}, "contactBirthday": {""}, "contactOther": {""}}, providers.Result{Outcome: providers.Updated}},
		{"delete", providers.OpDelete, fullContact("+33612345678"), pathDelete,
			url.Values{"listContactId": {"1001"}, "contactTelephoneNumber": {"+33612345678"}}, providers.Result{Outcome: providers.Deleted}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, providers.ModeUpsert, func(w http.ResponseWriter, r *http.Request) {
				expectForm(t, r, tt.path, tt.form)
				answerCode(w, "OK")
			})
			res, err := apply(c, tt.op, tt.ct)
			if err != nil || !reflect.DeepEqual(res, []providers.Result{tt.want}) {
				t.Fatalf("got %+v %v, want %+v", res, err, tt.want)
			}
		})
	}
}

// Between Open and a request, another writer may add or remove the contact,
// or a retried add may find its first attempt applied: Apply falls back
// from one endpoint to the other as the mode allows, with the same form.
func TestFallbacks(t *testing.T) {
	tests := []struct {
		name    string
		op      providers.Op
		mode    providers.Mode
		answers map[string][]string // path → codes, in order
		paths   []string
		want    providers.Result
		class   providers.Class
		reason  string
	}{
		{"add exists, upsert updates", providers.OpCreate, providers.ModeUpsert, map[string][]string{pathAdd: {"ERR_104"}, pathUpdate: {"OK"}},
			[]string{pathAdd, pathUpdate}, providers.Result{Outcome: providers.Updated}, 0, ""},
		{"add exists, mirror updates", providers.OpUpsert, providers.ModeMirror, map[string][]string{pathAdd: {"ERR_104"}, pathUpdate: {"OK"}},
			[]string{pathAdd, pathUpdate}, providers.Result{Outcome: providers.Updated}, 0, ""},
		{"add exists, insert skips", providers.OpCreate, providers.ModeInsert, map[string][]string{pathAdd: {"ERR_104"}},
			[]string{pathAdd}, providers.Result{Outcome: providers.Skipped, Reason: "exists"}, 0, ""},
		{"update missing, upsert adds", providers.OpUpdate, providers.ModeUpsert, map[string][]string{pathUpdate: {"ERR_104"}, pathAdd: {"OK"}},
			[]string{pathUpdate, pathAdd}, providers.Result{Outcome: providers.Added}, 0, ""},
		{"update missing, mirror adds", providers.OpUpdate, providers.ModeMirror, map[string][]string{pathUpdate: {"ERR_104"}, pathAdd: {"OK"}},
			[]string{pathUpdate, pathAdd}, providers.Result{Outcome: providers.Added}, 0, ""},
		{"update missing, update mode skips", providers.OpUpdate, providers.ModeUpdate, map[string][]string{pathUpdate: {"ERR_104"}},
			[]string{pathUpdate}, providers.Result{Outcome: providers.Skipped, Reason: "not_found"}, 0, ""},
		{"add exists then update missing", providers.OpCreate, providers.ModeUpsert, map[string][]string{pathAdd: {"ERR_104"}, pathUpdate: {"ERR_104"}},
			[]string{pathAdd, pathUpdate}, providers.Result{}, providers.Retryable, "contact_changed"},
		{"update missing then add exists", providers.OpUpdate, providers.ModeUpsert, map[string][]string{pathUpdate: {"ERR_104"}, pathAdd: {"ERR_104"}},
			[]string{pathUpdate, pathAdd}, providers.Result{}, providers.Retryable, "contact_changed"},
		{"fallback refused on its own", providers.OpCreate, providers.ModeUpsert, map[string][]string{pathAdd: {"ERR_104"}, pathUpdate: {"ERR_108"}},
			[]string{pathAdd, pathUpdate}, providers.Result{}, providers.Row, "number_type_not_allowed"},
		{"fallback transient", providers.OpUpdate, providers.ModeUpsert, map[string][]string{pathUpdate: {"ERR_104"}, pathAdd: {"ERR_950"}},
			[]string{pathUpdate, pathAdd}, providers.Result{}, providers.Retryable, "server_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var paths []string
			c := newTestClient(t, tt.mode, func(w http.ResponseWriter, r *http.Request) {
				path := strings.TrimPrefix(r.URL.Path, "/prefix")
				expectForm(t, r, path, fullForm("+33612345678"))
				mu.Lock()
				defer mu.Unlock()
				paths = append(paths, path)
				if len(tt.answers[path]) == 0 {
					t.Errorf("unexpected request to %s", path)
					answerCode(w, "ERR_999")
					return
				}
				answerCode(w, tt.answers[path][0])
				tt.answers[path] = tt.answers[path][1:]
			})
			res, err := apply(c, tt.op, fullContact("+33612345678"))
			if !slices.Equal(paths, tt.paths) {
				t.Errorf("requests %v, want %v", paths, tt.paths)
			}
			if tt.class != 0 {
				var pe *providers.Error
				if !errors.As(err, &pe) || pe.Class != tt.class || pe.Reason != tt.reason {
					t.Fatalf("error %v, want class %v reason %q", err, tt.class, tt.reason)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(res, []providers.Result{tt.want}) {
				t.Fatalf("got %+v %v, want %+v", res, err, tt.want)
			}
		})
	}
}

func TestDeleteOfMissingContactIsDone(t *testing.T) {
	c := newTestClient(t, providers.ModeMirror, func(w http.ResponseWriter, r *http.Request) {
		expectForm(t, r, pathDelete, url.Values{"listContactId": {"1001"}, "contactTelephoneNumber": {"+33612345678"}})
		answerCode(w, "ERR_104")
	})
	res, err := apply(c, providers.OpDelete, fullContact("+33612345678"))
	if err != nil || !reflect.DeepEqual(res, []providers.Result{{Outcome: providers.Deleted}}) {
		t.Fatalf("got %+v %v", res, err)
	}
}

func TestApplyRefusesWhatAvoSMSCannotDo(t *testing.T) {
	c := newTestClient(t, providers.ModeUpsert, func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("nothing should be sent, got %s", r.URL.Path)
	})
	two := []*mapping.Contact{fullContact("+33612345678"), fullContact("+33612345679")}
	if _, err := c.Apply(context.Background(), &providers.Batch{Op: providers.OpUpsert, Contacts: two}); err == nil {
		t.Fatal("a batch of two was accepted")
	}
	if _, err := c.Apply(context.Background(), &providers.Batch{Op: 0, Contacts: two[:1]}); err == nil {
		t.Fatal("an unknown operation was accepted")
	}
}

func TestOpen(t *testing.T) {
	want := &providers.ListInfo{Region: "FR", Existing: map[uint64]string{33612345678: "", 33612345679: "", 33612345670: "", 33612345671: ""}}
	// Numbers in every form the undocumented list might use, and one that
	// cannot be read.
	contacts := `[{"contact_telephone_number":"+33612345678","contact_birthday":null},{"contact_telephone_number":"0612345679"},` +
		`{"contact_telephone_number":"33612345670"},{"contact_telephone_number":33612345671},{"contact_telephone_number":"n/a"}]`
	asObject := `{"7":{"contact_telephone_number":"+33612345678"},"9":{"contact_telephone_number":"06 12 34 56 79"}}`
	tests := []struct {
		name   string
		body   string
		want   *providers.ListInfo
		class  providers.Class
		reason string
		hint   []string
	}{
		{"list", `{"status":"success","code":"OK","list_contact_name":"Clients","list_contact_country_name":"France",` +
			`"list_contact_country_code":"fr","nb_contact_list":"5","list_contact_creation_date":"2024-01-02 03:04:05","list_contact":` + contacts + `}`,
			want, 0, "", nil},
		{"contacts before the country", `{"code":"OK","list_contact":` + contacts + `,"list_contact_country_code":"FR"}`, want, 0, "", nil},
		{"contacts as an object", `{"code":" ok ","list_contact_country_code":"FR","list_contact":` + asObject + `}`,
			&providers.ListInfo{Region: "FR", Existing: map[uint64]string{33612345678: "", 33612345679: ""}}, 0, "", nil},
		{"empty list", `{"code":"OK","list_contact_country_code":"BE","list_contact":null}`,
			&providers.ListInfo{Region: "BE", Existing: map[uint64]string{}}, 0, "", nil},
		{"country unreadable", `{"code":"OK","list_contact_country_code":"France","list_contact":[]}`,
			&providers.ListInfo{Existing: map[uint64]string{}}, 0, "", nil},
		{"credentials", `{"status":"error","code":"ERR_100"}`, nil, providers.Fatal, "credentials", []string{envID, envKey}},
		{"unknown list", `{"status":"error","code":"ERR_101"}`, nil, providers.Fatal, "unknown_list", []string{"--list"}},
		{"processing error", `{"status":"error","code":"ERR_917"}`, nil, providers.Retryable, "server_error", nil},
		{"truncated", `{"code":"OK","list_contact":[{"contact_telephone_number":"+336`, nil, providers.Retryable, "unreadable_answer", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				expectForm(t, r, pathListInfo, url.Values{"listContactId": {"1001"}})
				io.WriteString(w, tt.body)
			})
			info, err := c.Open(context.Background(), providers.Target{List: "1001", Mode: providers.ModeInsert})
			if c.target.Mode != providers.ModeInsert {
				t.Errorf("Open did not remember the mode: %+v", c.target)
			}
			if tt.class == 0 {
				if err != nil || !reflect.DeepEqual(info, tt.want) {
					t.Fatalf("got %+v %v, want %+v", info, err, tt.want)
				}
				return
			}
			var pe *providers.Error
			if !errors.As(err, &pe) || pe.Class != tt.class || pe.Reason != tt.reason {
				t.Fatalf("error %v, want class %v reason %q", err, tt.class, tt.reason)
			}
			for _, h := range tt.hint {
				if !strings.Contains(pe.Hint, h) {
					t.Errorf("hint %q does not mention %s", pe.Hint, h)
				}
			}
		})
	}
}

// An update sends, for every field the row leaves empty, the value
// list/information showed: AvoSMS clears what it is not sent, and an empty
// cell keeps the provider's value.
func TestUpdateKeepsWhatTheRowLeavesEmpty(t *testing.T) {
	list := `{"code":"OK","list_contact_country_code":"FR","list_contact":[` +
		`{"contact_telephone_number":"+33612345678","contact_civility":"M","contact_name":"Durand","contact_first_name":"Jean",` +
		`"contact_email":"j@example.com","contact_birthday":"1970-01-02","contact_other":"ancien \"client\""},` +
		`{"contact_telephone_number":"0612345679","contact_civility":null,"contact_name":"","contact_first_name":"Anne",` +
		`"contact_email":null,"contact_birthday":"03/04/1975","contact_other":{"unexpected":true}}]}`
	tests := []struct {
		name string
		ct   *mapping.Contact
		form url.Values
	}{
		{"every cell empty but the first name", &mapping.Contact{Phone: "+33612345678", Key: 33612345678, FirstName: "Paul"},
			url.Values{"listContactId": {"1001"}, "contactTelephoneNumber": {"+33612345678"}, "contactCivility": {"M"},
				"contactName": {"Durand"}, "contactFirstName": {"Paul"}, "contactEmail": {"j@example.com"},
				"contactBirthday": {"02/01/1970"}, "contactOther": {`ancien "client"`}}},
		{"a full row replaces everything", fullContact("+33612345678"), fullForm("+33612345678")},
		{"listed as written", &mapping.Contact{Phone: "+33612345679", Key: 33612345679, LastName: "Roux"},
			url.Values{"listContactId": {"1001"}, "contactTelephoneNumber": {"+33612345679"}, "contactCivility": {""},
				"contactName": {"Roux"}, "contactFirstName": {"Anne"}, "contactEmail": {""},
				"contactBirthday": {"03/04/1975"}, "contactOther": {""}}},
		{"not listed", &mapping.Contact{Phone: "+33612345670", Key: 33612345670, FirstName: "Léa"},
			url.Values{"listContactId": {"1001"}, "contactTelephoneNumber": {"+33612345670"}, "contactCivility": {""},
				"contactName": {""}, "contactFirstName": {"Léa"}, "contactEmail": {""}, "contactBirthday": {""}, "contactOther": {""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/prefix"+pathListInfo {
					io.WriteString(w, list)
					return
				}
				expectForm(t, r, pathUpdate, tt.form)
				answerCode(w, "OK")
			})
			if _, err := c.Open(context.Background(), providers.Target{List: "1001", Mode: providers.ModeUpsert}); err != nil {
				t.Fatal(err)
			}
			if _, err := apply(c, providers.OpUpdate, tt.ct); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	type result struct {
		class   providers.Class
		reason  string
		outcome providers.Outcome
	}
	fatal := func(reason string) result { return result{providers.Fatal, reason, 0} }
	retry := func(reason string) result { return result{providers.Retryable, reason, 0} }
	reject := func(reason string) result { return result{providers.Row, reason, providers.Rejected} }
	skip := func(reason string) result { return result{providers.Row, reason, providers.Skipped} }
	tests := []struct {
		path, code string
		want       result
	}{
		{pathListInfo, "ERR_100", fatal("credentials")},
		{pathListInfo, "ERR_101", fatal("unknown_list")},
		{pathListInfo, "ERR_900", retry("server_error")},

		{pathAdd, "ERR_100", fatal("credentials")},
		{pathAdd, "ERR_101", fatal("unknown_list")},
		{pathAdd, "ERR_102", reject("missing_phone")},
		{pathAdd, "ERR_103", fatal("unknown_list")},
		{pathAdd, "ERR_104", skip("exists")},
		{pathAdd, "ERR_105", reject("invalid_phone")},
		{pathAdd, "ERR_106", reject("country_mismatch")},
		{pathAdd, "ERR_107", reject("number_type_not_allowed")},
		{pathAdd, "ERR_901", retry("server_error")},
		{pathAdd, "ERR_108", fatal("unexpected_error")},

		{pathUpdate, "ERR_100", fatal("credentials")},
		{pathUpdate, "ERR_101", fatal("unknown_list")},
		{pathUpdate, "ERR_102", reject("missing_phone")},
		{pathUpdate, "ERR_103", fatal("unknown_list")},
		{pathUpdate, "ERR_104", skip("not_found")},
		{pathUpdate, "ERR_105", reject("exists")},
		{pathUpdate, "ERR_106", reject("invalid_phone")},
		{pathUpdate, "ERR_107", reject("country_mismatch")},
		{pathUpdate, "ERR_108", reject("number_type_not_allowed")},
		{pathUpdate, "ERR_999", retry("server_error")},
		{pathUpdate, "ERR_109", fatal("unexpected_error")},

		{pathDelete, "ERR_100", fatal("credentials")},
		{pathDelete, "ERR_101", fatal("unknown_list")},
		{pathDelete, "ERR_102", reject("missing_phone")},
		{pathDelete, "ERR_103", fatal("unknown_list")},
		{pathDelete, "ERR_104", skip("not_found")},
		{pathDelete, "ERR_942", retry("server_error")},
		{pathDelete, "ERR_105", fatal("unexpected_error")},

		{pathAdd, "ERR_9AB", fatal("unexpected_error")},
		{pathAdd, "ERR_9001", fatal("unexpected_error")},
		{pathAdd, "ERR_900 ", retry("server_error")},
		{pathAdd, "err_105", reject("invalid_phone")},
	}
	covered := map[codeKey]bool{}
	for _, tt := range tests {
		covered[codeKey{tt.path, tt.code}] = true
		t.Run(tt.path+" "+tt.code, func(t *testing.T) {
			c := newTestClient(t, providers.ModeUpsert, func(w http.ResponseWriter, r *http.Request) {
				answerCode(w, tt.code)
			})
			err := c.do(context.Background(), tt.path, url.Values{})
			var pe *providers.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *providers.Error", err)
			}
			if got := (result{pe.Class, pe.Reason, pe.Outcome}); got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			if pe.Class == providers.Fatal && pe.Reason != "unexpected_error" && pe.Hint == "" {
				t.Errorf("fatal %s has no hint", tt.code)
			}
			if strings.Contains(err.Error(), "secret-key-123") || strings.Contains(err.Error(), "me@example.com") {
				t.Fatalf("a credential leaked into %q", err)
			}
		})
	}
	for k := range codes {
		if !covered[k] {
			t.Errorf("code %s of %s is not tested", k.code, k.path)
		}
	}
}

func TestClassifyHTTP(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		class      providers.Class
		reason     string
		retryAfter time.Duration
	}{
		{"5xx", 502, nil, `<html>bad gateway</html>`, providers.Retryable, "server_error", 0},
		{"429 with Retry-After", 429, map[string]string{"Retry-After": "3"}, ``, providers.Retryable, "rate_limited", 3 * time.Second},
		{"4xx with a code", 400, nil, `{"status":"error","code":"ERR_105"}`, providers.Row, "invalid_phone", 0},
		{"4xx with credentials code", 401, nil, `{"status":"error","code":"ERR_100"}`, providers.Fatal, "credentials", 0},
		{"4xx without a code", 404, nil, `not found`, providers.Fatal, "unexpected_answer", 0},
		{"4xx saying OK", 403, nil, `{"code":"OK"}`, providers.Fatal, "unexpected_answer", 0},
		{"200 not JSON", 200, nil, `<html>maintenance</html>`, providers.Retryable, "unreadable_answer", 0},
		{"200 without a code", 200, nil, `{"status":"success"}`, providers.Retryable, "unreadable_answer", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, providers.ModeUpsert, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			_, err := apply(c, providers.OpUpsert, fullContact("+33612345678"))
			var pe *providers.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *providers.Error", err)
			}
			if pe.Class != tt.class || pe.Reason != tt.reason || pe.RetryAfter != tt.retryAfter {
				t.Fatalf("got class %v reason %q retry-after %v; want %v %q %v", pe.Class, pe.Reason, pe.RetryAfter, tt.class, tt.reason, tt.retryAfter)
			}
			if strings.Contains(err.Error(), "secret-key-123") {
				t.Fatalf("the key leaked into %q", err)
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
	c.target = providers.Target{List: "1001", Mode: providers.ModeUpsert}
	_, err := apply(c, providers.OpUpsert, fullContact("+33612345678"))
	if providers.ClassOf(err) != providers.Retryable {
		t.Fatalf("dropped connection: %v (class %v)", err, providers.ClassOf(err))
	}
	if _, err := c.Open(context.Background(), c.target); providers.ClassOf(err) != providers.Retryable {
		t.Fatalf("dropped connection on Open: %v (class %v)", err, providers.ClassOf(err))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.Apply(ctx, &providers.Batch{Op: providers.OpUpsert, Contacts: []*mapping.Contact{fullContact("+33612345678")}})
	if providers.ClassOf(err) == providers.Retryable {
		t.Fatalf("a cancelled request must not be retried: %v", err)
	}
}

func TestNewNeedsCredentials(t *testing.T) {
	_, err := New(providers.Config{Credentials: map[string]string{envID: "me"}})
	if err == nil || !strings.Contains(err.Error(), envKey) {
		t.Fatalf("got %v", err)
	}
}

// The guesses, each in one place: what a wrong one would change.
func TestGuessedFormats(t *testing.T) {
	if got := formatPhone("+33612345678"); got != "+33612345678" {
		t.Errorf("formatPhone = %q", got)
	}
	for in, want := range map[string]string{"1985-12-24": "24/12/1985", "": "", "not a date": "not a date"} {
		if got := formatBirthday(in); got != want {
			t.Errorf("formatBirthday(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[mapping.Civility]string{mapping.CivilityMale: "M", mapping.CivilityFemale: "Mme", mapping.CivilityUnknown: ""} {
		if got := formatCivility(in); got != want {
			t.Errorf("formatCivility(%v) = %q, want %q", in, got, want)
		}
	}
}

// The emulator must behave like the API for the tests that rely on it.
func TestEmulator(t *testing.T) {
	em := NewEmulator(providers.SandboxOptions{Lists: []string{"1001"}, RefusePhones: []string{"+33612345677"}})
	srv := httptest.NewServer(em)
	defer srv.Close()
	ctx := context.Background()
	client := func(creds map[string]string, list string, mode providers.Mode) (*Client, *providers.ListInfo, error) {
		c, err := New(providers.Config{Endpoint: srv.URL, Credentials: creds, HTTPClient: srv.Client()})
		if err != nil {
			t.Fatal(err)
		}
		info, err := c.Open(ctx, providers.Target{List: list, Mode: mode})
		return c, info, err
	}
	// post sends a raw form, as another AvoSMS client would.
	post := func(path string, form url.Values) map[string]any {
		t.Helper()
		form.Set("id", SandboxID)
		form.Set("key", SandboxKey)
		resp, err := srv.Client().PostForm(srv.URL+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	code := func(path string, form url.Values) any { t.Helper(); return post(path, form)["code"] }

	c, info, err := client(em.Credentials(), "1001", providers.ModeUpsert)
	if err != nil || info.Region != "FR" || len(info.Existing) != 0 {
		t.Fatalf("Open: %+v %v", info, err)
	}
	if res, err := apply(c, providers.OpCreate, fullContact("+33612345678")); err != nil || res[0].Outcome != providers.Added {
		t.Fatalf("add: %v %v", res, err)
	}
	number := func(n string) url.Values { return url.Values{"listContactId": {"1001"}, "contactTelephoneNumber": {n}} }
	for _, tt := range []struct {
		path string
		form url.Values
		want string
	}{
		{pathAdd, number("+33612345678"), "ERR_104"},
		{pathAdd, number("0612345678"), "ERR_104"}, // read in the list's country
		{pathAdd, number("+32470123456"), "ERR_106"},
		{pathAdd, number("+336123"), "ERR_105"},
		{pathAdd, number("+33612345677"), "ERR_105"}, // RefusePhones
		{pathAdd, number(""), "ERR_102"},
		{pathAdd, url.Values{"contactTelephoneNumber": {"+33612345679"}}, "ERR_101"},
		{pathAdd, url.Values{"listContactId": {"2002"}, "contactTelephoneNumber": {"+33612345679"}}, "ERR_103"},
		{pathUpdate, number("+33612345679"), "ERR_104"},
		{pathUpdate, number("+32470123456"), "ERR_107"},
		{pathUpdate, number("+336123"), "ERR_106"},
		{pathUpdate, number(""), "ERR_102"},
		{pathUpdate, url.Values{"contactTelephoneNumber": {"+33612345678"}}, "ERR_101"},
		{pathUpdate, url.Values{"listContactId": {"2002"}, "contactTelephoneNumber": {"+33612345678"}}, "ERR_103"},
		{pathDelete, number("+33612345679"), "ERR_104"},
		{pathDelete, number(""), "ERR_102"},
		{pathDelete, url.Values{"contactTelephoneNumber": {"+33612345678"}}, "ERR_101"},
		{pathDelete, url.Values{"listContactId": {"2002"}, "contactTelephoneNumber": {"+33612345678"}}, "ERR_103"},
		{pathListInfo, url.Values{"listContactId": {"2002"}}, "ERR_101"},
	} {
		if got := code(tt.path, tt.form); got != tt.want {
			t.Errorf("%s %v: %v, want %s", tt.path, tt.form, got, tt.want)
		}
	}
	if got := em.Contacts("1001"); len(got) != 1 || !reflect.DeepEqual(got[0], providers.StoredContact{Phone: "+33612345678", FirstName: "Élodie",
		LastName: "Martin", Email: "e@example.com", Birthday: "1985-12-24", Fields: map[string]string{"contactCivility": "Mme", "contactOther": "VIP"}}) {
		t.Fatalf("contents %+v", got)
	}

	// list/information carries every key of seed 001, numbers in E.164.
	li := post(pathListInfo, url.Values{"listContactId": {"1001"}})
	for _, k := range []string{"status", "code", "list_contact_name", "list_contact_country_name", "list_contact_country_code",
		"nb_contact_list", "list_contact_creation_date", "list_contact"} {
		if _, ok := li[k]; !ok {
			t.Errorf("list/information lacks %s: %v", k, li)
		}
	}
	items, _ := li["list_contact"].([]any)
	if len(items) != 1 || li["list_contact_country_code"] != "FR" || li["nb_contact_list"] != 1.0 {
		t.Fatalf("list/information %v", li)
	}
	item := items[0].(map[string]any)
	for _, k := range []string{"contact_civility", "contact_name", "contact_first_name", "contact_telephone_number", "contact_email", "contact_birthday", "contact_other"} {
		if _, ok := item[k]; !ok {
			t.Errorf("list_contact item lacks %s: %v", k, item)
		}
	}
	if item["contact_telephone_number"] != "+33612345678" || item["contact_birthday"] != "24/12/1985" {
		t.Errorf("list_contact item %v", item)
	}
	if _, info, err := client(em.Credentials(), "1001", providers.ModeUpsert); err != nil || !reflect.DeepEqual(info.Existing, map[uint64]string{33612345678: ""}) {
		t.Fatalf("Open of a filled list: %+v %v", info, err)
	}

	// Update replaces every field: one it is not sent becomes empty.
	if got := code(pathUpdate, url.Values{"listContactId": {"1001"}, "contactTelephoneNumber": {"+33612345678"}, "contactFirstName": {"Paul"}}); got != "OK" {
		t.Fatalf("update: %v", got)
	}
	if got := em.Contacts("1001"); len(got) != 1 || !reflect.DeepEqual(got[0], providers.StoredContact{Phone: "+33612345678", FirstName: "Paul", Fields: map[string]string{}}) {
		t.Fatalf("after a sparse update %+v", got)
	}

	if _, _, err := client(map[string]string{envID: SandboxID, envKey: "wrong"}, "1001", providers.ModeUpsert); providers.ClassOf(err) != providers.Fatal {
		t.Fatalf("bad credentials: %v", err)
	}
	if _, _, err := client(em.Credentials(), "2002", providers.ModeUpsert); providers.ClassOf(err) != providers.Fatal {
		t.Fatalf("unknown list: %v", err)
	}

	seeded := providers.StoredContact{Phone: "+33698765432", FirstName: "Old", LastName: "Name", Email: "old@example.com",
		Birthday: "1970-01-31", Fields: map[string]string{"contactCivility": "M", "contactOther": "x"}}
	em.Seed("1001", seeded)
	if got := em.Contacts("1001"); len(got) != 2 || !reflect.DeepEqual(got[1], seeded) {
		t.Fatalf("seeded %+v", got)
	}
	for range 2 { // the second delete finds nothing, which is still done
		if res, err := apply(c, providers.OpDelete, fullContact("+33698765432")); err != nil || res[0].Outcome != providers.Deleted {
			t.Fatalf("delete: %v %v", res, err)
		}
	}
	if got := em.Contacts("1001"); len(got) != 1 {
		t.Fatalf("after delete %+v", got)
	}
}

func TestEmulatorFaultsAndOpenLists(t *testing.T) {
	em := NewEmulator(providers.SandboxOptions{Faults: providers.Faults{Script: []providers.Fault{providers.Transient}}})
	srv := httptest.NewServer(em)
	defer srv.Close()
	c, _ := New(providers.Config{Endpoint: srv.URL, Credentials: em.Credentials(), HTTPClient: srv.Client()})
	t1 := providers.Target{List: "any-list", Mode: providers.ModeUpsert}
	if _, err := c.Open(context.Background(), t1); providers.ClassOf(err) != providers.Retryable {
		t.Fatalf("transient fault: %v", err)
	}
	// Without SandboxOptions.Lists any ID names a (French) list.
	if info, err := c.Open(context.Background(), t1); err != nil || info.Region != "FR" {
		t.Fatalf("open list: %+v %v", info, err)
	}
}

// A number of another country than the list's is rejected by the importer
// before it is sent: Open's Region makes the normaliser refuse it.
func TestCountryMismatchNeverSent(t *testing.T) {
	em := NewEmulator(providers.SandboxOptions{Record: true})
	srv := httptest.NewServer(em)
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "contacts.csv")
	csv := "first name,last name,mobile\nAnne,A,06 12 34 56 78\nBram,B,+32 470 12 34 56\nChloé,C,06 12 34 56 79\n"
	if err := os.WriteFile(file, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := importer.Run(context.Background(), importer.Options{File: file, Provider: Name, List: "1001", Endpoint: srv.URL,
		Credentials: em.Credentials(), Rate: 0, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Added != 2 || rep.Rejected != 1 || rep.RejectedByReason["country_mismatch"] != 1 {
		t.Fatalf("report %+v", rep)
	}
	var adds int
	for _, r := range em.Recorded() {
		form, err := url.ParseQuery(string(r.Body))
		if err != nil {
			t.Fatal(err)
		}
		if n := form.Get("contactTelephoneNumber"); strings.HasPrefix(n, "+32") {
			t.Errorf("the Belgian number was sent to %s", r.Path)
		}
		if r.Path == pathAdd {
			adds++
		}
	}
	if adds != 2 {
		t.Errorf("%d adds, want 2", adds)
	}
}

// Only the documented {"status", "code"} confirms a write: any other 2xx is
// an unreadable answer, which the importer retries and then fails as
// not_confirmed.
func TestUnconfirmedAnswers(t *testing.T) {
	for _, tt := range []struct {
		name, body string
	}{
		{"empty", ``},
		{"HTML", `<html><head><title>302 Found</title></head></html>`},
		{"truncated", `{"status":"success","code":"O`},
		{"unrelated JSON", `{"result":true}`},
		{"null", `null`},
		{"more after the answer", `{"status":"success","code":"OK"} trailing`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestClient(t, providers.ModeUpsert, func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, tt.body)
			})
			res, err := apply(c, providers.OpUpsert, fullContact("+33612345678"))
			var pe *providers.Error
			if !errors.As(err, &pe) || pe.Class != providers.Retryable || pe.Reason != providers.ReasonUnreadable || res != nil {
				t.Fatalf("got %v, %v; want no result and a retryable %s", res, err, providers.ReasonUnreadable)
			}
		})
	}
}

// list/information is streamed within limits: a contact too large to be an
// AvoSMS answer stops the run, and an answer without a code confirms
// nothing.
func TestOpenRefusesHugeOrIncompleteListing(t *testing.T) {
	huge := strings.Repeat("x", 2*providers.MaxItemSize)
	for _, tt := range []struct{ name, body, reason string }{
		{"a contact over the item limit", `{"code":"OK","list_contact_country_code":"FR","list_contact":[{"contact_telephone_number":"+33612345678","contact_other":"` + huge + `"}]}`, providers.ReasonTooLarge},
		{"an unknown field over the item limit", `{"code":"OK","other":"` + huge + `","list_contact":[]}`, providers.ReasonTooLarge},
		{"no code", `{"status":"success","list_contact":[]}`, providers.ReasonUnreadable},
		{"truncated", `{"code":"OK","list_contact":[{"contact_telephone_number":"+336`, providers.ReasonUnreadable},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, tt.body) })
			_, err := c.Open(context.Background(), providers.Target{List: "1001", Mode: providers.ModeUpsert})
			var pe *providers.Error
			if !errors.As(err, &pe) || pe.Reason != tt.reason {
				t.Fatalf("got %.300v, want %s", err, tt.reason)
			}
		})
	}
}

package amootsms

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"contactsync/importer"
	"contactsync/mapping"
	"contactsync/providers"
)

const testToken = "secret-token-123"

var testCreds = map[string]string{envToken: testToken}

// reply is a canned answer of the fake API; status 0 means 200, as AmootSMS
// answers whatever happened.
type reply struct {
	status int
	header map[string]string
	body   string
}

// call is one request the fake API received.
type call struct {
	method string // "ContactCreate"…
	form   url.Values
}

type fakeAPI struct {
	t       *testing.T
	replies map[string]reply
	mu      sync.Mutex
	calls   []call
}

// ServeHTTP checks what every request must carry, records it and answers
// from replies by method name.
func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method, ok := strings.CutPrefix(r.URL.Path, "/prefix/rest/")
	if !ok || r.Method != http.MethodPost {
		f.t.Errorf("%s %s outside the endpoint's path", r.Method, r.URL.Path)
		http.NotFound(w, r)
		return
	}
	for h, want := range map[string]string{"Authorization": testToken, "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"} {
		if got := r.Header.Get(h); got != want {
			f.t.Errorf("%s: header %s = %q, want %q", method, h, got, want)
		}
	}
	if r.URL.RawQuery != "" {
		f.t.Errorf("%s: query string %q; the form goes in the body", method, r.URL.RawQuery)
	}
	if err := r.ParseForm(); err != nil {
		f.t.Errorf("%s: %v", method, err)
	}
	f.mu.Lock()
	f.calls = append(f.calls, call{method, r.PostForm})
	f.mu.Unlock()
	rep, ok := f.replies[method]
	if !ok {
		f.t.Errorf("unexpected call to %s", method)
		http.NotFound(w, r)
		return
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	if rep.status != 0 {
		w.WriteHeader(rep.status)
	}
	io.WriteString(w, rep.body)
}

// take returns the calls received since the last take.
func (f *fakeAPI) take() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.calls
	f.calls = nil
	return out
}

// newTestClient starts the fake API under a path prefix, so that a client
// that ignored --endpoint's path would miss every route, and opens the
// label "مشتریان". ContactList answers an empty account unless replies says
// otherwise.
func newTestClient(t *testing.T, mode providers.Mode, replies map[string]reply) (*Client, *fakeAPI) {
	t.Helper()
	if _, ok := replies["ContactList"]; !ok {
		replies["ContactList"] = reply{body: `{"Status":"Success","Data":[]}`}
	}
	api := &fakeAPI{t: t, replies: replies}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	c, err := New(providers.Config{Endpoint: srv.URL + "/prefix", Credentials: testCreds, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Open(context.Background(), providers.Target{List: "مشتریان", Mode: mode}); err != nil {
		t.Fatal(err)
	}
	if calls := api.take(); !reflect.DeepEqual(calls, []call{{"ContactList", url.Values{"ContactGroupID": {"0"}}}}) {
		t.Fatalf("Open sent %+v, want one ContactList of every contact (ContactGroupID 0)", calls)
	}
	return c, api
}

func persian() *mapping.Contact {
	return &mapping.Contact{Line: 2, Phone: "+989121234567", Key: 989121234567, FirstName: "علی", LastName: "رضایی",
		Email: "ali@example.com", Birthday: "1990-03-21", Civility: mapping.CivilityMale, Tag: " vip ,طلایی,vip,,",
		Custom: map[string]string{"CustomText2": "تهران"}}
}

// wantForm is the full record of persian(), as a create sends it.
func wantForm(labels string) url.Values {
	return url.Values{
		"ContactGroupID": {"0"}, "Active": {"true"}, "Mobile": {"09121234567"}, "FName": {"علی"}, "LName": {"رضایی"},
		"GenderType": {"True"}, "CompanyTitle": {""}, "JobTitle": {""}, "Email": {"ali@example.com"}, "CityName": {""},
		"AddressText": {""}, "BornDate": {"1990-03-21"}, "AnniversaryDate": {""}, "CustomText1": {""},
		"CustomText2": {"تهران"}, "CustomText3": {""}, "CustomText4": {""}, "CustomText5": {""}, "CustomText6": {""},
		"CustomDate1": {""}, "CustomDate2": {""}, "CustomDate3": {""}, "Labels": {labels},
	}
}

func withID(v url.Values, id string) url.Values {
	v.Set("ContactID", id)
	return v
}

func TestCreate(t *testing.T) {
	tests := []struct {
		name   string
		op     providers.Op
		answer string
		id     string
	}{
		{"record, status by name", providers.OpCreate, `{"Status":"Success","Data":{"ID":42,"Mobile":989121234567}}`, "42"},
		{"status as a number", providers.OpUpsert, `{"Status":1,"Data":{"ID":"43"}}`, "43"},
		{"status as a numeric string, bare ID", providers.OpCreate, `{"Status":"1","Data":44}`, "44"},
		{"Data before Status", providers.OpUpsert, `{"Data":{"ID":45},"Status":"Success"}`, "45"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, api := newTestClient(t, providers.ModeUpsert, map[string]reply{"ContactCreate": {body: tt.answer}})
			res, err := c.Apply(context.Background(), &providers.Batch{Op: tt.op, Attempt: 1, Contacts: []*mapping.Contact{persian()}})
			if err != nil {
				t.Fatal(err)
			}
			if want := []providers.Result{{Outcome: providers.Added, ID: tt.id, Labels: "مشتریان,vip,طلایی"}}; !reflect.DeepEqual(res, want) {
				t.Errorf("results %+v, want %+v", res, want)
			}
			want := []call{{"ContactCreate", wantForm("مشتریان,vip,طلایی")}}
			if got := api.take(); !reflect.DeepEqual(got, want) {
				t.Errorf("calls\n got  %v\n want %v", got, want)
			}
		})
	}
}

// A retried create looks the number up first: the lost attempt may have
// created it, and a second ContactCreate would duplicate it.
func TestRetriedCreateSearchesFirst(t *testing.T) {
	search := []call{{"ContactSearch", url.Values{"Mobile": {"09121234567"}}}}
	const labels = "مشتریان,vip,طلایی"
	create := []call{{"ContactCreate", wantForm(labels)}}
	tests := []struct {
		name    string
		attempt int
		found   string // ContactSearch's answer
		calls   []call
		want    providers.Result
		reason  string // of the error, when the answer cannot be trusted
	}{
		{"first attempt creates", 1, "", create, providers.Result{Outcome: providers.Added, ID: "9", Labels: labels}, ""},
		{"found", 2, `{"Status":"Success","Data":[{"ID":7,"Mobile":989121234567}]}`, search,
			providers.Result{Outcome: providers.Added, ID: "7", Labels: labels}, ""},
		{"found, mobile as a string", 3, `{"Status":1,"Data":[{"ID":"8","Mobile":"09121234567"}]}`, search,
			providers.Result{Outcome: providers.Added, ID: "8", Labels: labels}, ""},
		{"not found", 2, `{"Status":"Success","Data":[]}`, append(search, create...), providers.Result{Outcome: providers.Added, ID: "9", Labels: labels}, ""},
		{"null Data", 2, `{"Status":"Success","Data":null}`, append(search, create...), providers.Result{Outcome: providers.Added, ID: "9", Labels: labels}, ""},
		{"search ignored its filter", 2, `{"Status":"Success","Data":[{"ID":5,"Mobile":989129999999}]}`, append(search, create...),
			providers.Result{Outcome: providers.Added, ID: "9", Labels: labels}, ""},
		// No Data is not "not found": creating would duplicate the number.
		{"no Data", 2, `{"Status":"Success"}`, search, providers.Result{}, providers.ReasonUnreadable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			replies := map[string]reply{"ContactCreate": {body: `{"Status":"Success","Data":{"ID":9}}`}}
			if tt.found != "" {
				replies["ContactSearch"] = reply{body: tt.found}
			}
			c, api := newTestClient(t, providers.ModeUpsert, replies)
			res, err := c.Apply(context.Background(), &providers.Batch{Op: providers.OpCreate, Attempt: tt.attempt, Contacts: []*mapping.Contact{persian()}})
			var pe *providers.Error
			switch {
			case tt.reason != "":
				if !errors.As(err, &pe) || pe.Reason != tt.reason {
					t.Fatalf("err %v, want %s", err, tt.reason)
				}
			case err != nil:
				t.Fatal(err)
			case !reflect.DeepEqual(res, []providers.Result{tt.want}):
				t.Errorf("results %+v, want %+v", res, tt.want)
			}
			if got := api.take(); !reflect.DeepEqual(got, tt.calls) {
				t.Errorf("calls\n got  %v\n want %v", got, tt.calls)
			}
		})
	}
}

// openWith opens a client on an account that ContactList answers with
// list.
func openWith(t *testing.T, mode providers.Mode, list string, replies map[string]reply) (*Client, *fakeAPI, *providers.ListInfo) {
	t.Helper()
	replies["ContactList"] = reply{body: list}
	api := &fakeAPI{t: t, replies: replies}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	c, err := New(providers.Config{Endpoint: srv.URL + "/prefix", Credentials: testCreds, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Open(context.Background(), providers.Target{List: "مشتریان", Mode: mode})
	if err != nil {
		t.Fatal(err)
	}
	api.take()
	return c, api, info
}

// account is a ContactList answer in the documented shape: the number
// written as 10 or 12 digits, empty fields null, dates as .NET writes them,
// no labels; one record carries labels all the same, one is a duplicate of
// a number, one is marked deleted, two have no number one can read.
const account = `{"Status":"Success","Data":[
	{"ID":7,"Active":false,"ContactGroupID":0,"Mobile":9121234567,"FName":"قدیمی","LName":null,"GenderType":false,
	 "GenderTypeStr":"خانم","CompanyTitle":"\u0622موت","JobTitle":null,"Email":"old@example.com","CityName":"تهران",
	 "AddressText":null,"BornDate":"1980-01-02T00:00:00","BornDatePer":"1358/10/12","AnniversaryDate":null,
	 "CustomText1":"یک","CustomText2":null,"CustomText3":null,"CustomText4":null,"CustomText5":null,"CustomText6":null,
	 "CustomDate1":"2020-05-06T00:00:00","CustomDate2":null,"CustomDate3":null,"Deleted":false,"UpdateDateTime":"2025-10-21T11:03:41.96"},
	{"ID":"8","Mobile":"09122222222","FName":"b","Labels":" a, b ,a"},
	{"ID":9,"Mobile":"+989123333333","LName":"c","Labels":null},
	{"ID":10,"Mobile":989121234567,"FName":"duplicate"},
	{"ID":11,"Mobile":989124444444,"FName":"deleted","Deleted":true},
	{"ID":12,"Mobile":"not a number"},
	{"ID":13,"Mobile":null}
]}`

// Open indexes the account; an edit sends back, for every field the row
// leaves empty, the value ContactList showed, and the labels contactsync
// knows the contact holds besides the run's.
func TestOpenIndexAndEditKeeps(t *testing.T) {
	c, api, info := openWith(t, providers.ModeUpsert, account, map[string]reply{"ContactEdit": {body: `{"Status":"Success","Data":null}`}})
	// The account holds +989121234567 twice: the first record is the one.
	want := map[uint64]string{989121234567: "7", 989122222222: "8", 989123333333: "9"}
	if !reflect.DeepEqual(info.Existing, want) {
		t.Fatalf("index %v, want %v", info.Existing, want)
	}

	sparse := func() *mapping.Contact {
		ct := persian()
		ct.FirstName, ct.Email, ct.Birthday, ct.Civility, ct.Custom = "علی", "", "", mapping.CivilityUnknown, nil
		return ct
	}
	tests := []struct {
		name  string
		id    string
		ct    *mapping.Contact
		known string // KnownLabels, from the state
		edit  func(url.Values)
	}{
		{"empty cells and unmapped fields keep the listed values", "7", sparse(), "", func(v url.Values) {
			v.Set("Active", "false")
			v.Set("LName", "رضایی")
			v.Set("GenderType", "False")
			v.Set("CompanyTitle", "آموت")
			v.Set("Email", "old@example.com")
			v.Set("CityName", "تهران")
			v.Set("BornDate", "1980-01-02")
			v.Set("CustomText1", "یک")
			v.Set("CustomText2", "")
			v.Set("CustomDate1", "2020-05-06")
			v.Set("Labels", "مشتریان,vip,طلایی")
		}},
		{"labels the state remembers are kept", "7", persian(), "قدیمی,مشتریان", func(v url.Values) {
			v.Set("Active", "false")
			v.Set("CompanyTitle", "آموت")
			v.Set("CityName", "تهران")
			v.Set("CustomText1", "یک")
			v.Set("CustomDate1", "2020-05-06")
			v.Set("Labels", "قدیمی,مشتریان,vip,طلایی")
		}},
		{"labels an answer shows are kept", "8", persian(), "", func(v url.Values) {
			v.Set("Mobile", "09122222222")
			v.Set("Labels", "a,b,مشتریان,vip,طلایی")
		}},
		{"nothing to keep", "9", persian(), "", func(v url.Values) {
			v.Set("Mobile", "09123333333")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := withID(wantForm("مشتریان,vip,طلایی"), tt.id)
			if tt.ct.FirstName == "علی" && tt.ct.Email == "" {
				form.Set("FName", "علی")
			}
			tt.edit(form)
			ct := tt.ct
			ct.Phone = "+98" + strings.TrimPrefix(form.Get("Mobile"), "0")
			ct.Key, ct.ID, ct.KnownLabels = mapping.KeyOf(ct.Phone), tt.id, tt.known
			res, err := c.Apply(context.Background(), &providers.Batch{Op: providers.OpUpdate, Attempt: 1, Contacts: []*mapping.Contact{ct}})
			if err != nil {
				t.Fatal(err)
			}
			if want := []providers.Result{{Outcome: providers.Updated, ID: tt.id, Labels: form.Get("Labels")}}; !reflect.DeepEqual(res, want) {
				t.Errorf("results %+v, want %+v", res, want)
			}
			if got := api.take(); !reflect.DeepEqual(got, []call{{"ContactEdit", form}}) {
				t.Errorf("calls\n got  %v\n want %v", got, form)
			}
		})
	}
}

func TestUpdate(t *testing.T) {
	vanished := `{"Status":"ContactID_Invalid","Data":null}`
	const labels = "مشتریان,vip,طلایی"
	edit := call{"ContactEdit", withID(wantForm(labels), "7")}
	create := call{"ContactCreate", wantForm(labels)}
	tests := []struct {
		name    string
		mode    providers.Mode
		id      string
		edit    string
		calls   []call
		want    providers.Result
		wantErr providers.Class
	}{
		{"edited", providers.ModeUpsert, "7", `{"Status":"Success","Data":{"ID":7}}`, []call{edit},
			providers.Result{Outcome: providers.Updated, ID: "7", Labels: labels}, 0},
		{"vanished, upsert creates", providers.ModeUpsert, "7", vanished, []call{edit, create},
			providers.Result{Outcome: providers.Added, ID: "9", Labels: labels}, 0},
		{"vanished, as a number, mirror creates", providers.ModeMirror, "7", `{"Status":113}`, []call{edit, create},
			providers.Result{Outcome: providers.Added, ID: "9", Labels: labels}, 0},
		{"vanished, update skips", providers.ModeUpdate, "7", vanished, []call{edit},
			providers.Result{Outcome: providers.Skipped, Reason: "not_found"}, 0},
		{"no ID, update skips", providers.ModeUpdate, "", "", nil,
			providers.Result{Outcome: providers.Skipped, Reason: "not_found"}, 0},
		{"refused", providers.ModeUpsert, "7", `{"Status":"Length_Exceeded"}`, []call{edit}, providers.Result{}, providers.Row},
		{"failed", providers.ModeUpsert, "7", `{"Status":"Failed","Data":null}`, []call{edit}, providers.Result{}, providers.Row},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, api := newTestClient(t, tt.mode, map[string]reply{
				"ContactEdit":   {body: tt.edit},
				"ContactCreate": {body: `{"Status":"Success","Data":{"ID":9}}`},
			})
			ct := persian()
			ct.ID = tt.id
			res, err := c.Apply(context.Background(), &providers.Batch{Op: providers.OpUpdate, Attempt: 1, Contacts: []*mapping.Contact{ct}})
			if got := providers.ClassOf(err); got != tt.wantErr {
				t.Fatalf("error %v (class %v), want class %v", err, got, tt.wantErr)
			}
			if err == nil && !reflect.DeepEqual(res, []providers.Result{tt.want}) {
				t.Errorf("results %+v, want %+v", res, tt.want)
			}
			if got := api.take(); !reflect.DeepEqual(got, tt.calls) {
				t.Errorf("calls\n got  %v\n want %v", got, tt.calls)
			}
		})
	}
}

// Mirror's deletion deletes a contact from the phonebook only when the
// run's label is the only one it is known to hold; otherwise it edits the
// contact, sending back its record as listed, with that label taken off.
func TestDelete(t *testing.T) {
	const list = `{"Status":"Success","Data":[{"ID":7,"Active":true,"Mobile":989121234567,"FName":"علی","LName":"رضایی",` +
		`"GenderType":true,"Email":"ali@example.com","CityName":"تهران","BornDate":"1990-03-21T00:00:00","CustomText2":"x"}]}`
	kept := withID(url.Values{"ContactGroupID": {"0"}, "Active": {"true"}, "Mobile": {"09121234567"}, "FName": {"علی"}, "LName": {"رضایی"},
		"GenderType": {"True"}, "CompanyTitle": {""}, "JobTitle": {""}, "Email": {"ali@example.com"}, "CityName": {"تهران"},
		"AddressText": {""}, "BornDate": {"1990-03-21"}, "AnniversaryDate": {""}, "CustomText1": {""},
		"CustomText2": {"x"}, "CustomText3": {""}, "CustomText4": {""}, "CustomText5": {""}, "CustomText6": {""},
		"CustomDate1": {""}, "CustomDate2": {""}, "CustomDate3": {""}, "Labels": {"vip,قدیمی"}}, "7")
	del := []call{{"ContactDelete", url.Values{"ContactID": {"7"}}}}
	tests := []struct {
		name    string
		phone   string
		known   string // KnownLabels, from the state
		reply   string // of ContactDelete or ContactEdit
		calls   []call
		want    providers.Result
		wantErr providers.Class
	}{
		{"only the run's label: deleted", "+989121234567", "مشتریان", `{"Status":"Success","Data":null}`, del,
			providers.Result{Outcome: providers.Deleted, ID: "7"}, 0},
		{"no label known: deleted", "+989121234567", "", `{"Status":"Success","Data":null}`, del,
			providers.Result{Outcome: providers.Deleted, ID: "7"}, 0},
		{"gone already", "+989121234567", "مشتریان", `{"Status":"ContactID_Invalid"}`, del,
			providers.Result{Outcome: providers.Deleted, ID: "7"}, 0},
		{"other labels: the run's is taken off", "+989121234567", "vip,مشتریان,قدیمی", `{"Status":"Success","Data":{"ID":7}}`,
			[]call{{"ContactEdit", kept}}, providers.Result{Outcome: providers.Deleted, ID: "7", Labels: "vip,قدیمی"}, 0},
		{"other labels, gone already", "+989121234567", "vip,قدیمی", `{"Status":113}`,
			[]call{{"ContactEdit", kept}}, providers.Result{Outcome: providers.Deleted, ID: "7"}, 0},
		{"other labels, Failed", "+989121234567", "vip,قدیمی", `{"Status":"Failed"}`,
			[]call{{"ContactEdit", kept}}, providers.Result{}, providers.Row},
		{"not in the account", "+989129999999", "مشتریان", "", nil, providers.Result{Outcome: providers.Skipped, Reason: "not_found"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, api, _ := openWith(t, providers.ModeMirror, list, map[string]reply{
				"ContactDelete": {body: tt.reply}, "ContactEdit": {body: tt.reply}})
			// What mirror's planner knows of a number: the state's.
			ct := &mapping.Contact{Phone: tt.phone, Key: mapping.KeyOf(tt.phone), ID: "7", KnownLabels: tt.known}
			res, err := c.Apply(context.Background(), &providers.Batch{Op: providers.OpDelete, Attempt: 1, Contacts: []*mapping.Contact{ct}})
			if got := providers.ClassOf(err); got != tt.wantErr {
				t.Fatalf("error %v (class %v), want class %v", err, got, tt.wantErr)
			}
			if err == nil && !reflect.DeepEqual(res, []providers.Result{tt.want}) {
				t.Fatalf("%+v, want %+v", res, tt.want)
			}
			if got := api.take(); !reflect.DeepEqual(got, tt.calls) {
				t.Errorf("calls\n got  %v\n want %v", got, tt.calls)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	type want struct {
		class   providers.Class
		reason  string
		outcome providers.Outcome
	}
	var (
		credentials = want{providers.Fatal, "credentials", 0}
		account     = want{providers.Fatal, "account", 0}
		unexpected  = want{providers.Fatal, "unexpected_error", 0}
	)
	// Every status of seed 003's table that a contact method may answer,
	// by name and number; each is tried in every shape the API uses.
	statuses := []struct {
		name   string
		number int
		want   want
	}{
		{"ServerError", 500, want{providers.Retryable, "server_error", 0}},
		{"Token_NotExists", -201, credentials},
		{"Token_Invalid", -202, credentials},
		{"Token_Disabled", -203, credentials},
		{"Token_Expired", -204, credentials},
		{"Token_NotAllowIP", -207, credentials},
		{"Token_NotAllowMethod", -208, credentials},
		{"User_NotExists", -1, account},
		{"User_MobileNotVerified", -102, account},
		{"User_Disabled", -103, account},
		{"User_Expired", -104, account},
		{"User_WebServiceBanned", -105, account},
		{"User_NotAllowWebService", -106, account},
		{"User_NotAllowIP", -107, account},
		{"User_NotAllowMethod", -108, account},
		{"User_NotAllowHttp", -109, account},
		{"System_Disabled", -300, want{providers.Fatal, "system_disabled", 0}},
		{"CreditNotEnough", 4, want{providers.Fatal, "no_credit", 0}},
		{"AccountIsDemo", 2, want{providers.Fatal, "demo_account", 0}},
		{"Mobile_Empty", 16, want{providers.Row, "missing_phone", providers.Rejected}},
		{"Mobile_Invalid", 101, want{providers.Row, "invalid_phone", providers.Rejected}},
		{"Length_Invalid", 120, want{providers.Row, "value_too_long", providers.Rejected}},
		{"Length_Exceeded", 121, want{providers.Row, "value_too_long", providers.Rejected}},
		{"FirstNameOrLastName_Empty", 19, want{providers.Row, "missing_name", providers.Rejected}},
		{"Failed", 0, want{providers.Row, providers.ReasonProviderFailed, providers.Rejected}},
		{"ContactID_Invalid", 113, unexpected}, // on a create; edits and deletes handle it
		{"ContactGroupID_Invalid", 114, unexpected},
	}
	type tcase struct {
		name   string
		answer reply
		want   want
	}
	var tests []tcase
	for _, s := range statuses {
		tests = append(tests,
			tcase{s.name + " by name", reply{body: fmt.Sprintf(`{"Status":%q,"Data":null}`, s.name)}, s.want},
			tcase{s.name + " as a number", reply{body: fmt.Sprintf(`{"Status":%d,"Data":null}`, s.number)}, s.want},
			tcase{s.name + " as a numeric string", reply{body: fmt.Sprintf(`{"Status":"%d"}`, s.number)}, s.want},
			tcase{s.name + " as a bare string", reply{body: fmt.Sprintf(`%q`, s.name)}, s.want},
		)
	}
	tests = append(tests,
		tcase{"undocumented Token_ status", reply{body: `"Token_Revoked"`}, credentials},
		tcase{"undocumented User_ status", reply{body: `{"Status":"User_Suspended"}`}, account},
		tcase{"unknown status", reply{body: `{"Status":"Something_New"}`}, unexpected},
		tcase{"unknown number", reply{body: `{"Status":999}`}, unexpected},
		tcase{"bare string in a 401", reply{status: 401, body: `"Token_NotExists"`}, credentials},
		tcase{"401 without body", reply{status: 401}, credentials},
		tcase{"404 not JSON", reply{status: 404, body: `not found`}, want{providers.Fatal, "unexpected_answer", 0}},
		tcase{"5xx", reply{status: 503, body: `<html>bad gateway</html>`}, want{providers.Retryable, "server_error", 0}},
		tcase{"429", reply{status: 429, header: map[string]string{"Retry-After": "2"}}, want{providers.Retryable, "rate_limited", 0}},
		tcase{"not JSON", reply{body: `<html>maintenance</html>`}, want{providers.Retryable, "unreadable_answer", 0}},
		tcase{"no Status", reply{body: `{"Data":null}`}, want{providers.Retryable, "unreadable_answer", 0}},
		tcase{"truncated", reply{body: `{"Status":"Success","Data":{"ID":`}, want{providers.Retryable, "unreadable_answer", 0}},
		tcase{"Success without a record", reply{body: `{"Status":"Success","Data":null}`}, want{providers.Retryable, "unreadable_answer", 0}},
		tcase{"bare Success", reply{body: `"Success"`}, want{providers.Retryable, "unreadable_answer", 0}},
	)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestClient(t, providers.ModeUpsert, map[string]reply{"ContactCreate": tt.answer})
			_, err := c.Apply(context.Background(), &providers.Batch{Op: providers.OpCreate, Attempt: 1, Contacts: []*mapping.Contact{persian()}})
			var pe *providers.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *providers.Error", err)
			}
			if got := (want{pe.Class, pe.Reason, pe.Outcome}); got != tt.want {
				t.Fatalf("got %+v, want %+v (%v)", got, tt.want, err)
			}
			if pe.Class == providers.Fatal && pe.Hint == "" && pe.Reason != "unexpected_error" && pe.Reason != "unexpected_answer" {
				t.Errorf("fatal error without a hint: %v", err)
			}
			if strings.Contains(err.Error(), testToken) {
				t.Fatalf("the token leaked into %q", err)
			}
		})
	}
}

func TestStatusTable(t *testing.T) {
	for n, name := range map[int]string{1: "Success", 0: "Failed", 113: "ContactID_Invalid", -201: "Token_NotExists", 500: "ServerError"} {
		if got := statusName(fmt.Sprint(n)); got != name {
			t.Errorf("status %d is %q, want %q", n, got, name)
		}
	}
	if len(statusNames) != 57 {
		t.Errorf("the table has %d statuses; seed 003 has 56, and the status page adds -109", len(statusNames))
	}
}

func TestOpenRefused(t *testing.T) {
	for _, body := range []string{`"Token_NotExists"`, `{"Status":-202,"Data":null}`} {
		api := &fakeAPI{t: t, replies: map[string]reply{"ContactList": {body: body}}}
		srv := httptest.NewServer(api)
		c, _ := New(providers.Config{Endpoint: srv.URL + "/prefix", Credentials: testCreds, HTTPClient: srv.Client()})
		_, err := c.Open(context.Background(), providers.Target{List: "l"})
		srv.Close()
		if providers.ClassOf(err) != providers.Fatal || !strings.Contains(err.Error(), envToken) || strings.Contains(err.Error(), testToken) {
			t.Errorf("%s: %v", body, err)
		}
	}
}

func TestBatchOfSeveralIsSplit(t *testing.T) {
	c, api := newTestClient(t, providers.ModeUpsert, map[string]reply{})
	_, err := c.Apply(context.Background(), &providers.Batch{Op: providers.OpCreate, Attempt: 1, Contacts: []*mapping.Contact{persian(), persian()}})
	if providers.ClassOf(err) != providers.Row || len(api.take()) != 0 {
		t.Fatalf("%v", err)
	}
}

func TestValues(t *testing.T) {
	for _, tt := range []struct {
		e164, mobile, reason string
	}{
		{"+989121234567", "09121234567", ""},
		{"+989901234567", "09901234567", ""},
		{"+982112345678", "", "invalid_phone"}, // a Tehran landline
		{"+33612345678", "", "country_not_allowed"},
	} {
		got, err := formatMobile(tt.e164)
		var pe *providers.Error
		if got != tt.mobile || (tt.reason == "") != (err == nil) || (err != nil && (!errors.As(err, &pe) || pe.Class != providers.Row || pe.Reason != tt.reason)) {
			t.Errorf("formatMobile(%s) = %q, %v; want %q, %q", tt.e164, got, err, tt.mobile, tt.reason)
		}
	}
	for c, want := range map[mapping.Civility]string{mapping.CivilityMale: "True", mapping.CivilityFemale: "False", mapping.CivilityUnknown: ""} {
		if got := genderType(c); got != want {
			t.Errorf("genderType(%v) = %q, want %q", c, got, want)
		}
	}
	for _, tt := range []struct {
		sets []string
		want string
	}{
		{[]string{"", "مشتریان", ""}, "مشتریان"},
		{[]string{"a,b", "c", " b , d ,, a"}, "a,b,c,d"},
		{[]string{"", "", ""}, ""},
	} {
		if got := mergeLabels(tt.sets...); got != tt.want {
			t.Errorf("mergeLabels(%q) = %q, want %q", tt.sets, got, tt.want)
		}
	}
}

func TestNetworkErrorIsRetryable(t *testing.T) {
	c, _ := New(providers.Config{Endpoint: "http://127.0.0.1:1", Credentials: testCreds})
	_, err := c.Open(context.Background(), providers.Target{List: "l"})
	if providers.ClassOf(err) != providers.Retryable || strings.Contains(err.Error(), testToken) {
		t.Fatalf("refused connection: %v (class %v)", err, providers.ClassOf(err))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.Open(ctx, providers.Target{List: "l"})
	if err == nil || providers.ClassOf(err) == providers.Retryable {
		t.Fatalf("a cancelled request must not be retried: %v", err)
	}
}

func TestNewNeedsCredentials(t *testing.T) {
	_, err := New(providers.Config{Credentials: map[string]string{}})
	if err == nil || !strings.Contains(err.Error(), envToken) {
		t.Fatalf("got %v", err)
	}
}

// The emulator must behave like the API for the tests that rely on it.
func TestEmulator(t *testing.T) {
	em := NewEmulator(providers.SandboxOptions{RefusePhones: []string{"+989120000099"}})
	srv := httptest.NewServer(em)
	defer srv.Close()
	post := func(token, path string, form url.Values) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", token)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: HTTP %d", path, resp.StatusCode)
		}
		return strings.TrimSpace(string(b))
	}
	record := func(mobile, first, last, labels string) url.Values {
		return contact{Mobile: mobile, FName: first, LName: last, Labels: labels}.form()
	}
	tests := []struct {
		name, token, path string
		form              url.Values
		want              string
	}{
		{"wrong token", "nope", pathList, nil, `"Token_NotExists"`},
		// No answer shows labels [doc].
		{"create", SandboxToken, pathCreate, record("09120000001", "علی", "", "مشتریان"),
			`{"Status":"Success","Data":{"ID":1,"ContactGroupID":0,"Active":true,"Mobile":989120000001,"FName":"علی","LName":"","GenderType":null,"CompanyTitle":"","JobTitle":"","Email":"","CityName":"","AddressText":"","BornDate":null,"AnniversaryDate":null,"CustomText1":"","CustomText2":"","CustomText3":"","CustomText4":"","CustomText5":"","CustomText6":"","CustomDate1":null,"CustomDate2":null,"CustomDate3":null,"Deleted":false}}`},
		{"create duplicates", SandboxToken, pathCreate, record("09120000001", "", "دوم", "دیگر"), `{"Status":"Success","Data":{"ID":2,`},
		{"not a mobile", SandboxToken, pathCreate, record("+989120000002", "a", "b", ""), `{"Status":"Mobile_Invalid","Data":null}`},
		{"refused number", SandboxToken, pathCreate, record("09120000099", "a", "b", ""), `{"Status":"Mobile_Invalid","Data":null}`},
		{"no mobile", SandboxToken, pathCreate, record("", "a", "b", ""), `{"Status":"Mobile_Empty","Data":null}`},
		{"no name", SandboxToken, pathCreate, record("09120000003", "", "", ""), `{"Status":"FirstNameOrLastName_Empty","Data":null}`},
		{"group", SandboxToken, pathCreate, url.Values{"Mobile": {"09120000003"}, "FName": {"a"}, "ContactGroupID": {"5"}}, `{"Status":"ContactGroupID_Invalid","Data":null}`},
		{"edit unknown", SandboxToken, pathEdit, withID(record("09120000001", "a", "", ""), "99"), `{"Status":"ContactID_Invalid","Data":null}`},
		{"edit", SandboxToken, pathEdit, withID(record("09120000001", "حسن", "", "مشتریان,vip"), "1"), `{"Status":"Success","Data":{"ID":1,`},
		{"search", SandboxToken, pathSearch, url.Values{"Mobile": {"09120000001"}}, `{"Status":"Success","Data":[{"ID":1,`},
		{"search none", SandboxToken, pathSearch, url.Values{"Mobile": {"09120000007"}}, `{"Status":"Success","Data":[]}`},
		{"delete unknown", SandboxToken, pathDelete, url.Values{"ContactID": {"99"}}, `{"Status":"ContactID_Invalid","Data":null}`},
		{"delete", SandboxToken, pathDelete, url.Values{"ContactID": {"2"}}, `{"Status":"Success","Data":null}`},
		{"list", SandboxToken, pathList, url.Values{"ContactGroupID": {"0"}}, `{"Status":"Success","Data":[{"ID":1,"ContactGroupID":0,"Active":true,"Mobile":989120000001,"FName":"حسن"`},
		{"list without a group", SandboxToken, pathList, nil, `{"Status":"ContactGroupID_Invalid","Data":[]}`},
		{"edit replaces the labels", SandboxToken, pathEdit, withID(record("09120000001", "حسن", "", ""), "1"), `{"Status":"Success","Data":{"ID":1,`},
		{"list of contacts without a label", SandboxToken, pathList, url.Values{"ContactGroupID": {"-1"}}, `{"Status":"Success","Data":[{"ID":1,`},
		{"edit", SandboxToken, pathEdit, withID(record("09120000001", "حسن", "", "مشتریان,vip"), "1"), `{"Status":"Success","Data":{"ID":1,`},
		{"list of contacts without a label, none", SandboxToken, pathList, url.Values{"ContactGroupID": {"-1"}}, `{"Status":"Success","Data":[]}`},
	}
	for _, tt := range tests {
		if got := post(tt.token, tt.path, tt.form); !strings.HasPrefix(got, tt.want) {
			t.Errorf("%s:\n got  %s\n want %s…", tt.name, got, tt.want)
		}
	}
	em.Seed("مشتریان", providers.StoredContact{Phone: "+989120000005", FirstName: "رضا", Birthday: "1980-01-02",
		Fields: map[string]string{"Labels": "قدیمی", "CustomText1": "x"}})
	got := em.Contacts("مشتریان")
	want := []providers.StoredContact{
		{Phone: "+989120000001", ID: "1", FirstName: "حسن", Fields: map[string]string{"Labels": "مشتریان,vip"}},
		{Phone: "+989120000005", ID: "3", FirstName: "رضا", Birthday: "1980-01-02", Fields: map[string]string{"Labels": "مشتریان,قدیمی", "CustomText1": "x"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("contents\n got  %+v\n want %+v", got, want)
	}
	if got := em.Contacts("vip"); len(got) != 1 {
		t.Errorf("label vip holds %+v", got)
	}
	if got := post(SandboxToken, pathList, url.Values{"ContactGroupID": {"0"}}); !strings.Contains(got, `"BornDate":"1980-01-02T00:00:00"`) || strings.Contains(got, "Labels") {
		t.Errorf("listing %s: dates must be written as .NET writes them, and labels not at all", got)
	}
	transient := NewEmulator(providers.SandboxOptions{Faults: providers.Faults{Script: []providers.Fault{providers.Transient}}})
	tsrv := httptest.NewServer(transient)
	defer tsrv.Close()
	resp, err := http.Post(tsrv.URL+pathList, "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(b)) != `{"Status":"ServerError","Data":null}` {
		t.Errorf("transient answer: HTTP %d %s", resp.StatusCode, b)
	}
}

// The emulator holds a number twice when it is created twice, and shows it.
func TestEmulatorShowsDuplicates(t *testing.T) {
	em := NewEmulator(providers.SandboxOptions{})
	em.Seed("l", providers.StoredContact{Phone: "+989120000001", FirstName: "a"}, providers.StoredContact{Phone: "+989120000001", FirstName: "b"})
	if got := em.Contacts("l"); len(got) != 2 || got[0].ID != "1" || got[1].ID != "2" {
		t.Fatalf("%+v", got)
	}
}

// pipeline runs the importer against an emulator through --endpoint.
type pipeline struct {
	em    *Emulator
	srv   *httptest.Server
	state string // the state file every run shares
}

func newPipeline(t *testing.T, opts providers.SandboxOptions, wrap ...func(http.Handler) http.Handler) *pipeline {
	em := NewEmulator(opts)
	var h http.Handler = em
	for _, w := range wrap {
		h = w(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &pipeline{em: em, srv: srv, state: filepath.Join(t.TempDir(), "state.db")}
}

// options are a run's, into list, with the pipeline's state.
func (p *pipeline) options(t *testing.T, csv, list string) importer.Options {
	t.Helper()
	file := filepath.Join(t.TempDir(), "contacts.csv")
	if err := os.WriteFile(file, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	return importer.Options{File: file, Provider: Name, List: list, StateFile: p.state,
		Endpoint: p.srv.URL, Credentials: p.em.Credentials(), Workers: 2,
		Retry: importer.RetryPolicy{Attempts: 4, Initial: time.Millisecond, Max: 5 * time.Millisecond, MaxElapsed: 10 * time.Second}}
}

func (p *pipeline) run(t *testing.T, opts importer.Options) (*importer.Report, error) {
	t.Helper()
	rep, err := importer.Run(context.Background(), opts)
	if rep != nil && !rep.Balanced() {
		t.Fatalf("unbalanced report %+v", rep)
	}
	return rep, err
}

// upsert runs an upsert of csv into list, which must not fail.
func (p *pipeline) upsert(t *testing.T, csv, list string) *importer.Report {
	t.Helper()
	rep, err := p.run(t, p.options(t, csv, list))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

const persianFile = "نام,نام خانوادگی,موبایل,برچسب\n" +
	"علی,رضایی,0912 123 4567,vip\n" +
	"زهرا,محمدی,۰۹۱۲۷۶۵۴۳۲۱,\n"

// A create whose answer is lost was applied: the retry must find it, not
// make a second contact.
func TestPipelineDroppedCreateIsNotDuplicated(t *testing.T) {
	p := newPipeline(t, providers.SandboxOptions{Faults: providers.Faults{Script: []providers.Fault{providers.NoFault, providers.Drop}}})
	rep := p.upsert(t, "first name,mobile\nAli,09121234567\n", "مشتریان")
	if rep.Added != 1 || rep.Retries != 1 || rep.Failed != 0 {
		t.Errorf("report %+v", rep)
	}
	if got := p.em.Contacts("مشتریان"); len(got) != 1 || got[0].Phone != "+989121234567" {
		t.Errorf("the account holds %+v", got)
	}
}

// A rerun edits what the first run created; Persian text is stored as
// written; the tag adds to the run's label. A label given outside
// contactsync cannot be seen, and an edit loses it: that is the documented
// limit, and what the emulator, like the API, does.
func TestPipelineRerunAndLabels(t *testing.T) {
	p := newPipeline(t, providers.SandboxOptions{})
	p.em.Seed("قدیمی", providers.StoredContact{Phone: "+989127654321", FirstName: "Old"})
	rep := p.upsert(t, persianFile, "مشتریان")
	if rep.Added != 1 || rep.Updated != 1 {
		t.Errorf("first run: %+v", rep)
	}
	opts := p.options(t, persianFile, "مشتریان")
	opts.Full = true
	if rep, err := p.run(t, opts); err != nil || rep.Added != 0 || rep.Updated != 2 {
		t.Errorf("rerun: %+v %v", rep, err)
	}
	want := []providers.StoredContact{
		{Phone: "+989121234567", ID: "2", FirstName: "علی", LastName: "رضایی", Fields: map[string]string{"Labels": "مشتریان,vip"}},
		{Phone: "+989127654321", ID: "1", FirstName: "زهرا", LastName: "محمدی", Fields: map[string]string{"Labels": "مشتریان"}},
	}
	if got := p.em.Contacts("مشتریان"); !reflect.DeepEqual(got, want) {
		t.Errorf("contents\n got  %+v\n want %+v", got, want)
	}
}

// An upsert into a second label keeps the first, which an earlier run gave
// (remembered per account in the state), and costs one edit per contact:
// no read of its labels exists. A mirror of the first label then takes only
// that label off a contact the file no longer holds.
func TestPipelineLabelsAcrossLists(t *testing.T) {
	p := newPipeline(t, providers.SandboxOptions{})
	p.upsert(t, persianFile, "الف")
	before := p.em.Requests()
	rep := p.upsert(t, persianFile, "ب")
	if rep.Updated != 2 || p.em.Requests()-before != 3 {
		t.Errorf("second label: %+v, %d requests; want 2 updated with 3 requests (ContactList and an edit each)", rep, p.em.Requests()-before)
	}
	for _, label := range []string{"الف", "ب"} {
		if got := p.em.Contacts(label); len(got) != 2 {
			t.Errorf("label %s holds %+v", label, got)
		}
	}
	if got := p.em.Contacts("vip"); len(got) != 1 || got[0].Fields["Labels"] != "الف,vip,ب" {
		t.Errorf("the row's tag: %+v", got)
	}

	var logs strings.Builder
	opts := p.options(t, "نام,موبایل\nعلی,09121234567\n", "الف")
	opts.Mode, opts.MaxDelete = providers.ModeMirror, "100%"
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	rep, err := p.run(t, opts)
	if err != nil || rep.Deleted != 1 {
		t.Fatalf("mirror: %+v %v", rep, err)
	}
	if got := p.em.Contacts("الف"); len(got) != 1 || got[0].Phone != "+989121234567" {
		t.Errorf("after the mirror, label الف holds %+v", got)
	}
	if got := p.em.Contacts("ب"); len(got) != 2 {
		t.Errorf("the mirror of الف deleted from ب: %+v", got)
	}
	if n := strings.Count(logs.String(), "answers do not show a contact's labels"); n != 1 {
		t.Errorf("the labels warning was printed %d times, want once:\n%s", n, logs.String())
	}
	// With ب's label taken off too, nothing is left: the contact is deleted.
	opts.List = "ب"
	if rep, err := p.run(t, opts); err != nil || rep.Deleted != 1 {
		t.Fatalf("mirror: %+v %v", rep, err)
	}
	if got := p.em.Contacts("ب"); len(got) != 1 {
		t.Errorf("after the mirror, label ب holds %+v", got)
	}
	requests := p.em.Requests()
	p.em.mu.Lock()
	n := len(p.em.contacts)
	p.em.mu.Unlock()
	if n != 1 {
		t.Errorf("the account holds %d contacts after %d requests, want 1", n, requests)
	}
}

// failing answers Failed to the requests about the given mobiles, as
// AmootSMS may for any contact, and passes the others on.
func failing(mobiles ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			if slices.Contains(mobiles, r.Form.Get("Mobile")) {
				answer(w, "Failed", nil)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// One Failed among many rejects that row alone (provider_failed), and it is
// not remembered as refused: the next run sends it again.
func TestPipelineOneFailedAmongMany(t *testing.T) {
	var b strings.Builder
	b.WriteString("first name,mobile\n")
	for i := range 50 {
		fmt.Fprintf(&b, "N%d,0912%07d\n", i, i)
	}
	p := newPipeline(t, providers.SandboxOptions{}, failing("09120000007"))
	rep := p.upsert(t, b.String(), "مشتریان")
	if rep.Added != 49 || rep.Rejected != 1 || rep.RejectedByReason[providers.ReasonProviderFailed] != 1 {
		t.Fatalf("report %+v", rep)
	}
	rep = p.upsert(t, b.String(), "مشتریان")
	if rep.SkippedByReason["unchanged"] != 49 || rep.RejectedByReason[providers.ReasonProviderFailed] != 1 || rep.Requests != 2 {
		t.Fatalf("rerun %+v; want the failed row sent again (ContactList and its create)", rep)
	}
}

// A run where AmootSMS answers Failed to every contact stops after
// --max-streak of them (exit 3), the rest failing aborted, and forgets the
// refusals: once the account works again, the next run sends every row.
func TestPipelineEveryContactFailedStopsEarly(t *testing.T) {
	const rows = 1000
	var b strings.Builder
	b.WriteString("first name,mobile\n")
	var mobiles []string
	for i := range rows {
		mobiles = append(mobiles, fmt.Sprintf("0912%07d", i))
		fmt.Fprintf(&b, "N%d,%s\n", i, mobiles[i])
	}
	var broken atomic.Bool
	broken.Store(true)
	p := newPipeline(t, providers.SandboxOptions{}, func(next http.Handler) http.Handler {
		fail := failing(mobiles...)(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if broken.Load() {
				fail.ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	opts := p.options(t, b.String(), "مشتریان")
	opts.MaxStreak = importer.DefaultMaxStreak
	rep, err := p.run(t, opts)
	var fatal *importer.FatalError
	if !errors.As(err, &fatal) || !strings.Contains(err.Error(), "--max-streak") {
		t.Fatalf("err %v, want the run stopped by the streak", err)
	}
	if rep.RejectedByReason[providers.ReasonProviderFailed] < importer.DefaultMaxStreak || rep.FailedByReason["aborted"] == 0 {
		t.Errorf("report %+v", rep)
	}
	// One ContactList, the streak's creates, and those in flight or whose
	// answers the collector had not seen yet when it saw the streak's last
	// (a request per worker, and the importer's short queue of answers).
	if rep.Requests > int64(1+importer.DefaultMaxStreak+2*opts.Workers+4) {
		t.Errorf("%d requests before the run stopped", rep.Requests)
	}
	t.Logf("%d rows, every one answered Failed: stopped after %d requests", rows, rep.Requests)
	broken.Store(false)
	if rep := p.upsert(t, b.String(), "مشتریان"); rep.Added != rows {
		t.Errorf("next run: %+v, want every row added", rep)
	}
}

// ContactList is streamed within limits: a contact or a field too large to
// be an AmootSMS answer stops the run with a short message (a 100 MB Status
// used to be quoted whole), and a Success without Data is not an empty
// account.
func TestOpenRefusesHugeOrIncompleteListing(t *testing.T) {
	huge := strings.Repeat("x", 2*providers.MaxItemSize)
	for _, tt := range []struct{ name, body, reason string }{
		{"a contact over the item limit", `{"Status":"Success","Data":[{"ID":1,"Mobile":989120000000,"FName":"` + huge + `"}]}`, providers.ReasonTooLarge},
		{"a Status over the item limit", `{"Status":"` + huge + `"}`, providers.ReasonTooLarge},
		{"a bare status over the item limit", `"` + huge + `"`, providers.ReasonTooLarge},
		{"an unknown field over the item limit", `{"Other":"` + huge + `","Status":"Success","Data":[]}`, providers.ReasonTooLarge},
		{"no Data", `{"Status":"Success"}`, providers.ReasonUnreadable},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(&fakeAPI{t: t, replies: map[string]reply{"ContactList": {body: tt.body}}})
			defer srv.Close()
			c, err := New(providers.Config{Endpoint: srv.URL + "/prefix", Credentials: testCreds, HTTPClient: srv.Client()})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Open(context.Background(), providers.Target{List: "l", Mode: providers.ModeUpsert})
			var pe *providers.Error
			if !errors.As(err, &pe) || pe.Reason != tt.reason {
				t.Fatalf("got %.300v, want %s", err, tt.reason)
			}
			if len(err.Error()) > 1000 {
				t.Errorf("a message of %d bytes", len(err.Error()))
			}
		})
	}
}

package amootsms

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"contactsync/providers"
)

// Emulator is an in-process AmootSMS API, faithful to PROVIDERS.md: the raw
// token in Authorization, form-encoded POSTs, HTTP 200 with a Status for
// every answer and the bare string "Token_NotExists" for a wrong token.
// Contacts have auto-increment IDs and carry labels, which no answer shows;
// ContactEdit replaces the whole record, labels included, with what it is
// sent; ContactList requires ContactGroupID (0 every contact, -1 those
// without a label). ContactCreate always makes a new contact, even for a
// number the account holds (the guess this package is built on), so tests
// see every duplicate the client would cause. Transient faults answer
// {"Status":"ServerError"}.
type Emulator struct {
	*providers.Harness
	handler http.Handler

	mu       sync.Mutex
	contacts map[int64]contact
	nextID   int64
}

// SandboxToken is the token the emulator accepts, for --sandbox runs.
const SandboxToken = "sandbox-amootsms-token"

// NewEmulator returns an emulator with an empty account.
func NewEmulator(opts providers.SandboxOptions) *Emulator {
	e := &Emulator{contacts: map[int64]contact{}}
	e.Harness = providers.NewHarness(opts, func(w http.ResponseWriter, _ *http.Request) {
		answer(w, "ServerError", nil)
	})
	e.handler = e.Wrap(http.HandlerFunc(e.route))
	return e
}

// ServeHTTP answers one API request.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) { e.handler.ServeHTTP(w, r) }

// Credentials returns the sandbox token.
func (e *Emulator) Credentials() map[string]string { return map[string]string{envToken: SandboxToken} }

// Contacts returns the contacts labelled list, sorted by phone; a number
// the account holds twice appears twice. Fields holds Labels, GenderType and
// the custom texts that are set.
func (e *Emulator) Contacts(list string) []providers.StoredContact {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []providers.StoredContact
	for _, id := range slices.Sorted(maps.Keys(e.contacts)) {
		c := e.contacts[id]
		if !slices.Contains(strings.Split(c.Labels, ","), list) {
			continue
		}
		sc := providers.StoredContact{Phone: e164Of(c.Mobile), ID: strconv.FormatInt(id, 10), FirstName: c.FName,
			LastName: c.LName, Email: c.Email, Birthday: c.BornDate, Fields: map[string]string{"Labels": c.Labels}}
		for _, f := range c.fields() {
			if (f.name == "GenderType" || strings.HasPrefix(f.name, "CustomText")) && *f.value != "" {
				sc.Fields[f.name] = *f.value
			}
		}
		out = append(out, sc)
	}
	slices.SortStableFunc(out, func(a, b providers.StoredContact) int { return strings.Compare(a.Phone, b.Phone) })
	return out
}

// Seed stores contacts labelled list as if they had been in the account
// before the run. Fields may set any form field by its API name (Labels
// adds to list). Seeding a number the API would refuse is a bug of the test.
func (e *Emulator) Seed(list string, contacts ...providers.StoredContact) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, sc := range contacts {
		mobile, err := formatMobile(sc.Phone)
		if err != nil {
			panic("amootsms: cannot seed " + sc.Phone + ": " + err.Error())
		}
		var c contact
		for _, f := range c.fields() {
			*f.value = sc.Fields[f.name]
		}
		c.Mobile, c.FName, c.LName, c.Email, c.BornDate = mobile, sc.FirstName, sc.LastName, sc.Email, sc.Birthday
		c.Labels = mergeLabels(list, c.Labels)
		if c.Active == "" {
			c.Active = activeTrue
		}
		e.nextID++
		e.contacts[e.nextID] = c
	}
}

func (e *Emulator) route(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != SandboxToken {
		writeJSON(w, "Token_NotExists")
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		answer(w, "Failed", nil)
		return
	}
	switch {
	case strings.HasSuffix(r.URL.Path, pathCreate):
		e.create(w, r)
	case strings.HasSuffix(r.URL.Path, pathEdit):
		e.edit(w, r)
	case strings.HasSuffix(r.URL.Path, pathDelete):
		e.delete(w, r)
	case strings.HasSuffix(r.URL.Path, pathSearch):
		e.search(w, r)
	case strings.HasSuffix(r.URL.Path, pathList):
		e.list(w, r)
	default:
		http.NotFound(w, r)
	}
}

// check validates a record as ContactCreate and ContactEdit do; it returns
// the refusing status, or "".
func (e *Emulator) check(r *http.Request, c contact) string {
	switch {
	case r.Form.Get(fieldContactGroupID) != "0":
		return "ContactGroupID_Invalid"
	case c.Mobile == "":
		return "Mobile_Empty"
	case !mobilePattern.MatchString(c.Mobile) || e.Refuses(e164Of(c.Mobile)):
		return "Mobile_Invalid"
	case c.FName == "" && c.LName == "":
		return "FirstNameOrLastName_Empty"
	}
	return ""
}

func (e *Emulator) create(w http.ResponseWriter, r *http.Request) {
	c := contactFromForm(r.Form)
	if status := e.check(r, c); status != "" {
		answer(w, status, nil)
		return
	}
	e.mu.Lock()
	e.nextID++
	id := e.nextID
	e.contacts[id] = c
	e.mu.Unlock()
	answer(w, statusSuccess, recordOf(id, c))
}

func (e *Emulator) edit(w http.ResponseWriter, r *http.Request) {
	c := contactFromForm(r.Form)
	id, known := e.contactID(r)
	if !known {
		answer(w, statusContactIDInvalid, nil)
		return
	}
	if status := e.check(r, c); status != "" {
		answer(w, status, nil)
		return
	}
	e.mu.Lock()
	e.contacts[id] = c
	e.mu.Unlock()
	answer(w, statusSuccess, recordOf(id, c))
}

func (e *Emulator) delete(w http.ResponseWriter, r *http.Request) {
	id, known := e.contactID(r)
	if !known {
		answer(w, statusContactIDInvalid, nil)
		return
	}
	e.mu.Lock()
	delete(e.contacts, id)
	e.mu.Unlock()
	answer(w, statusSuccess, nil)
}

// contactID reads ContactID and reports whether the account holds it.
func (e *Emulator) contactID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.Form.Get(fieldContactID), 10, 64)
	if err != nil {
		return 0, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.contacts[id]
	return id, ok
}

func (e *Emulator) search(w http.ResponseWriter, r *http.Request) {
	mobile := r.Form.Get("Mobile")
	answer(w, statusSuccess, e.records(func(c contact) bool { return c.Mobile == mobile }))
}

func (e *Emulator) list(w http.ResponseWriter, r *http.Request) {
	switch r.Form.Get(fieldContactGroupID) {
	case "0":
		answer(w, statusSuccess, e.records(func(contact) bool { return true }))
	case "-1":
		answer(w, statusSuccess, e.records(func(c contact) bool { return c.Labels == "" }))
	default:
		// Required [doc]; the emulator holds no groups.
		answer(w, "ContactGroupID_Invalid", []record{})
	}
}

// records returns the matching contacts in ID order, [] when none match.
func (e *Emulator) records(match func(contact) bool) []record {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := []record{}
	for _, id := range slices.Sorted(maps.Keys(e.contacts)) {
		if c := e.contacts[id]; match(c) {
			out = append(out, recordOf(id, c))
		}
	}
	return out
}

// recordOf renders a stored contact as the API returns it: Mobile as a
// number, 989120000000, dates as .NET writes a DateTime and empty ones as
// null, and no labels.
func recordOf(id int64, c contact) record {
	mobile, _ := strconv.ParseInt("98"+strings.TrimPrefix(c.Mobile, "0"), 10, 64) // validated on the way in
	rec := record{ID: id, Active: !strings.EqualFold(c.Active, "false"), Mobile: mobile, FName: c.FName, LName: c.LName,
		CompanyTitle: c.CompanyTitle, JobTitle: c.JobTitle, Email: c.Email, CityName: c.CityName, AddressText: c.AddressText,
		BornDate: dateOrNull(c.BornDate), AnniversaryDate: dateOrNull(c.AnniversaryDate),
		CustomText1: c.CustomText1, CustomText2: c.CustomText2, CustomText3: c.CustomText3,
		CustomText4: c.CustomText4, CustomText5: c.CustomText5, CustomText6: c.CustomText6,
		CustomDate1: dateOrNull(c.CustomDate1), CustomDate2: dateOrNull(c.CustomDate2), CustomDate3: dateOrNull(c.CustomDate3)}
	switch {
	case strings.EqualFold(c.GenderType, "true"):
		rec.GenderType = new(true)
	case strings.EqualFold(c.GenderType, "false"):
		rec.GenderType = new(false)
	}
	return rec
}

func dateOrNull(s string) *string {
	if s == "" {
		return nil
	}
	s += "T00:00:00"
	return &s
}

// e164Of writes a national number 09XXXXXXXXX in E.164.
func e164Of(mobile string) string { return "+98" + strings.TrimPrefix(mobile, "0") }

func answer(w http.ResponseWriter, status string, data any) {
	writeJSON(w, envelope{Status: status, Data: data})
}

// writeJSON answers 200, as AmootSMS does whatever happened.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	json.NewEncoder(w).Encode(v)
}

package avosms

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"contactsync/mapping"
	"contactsync/providers"
)

// Emulator is an in-process AvoSMS API, faithful to PROVIDERS.md: form
// credentials (ERR_100), lists tied to one country, per-endpoint codes (add,
// update and delete: ERR_101 without a list ID, ERR_103 for an unknown list,
// ERR_102 without a number; add ERR_104 for a number already there, ERR_105
// for a bad number, ERR_106 for another country; update and delete ERR_104
// for a missing contact), update clearing the fields it is not sent,
// list/information with every contact, and the fault injection of
// providers.Harness.
type Emulator struct {
	*providers.Harness
	handler http.Handler

	mu    sync.Mutex
	lists map[string]*list // listContactId → list
}

// list is one contact list; contacts are keyed by E.164 number and stored as
// list/information answers them.
type list struct {
	name     string
	country  string
	created  time.Time
	contacts map[string]listContact
}

// Emulator credentials, accepted by --sandbox runs.
const (
	SandboxID  = "sandbox@contactsync.invalid"
	SandboxKey = "sandbox-avosms-key"
)

// Every sandbox list is French: the conformance suite and --sandbox users
// rehearse with French numbers.
const (
	sandboxCountry     = "FR"
	sandboxCountryName = "France"
)

// NewEmulator returns an empty emulator.
func NewEmulator(opts providers.SandboxOptions) *Emulator {
	e := &Emulator{lists: map[string]*list{}}
	e.Harness = providers.NewHarness(opts, func(w http.ResponseWriter, _ *http.Request) {
		reply(w, "ERR_901")
	})
	e.handler = e.Wrap(http.HandlerFunc(e.route))
	return e
}

// ServeHTTP answers one API request.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) { e.handler.ServeHTTP(w, r) }

// Credentials returns the sandbox credentials.
func (e *Emulator) Credentials() map[string]string {
	return map[string]string{envID: SandboxID, envKey: SandboxKey}
}

// Contacts returns the list's contacts, sorted by phone, with the birthday
// back in yyyy-mm-dd and the civility and other information in Fields.
func (e *Emulator) Contacts(id string) []providers.StoredContact {
	e.mu.Lock()
	defer e.mu.Unlock()
	l := e.lists[id]
	if l == nil {
		return []providers.StoredContact{}
	}
	out := make([]providers.StoredContact, 0, len(l.contacts))
	for phone, c := range l.contacts {
		sc := providers.StoredContact{Phone: phone, FirstName: c.FirstName, LastName: c.Name, Email: c.Email,
			Birthday: isoBirthday(c.Birthday), Fields: map[string]string{}}
		for k, v := range map[string]string{"contactCivility": c.Civility, "contactOther": c.Other} {
			if v != "" {
				sc.Fields[k] = v
			}
		}
		out = append(out, sc)
	}
	slices.SortFunc(out, func(a, b providers.StoredContact) int { return strings.Compare(a.Phone, b.Phone) })
	return out
}

// Seed stores contacts as if they had been in the list before the run.
func (e *Emulator) Seed(id string, contacts ...providers.StoredContact) {
	e.mu.Lock()
	defer e.mu.Unlock()
	l := e.lists[id]
	if l == nil {
		l = newList(id)
		e.lists[id] = l
	}
	for _, c := range contacts {
		l.contacts[c.Phone] = listContact{TelephoneNumber: c.Phone, Civility: c.Fields["contactCivility"], Name: c.LastName,
			FirstName: c.FirstName, Email: c.Email, Birthday: formatBirthday(c.Birthday), Other: c.Fields["contactOther"]}
	}
}

func newList(id string) *list {
	return &list{name: "Liste " + id, country: sandboxCountry, created: time.Now(), contacts: map[string]listContact{}}
}

// listLocked finds a list: without SandboxOptions.Lists any ID names one,
// created on first use, as if the user had made it beforehand.
func (e *Emulator) listLocked(id string) *list {
	if l := e.lists[id]; l != nil {
		return l
	}
	if id == "" || !e.ListExists(id) {
		return nil
	}
	l := newList(id)
	e.lists[id] = l
	return l
}

func (e *Emulator) route(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "unreadable form", http.StatusBadRequest)
		return
	}
	f := r.PostForm
	if f.Get("id") != SandboxID || f.Get("key") != SandboxKey {
		reply(w, "ERR_100")
		return
	}
	// A code, the list's information, or nil for no such endpoint; written
	// once the lock is released, so that a slow reader holds up no one.
	var out any
	e.mu.Lock()
	switch {
	case strings.HasSuffix(r.URL.Path, pathAdd):
		out = e.add(f)
	case strings.HasSuffix(r.URL.Path, pathUpdate):
		out = e.update(f)
	case strings.HasSuffix(r.URL.Path, pathDelete):
		out = e.delete(f)
	case strings.HasSuffix(r.URL.Path, pathListInfo):
		out = e.listInfo(f)
	}
	e.mu.Unlock()
	switch a := out.(type) {
	case nil:
		http.NotFound(w, r)
	case string:
		reply(w, a)
	default:
		writeJSON(w, http.StatusOK, a)
	}
}

// refusal is why the emulator refuses a contactTelephoneNumber; each
// endpoint has its own code for it.
type refusal int

const (
	accepted refusal = iota
	emptyNumber
	badNumber
	otherCountry
)

// number reads contactTelephoneNumber in the list's country, as AvoSMS
// would, and returns its E.164 form.
func (e *Emulator) number(l *list, raw string) (string, refusal) {
	if strings.TrimSpace(raw) == "" {
		return "", emptyNumber
	}
	p, problem := mapping.ParsePhone(raw, l.country)
	switch {
	case problem != nil || e.Refuses(p.E164):
		return "", badNumber
	case !p.InRegion(l.country):
		return "", otherCountry
	}
	return p.E164, accepted
}

func contactOf(phone string, f url.Values) listContact {
	return listContact{TelephoneNumber: phone, Civility: f.Get("contactCivility"), Name: f.Get("contactName"),
		FirstName: f.Get("contactFirstName"), Email: f.Get("contactEmail"), Birthday: f.Get("contactBirthday"), Other: f.Get("contactOther")}
}

func (e *Emulator) add(f url.Values) string {
	if f.Get("listContactId") == "" {
		return "ERR_101"
	}
	l := e.listLocked(f.Get("listContactId"))
	if l == nil {
		return "ERR_103"
	}
	phone, why := e.number(l, f.Get("contactTelephoneNumber"))
	switch why {
	case emptyNumber:
		return "ERR_102"
	case badNumber:
		return "ERR_105"
	case otherCountry:
		return "ERR_106"
	}
	if _, ok := l.contacts[phone]; ok {
		return "ERR_104"
	}
	l.contacts[phone] = contactOf(phone, f)
	return codeOK
}

func (e *Emulator) update(f url.Values) string {
	if f.Get("listContactId") == "" {
		return "ERR_101"
	}
	l := e.listLocked(f.Get("listContactId"))
	if l == nil {
		return "ERR_103"
	}
	phone, why := e.number(l, f.Get("contactTelephoneNumber"))
	switch why {
	case emptyNumber:
		return "ERR_102"
	case badNumber:
		return "ERR_106"
	case otherCountry:
		return "ERR_107"
	}
	if _, ok := l.contacts[phone]; !ok {
		return "ERR_104"
	}
	// Every field is replaced: one the request omits becomes empty.
	l.contacts[phone] = contactOf(phone, f)
	return codeOK
}

func (e *Emulator) delete(f url.Values) string {
	if f.Get("listContactId") == "" {
		return "ERR_101"
	}
	l := e.listLocked(f.Get("listContactId"))
	if l == nil {
		return "ERR_103"
	}
	phone, why := e.number(l, f.Get("contactTelephoneNumber"))
	if why == emptyNumber {
		return "ERR_102"
	}
	if _, ok := l.contacts[phone]; why != accepted || !ok {
		return "ERR_104"
	}
	delete(l.contacts, phone)
	return codeOK
}

// listInfo returns the list's information, or ERR_101.
func (e *Emulator) listInfo(f url.Values) any {
	l := e.listLocked(f.Get("listContactId"))
	if l == nil {
		return "ERR_101"
	}
	resp := listInfoResponse{Status: "success", Code: codeOK, ListContactName: l.name, ListContactCountryName: sandboxCountryName,
		ListContactCountryCode: l.country, NbContactList: len(l.contacts), ListContactCreationDate: l.created.Format(time.DateTime),
		ListContact: make([]listContact, 0, len(l.contacts))}
	for _, c := range l.contacts {
		resp.ListContact = append(resp.ListContact, c)
	}
	slices.SortFunc(resp.ListContact, func(a, b listContact) int { return strings.Compare(a.TelephoneNumber, b.TelephoneNumber) })
	return resp
}

// isoBirthday turns a stored birthdayLayout date back into yyyy-mm-dd; a
// value in another form is returned as it is, for a test to see.
func isoBirthday(s string) string {
	d, err := time.Parse(birthdayLayout, s)
	if err != nil {
		return s
	}
	return d.Format(time.DateOnly)
}

// reply answers a code the way AvoSMS does: HTTP 200, status and code.
func reply(w http.ResponseWriter, code string) {
	status := "error"
	if code == codeOK {
		status = "success"
	}
	writeJSON(w, http.StatusOK, answer{Status: status, Code: code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

package octopush

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"

	"contactsync/mapping"
	"contactsync/providers"
)

// Emulator is an in-process Octopush API, faithful to PROVIDERS.md: header
// credentials, create as an upsert that do_not_overwrite turns into an
// insert, per-item added/updated/skipped, code 305 above MaxContacts, 117
// for invalid numbers, 303 for an unknown list, contacts without an e-mail
// (unknown fields are ignored), and the fault injection of
// providers.Harness.
type Emulator struct {
	*providers.Harness
	handler http.Handler

	// MaxContacts is the emulator's limit per create call (code 305).
	MaxContacts int

	mu sync.Mutex
	// lists maps a list to its contacts, keyed by number (mapping.KeyOf),
	// each packed in one string: a --sandbox run holds a million of them,
	// and a garbage collector scanning ten pointers per contact slowed the
	// whole import.
	lists map[string]map[uint64]string
}

// packed is a stored contact's fields, in one string.
type packed struct {
	contact
	tags []string
}

const fieldSep = "\x1f"

func (p packed) String() string {
	return strings.Join([]string{p.FirstName, p.LastName, p.Param1, p.Param2, p.Param3, p.Param4, p.Param5,
		strings.Join(p.tags, ",")}, fieldSep)
}

func unpack(phone, s string) packed {
	f := strings.Split(s, fieldSep)
	p := packed{contact: contact{PhoneNumber: phone, FirstName: f[0], LastName: f[1],
		Param1: f[2], Param2: f[3], Param3: f[4], Param4: f[5], Param5: f[6]}}
	if f[7] != "" {
		p.tags = strings.Split(f[7], ",")
	}
	return p
}

// overwrite is what a create does to a contact the list holds, unless
// do_not_overwrite: the new data replaces the old [doc].
//
// [guess] Whether a field the request leaves out is cleared or kept is not
// documented; the emulator keeps it, as PATCH-like APIs do, and the client
// leaves out the fields of empty cells so that they keep their value if
// Octopush does so too.
func overwrite(old, c contact) contact {
	for _, f := range []struct{ old, new *string }{{&old.FirstName, &c.FirstName}, {&old.LastName, &c.LastName},
		{&old.Param1, &c.Param1}, {&old.Param2, &c.Param2}, {&old.Param3, &c.Param3}, {&old.Param4, &c.Param4},
		{&old.Param5, &c.Param5}} {
		if *f.new != "" {
			*f.old = *f.new
		}
	}
	return old
}

// Emulator credentials, accepted by --sandbox runs.
const (
	SandboxLogin = "sandbox@contactsync.invalid"
	SandboxKey   = "sandbox-octopush-key"
)

// NewEmulator returns an empty emulator.
func NewEmulator(opts providers.SandboxOptions) *Emulator {
	e := &Emulator{MaxContacts: 500, lists: map[string]map[uint64]string{}}
	e.Harness = providers.NewHarness(opts, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusInternalServerError, errorResponse{Code: 500, Message: "Cannot process the request, please retry"})
	})
	e.handler = e.Wrap(http.HandlerFunc(e.route))
	return e
}

// ServeHTTP answers one API request.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) { e.handler.ServeHTTP(w, r) }

// Credentials returns the sandbox credentials.
func (e *Emulator) Credentials() map[string]string {
	return map[string]string{envLogin: SandboxLogin, envKey: SandboxKey}
}

// Contacts returns the list's contacts, sorted by phone.
func (e *Emulator) Contacts(list string) []providers.StoredContact {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]providers.StoredContact, 0, len(e.lists[list]))
	for key, s := range e.lists[list] {
		c := unpack(mapping.PhoneOfKey(key), s)
		sc := providers.StoredContact{Phone: c.PhoneNumber, FirstName: c.FirstName, LastName: c.LastName, Fields: map[string]string{}}
		for k, v := range map[string]string{"param1": c.Param1, "param2": c.Param2, "param3": c.Param3, "param4": c.Param4, "param5": c.Param5} {
			if v != "" {
				sc.Fields[k] = v
			}
		}
		if len(c.tags) > 0 {
			sc.Fields["tags"] = strings.Join(c.tags, ",")
		}
		out = append(out, sc)
	}
	slices.SortFunc(out, func(a, b providers.StoredContact) int { return strings.Compare(a.Phone, b.Phone) })
	return out
}

// Seed stores contacts as if they had been in the list before the run;
// Fields may set param1..param5. An e-mail is not stored, as by Octopush.
func (e *Emulator) Seed(list string, contacts ...providers.StoredContact) {
	e.mu.Lock()
	defer e.mu.Unlock()
	l := e.list(list)
	for _, c := range contacts {
		l[mapping.KeyOf(c.Phone)] = packed{contact: contact{FirstName: c.FirstName, LastName: c.LastName,
			Param1: c.Fields["param1"], Param2: c.Fields["param2"], Param3: c.Fields["param3"], Param4: c.Fields["param4"],
			Param5: c.Fields["param5"]}}.String()
	}
}

// list returns a list's contacts, creating the list on first use.
func (e *Emulator) list(name string) map[uint64]string {
	l := e.lists[name]
	if l == nil {
		l = map[uint64]string{}
		e.lists[name] = l
	}
	return l
}

func (e *Emulator) route(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("api-login") != SandboxLogin || r.Header.Get("api-key") != SandboxKey {
		writeJSON(w, http.StatusBadRequest, errorResponse{Code: 101, Message: "Invalid API login or key"})
		return
	}
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, pathCreate):
		e.create(w, r)
	case r.Method == http.MethodDelete && strings.HasSuffix(r.URL.Path, pathDelete):
		e.delete(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (e *Emulator) create(w http.ResponseWriter, r *http.Request) {
	var req createRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, errorResponse{Code: 125, Message: "Invalid JSON: " + err.Error()})
		return
	}
	switch {
	case len(req.Contacts) > e.MaxContacts:
		writeJSON(w, http.StatusBadRequest, errorResponse{Code: 305, Message: "Too many contacts in the query"})
		return
	case len([]rune(req.ListName)) > 30 || slices.ContainsFunc(append(req.TagNames, req.TagName), func(t string) bool { return len([]rune(t)) > 20 }):
		writeJSON(w, http.StatusBadRequest, errorResponse{Code: 125, Message: "list_name or tag_name too long"})
		return
	case req.ListName != "" && !e.ListExists(req.ListName):
		writeJSON(w, http.StatusBadRequest, errorResponse{Code: 303, Message: "The list does not exist"})
		return
	}
	for _, c := range req.Contacts {
		if !validE164(c.PhoneNumber) || e.Refuses(c.PhoneNumber) {
			writeJSON(w, http.StatusBadRequest, errorResponse{Code: 117, Message: "No valid number: " + c.PhoneNumber})
			return
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	list := e.list(req.ListName)
	resp := createResponse{Items: make([]item, len(req.Contacts))}
	for i, c := range req.Contacts {
		key := mapping.KeyOf(c.PhoneNumber)
		status := "added"
		var tags []string
		if old, ok := list[key]; ok {
			status = "updated"
			if req.DoNotOverwrite {
				status = "skipped"
			}
			held := unpack(c.PhoneNumber, old)
			c, tags = overwrite(held.contact, c), held.tags
		}
		if status != "skipped" {
			for _, tag := range append(req.TagNames, req.TagName) {
				if tag != "" && !slices.Contains(tags, tag) {
					tags = append(tags, tag)
				}
			}
			list[key] = packed{contact: c, tags: tags}.String()
		}
		resp.Items[i] = item{PhoneNumber: c.PhoneNumber, Status: status}
	}
	writeJSON(w, http.StatusCreated, resp)
}

func (e *Emulator) delete(w http.ResponseWriter, r *http.Request) {
	var req deleteRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, errorResponse{Code: 125, Message: "Invalid JSON: " + err.Error()})
		return
	}
	if len(req.PhoneNumbers) < 1 || len(req.PhoneNumbers) > maxDelete {
		writeJSON(w, http.StatusBadRequest, errorResponse{Code: 305, Message: "Between 1 and 200 numbers per call"})
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range req.PhoneNumbers {
		key := mapping.KeyOf(p)
		if req.ListName != "" {
			delete(e.lists[req.ListName], key)
			continue
		}
		for _, l := range e.lists {
			delete(l, key)
		}
	}
	writeJSON(w, http.StatusOK, map[string]int{"deleted": len(req.PhoneNumbers)})
}

// validE164 accepts what the API documents, an international number with
// "+". It checks the form only: the client validates numbers with
// libphonenumber before sending, and a second parse here would double the
// sandbox's cost per contact.
func validE164(s string) bool {
	if len(s) < 8 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

package smstools

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"contactsync/providers"
)

// Emulator is an in-process Smstools contact API, faithful to PROVIDERS.md:
// header credentials (104), contacts with auto-increment IDs in groups, a
// POST of an object or an array that applies nothing when any contact is
// refused (103 bad number, 129 number already in the group), a PATCH by ID
// that applies nothing when an ID is unknown (404), the guessed listing,
// and the fault injection of providers.Harness. Any groupid exists unless
// SandboxOptions.Lists says otherwise (125).
type Emulator struct {
	*providers.Harness
	handler http.Handler

	mu       sync.Mutex
	lastID   int
	contacts map[int]*storedContact
	groups   map[string]map[string]int // groupid → phone digits → ID
}

// storedContact is a contact as the emulator holds it.
type storedContact struct {
	id                                   int
	phone                                string // international digits, no "+"
	group, firstName, lastName, birthday string
	extra                                [8]string
	unsubscribed                         bool
}

// Emulator credentials, accepted by --sandbox runs.
const (
	SandboxClientID     = "sandbox-smstools-client"
	SandboxClientSecret = "sandbox-smstools-secret"
)

// NewEmulator returns an empty emulator.
func NewEmulator(opts providers.SandboxOptions) *Emulator {
	e := &Emulator{contacts: map[int]*storedContact{}, groups: map[string]map[string]int{}}
	e.Harness = providers.NewHarness(opts, func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusInternalServerError, "105", "Server issue, try again")
	})
	e.handler = e.Wrap(http.HandlerFunc(e.route))
	return e
}

// ServeHTTP answers one API request.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) { e.handler.ServeHTTP(w, r) }

// Credentials returns the sandbox credentials.
func (e *Emulator) Credentials() map[string]string {
	return map[string]string{envClientID: SandboxClientID, envClientSecret: SandboxClientSecret}
}

// Contacts returns the group's contacts, sorted by phone.
func (e *Emulator) Contacts(list string) []providers.StoredContact {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]providers.StoredContact, 0, len(e.groups[list]))
	for _, id := range e.groups[list] {
		c := e.contacts[id]
		sc := providers.StoredContact{Phone: "+" + c.phone, ID: strconv.Itoa(c.id), FirstName: c.firstName,
			LastName: c.lastName, Birthday: c.birthday, Fields: map[string]string{}}
		for i, v := range c.extra {
			if v != "" {
				sc.Fields["extra"+strconv.Itoa(i+1)] = v
			}
		}
		if c.unsubscribed {
			sc.Fields["unsubscribed"] = "true"
		}
		out = append(out, sc)
	}
	slices.SortFunc(out, func(a, b providers.StoredContact) int { return strings.Compare(a.Phone, b.Phone) })
	return out
}

// Seed stores contacts as if they had been in the group before the run,
// each with a new ID (an existing number keeps its own).
func (e *Emulator) Seed(list string, contacts ...providers.StoredContact) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, c := range contacts {
		phone := strings.TrimPrefix(c.Phone, "+")
		sc := &storedContact{phone: phone, group: list, firstName: c.FirstName, lastName: c.LastName, birthday: c.Birthday}
		for i := range sc.extra {
			sc.extra[i] = c.Fields["extra"+strconv.Itoa(i+1)]
		}
		if id := e.groups[list][phone]; id != 0 {
			sc.id = id
		} else {
			e.lastID++
			sc.id = e.lastID
		}
		e.store(sc)
	}
}

// store saves c and indexes it by group and phone; the caller holds mu and
// has removed c's previous index entry.
func (e *Emulator) store(c *storedContact) {
	e.contacts[c.id] = c
	if e.groups[c.group] == nil {
		e.groups[c.group] = map[string]int{}
	}
	e.groups[c.group][c.phone] = c.id
}

func (e *Emulator) route(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Client-Id") != SandboxClientID || r.Header.Get("X-Client-Secret") != SandboxClientSecret {
		writeError(w, http.StatusUnauthorized, "104", "Invalid client id or client secret")
		return
	}
	if !strings.HasSuffix(r.URL.Path, pathContact) {
		http.NotFound(w, r)
		return
	}
	switch r.Method {
	case http.MethodPost:
		e.create(w, r)
	case http.MethodPatch:
		e.update(w, r)
	case http.MethodGet:
		e.list(w, r)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// refusal is an error answer of the API.
type refusal struct {
	status    int
	code, msg string
}

func badRequest(code, msg string) *refusal {
	return &refusal{status: http.StatusBadRequest, code: code, msg: msg}
}

func (e *Emulator) create(w http.ResponseWriter, r *http.Request) {
	objects, single, ref := readObjects(r)
	if ref != nil {
		writeError(w, ref.status, ref.code, ref.msg)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	staged := make([]*storedContact, len(objects))
	inRequest := map[[2]string]bool{}
	for i, props := range objects {
		c := &storedContact{}
		refused := e.set(c, props)
		switch {
		case refused != nil:
		case c.phone == "":
			refused = badRequest("103", "Phone number missing")
		case c.group == "":
			refused = badRequest("124", "groupid is required")
		case !e.ListExists(c.group):
			refused = badRequest("125", "Group not found")
		case e.groups[c.group][c.phone] != 0 || inRequest[[2]string{c.group, c.phone}]:
			refused = badRequest("129", "Number already exists in group: "+c.phone)
		}
		if refused != nil {
			writeError(w, refused.status, refused.code, refused.msg)
			return
		}
		inRequest[[2]string{c.group, c.phone}] = true
		staged[i] = c
	}
	ids := make([]int, len(staged))
	for i, c := range staged {
		e.lastID++
		c.id = e.lastID
		e.store(c)
		ids[i] = c.id
	}
	if single {
		writeJSON(w, http.StatusCreated, map[string]int{"ID": ids[0]})
		return
	}
	writeJSON(w, http.StatusCreated, map[string][]int{"IDs": ids})
}

func (e *Emulator) update(w http.ResponseWriter, r *http.Request) {
	objects, _, ref := readObjects(r)
	if ref != nil {
		writeError(w, ref.status, ref.code, ref.msg)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if ref := e.stageUpdate(objects); ref != nil {
		writeError(w, ref.status, ref.code, ref.msg)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// stageUpdate applies a PATCH, or nothing and the refusal when any of its
// objects is refused. The caller holds mu.
func (e *Emulator) stageUpdate(objects []map[string]json.RawMessage) *refusal {
	staged := make([]*storedContact, len(objects))
	for i, props := range objects {
		raw, ok := props["id"]
		if !ok {
			return badRequest("123", "Object without ID")
		}
		id, err := strconv.Atoi(string(valueOf(raw)))
		if err != nil || e.contacts[id] == nil {
			return &refusal{status: http.StatusNotFound, msg: "Contact not found"}
		}
		c := *e.contacts[id]
		staged[i] = &c
	}
	final := map[[2]string]int{}
	patched := map[int]bool{}
	for i, c := range staged {
		if ref := e.set(c, objects[i]); ref != nil {
			return ref
		}
		if !e.ListExists(c.group) {
			return badRequest("125", "Group not found")
		}
		k := [2]string{c.group, c.phone}
		if other, dup := final[k]; dup && other != c.id {
			return badRequest("129", "Number already exists in group: "+c.phone)
		}
		final[k] = c.id
		patched[c.id] = true
	}
	for k := range final {
		if other := e.groups[k[0]][k[1]]; other != 0 && !patched[other] {
			return badRequest("129", "Number already exists in group: "+k[1])
		}
	}
	// Unindex every patched contact before indexing any: one may take the
	// number another gives up.
	for id := range patched {
		old := e.contacts[id]
		delete(e.groups[old.group], old.phone)
	}
	for _, c := range staged {
		e.store(c)
	}
	return nil
}

// set copies the properties an object gives onto c, leaving the others as
// they are; property names are matched without regard to case.
func (e *Emulator) set(c *storedContact, props map[string]json.RawMessage) *refusal {
	if raw, ok := props["phone"]; ok {
		phone := string(valueOf(raw))
		if !validDigits(phone) || e.Refuses("+"+phone) {
			return badRequest("103", "Invalid phone number: "+phone)
		}
		c.phone = phone
	}
	for name, field := range map[string]*string{"groupid": &c.group, "firstname": &c.firstName, "lastname": &c.lastName, "birthday": &c.birthday} {
		if raw, ok := props[name]; ok {
			*field = string(valueOf(raw))
		}
	}
	// [guess] A birthday not in the documented yyyy-MM-dd is answered with
	// 139, "missing or invalid parameters" [lib].
	if _, err := time.Parse(time.DateOnly, c.birthday); c.birthday != "" && err != nil {
		return badRequest("139", "Missing or invalid parameters: birthday")
	}
	for i := range c.extra {
		if raw, ok := props["extra"+strconv.Itoa(i+1)]; ok {
			c.extra[i] = string(valueOf(raw))
		}
	}
	if raw, ok := props["unsubscribed"]; ok {
		v := strings.Trim(string(raw), `"`)
		c.unsubscribed = v == "true" || v == "1"
	}
	return nil
}

// valueOf reads a property written as a string or a number; anything else
// reads as empty, which the checks then refuse where it matters.
func valueOf(raw json.RawMessage) intOrString {
	var v intOrString
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	return v
}

// readObjects reads a body holding one object or an array of them, with
// property names in lower case; single says it was one object.
func readObjects(r *http.Request) (objects []map[string]json.RawMessage, single bool, ref *refusal) {
	body, err := io.ReadAll(r.Body)
	body = bytes.TrimSpace(body)
	if err != nil || len(body) == 0 {
		return nil, false, badRequest("114", "Empty request")
	}
	if body[0] == '{' {
		var o map[string]json.RawMessage
		if err := json.Unmarshal(body, &o); err != nil {
			return nil, false, badRequest("114", "Invalid request: "+err.Error())
		}
		objects, single = []map[string]json.RawMessage{o}, true
	} else if err := json.Unmarshal(body, &objects); err != nil {
		return nil, false, badRequest("114", "Invalid request: "+err.Error())
	}
	if len(objects) == 0 {
		return nil, false, badRequest("122", "No contacts")
	}
	for i, o := range objects {
		lower := make(map[string]json.RawMessage, len(o))
		for k, v := range o {
			lower[strings.ToLower(k)] = v
		}
		objects[i] = lower
	}
	return objects, single, nil
}

// list serves the guessed listing: GET ?groupid=&limit=1..2000&page=1..,
// contacts in ID order.
func (e *Emulator) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	group := q.Get("groupid")
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit < 1 || limit > listPageSize {
		writeError(w, http.StatusBadRequest, "135", "The limit parameter must be an integer between 1 and 2000")
		return
	}
	page := 1
	if p := q.Get("page"); p != "" {
		if page, err = strconv.Atoi(p); err != nil || page < 1 {
			writeError(w, http.StatusBadRequest, "136", "The page parameter must be an integer greater than 0")
			return
		}
	}
	if group != "" && !e.ListExists(group) {
		writeError(w, http.StatusBadRequest, "125", "Group not found")
		return
	}
	e.mu.Lock()
	var ids []int
	for id, c := range e.contacts {
		if group == "" || c.group == group {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	from, to := min((page-1)*limit, len(ids)), min(page*limit, len(ids))
	out := make([]contact, 0, to-from)
	for _, id := range ids[from:to] {
		c := e.contacts[id]
		out = append(out, contact{ID: intOrString(strconv.Itoa(id)), Phone: c.phone, GroupID: intOrString(c.group),
			FirstName: c.firstName, LastName: c.lastName, Birthday: c.birthday,
			Extra1: c.extra[0], Extra2: c.extra[1], Extra3: c.extra[2], Extra4: c.extra[3],
			Extra5: c.extra[4], Extra6: c.extra[5], Extra7: c.extra[6], Extra8: c.extra[7]})
	}
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// validDigits accepts what the API documents, international digits without
// "+". It checks the form only: the client validates numbers with
// libphonenumber before sending.
func validDigits(s string) bool {
	if len(s) < 8 || len(s) > 15 || s[0] == '0' {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	body := map[string]string{"errorMsg": msg}
	if code != "" {
		body["error"] = code
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// Package providertest is the conformance suite every provider passes
// against its own emulator: the real importer pipeline, driven through
// --endpoint as a user would, must upsert, honour each mode, isolate a
// refused row (among a few, and among many), stop early when every contact
// is refused, keep what a contact holds in one list when a run puts it in
// another (or mirrors the other), keep the provider's value for an empty
// cell, stop after one request on a fatal error, retry transient errors with
// identical requests, honour Retry-After and cancellation, keep credentials
// out of every message (even from an answer that echoes them, cut
// anywhere), count nothing as sent that the provider did not confirm in its
// documented answer, follow no redirect, and leave the provider holding
// exactly what the file says.
package providertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/bits"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"contactsync/importer"
	"contactsync/mapping"
	"contactsync/providers"
)

// Subject describes the provider under test.
type Subject struct {
	// Name is the provider's registry name.
	Name string
	// List and OtherList are two lists the sandbox accepts.
	List, OtherList string
	// Region is the country of the numbers Number writes.
	Region string
	// Number writes the i-th of many distinct valid numbers as a user's
	// file would (national form).
	Number func(i int) string
	// Fields names the contact fields the provider stores and the suite
	// compares with the file: first_name, last_name, email, birthday.
	Fields []string
}

// fastRetry keeps the suite from waiting on backoff.
var fastRetry = importer.RetryPolicy{Attempts: 4, Initial: time.Millisecond, Max: 5 * time.Millisecond, MaxElapsed: 10 * time.Second}

// Run runs the suite.
func Run(t *testing.T, s Subject) {
	reg, err := providers.Lookup(s.Name)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{s: s, reg: reg}
	t.Run("UpsertNewAndExisting", h.upsertNewAndExisting)
	t.Run("Modes", h.modes)
	t.Run("RowError", h.rowError)
	t.Run("OneRefusedAmongMany", h.oneRefusedAmongMany)
	t.Run("EveryContactRefusedStopsEarly", h.everyContactRefusedStopsEarly)
	t.Run("TwoLists", h.twoLists)
	t.Run("EmptyCellsKeepValues", h.emptyCellsKeepValues)
	t.Run("FatalStopsAfterOneRequest", h.fatalStopsAfterOneRequest)
	t.Run("RetryableThenSuccess", h.retryableThenSuccess)
	t.Run("RetryAfterHonoured", h.retryAfterHonoured)
	t.Run("CancelHonouredPromptly", h.cancelHonouredPromptly)
	t.Run("NoCredentialsInMessages", h.noCredentialsInMessages)
	t.Run("EchoedCredentialsCutAnywhere", h.echoedCredentialsCutAnywhere)
	t.Run("UnconfirmedWritesNotCounted", h.unconfirmedWritesNotCounted)
	t.Run("RedirectsNotFollowed", h.redirectsNotFollowed)
	t.Run("ContentsEqualFile", h.contentsEqualFile)
}

type harness struct {
	s   Subject
	reg providers.Registration
}

// row is one contact of a test file.
type row struct {
	phone, first, last, email, birthday string
}

func (h *harness) rows(from, n int) []row {
	out := make([]row, n)
	for i := range out {
		k := from + i
		out[i] = row{phone: h.s.Number(k), first: fmt.Sprintf("Prénom%d", k), last: fmt.Sprintf("Nom%d", k),
			email: fmt.Sprintf("c%d@example.com", k), birthday: fmt.Sprintf("1980-01-%02d", 1+k%28)}
	}
	return out
}

func (h *harness) e164(t *testing.T, local string) string {
	t.Helper()
	p, problem := mapping.ParsePhone(local, h.s.Region)
	if problem != nil {
		t.Fatalf("Subject.Number gave %q, which is not valid for %s: %v", local, h.s.Region, problem)
	}
	return p.E164
}

func writeFile(t *testing.T, rows []row, extra ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("first name,last name,mobile,email,birthday\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s\n", r.first, r.last, r.phone, r.email, r.birthday)
	}
	for _, l := range extra {
		b.WriteString(l + "\n")
	}
	path := filepath.Join(t.TempDir(), "contacts.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// env is a sandbox behind an HTTP server, as --endpoint reaches it.
type env struct {
	sb  providers.Sandbox
	srv *httptest.Server
}

func (h *harness) env(t *testing.T, opts providers.SandboxOptions, wrap func(http.Handler) http.Handler) *env {
	t.Helper()
	opts.Record = true
	sb := h.reg.NewSandbox(opts)
	var handler http.Handler = sb
	if wrap != nil {
		handler = wrap(sb)
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return &env{sb: sb, srv: srv}
}

func (h *harness) options(e *env, file string) importer.Options {
	return importer.Options{File: file, Provider: h.s.Name, List: h.s.List, Region: h.s.Region,
		Endpoint: e.srv.URL, Credentials: e.sb.Credentials(), Rate: 0, Workers: 4, Retry: fastRetry}
}

func (h *harness) run(t *testing.T, ctx context.Context, opts importer.Options) (*importer.Report, error) {
	t.Helper()
	rep, err := importer.Run(ctx, opts)
	if rep != nil && !rep.Balanced() {
		t.Fatalf("the report does not account for every row: %+v", rep)
	}
	return rep, err
}

// stored returns the list's contacts by E.164 number and fails on a number
// held twice.
func stored(t *testing.T, e *env, list string) map[string]providers.StoredContact {
	t.Helper()
	out := map[string]providers.StoredContact{}
	for _, c := range e.sb.Contacts(list) {
		if _, dup := out[c.Phone]; dup {
			t.Fatalf("the provider holds %s twice", c.Phone)
		}
		out[c.Phone] = c
	}
	return out
}

// expectContents checks that the list holds exactly want, field by field.
func (h *harness) expectContents(t *testing.T, e *env, want []row) {
	t.Helper()
	h.expectListContents(t, e, h.s.List, want)
}

// expectListContents checks that list holds exactly want, field by field.
func (h *harness) expectListContents(t *testing.T, e *env, list string, want []row) {
	t.Helper()
	got := stored(t, e, list)
	if len(got) != len(want) {
		t.Errorf("the list holds %d contacts, want %d", len(got), len(want))
	}
	for _, r := range want {
		c, ok := got[h.e164(t, r.phone)]
		if !ok {
			t.Errorf("%s is missing", h.e164(t, r.phone))
			continue
		}
		for _, f := range h.s.Fields {
			var g, w string
			switch f {
			case "first_name":
				g, w = c.FirstName, r.first
			case "last_name":
				g, w = c.LastName, r.last
			case "email":
				g, w = c.Email, r.email
			case "birthday":
				g, w = c.Birthday, r.birthday
			}
			if g != w {
				t.Errorf("%s: %s is %q, want %q", c.Phone, f, g, w)
			}
		}
	}
}

func (h *harness) seed(t *testing.T, e *env, rows []row) {
	for _, r := range rows {
		e.sb.Seed(h.s.List, providers.StoredContact{Phone: h.e164(t, r.phone), FirstName: "Old", LastName: "Name",
			Email: "old@example.com", Birthday: "1970-01-01"})
	}
}

func (h *harness) upsertNewAndExisting(t *testing.T) {
	e := h.env(t, providers.SandboxOptions{}, nil)
	rows := h.rows(0, 5)
	h.seed(t, e, rows[:2])
	rep, err := h.run(t, context.Background(), h.options(e, writeFile(t, rows)))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Added != 3 || rep.Updated != 2 {
		t.Errorf("added %d updated %d, want 3 and 2", rep.Added, rep.Updated)
	}
	h.expectContents(t, e, rows)
}

func (h *harness) modes(t *testing.T) {
	for _, mode := range providers.Modes {
		t.Run(string(mode), func(t *testing.T) {
			e := h.env(t, providers.SandboxOptions{}, nil)
			rows := h.rows(10, 4)
			h.seed(t, e, rows[:2])
			opts := h.options(e, writeFile(t, rows))
			opts.Mode = mode
			opts.StateFile = filepath.Join(t.TempDir(), "state.db") // mirror needs one
			rep, err := h.run(t, context.Background(), opts)
			if !h.reg.Capabilities.Supports(mode) {
				var ue *importer.UsageError
				if !errors.As(err, &ue) || e.sb.Requests() != 0 {
					t.Fatalf("unsupported mode: err %v after %d requests, want a usage error before any", err, e.sb.Requests())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := stored(t, e, h.s.List)
			switch mode {
			case providers.ModeUpsert, providers.ModeMirror:
				if rep.Added != 2 || rep.Updated != 2 {
					t.Errorf("added %d updated %d", rep.Added, rep.Updated)
				}
				h.expectContents(t, e, rows)
			case providers.ModeInsert:
				if rep.Added != 2 || rep.SkippedByReason["exists"] != 2 {
					t.Errorf("added %d, skipped %v", rep.Added, rep.SkippedByReason)
				}
				if c := got[h.e164(t, rows[0].phone)]; c.FirstName != "Old" {
					t.Errorf("insert touched an existing contact: %+v", c)
				}
			case providers.ModeUpdate:
				if rep.Updated != 2 || rep.SkippedByReason["not_found"] != 2 || len(got) != 2 {
					t.Errorf("updated %d, skipped %v, list holds %d", rep.Updated, rep.SkippedByReason, len(got))
				}
				if c := got[h.e164(t, rows[0].phone)]; c.FirstName != rows[0].first {
					t.Errorf("update did not update: %+v", c)
				}
			}
		})
	}
}

func (h *harness) rowError(t *testing.T) {
	rows := h.rows(20, 6)
	bad := h.e164(t, rows[2].phone)
	e := h.env(t, providers.SandboxOptions{RefusePhones: []string{bad}}, nil)
	rep, err := h.run(t, context.Background(), h.options(e, writeFile(t, rows)))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rejected != 1 || rep.Added != 5 {
		t.Errorf("rejected %d (%v), added %d; want 1 and 5", rep.Rejected, rep.RejectedByReason, rep.Added)
	}
	h.expectContents(t, e, slices.Delete(slices.Clone(rows), 2, 3))
}

// oneRefusedAmongMany refuses one contact in the middle of a file of
// several batches: it alone is rejected, every other is added, and finding
// it costs at most a halving of its batch per level.
func (h *harness) oneRefusedAmongMany(t *testing.T) {
	rows := h.rows(300, 450)
	file := writeFile(t, rows)
	base := h.baseline(t, file)
	e := h.env(t, providers.SandboxOptions{RefusePhones: []string{h.e164(t, rows[333].phone)}}, nil)
	rep, err := h.run(t, context.Background(), h.options(e, file))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rejected != 1 || rep.Added != len(rows)-1 || rep.Failed != 0 {
		t.Errorf("rejected %d (%v), added %d, failed %d; want 1, %d, 0", rep.Rejected, rep.RejectedByReason, rep.Added, rep.Failed, len(rows)-1)
	}
	if extra := e.sb.Requests() - base; extra > 2*bits.Len(uint(h.reg.Capabilities.MaxBatch)) {
		t.Errorf("%d requests to isolate one refused contact (a clean run takes %d)", extra, base)
	}
	h.expectContents(t, e, slices.Delete(slices.Clone(rows), 333, 334))
}

// everyContactRefusedStopsEarly refuses every contact: the run stops after
// MaxStreak refusals in a row (exit 3), not after a request per row, and
// forgets them, so that once the cause is fixed the next run sends every row
// again.
func (h *harness) everyContactRefusedStopsEarly(t *testing.T) {
	const streak = 10
	rows := h.rows(800, 200)
	file := writeFile(t, rows)
	var refused []string
	for _, r := range rows {
		refused = append(refused, h.e164(t, r.phone))
	}
	open := h.openRequests(t)
	state := filepath.Join(t.TempDir(), "state.db")
	e := h.env(t, providers.SandboxOptions{RefusePhones: refused}, nil)
	opts := h.options(e, file)
	opts.BatchSize, opts.MaxStreak, opts.StateFile = 1, streak, state
	rep, err := h.run(t, context.Background(), opts)
	var fatal *importer.FatalError
	if !errors.As(err, &fatal) || !strings.Contains(err.Error(), "--max-streak") {
		t.Fatalf("err %v, want the run stopped by the streak", err)
	}
	// Besides the streak, the requests in flight and the answers queued for
	// the collector when it saw the streak's last: fewer than another streak
	// and a request per worker, far fewer than the file's rows.
	if n := e.sb.Requests(); n > open+2*streak+opts.Workers {
		t.Errorf("%d requests before the run stopped (%d to open, a streak of %d, %d workers)", n, open, streak, opts.Workers)
	}
	if rep.Rejected < streak || rep.Added+rep.Updated != 0 || rep.FailedByReason["aborted"] == 0 {
		t.Errorf("report %+v", rep)
	}
	fixed := h.env(t, providers.SandboxOptions{}, nil)
	opts = h.options(fixed, file)
	opts.StateFile = state
	rep, err = h.run(t, context.Background(), opts)
	if err != nil || rep.Added != len(rows) {
		t.Fatalf("once fixed: %+v %v, want every row added", rep, err)
	}
}

// twoLists puts a file in one list, then in another: each holds every
// contact, the second run keeping what the first gave (a label of the same
// contact, where lists are labels). A mirror of the first list then takes a
// contact out of it alone.
func (h *harness) twoLists(t *testing.T) {
	rows := h.rows(600, 6)
	file := writeFile(t, rows)
	e := h.env(t, providers.SandboxOptions{}, nil)
	opts := h.options(e, file)
	opts.StateFile = filepath.Join(t.TempDir(), "state.db")
	for _, list := range []string{h.s.List, h.s.OtherList} {
		opts.List = list
		rep, err := h.run(t, context.Background(), opts)
		if err != nil || rep.Added+rep.Updated != len(rows) {
			t.Fatalf("into %s: %+v %v", list, rep, err)
		}
	}
	h.expectListContents(t, e, h.s.List, rows)
	h.expectListContents(t, e, h.s.OtherList, rows)
	if !h.reg.Capabilities.Supports(providers.ModeMirror) {
		return
	}
	opts.File, opts.List, opts.Mode, opts.MaxDelete = writeFile(t, rows[1:]), h.s.List, providers.ModeMirror, "100%"
	if rep, err := h.run(t, context.Background(), opts); err != nil || rep.Deleted != 1 {
		t.Fatalf("mirror: %+v %v", rep, err)
	}
	h.expectListContents(t, e, h.s.List, rows[1:])
	h.expectListContents(t, e, h.s.OtherList, rows)
}

// emptyCellsKeepValues upserts rows with empty cells over contacts the list
// holds: an empty cell keeps the provider's value, a full one replaces it,
// everywhere the API allows it (README, the providers' table).
func (h *harness) emptyCellsKeepValues(t *testing.T) {
	e := h.env(t, providers.SandboxOptions{}, nil)
	rows := h.rows(700, 4)
	h.seed(t, e, rows[:3])
	sent := slices.Clone(rows)
	sent[0].email, sent[0].birthday = "", ""
	sent[1].last = ""
	sent[2].first, sent[2].email = "", ""
	sent[3].email, sent[3].birthday = "", "" // new: nothing to keep
	rep, err := h.run(t, context.Background(), h.options(e, writeFile(t, sent)))
	if err != nil || rep.Added != 1 || rep.Updated != 3 {
		t.Fatalf("%+v %v", rep, err)
	}
	want := slices.Clone(sent)
	want[0].email, want[0].birthday = "old@example.com", "1970-01-01"
	want[1].last = "Name"
	want[2].first, want[2].email = "Old", "old@example.com"
	h.expectContents(t, e, want)
}

func (h *harness) fatalStopsAfterOneRequest(t *testing.T) {
	e := h.env(t, providers.SandboxOptions{}, nil)
	opts := h.options(e, writeFile(t, h.rows(30, 40)))
	opts.BatchSize = 1
	opts.Credentials = wrongCredentials(e.sb.Credentials())
	rep, err := h.run(t, context.Background(), opts)
	var fatal *importer.FatalError
	if !errors.As(err, &fatal) {
		t.Fatalf("err %v, want a fatal error", err)
	}
	if n := e.sb.Requests(); n != 1 {
		t.Fatalf("%d requests after the credentials were refused, want 1", n)
	}
	if rep != nil && rep.Added+rep.Updated != 0 {
		t.Fatalf("report %+v", rep)
	}
}

func wrongCredentials(good map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range good {
		out[k] = v + "-wrong-secret-4242"
	}
	return out
}

// baseline counts the requests of a clean run of file.
func (h *harness) baseline(t *testing.T, file string) int {
	e := h.env(t, providers.SandboxOptions{}, nil)
	if _, err := h.run(t, context.Background(), h.options(e, file)); err != nil {
		t.Fatal(err)
	}
	return e.sb.Requests()
}

func (h *harness) retryableThenSuccess(t *testing.T) {
	rows := h.rows(80, 3)
	file := writeFile(t, rows)
	base := h.baseline(t, file)
	for i := range base {
		t.Run(fmt.Sprint("request ", i), func(t *testing.T) {
			script := make([]providers.Fault, i+1)
			script[i] = providers.Transient
			e := h.env(t, providers.SandboxOptions{Faults: providers.Faults{Script: script}}, nil)
			opts := h.options(e, file)
			opts.Workers = 1
			rep, err := h.run(t, context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Failed != 0 || rep.Retries != 1 {
				t.Errorf("failed %d retries %d, want 0 and 1", rep.Failed, rep.Retries)
			}
			rec := e.sb.Recorded()
			// The repeat of the refused request is the next one to the same
			// path (a provider may look a number up in between).
			var repeat *providers.RecordedRequest
			for j := i + 1; j < len(rec); j++ {
				if rec[j].Path == rec[i].Path && rec[j].Method == rec[i].Method {
					repeat = &rec[j]
					break
				}
			}
			if repeat == nil || !bytes.Equal(repeat.Body, rec[i].Body) {
				t.Errorf("request %d (%s %s) was not repeated with an identical body", i, rec[i].Method, rec[i].Path)
			}
			if len(rec) > base+2 {
				t.Errorf("%d requests for one transient error, a clean run takes %d", len(rec), base)
			}
			h.expectContents(t, e, rows)
		})
	}
}

func (h *harness) retryAfterHonoured(t *testing.T) {
	const wait = 120 * time.Millisecond
	var times []time.Time
	stamp := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			times = append(times, time.Now())
			next.ServeHTTP(w, r)
		})
	}
	rows := h.rows(40, 2)
	e := h.env(t, providers.SandboxOptions{Faults: providers.Faults{Script: []providers.Fault{providers.TooMany}, RetryAfter: wait}}, stamp)
	opts := h.options(e, writeFile(t, rows))
	opts.Workers = 1
	rep, err := h.run(t, context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(times) < 2 || rep.Retries != 1 {
		t.Fatalf("%d requests, %d retries", len(times), rep.Retries)
	}
	if gap := times[1].Sub(times[0]); gap < wait {
		t.Fatalf("retried after %v; the provider asked for %v", gap, wait)
	}
	h.expectContents(t, e, rows)
}

func (h *harness) cancelHonouredPromptly(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var seen atomic.Int32
	interrupt := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if seen.Add(1) == 4 {
				cancel()
			}
			next.ServeHTTP(w, r)
		})
	}
	e := h.env(t, providers.SandboxOptions{Faults: providers.Faults{Latency: 30 * time.Millisecond}}, interrupt)
	opts := h.options(e, writeFile(t, h.rows(100, 300)))
	opts.BatchSize = 2
	start := time.Now()
	rep, err := h.run(t, ctx, opts)
	if !errors.Is(err, importer.ErrInterrupted) {
		t.Fatalf("err %v, want ErrInterrupted", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("stopped %v after the interrupt", d)
	}
	if rep.Rows != 300 || rep.FailedByReason["interrupted"] == 0 {
		t.Fatalf("report %+v", rep)
	}
	// What the report counts as sent is what the provider holds.
	if got := len(stored(t, e, h.s.List)); rep.Added != got {
		t.Fatalf("report says %d added, the provider holds %d", rep.Added, got)
	}
}

func (h *harness) noCredentialsInMessages(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rows := h.rows(50, 20)
	file := writeFile(t, rows)
	rejects := filepath.Join(t.TempDir(), "rejects.csv")

	e := h.env(t, providers.SandboxOptions{Faults: providers.Faults{Script: []providers.Fault{providers.Transient}}}, nil)
	opts := h.options(e, file)
	opts.Logger, opts.RejectsFile = logger, rejects
	rep, err := h.run(t, context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Retries == 0 || !strings.Contains(logs.String(), "retrying") {
		t.Fatalf("no retry was logged: %d retries\n%s", rep.Retries, logs.String())
	}
	secrets := e.sb.Credentials()

	bad := h.env(t, providers.SandboxOptions{}, nil)
	opts = h.options(bad, file)
	opts.Logger, opts.RejectsFile = logger, rejects
	opts.Credentials = wrongCredentials(bad.sb.Credentials())
	badRep, err := h.run(t, context.Background(), opts)
	if err == nil {
		t.Fatal("wrong credentials were accepted")
	}
	rejected, _ := os.ReadFile(rejects)
	everything := logs.String() + err.Error() + fmt.Sprintf("%+v %+v", rep, badRep) + string(rejected)
	for name, v := range secrets {
		for _, secret := range []string{v, v + "-wrong-secret-4242"} {
			if strings.Contains(everything, secret) {
				t.Errorf("the value of %s appears in a message", name)
			}
		}
	}
}

// echoedCredentialsCutAnywhere answers every request with an error page
// that echoes it, padded so that the excerpt a message quotes (its first
// providers.ExcerptLen characters) ends inside a credential, at every
// length: no head of a credential may reach a message, a log line, the
// report or the rejects file.
func (h *harness) echoedCredentialsCutAnywhere(t *testing.T) {
	creds := map[string]string{}
	var secrets []string
	for i, name := range h.reg.Capabilities.Credentials {
		// '+', '/' and '@' change when a form or a query encodes them.
		v := fmt.Sprintf("%c%cq8v+W3x/Tk7@p%d", 'Q'+i, 'z'-i, i)
		creds[name], secrets = v, append(secrets, v)
	}
	file := writeFile(t, h.rows(60, 2))
	for _, secret := range secrets {
		for _, form := range []string{secret, url.QueryEscape(secret)} {
			for cut := providers.MinSecretLen; cut <= len(form)+1; cut++ {
				found := false
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					dump, _ := httputil.DumpRequest(r, true)
					i := bytes.Index(dump, []byte(form))
					if i < 0 {
						http.Error(w, "no echo", http.StatusBadRequest)
						return
					}
					found = true
					w.WriteHeader(http.StatusBadRequest)
					io.WriteString(w, strings.Repeat("x", providers.ExcerptLen-cut))
					w.Write(dump[i:])
				}))
				var logs bytes.Buffer
				opts := importer.Options{File: file, Provider: h.s.Name, List: h.s.List, Region: h.s.Region, Endpoint: srv.URL,
					Credentials: creds, Rate: 0, Workers: 1, Retry: fastRetry, RejectsFile: filepath.Join(t.TempDir(), "rejects.csv"),
					Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
				rep, err := h.run(t, context.Background(), opts)
				srv.Close()
				if err == nil {
					t.Fatal("an error page was taken for success")
				}
				if !found {
					continue // this form is not how the provider sends this credential
				}
				rejected, _ := os.ReadFile(opts.RejectsFile)
				everything := err.Error() + logs.String() + fmt.Sprintf("%+v", rep) + string(rejected)
				if !strings.Contains(everything, "unexpected answer") {
					t.Fatalf("the echo is not quoted, so this test tests nothing: %v", err)
				}
				if leak := Leak(everything, secrets); leak != "" {
					t.Fatalf("cut %d characters into %q: %q leaks in\n%s", cut, form, leak, everything)
				}
			}
		}
	}
}

// garbler passes the first after requests to the sandbox; it applies the
// others too, but answers them with 200 and body(answer), answer being what
// the API would have said. Once off, it passes everything.
type garbler struct {
	after int
	body  func(answer []byte) string
	n     atomic.Int32
	off   atomic.Bool
}

func (g *garbler) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if int(g.n.Add(1)) <= g.after || g.off.Load() {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, g.body(rec.Body.Bytes()))
	})
}

// openRequests counts the requests the provider's Open sends.
func (h *harness) openRequests(t *testing.T) int {
	e := h.env(t, providers.SandboxOptions{}, nil)
	p, err := h.reg.New(providers.Config{Endpoint: e.srv.URL, Credentials: e.sb.Credentials(), HTTPClient: e.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Open(context.Background(), providers.Target{List: h.s.List, Mode: providers.ModeUpsert}); err != nil {
		t.Fatal(err)
	}
	return e.sb.Requests()
}

// unconfirmedWritesNotCounted applies every write but answers it with 200
// and something other than the documented answer: the rows fail
// not_confirmed, the state records none of them, and the next run sends
// them all again without duplicating any.
func (h *harness) unconfirmedWritesNotCounted(t *testing.T) {
	open := h.openRequests(t)
	for _, tt := range []struct {
		name string
		body func(answer []byte) string
	}{
		{"HTML", func([]byte) string { return "<!DOCTYPE html><html><body><h1>It works!</h1></body></html>" }},
		{"empty", func([]byte) string { return "" }},
		{"truncated", func(a []byte) string { return string(a[:len(a)/2]) }},
		{"unrelated JSON", func([]byte) string { return `{"ok":true,"message":"done"}` }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rows := h.rows(70, 5)
			g := &garbler{after: open, body: tt.body}
			e := h.env(t, providers.SandboxOptions{}, g.wrap)
			opts := h.options(e, writeFile(t, rows))
			opts.StateFile = filepath.Join(t.TempDir(), "state.db")
			rep, err := h.run(t, context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Failed != len(rows) || rep.FailedByReason[providers.ReasonNotConfirmed] != len(rows) || rep.Added+rep.Updated != 0 {
				t.Fatalf("report %+v, want every row failed %s", rep, providers.ReasonNotConfirmed)
			}
			// The writes were applied: the next run, answered as documented,
			// sends every row again, none found unchanged in the state.
			g.off.Store(true)
			rep, err = h.run(t, context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Added+rep.Updated != len(rows) || rep.SkippedByReason["unchanged"] != 0 {
				t.Fatalf("second run %+v, want every row sent again", rep)
			}
			h.expectContents(t, e, rows)
		})
	}
}

// redirectsNotFollowed answers every request with a redirect to another
// server: the run stops with a fatal error that names the target (without
// its query) and says to fix --endpoint, and nothing reaches the target.
func (h *harness) redirectsNotFollowed(t *testing.T) {
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			var reached atomic.Int32
			other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Add(1) }))
			defer other.Close()
			e := h.env(t, providers.SandboxOptions{}, func(http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, other.URL+r.URL.Path+"?token=query-secret-1234", code)
				})
			})
			_, err := h.run(t, context.Background(), h.options(e, writeFile(t, h.rows(90, 3))))
			var fatal *importer.FatalError
			if !errors.As(err, &fatal) {
				t.Fatalf("err %v, want a fatal error", err)
			}
			if msg := err.Error(); !strings.Contains(msg, other.URL+"/") || !strings.Contains(msg, "--endpoint") || strings.Contains(msg, "query-secret") {
				t.Errorf("message %q: it must name the target without its query, and say to fix --endpoint", msg)
			}
			if n := reached.Load(); n != 0 {
				t.Fatalf("%d requests reached the redirect's target", n)
			}
		})
	}
}

func (h *harness) contentsEqualFile(t *testing.T) {
	rows := h.rows(200, 40)
	dup := rows[5]
	dup.first = "Second"
	e := h.env(t, providers.SandboxOptions{}, nil)
	file := writeFile(t, rows, fmt.Sprintf("%s,%s,%s,,", dup.first, dup.last, dup.phone), "Nobody,Nobody,12,,")
	rep, err := h.run(t, context.Background(), h.options(e, file))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != 42 || rep.Added != 40 || rep.SkippedByReason["duplicate_in_file"] != 1 || rep.Rejected != 1 {
		t.Errorf("report %+v", rep)
	}
	h.expectContents(t, e, rows)
}

// Leak returns the longest prefix, four bytes or more, of one of the
// secrets (as it is or URL-encoded, as a form carries it) that text holds,
// or "" when there is none: a secret cut in half leaks its head.
func Leak(text string, secrets []string) string {
	for _, s := range secrets {
		for _, form := range []string{s, url.QueryEscape(s)} {
			for n := len(form); n >= providers.MinSecretLen; n-- {
				if strings.Contains(text, form[:n]) {
					return form[:n]
				}
			}
		}
	}
	return ""
}

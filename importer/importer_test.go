package importer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"contactsync/importer"
	"contactsync/providers"
	_ "contactsync/providers/avosms"
	"contactsync/providers/octopush"
)

// fastRetry shrinks the backoff so that tests never wait for it.
var fastRetry = importer.RetryPolicy{Attempts: 4, Initial: time.Millisecond, Max: 5 * time.Millisecond, MaxElapsed: 10 * time.Second}

// writeContacts writes a CSV of n distinct French mobiles.
func writeContacts(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("first name,last name,mobile\n")
	for i := range n {
		fmt.Fprintf(&b, "F%d,L%d,06 %08d\n", i, i, 10000000+i)
	}
	return writeFile(t, "contacts.csv", b.String())
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

type env struct {
	em  *octopush.Emulator
	srv *httptest.Server
}

func newEnv(t *testing.T, opts providers.SandboxOptions, wrap func(http.Handler) http.Handler) *env {
	t.Helper()
	opts.Record = true
	em := octopush.NewEmulator(opts)
	var h http.Handler = em
	if wrap != nil {
		h = wrap(em)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{em: em, srv: srv}
}

func (e *env) options(file string) importer.Options {
	return importer.Options{
		File: file, Provider: "octopush", List: "customers", Region: "FR", Endpoint: e.srv.URL,
		Credentials: e.em.Credentials(), Rate: 0, Retry: fastRetry,
	}
}

// batchSizes returns the number of contacts of each create request.
func (e *env) batchSizes(t *testing.T) []int {
	var sizes []int
	for _, r := range e.em.Recorded() {
		var body struct{ Contacts []json.RawMessage }
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(body.Contacts))
	}
	return sizes
}

func mustBalance(t *testing.T, r *importer.Report) {
	t.Helper()
	if r == nil || !r.Balanced() {
		t.Fatalf("report does not account for every row: %+v", r)
	}
}

func TestBatching(t *testing.T) {
	e := newEnv(t, providers.SandboxOptions{}, nil)
	opts := e.options(writeContacts(t, 450))
	opts.Workers = 1 // one worker keeps the order of requests
	rep, err := importer.Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	mustBalance(t, rep)
	if got := e.batchSizes(t); fmt.Sprint(got) != "[200 200 50]" {
		t.Fatalf("batch sizes %v", got)
	}
	if rep.Added != 450 || rep.Requests != 3 || len(e.em.Contacts("customers")) != 450 {
		t.Fatalf("added %d, requests %d, stored %d", rep.Added, rep.Requests, len(e.em.Contacts("customers")))
	}
}

// A batch the provider finds too large (305) is split in halves until it
// fits; nothing is lost.
func TestSplitOnTooManyContacts(t *testing.T) {
	e := newEnv(t, providers.SandboxOptions{}, nil)
	e.em.MaxContacts = 64
	opts := e.options(writeContacts(t, 200))
	opts.Workers = 1
	rep, err := importer.Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.batchSizes(t); fmt.Sprint(got) != "[200 100 50 50 100 50 50]" {
		t.Fatalf("batch sizes %v", got)
	}
	if rep.Added != 200 || len(e.em.Contacts("customers")) != 200 {
		t.Fatalf("added %d", rep.Added)
	}
}

// A request refused for one of its contacts (117) is split until that
// contact is isolated: about 2·log2(n) extra requests, never one per row.
func TestRowErrorIsolatedBySplitting(t *testing.T) {
	const bad = "+33610000077"
	refuse := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if bytes.Contains(body, []byte(bad)) {
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, `{"code":117,"message":"No valid number"}`)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			next.ServeHTTP(w, r)
		})
	}
	e := newEnv(t, providers.SandboxOptions{}, refuse)
	opts := e.options(writeContacts(t, 200))
	opts.Workers = 1
	rep, err := importer.Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	mustBalance(t, rep)
	if rep.Added != 199 || rep.Rejected != 1 || rep.RejectedByReason["invalid_phone"] != 1 {
		t.Fatalf("added %d rejected %v", rep.Added, rep.RejectedByReason)
	}
	if rep.Requests > 1+2*8 {
		t.Fatalf("%d requests to isolate one contact among 200", rep.Requests)
	}
}

func TestTransientErrorRetriedWithIdenticalBody(t *testing.T) {
	e := newEnv(t, providers.SandboxOptions{Faults: providers.Faults{Script: []providers.Fault{providers.Transient}}}, nil)
	rep, err := importer.Run(context.Background(), e.options(writeContacts(t, 3)))
	if err != nil {
		t.Fatal(err)
	}
	rec := e.em.Recorded()
	if len(rec) != 2 || !bytes.Equal(rec[0].Body, rec[1].Body) {
		t.Fatalf("%d requests; bodies equal: %v", len(rec), len(rec) == 2 && bytes.Equal(rec[0].Body, rec[1].Body))
	}
	if rep.Added != 3 || rep.Retries != 1 || rep.Requests != 2 {
		t.Fatalf("added %d retries %d requests %d", rep.Added, rep.Retries, rep.Requests)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	const wait = 150 * time.Millisecond
	var times []time.Time
	stamp := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			times = append(times, time.Now())
			next.ServeHTTP(w, r)
		})
	}
	e := newEnv(t, providers.SandboxOptions{Faults: providers.Faults{Script: []providers.Fault{providers.TooMany}, RetryAfter: wait}}, stamp)
	rep, err := importer.Run(context.Background(), e.options(writeContacts(t, 3)))
	if err != nil {
		t.Fatal(err)
	}
	if len(times) != 2 || rep.Added != 3 {
		t.Fatalf("%d requests, added %d", len(times), rep.Added)
	}
	// The backoff alone would wait a millisecond; the provider asked for more.
	if gap := times[1].Sub(times[0]); gap < wait {
		t.Fatalf("retried after %v, before the %v the provider asked for", gap, wait)
	}
}

// An answer lost after the provider applied the request is retried; the
// upsert makes the repeat harmless.
func TestDroppedAnswerRetried(t *testing.T) {
	e := newEnv(t, providers.SandboxOptions{Faults: providers.Faults{Script: []providers.Fault{providers.Drop}}}, nil)
	rep, err := importer.Run(context.Background(), e.options(writeContacts(t, 5)))
	if err != nil {
		t.Fatal(err)
	}
	mustBalance(t, rep)
	if rep.Failed != 0 || rep.Added+rep.Updated != 5 || len(e.em.Contacts("customers")) != 5 {
		t.Fatalf("report %+v, stored %d", rep, len(e.em.Contacts("customers")))
	}
}

func TestRetriesExhausted(t *testing.T) {
	e := newEnv(t, providers.SandboxOptions{Faults: providers.Faults{ErrorRate: 1}}, nil)
	opts := e.options(writeContacts(t, 30))
	opts.BatchSize = 10
	rep, err := importer.Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	mustBalance(t, rep)
	if rep.Failed != 30 || rep.FailedByReason["retries_exhausted"] != 30 {
		t.Fatalf("failed %v", rep.FailedByReason)
	}
	if rep.Requests != 3*int64(fastRetry.Attempts) {
		t.Fatalf("%d requests for 3 batches of %d attempts", rep.Requests, fastRetry.Attempts)
	}
}

func TestFatalCredentialsStopAfterOneRequest(t *testing.T) {
	e := newEnv(t, providers.SandboxOptions{}, nil)
	opts := e.options(writeContacts(t, 1000))
	opts.BatchSize, opts.Workers = 10, 8
	opts.Credentials = map[string]string{"OCTOPUSH_API_LOGIN": "me@example.com", "OCTOPUSH_API_KEY": "wrong-key-42"}
	rep, err := importer.Run(context.Background(), opts)
	var fatal *importer.FatalError
	if !errors.As(err, &fatal) {
		t.Fatalf("err = %v, want a FatalError", err)
	}
	if e.em.Requests() != 1 {
		t.Fatalf("%d requests after a credentials refusal", e.em.Requests())
	}
	mustBalance(t, rep)
	if rep.Rows != 1000 || rep.Failed != 1000 || rep.FailedByReason["credentials"] != 10 || rep.FailedByReason["aborted"] != 990 {
		t.Fatalf("rows %d failed %v", rep.Rows, rep.FailedByReason)
	}
	if strings.Contains(err.Error(), "wrong-key-42") || strings.Contains(rep.Error, "wrong-key-42") {
		t.Fatal("the key leaked into the error")
	}
}

func TestInterruptStopsPromptly(t *testing.T) {
	var seen atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	signal := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if seen.Add(1) == 3 {
				cancel() // as SIGINT would, while requests are in flight
			}
			next.ServeHTTP(w, r)
		})
	}
	e := newEnv(t, providers.SandboxOptions{Faults: providers.Faults{Latency: 50 * time.Millisecond}}, signal)
	opts := e.options(writeContacts(t, 2000))
	opts.BatchSize, opts.Workers = 10, 4
	opts.RejectsFile = filepath.Join(t.TempDir(), "rejects.csv")
	start := time.Now()
	rep, err := importer.Run(ctx, opts)
	if !errors.Is(err, importer.ErrInterrupted) {
		t.Fatalf("err = %v", err)
	}
	mustBalance(t, rep)
	if rep.Rows != 2000 || rep.FailedByReason["interrupted"] == 0 || rep.Stopped != "interrupted" {
		t.Fatalf("report %+v", rep)
	}
	// Requests in flight finish; none start after the interrupt.
	if rep.Added != len(e.em.Contacts("customers")) || e.em.Requests() > 3+opts.Workers {
		t.Fatalf("added %d, stored %d, %d requests", rep.Added, len(e.em.Contacts("customers")), e.em.Requests())
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("took %v to stop", time.Since(start))
	}
	// The rows never tried are counted, not written as rows to fix: every
	// row of this file is valid.
	if data, _ := os.ReadFile(opts.RejectsFile); string(data) != "\uFEFFfirst name,last name,mobile,row,status,reason,detail\n" {
		t.Fatalf("rejects file after an interrupt:\n%.300s", data)
	}
}

func TestDryRunSendsNothing(t *testing.T) {
	file := writeFile(t, "c.csv", "mobile,name\n0612345678,a\n+33612345678,b\nnope,c\n0612345679,d\n")
	rep, err := importer.Run(context.Background(), importer.Options{File: file, Provider: "octopush", List: "l", Region: "FR", DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	mustBalance(t, rep)
	if rep.Requests != 0 || rep.SkippedByReason["dry_run"] != 2 || rep.SkippedByReason["duplicate_in_file"] != 1 ||
		rep.Rejected != 1 || rep.Planned["upsert"] != 2 {
		t.Fatalf("report %+v", rep)
	}
}

func TestInsertModeLeavesExistingAlone(t *testing.T) {
	e := newEnv(t, providers.SandboxOptions{}, nil)
	e.em.Seed("customers", providers.StoredContact{Phone: "+33610000000"})
	opts := e.options(writeContacts(t, 3))
	opts.Mode = providers.ModeInsert
	rep, err := importer.Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Added != 2 || rep.SkippedByReason["exists"] != 1 {
		t.Fatalf("report %+v", rep)
	}
	if c := e.em.Contacts("customers")[0]; c.FirstName != "" {
		t.Fatalf("insert overwrote %+v", c)
	}
}

func TestRejectsFile(t *testing.T) {
	e := newEnv(t, providers.SandboxOptions{}, nil)
	file := writeFile(t, "c.csv", "name;mobile;note\n=1+2;nope;a\nok;0612345678;b\nragged;0612345679;b;c\ndup;+33612345678;-1\n")
	opts := e.options(file)
	opts.RejectsFile = filepath.Join(t.TempDir(), "rejects.csv")
	rep, err := importer.Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	mustBalance(t, rep)
	data, _ := os.ReadFile(opts.RejectsFile)
	want := "\uFEFFname;mobile;note;row;status;reason;detail\n" +
		"'=1+2;nope;a;2;rejected;invalid_phone;\"\"\"nope\"\" is not a valid phone number for region FR\"\n" +
		"ragged;0612345679;b;c;4;rejected;wrong_column_count;\"the row has 4 cells; the header has 3\"\n"
	if string(data) != want {
		t.Fatalf("rejects file\n%s\nwant\n%s", data, want)
	}
}

func TestUsageErrors(t *testing.T) {
	good := writeContacts(t, 1)
	tests := []struct {
		name string
		edit func(*importer.Options)
		want string
	}{
		{"unknown provider", func(o *importer.Options) { o.Provider = "nope" }, "unknown provider"},
		{"missing file", func(o *importer.Options) { o.File = "/nonexistent.csv" }, "cannot read"},
		{"no list", func(o *importer.Options) { o.List = "" }, "--list is required"},
		{"list too long", func(o *importer.Options) { o.List = strings.Repeat("x", 31) }, "at most 30"},
		{"tag too long", func(o *importer.Options) { o.Tag = strings.Repeat("x", 21) }, "at most 20"},
		{"unsupported mode", func(o *importer.Options) { o.Mode = providers.ModeUpdate }, "not supported"},
		{"no credentials", func(o *importer.Options) { o.Credentials = nil }, "OCTOPUSH_API_LOGIN"},
		{"no phone column", func(o *importer.Options) { o.File = writeFile(t, "x.csv", "a,b\n1,2\n") }, "no phone column"},
		{"empty file", func(o *importer.Options) { o.File = writeFile(t, "x.csv", "") }, "empty"},
		{"bad region", func(o *importer.Options) { o.Region = "XX" }, "unknown region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, providers.SandboxOptions{}, nil)
			opts := e.options(good)
			tt.edit(&opts)
			_, err := importer.Run(context.Background(), opts)
			var ue *importer.UsageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want a usage error mentioning %q", err, tt.want)
			}
			if e.em.Requests() != 0 {
				t.Fatalf("%d requests sent despite the usage error", e.em.Requests())
			}
		})
	}
}

// Whatever faults the provider throws, every row is accounted for, and what
// the report says was added or updated is what the provider holds.
func TestAccountingUnderRandomFaults(t *testing.T) {
	for seed := range uint64(5) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			e := newEnv(t, providers.SandboxOptions{Faults: providers.Faults{Seed: seed, ErrorRate: 0.3, TooManyRate: 0.1, DropRate: 0.1}}, nil)
			opts := e.options(writeContacts(t, 500))
			opts.BatchSize, opts.Workers = 7, 4
			rep, err := importer.Run(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			mustBalance(t, rep)
			stored := len(e.em.Contacts("customers"))
			if rep.Added+rep.Updated > stored || rep.Rows != 500 {
				t.Fatalf("report says %d added/updated, provider holds %d", rep.Added+rep.Updated, stored)
			}
		})
	}
}

// A tag column tags rows one by one: rows are batched per tag, several tags
// go as tag_names, and a tag the provider would refuse rejects its row only.
func TestRowTags(t *testing.T) {
	e := newEnv(t, providers.SandboxOptions{}, nil)
	file := writeFile(t, "c.csv", "mobile,tags\n0612345678,vip\n0612345679,\"gold, vip\"\n0612345670,"+strings.Repeat("x", 21)+"\n0612345671,vip\n0612345672,\n")
	opts := e.options(file)
	opts.Tag = "vip" // --tag: every contact
	rep, err := importer.Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Added != 4 || rep.RejectedByReason["tag_too_long"] != 1 {
		t.Fatalf("report %+v", rep)
	}
	tags := map[string]string{}
	for _, c := range e.em.Contacts("customers") {
		tags[c.Phone] = c.Fields["tags"]
	}
	want := map[string]string{"+33612345678": "vip", "+33612345679": "vip,gold", "+33612345671": "vip", "+33612345672": "vip"}
	if fmt.Sprint(tags) != fmt.Sprint(want) {
		t.Fatalf("tags %v, want %v", tags, want)
	}
	if len(e.em.Recorded()) != 2 {
		t.Fatalf("%d requests: one per tag expected", len(e.em.Recorded()))
	}
}

func TestWarningsListed(t *testing.T) {
	e := newEnv(t, providers.SandboxOptions{}, nil)
	file := writeFile(t, "c.csv", "mobile,email,birthday\n0612345678,nope,31/02/1990\n0612345679,ok@example.com,1990-02-01\n")
	rep, err := importer.Run(context.Background(), e.options(file))
	if err != nil {
		t.Fatal(err)
	}
	want := []importer.WarningRow{
		{Row: 2, Field: "email", Reason: "invalid_email", Detail: `"nope" is not an e-mail address`},
		{Row: 2, Field: "birthday", Reason: "invalid_date", Detail: `"31/02/1990" is not a date in yyyy-mm-dd, dd/mm/yyyy or Excel form (the column is read day first)`},
	}
	if fmt.Sprint(rep.WarningRows) != fmt.Sprint(want) || rep.Warnings["invalid_date"] != 1 || rep.Added != 2 {
		t.Fatalf("warnings %+v %v", rep.WarningRows, rep.Warnings)
	}
}

// holdFirst answers the first request only once hold is closed.
func holdFirst(next http.Handler, hold <-chan struct{}) http.Handler {
	var n atomic.Int32
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			<-hold
		}
		next.ServeHTTP(w, r)
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Rows close to the row limit travel in chunks and batches bounded in bytes,
// not only in rows: the file's order (the first of two spellings of a
// number wins) and the accounting are kept, and a batch holds what fits in
// about 1 MiB of rows.
func TestWideRows(t *testing.T) {
	wide := strings.Repeat("x", 300_000)
	var b strings.Builder
	b.WriteString("first name,last name,mobile\n")
	for i := range 20 {
		phone := fmt.Sprintf("06 %08d", 10000000+i)
		if i%10 == 9 {
			phone = fmt.Sprintf("+336%08d", 10000000+i-1) // the row before, spelt otherwise
		}
		fmt.Fprintf(&b, "%s%d,L%d,%s\n", wide, i, i, phone)
	}
	file := writeFile(t, "wide.csv", b.String())

	rep, err := importer.Run(context.Background(), importer.Options{File: file, Provider: "octopush", List: "l", Region: "FR", DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	mustBalance(t, rep)
	if rep.Rows != 20 || rep.SkippedByReason["duplicate_in_file"] != 2 || rep.Planned["upsert"] != 18 {
		t.Fatalf("dry run: %+v", rep)
	}

	e := newEnv(t, providers.SandboxOptions{}, nil)
	opts := e.options(file)
	opts.Workers = 1
	rep, err = importer.Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	mustBalance(t, rep)
	if rep.Added != 18 {
		t.Fatalf("import: %+v", rep)
	}
	for _, n := range e.batchSizes(t) {
		if n > 4 {
			t.Fatalf("batches of %v contacts: one holds more than 1 MiB of rows", e.batchSizes(t))
		}
	}
	for _, c := range e.em.Contacts("customers") {
		if !strings.HasPrefix(c.FirstName, wide) || strings.HasSuffix(c.FirstName, "9") {
			t.Fatalf("%s holds the first name of the wrong row", c.Phone)
		}
	}
}

// Against a provider enforcing a limit it does not document, the pace comes
// down from --rate on its 429s (logged, with the new pace), and every row
// gets through.
func TestPaceAdaptsToAnUndocumentedLimit(t *testing.T) {
	e := newEnv(t, providers.SandboxOptions{Faults: providers.Faults{ServerRate: 40, RetryAfter: time.Millisecond}}, nil)
	opts := e.options(writeContacts(t, 120))
	var logs bytes.Buffer
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	opts.Rate, opts.Burst, opts.BatchSize = 400, 1, 1
	opts.Retry.Attempts = 20
	rep, err := importer.Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	mustBalance(t, rep)
	if rep.Added != 120 || !strings.Contains(logs.String(), "pace lowered") || !strings.Contains(logs.String(), "requests_per_second=") {
		t.Fatalf("added %d\n%s", rep.Added, logs.String())
	}
}

// serveProvider starts the named provider's emulator behind wrap and returns
// the options of a run against it.
func serveProvider(t *testing.T, name, list string, wrap func(http.Handler) http.Handler) importer.Options {
	t.Helper()
	reg, err := providers.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	sb := reg.NewSandbox(providers.SandboxOptions{})
	srv := httptest.NewServer(wrap(sb))
	t.Cleanup(srv.Close)
	return importer.Options{File: writeContacts(t, 30), Provider: name, List: list, Region: "FR", Endpoint: srv.URL,
		Credentials: sb.Credentials(), Rate: 0, Retry: fastRetry}
}

// answer429 answers every request 429 with the given Retry-After.
func answer429(retryAfter string) func(http.Handler) http.Handler {
	return func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", retryAfter)
			http.Error(w, "too many requests", http.StatusTooManyRequests)
		})
	}
}

// A Retry-After longer than what is left of the retry budget ends the
// retries at once: the rows fail as rate_limited with the provider's wait,
// instead of the run waiting for it (27 hours, for Retry-After: 99999).
func TestRetryAfterBeyondBudget(t *testing.T) {
	tomorrow := time.Now().Add(24 * time.Hour).UTC().Format(http.TimeFormat)
	tests := []struct {
		name string
		wrap func(http.Handler) http.Handler
		want string
	}{
		{"seconds, from the sandbox", nil, "the provider asked to wait 27h46m39s; more than the 10s retry budget left"},
		{"HTTP date", answer429(tomorrow), "; more than the 10s retry budget left"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, providers.SandboxOptions{Faults: providers.Faults{TooManyRate: 1, RetryAfter: 99999 * time.Second}}, tt.wrap)
			opts := e.options(writeContacts(t, 30))
			opts.BatchSize, opts.Workers = 10, 1
			opts.RejectsFile = filepath.Join(t.TempDir(), "rejects.csv")
			rep, err := importer.Run(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			mustBalance(t, rep)
			if rep.FailedByReason["rate_limited"] != 30 || rep.Requests != 3 || rep.Retries != 0 {
				t.Fatalf("report %+v", rep)
			}
			rejects, _ := os.ReadFile(opts.RejectsFile)
			if !strings.Contains(string(rejects), ",failed,rate_limited,the provider asked to wait ") || !strings.Contains(string(rejects), tt.want) {
				t.Fatalf("rejects file:\n%s", rejects)
			}
		})
	}
}

// The same while the list is read: the run stops (exit 3) and says when to
// come back.
func TestRetryAfterBeyondBudgetWhileOpening(t *testing.T) {
	opts := serveProvider(t, "avosms", "1001", answer429("99999"))
	rep, err := importer.Run(context.Background(), opts)
	var fatal *importer.FatalError
	if !errors.As(err, &fatal) || !strings.Contains(err.Error(), "opening the list: the provider asked to wait 27h46m39s; more than the 10s retry budget left: run again later") {
		t.Fatalf("err = %v", err)
	}
	if rep == nil || rep.Stopped != "aborted" || rep.Rows != 0 || rep.Requests != 1 || rep.Error == "" {
		t.Fatalf("report %+v", rep)
	}
}

// cancelOnRetry cancels a context when the run logs its first retry, that
// is as it starts to wait: a signal during the wait.
type cancelOnRetry struct {
	slog.Handler
	cancel context.CancelFunc
}

func (cancelOnRetry) Enabled(context.Context, slog.Level) bool { return true }

func (h cancelOnRetry) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "retrying" {
		h.cancel()
	}
	return nil
}

// A signal while the list read is retried stops the run at once, in the
// request or in the wait before the next, with a report that says so and a
// message that does not promise confirmed rows.
func TestInterruptWhileOpening(t *testing.T) {
	tests := []struct {
		name     string
		signal   string // "request": during the second request; "wait": as the first wait starts
		answer   func(w http.ResponseWriter)
		requests int32
	}{
		{"in the request", "request", func(w http.ResponseWriter) { http.Error(w, "unavailable", http.StatusServiceUnavailable) }, 2},
		{"in a wait the provider asked for", "wait", func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "8") // within the 10 s budget: honoured
			http.Error(w, "too many requests", http.StatusTooManyRequests)
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var seen atomic.Int32
			opts := serveProvider(t, "avosms", "1001", func(http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if seen.Add(1) == 2 && tt.signal == "request" {
						cancel()
					}
					tt.answer(w)
				})
			})
			opts.Logger = slog.New(slog.DiscardHandler)
			if tt.signal == "wait" {
				opts.Logger = slog.New(cancelOnRetry{Handler: slog.DiscardHandler, cancel: cancel})
			}
			rep, err := importer.Run(ctx, opts)
			if !errors.Is(err, importer.ErrInterrupted) || !strings.Contains(err.Error(), "before any row was sent") {
				t.Fatalf("err = %v", err)
			}
			if rep == nil || rep.Stopped != "interrupted" || rep.Rows != 0 || rep.Error != err.Error() {
				t.Fatalf("report %+v", rep)
			}
			if n := seen.Load(); n != tt.requests {
				t.Fatalf("%d requests, want %d: the run went on after the signal", n, tt.requests)
			}
		})
	}
}

// Once rows are on their way, a signal cuts a retry's wait short too: the
// batch's rows fail as interrupted, to be sent by the next run.
func TestInterruptCutsARetryWaitShort(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := newEnv(t, providers.SandboxOptions{Faults: providers.Faults{Script: []providers.Fault{providers.TooMany}, RetryAfter: 8 * time.Second}}, nil)
	opts := e.options(writeContacts(t, 30))
	opts.Logger = slog.New(cancelOnRetry{Handler: slog.DiscardHandler, cancel: cancel})
	rep, err := importer.Run(ctx, opts)
	if !errors.Is(err, importer.ErrInterrupted) {
		t.Fatalf("err = %v", err)
	}
	mustBalance(t, rep)
	if rep.FailedByReason["interrupted"] != 30 || e.em.Requests() != 1 {
		t.Fatalf("report %+v, %d requests", rep, e.em.Requests())
	}
}

package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/xuri/excelize/v2"

	"contactsync/providers"
)

func subjectNamed(t *testing.T, name string) subject {
	t.Helper()
	for _, s := range subjects {
		if s.name == name {
			return s
		}
	}
	t.Fatalf("no subject %s", name)
	return subject{}
}

// contactsWorkbook writes a workbook as Excel users keep contacts: a notes
// sheet first, then the contacts under a title row, phones stored as
// numbers (one with the "0000000000" format that shows its leading zero),
// birthdays as dates, names as shared strings; and an archive sheet.
func contactsWorkbook(t *testing.T) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	padded := "0000000000"
	paddedStyle, _ := f.NewStyle(&excelize.Style{CustomNumFmt: &padded})
	dateStyle, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
	born := time.Date(1985, 3, 4, 0, 0, 0, 0, time.UTC)

	f.SetSheetName("Sheet1", "Notes")
	f.SetSheetRow("Notes", "A1", &[]any{"Read me", "The list is on the next sheet"})
	f.NewSheet("Contacts")
	rows := [][]any{
		{"Clients 2026"},
		nil,
		{"Prénom", "Nom", "Portable", "Date de naissance", "E-mail"},
		{"Jean", "Dupont", 612345678, born, "jean@example.fr"},
		{"Marie", "Curie", 33611223344, born.AddDate(10, 0, 0), "=not a formula"},
		{"Lucas", "Robert", "not a number", nil, "lucas@example.fr"},
		nil,
		{"Léa", "Martin", "06 98 76 54 32"},
	}
	for i, row := range rows {
		if row == nil {
			continue
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Contacts", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	f.SetCellStyle("Contacts", "C4", "C4", paddedStyle)
	f.SetCellStyle("Contacts", "D4", "D5", dateStyle)
	f.NewSheet("Archive")
	f.SetSheetRow("Archive", "A1", &[]any{"Prénom", "Portable"})
	f.SetSheetRow("Archive", "A2", &[]any{"Ancien", 699999999})
	path := filepath.Join(t.TempDir(), "clients.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// An .xlsx workbook is read as the CSV export of its contacts sheet would
// be: same mapping, numbers with all their digits, dates as birthdays,
// rejects with the original cells and the sheet's row numbers.
func TestImportWorkbook(t *testing.T) {
	s := subjectNamed(t, "avosms")
	srv := s.serve(t, providers.SandboxOptions{}, nil)
	dir := t.TempDir()
	book := contactsWorkbook(t)
	report, rejects := filepath.Join(dir, "report.json"), filepath.Join(dir, "rejects.csv")
	code, stdout, stderr := cli(t, srv.sb.Credentials(), s.args(srv, book, "none", report, "--rejects", rejects)...)
	if code != exitRowsFailed {
		t.Fatalf("exit %d, want 1 (a row is rejected)\n%s\n%s", code, stdout, stderr)
	}
	var got []string
	for _, c := range srv.sb.Contacts(s.list) {
		got = append(got, strings.Join([]string{c.Phone, c.FirstName, c.Birthday, c.Email}, " "))
	}
	want := []string{
		"+33611223344 Marie 1995-03-04 ",
		"+33612345678 Jean 1985-03-04 jean@example.fr",
		"+33698765432 Léa  ",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the provider holds\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	rep := readReport(t, report)
	if rep.Source != "xlsx, sheet Contacts" || rep.File != "clients.xlsx" || rep.Rows != 4 || rep.Added != 3 || rep.RejectedByReason["invalid_phone"] != 1 ||
		rep.Encoding != "" || rep.Delimiter != "" {
		t.Errorf("report %+v", rep)
	}
	data, _ := os.ReadFile(rejects)
	wantRejects := "\uFEFFPrénom,Nom,Portable,Date de naissance,E-mail,row,status,reason,detail\nLucas,Robert,not a number,,lucas@example.fr,6,rejected,invalid_phone,"
	if !strings.HasPrefix(string(data), wantRejects) {
		t.Errorf("rejects file\n%s\nwant it to start with\n%s", data, wantRejects)
	}

	code, stdout, _ = cli(t, nil, "inspect", book, "--region", "FR")
	for _, want := range []string{"source     xlsx, sheet Contacts", "sheet      Contacts (the first whose header names a phone column); the workbook's sheets: Notes, Contacts, Archive",
		"header     row 3", "row 6: invalid_phone"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("inspect does not say %q:\n%s", want, stdout)
		}
	}
	if code != exitRowsFailed {
		t.Errorf("inspect: exit %d", code)
	}

	code, stdout, stderr = cli(t, srv.sb.Credentials(), s.args(srv, book, "none", report, "--sheet", "archive")...)
	if rep := readReport(t, report); code != exitOK || rep.Source != "xlsx, sheet Archive" || rep.Added != 1 {
		t.Errorf("--sheet archive: exit %d, report %+v\n%s\n%s", code, rep, stdout, stderr)
	}
	code, _, stderr = cli(t, srv.sb.Credentials(), s.args(srv, book, "none", report, "--sheet", "Clients")...)
	if code != exitUsage || !strings.Contains(stderr, `its sheets are "Notes", "Contacts", "Archive"`) {
		t.Errorf("--sheet Clients: exit %d\n%s", code, stderr)
	}
	code, _, stderr = cli(t, srv.sb.Credentials(), s.args(srv, "samples/contacts.csv", "none", report, "--sheet", "1")...)
	if code != exitUsage || !strings.Contains(stderr, "is not a workbook") {
		t.Errorf("--sheet with a CSV file: exit %d\n%s", code, stderr)
	}
}

// samples/contacts.xlsx holds the rows of samples/contacts.csv as Excel
// keeps them once typed in (under a title row, on the second sheet; phones
// as numbers, one shown with its leading zero, one as "07 81 23 45 67";
// birthdays as dates): the provider receives the same contacts, and the
// reports count the same.
func TestSampleWorkbookReadsAsTheCSV(t *testing.T) {
	type result struct {
		contacts []providers.StoredContact
		counts   []any
	}
	s := subjectNamed(t, "avosms") // it keeps birthdays
	read := func(file string) result {
		srv := s.serve(t, providers.SandboxOptions{}, nil)
		report := filepath.Join(t.TempDir(), "report.json")
		code, stdout, stderr := cli(t, srv.sb.Credentials(), s.args(srv, file, "none", report)...)
		if code != exitRowsFailed {
			t.Fatalf("%s: exit %d\n%s\n%s", file, code, stdout, stderr)
		}
		rep := readReport(t, report)
		return result{srv.sb.Contacts(s.list), []any{rep.Rows, rep.Added, rep.SkippedByReason, rep.RejectedByReason, rep.Warnings}}
	}
	csv, book := read("samples/contacts.csv"), read("samples/contacts.xlsx")
	birthdays := 0
	for _, c := range csv.contacts {
		if c.Birthday != "" {
			birthdays++
		}
	}
	if len(csv.contacts) != 7 || birthdays != 5 {
		t.Fatalf("from the CSV file %+v", csv)
	}
	if !reflect.DeepEqual(csv, book) {
		t.Fatalf("from the CSV file\n%+v\nfrom the workbook\n%+v", csv, book)
	}
}

// .xls and .ods are refused with what to do.
func TestOldWorkbooksRefused(t *testing.T) {
	dir := t.TempDir()
	xls := filepath.Join(dir, "contacts.xls")
	os.WriteFile(xls, append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 1024)...), 0o644)
	code, _, stderr := cli(t, nil, "import", xls, "--provider", "octopush", "--list", "l", "--sandbox")
	if code != exitUsage || !strings.Contains(stderr, "save it as .xlsx") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
}

func compress(t *testing.T, kind string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	switch kind {
	case "gzip":
		w := gzip.NewWriter(&buf)
		w.Write(data)
		w.Close()
	case "zstd":
		w, _ := zstd.NewWriter(&buf)
		w.Write(data)
		w.Close()
	}
	return buf.Bytes()
}

// A compressed file is read as it is, whatever its name says.
func TestImportCompressed(t *testing.T) {
	sample, err := os.ReadFile("samples/contacts.csv")
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"gzip", "zstd"} {
		t.Run(kind, func(t *testing.T) {
			em, url := startOctopush(t)
			dir := t.TempDir()
			file, report := filepath.Join(dir, "export.dat"), filepath.Join(dir, "report.json")
			os.WriteFile(file, compress(t, kind, sample), 0o644)
			code, stdout, stderr := cli(t, em.Credentials(), "import", file, "--provider", "octopush", "--list", "customers",
				"--region", "FR", "--endpoint", url, "--report", report, "--quiet")
			rep := readReport(t, report)
			if code != exitRowsFailed || rep.Added != 8 || len(em.Contacts("customers")) != 8 || rep.Source != "csv, "+kind {
				t.Fatalf("exit %d, report %+v\n%s\n%s", code, rep, stdout, stderr)
			}
		})
	}
}

// "-" reads the standard input: the real binary, fed by a pipe.
func TestImportStdin(t *testing.T) {
	em, url := startOctopush(t)
	sample, _ := os.ReadFile("samples/contacts.csv")
	report := filepath.Join(t.TempDir(), "report.json")
	cmd := exec.Command(os.Args[0], "import", "-", "--provider", "octopush", "--list", "customers", "--region", "FR",
		"--endpoint", url, "--report", report, "--state", "none")
	cmd.Env = append(os.Environ(), "CONTACTSYNC_RUN_MAIN=1", "XDG_CONFIG_HOME="+t.TempDir())
	for k, v := range em.Credentials() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin = bytes.NewReader(compress(t, "gzip", sample))
	out, _ := cmd.CombinedOutput()
	rep := readReport(t, report)
	if cmd.ProcessState.ExitCode() != exitRowsFailed || rep.Added != 8 || rep.File != "standard input" || rep.Source != "csv, gzip, standard input" {
		t.Fatalf("exit %d, report %+v\n%s", cmd.ProcessState.ExitCode(), rep, out)
	}
}

var modified = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// publishedSheet serves a CSV file as a published Google sheet is: from
// another host than the link's (after a redirect), with an ETag and a
// Last-Modified, answering conditional and Range requests. fail answers
// the n-th request instead, when it returns true.
type publishedSheet struct {
	mu       sync.Mutex
	content  []byte
	etag     string
	requests []*http.Request
	fail     func(n int, w http.ResponseWriter) bool
}

func (p *publishedSheet) serve(t *testing.T) (link string) {
	t.Helper()
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.requests = append(p.requests, r)
		n, content, etag := len(p.requests), p.content, p.etag
		p.mu.Unlock()
		if p.fail != nil && p.fail(n, w) {
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Content-Type", "text/csv")
		http.ServeContent(w, r, "", modified, bytes.NewReader(content))
	}))
	t.Cleanup(files.Close)
	docs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(files.URL, "127.0.0.1", "localhost", 1)+"/export?id=9", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(docs.Close)
	return strings.Replace(docs.URL, "http://", "http://me:pa55-w0rd@", 1) + "/pub?gid=0&single=true&output=csv&token=s3cr3t-t0ken"
}

func (p *publishedSheet) request(i int) *http.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests[i]
}

func (p *publishedSheet) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.requests)
}

// A published sheet synced nightly: the first run downloads it (through a
// 500, and a connection dropped half-way), the next one is told it did not
// change and sends nothing, not even the list's look-up; a new --tag, or a
// new version of the sheet, is read again. The link's credentials appear
// nowhere.
func TestImportURL(t *testing.T) {
	s := subjects[0]
	srv := s.serve(t, providers.SandboxOptions{}, nil)
	first, _ := os.ReadFile(s.file(t, 300, nil, nil))
	sheet := &publishedSheet{content: first, etag: `"v1"`}
	sheet.fail = func(n int, w http.ResponseWriter) bool {
		switch n {
		case 1:
			w.WriteHeader(http.StatusInternalServerError)
			return true
		case 2:
			w.Header().Set("ETag", `"v1"`)
			w.Header().Set("Last-Modified", modified.Format(http.TimeFormat))
			w.Header().Set("Content-Length", fmt.Sprint(len(first)))
			w.Write(first[:len(first)/2])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
		return false
	}
	link := sheet.serve(t)
	dir := t.TempDir()
	state, report := filepath.Join(dir, "state.db"), filepath.Join(dir, "report.json")
	leaks := func(t *testing.T, out ...string) {
		t.Helper()
		data, _ := os.ReadFile(report)
		for _, o := range append(out, string(data)) {
			if strings.Contains(o, "pa55-w0rd") || strings.Contains(o, "s3cr3t-t0ken") {
				t.Fatalf("a credential of the link leaked:\n%s", o)
			}
		}
	}
	run := func(t *testing.T, extra ...string) (int, string) {
		t.Helper()
		code, stdout, stderr := cli(t, srv.sb.Credentials(), s.args(srv, link, state, report, extra...)...)
		leaks(t, stdout, stderr)
		return code, stdout + stderr
	}

	code, out := run(t)
	rep := readReport(t, report)
	want := strings.TrimPrefix(link[:strings.Index(link, "/pub")], "http://me:pa55-w0rd@") + "/pub?gid=0&single=true&output=csv&token=…"
	if code != exitOK || rep.Added != 300 || rep.Source != "csv, http://"+want || rep.File != "http://"+want || rep.Retries != 2 {
		t.Fatalf("first run: exit %d, report %+v\n%s", code, rep, out)
	}
	if r := sheet.request(2); r.Header.Get("Range") == "" || r.Header.Get("Authorization") != "" {
		t.Fatalf("the dropped download was resumed with Range %q, Authorization %q", r.Header.Get("Range"), r.Header.Get("Authorization"))
	}
	s.holdsExactly(t, srv, 300, nil, nil)

	before := srv.sb.Requests()
	code, out = run(t)
	rep = readReport(t, report)
	if code != exitOK || !rep.SourceUnchanged || rep.Rows != 0 || rep.Requests != 0 || srv.sb.Requests() != before ||
		!strings.Contains(out, "unchanged since the last complete run") {
		t.Fatalf("unchanged rerun: exit %d, %d provider requests, report %+v\n%s", code, srv.sb.Requests()-before, rep, out)
	}
	if r := sheet.request(3); r.Header.Get("If-None-Match") != `"v1"` || r.Header.Get("If-Modified-Since") == "" {
		t.Fatalf("the rerun sent If-None-Match %q, If-Modified-Since %q", r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since"))
	}

	// Another --tag changes what is sent: the sheet is read again.
	code, out = run(t, "--tag", "nightly")
	if rep = readReport(t, report); code != exitOK || rep.SourceUnchanged || rep.Updated != 300 {
		t.Fatalf("rerun with a tag: exit %d, report %+v\n%s", code, rep, out)
	}

	changed, _ := os.ReadFile(s.file(t, 300, map[int]bool{7: true}, nil))
	sheet.mu.Lock()
	sheet.content, sheet.etag = changed, `"v2"`
	sheet.mu.Unlock()
	code, out = run(t, "--tag", "nightly")
	if rep = readReport(t, report); code != exitOK || rep.SourceUnchanged || rep.Updated != 1 || rep.SkippedByReason["unchanged"] != 299 {
		t.Fatalf("the sheet changed: exit %d, report %+v\n%s", code, rep, out)
	}

	// A dry run reads the sheet whatever the state says, and leaves the
	// state as it was: the next run is still told the sheet did not change.
	held, _ := os.ReadFile(state)
	code, out = run(t, "--tag", "nightly", "--dry-run")
	if rep = readReport(t, report); code != exitOK || rep.SourceUnchanged || rep.SkippedByReason["unchanged"] != 300 {
		t.Fatalf("dry run: exit %d, report %+v\n%s", code, rep, out)
	}
	if after, _ := os.ReadFile(state); !bytes.Equal(held, after) {
		t.Fatal("the dry run changed the state file")
	}
	code, out = run(t, "--tag", "nightly")
	if rep = readReport(t, report); code != exitOK || !rep.SourceUnchanged {
		t.Fatalf("after the dry run: exit %d, report %+v\n%s", code, rep, out)
	}
}

// A run where rows failed leaves the next one to download the sheet again
// and send them.
func TestImportURLAfterFailures(t *testing.T) {
	s := subjects[0]
	var refuse atomic.Bool
	refuse.Store(true)
	srv := s.serve(t, providers.SandboxOptions{}, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if refuse.Load() {
				w.WriteHeader(http.StatusBadGateway)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	content, _ := os.ReadFile(s.file(t, 20, nil, nil))
	sheet := &publishedSheet{content: content, etag: `"v1"`}
	link := sheet.serve(t)
	dir := t.TempDir()
	state, report := filepath.Join(dir, "state.db"), filepath.Join(dir, "report.json")
	code, _, _ := cli(t, srv.sb.Credentials(), s.args(srv, link, state, report, "--retries", "1")...)
	if rep := readReport(t, report); code != exitRowsFailed || rep.Failed != 20 {
		t.Fatalf("failing run: exit %d, report %+v", code, rep)
	}
	refuse.Store(false)
	code, stdout, stderr := cli(t, srv.sb.Credentials(), s.args(srv, link, state, report)...)
	if rep := readReport(t, report); code != exitOK || rep.SourceUnchanged || rep.Added != 20 {
		t.Fatalf("next run: exit %d, report %+v\n%s\n%s", code, rep, stdout, stderr)
	}
	if got := sheet.request(sheet.count() - 1).Header.Get("If-None-Match"); got != "" {
		t.Fatalf("the run after failures sent If-None-Match %q", got)
	}
}

// A download that breaks off and cannot be resumed, once rows were sent,
// stops the run (exit 3) with every row read accounted for; the next run
// sends the rest, and nothing twice.
func TestImportURLBrokenPartWay(t *testing.T) {
	s := subjects[0]
	srv := s.serve(t, providers.SandboxOptions{}, nil)
	content, _ := os.ReadFile(s.file(t, 6000, nil, nil))
	var broken atomic.Bool
	broken.Store(true)
	sheet := &publishedSheet{content: content, etag: `"v1"`}
	sheet.fail = func(n int, w http.ResponseWriter) bool {
		switch {
		case !broken.Load():
			return false
		case n == 1:
			w.Header().Set("ETag", `"v1"`)
			w.Header().Set("Content-Length", fmt.Sprint(len(content)))
			w.Write(content[:len(content)/2])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
		w.WriteHeader(http.StatusBadGateway)
		return true
	}
	link := sheet.serve(t)
	dir := t.TempDir()
	state, report := filepath.Join(dir, "state.db"), filepath.Join(dir, "report.json")
	code, stdout, stderr := cli(t, srv.sb.Credentials(), s.args(srv, link, state, report, "--retries", "1")...)
	rep := readReport(t, report)
	if code != exitFatal || rep.Stopped != "aborted" || rep.Added == 0 || rep.Added != rep.Rows || rep.Rows >= 6000 ||
		!strings.Contains(stderr, "the rest of the file was not read") {
		t.Fatalf("broken download: exit %d, report %+v\n%s\n%s", code, rep, stdout, stderr)
	}
	first := rep.Added

	broken.Store(false)
	code, stdout, stderr = cli(t, srv.sb.Credentials(), s.args(srv, link, state, report)...)
	if rep = readReport(t, report); code != exitOK || rep.Added != 6000-first || rep.SkippedByReason["unchanged"] != first {
		t.Fatalf("next run: exit %d, report %+v\n%s\n%s", code, rep, stdout, stderr)
	}
	s.holdsExactly(t, srv, 6000, nil, nil)
}

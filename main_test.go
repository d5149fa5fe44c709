package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"contactsync/importer"
	"contactsync/mapping"
	"contactsync/providers"
	"contactsync/providers/octopush"
)

// cli runs the program as a user would, with env as the environment.
// Unless env says otherwise, the state and config directories are the
// test's own, never the user's.
func cli(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return cliContext(t, context.Background(), env, args...)
}

// cliContext is cli under ctx: cancelling it is what a first SIGINT or
// SIGTERM does to the program.
func cliContext(t *testing.T, ctx context.Context, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	dirs := map[string]string{"XDG_STATE_HOME": t.TempDir(), "XDG_CONFIG_HOME": t.TempDir()}
	getenv := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return dirs[k]
	}
	var out, errb bytes.Buffer
	code = run(ctx, args, getenv, &out, &errb)
	return code, out.String(), errb.String()
}

func startOctopush(t *testing.T) (*octopush.Emulator, string) {
	t.Helper()
	em := octopush.NewEmulator(providers.SandboxOptions{})
	srv := httptest.NewServer(em)
	t.Cleanup(srv.Close)
	return em, srv.URL
}

func TestImportSampleEndToEnd(t *testing.T) {
	em, url := startOctopush(t)
	dir := t.TempDir()
	reportPath, rejectsPath := filepath.Join(dir, "report.json"), filepath.Join(dir, "rejects.csv")
	code, stdout, stderr := cli(t, em.Credentials(), "import", "samples/contacts.csv", "--provider", "octopush",
		"--list", "customers", "--region", "FR", "--endpoint", url, "--report", reportPath, "--rejects", rejectsPath, "--quiet")
	if code != exitRowsFailed {
		t.Fatalf("exit %d, want %d (one row is rejected)\n%s\n%s", code, exitRowsFailed, stdout, stderr)
	}

	var got []string
	for _, c := range em.Contacts("customers") {
		got = append(got, c.Phone+" "+c.FirstName+" "+c.LastName)
	}
	want := []string{
		"+33601020304 Hugo Bernard",
		"+33611223344 Marie Curie",
		"+33612345678 Jean Dupont",
		"+33622334455 Camille Leroy",
		"+33655443322 Émile Zola",
		"+33698765432 Léa Martin",
		"+33781234567 Paul Durand",
		"+447911123456 Inès Richard",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("the provider holds\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Octopush stores no e-mail: the run says so, once, naming the column.
	if n := strings.Count(stderr, `column \"E-mail\" (email): Octopush does not store e-mail addresses`); n != 1 {
		t.Errorf("the e-mail note was printed %d times, want once:\n%s", n, stderr)
	}

	var report map[string]any
	data, err := os.ReadFile(reportPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &report); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"provider", "rows", "added", "updated", "skipped", "rejected", "failed", "requests", "retries",
		"duration_seconds", "skipped_by_reason", "rejected_by_reason", "failed_by_reason"} {
		if _, ok := report[key]; !ok {
			t.Errorf("the report has no %q key", key)
		}
	}
	for key, want := range map[string]any{"provider": "octopush", "rows": 10.0, "added": 8.0, "updated": 0.0, "skipped": 1.0,
		"rejected": 1.0, "failed": 0.0, "requests": 1.0, "retries": 0.0} {
		if report[key] != want {
			t.Errorf("report[%q] = %v, want %v", key, report[key], want)
		}
	}
	if !reflect.DeepEqual(report["skipped_by_reason"], map[string]any{"duplicate_in_file": 1.0}) ||
		!reflect.DeepEqual(report["rejected_by_reason"], map[string]any{"invalid_phone": 1.0}) ||
		!reflect.DeepEqual(report["warnings"], map[string]any{"invalid_date": 1.0, "invalid_email": 1.0}) {
		t.Errorf("reasons: %v %v %v", report["skipped_by_reason"], report["rejected_by_reason"], report["warnings"])
	}
	rejects, _ := os.ReadFile(rejectsPath)
	if !strings.Contains(string(rejects), "Lucas,Robert,not a number,lucas@example.fr,,M,8,rejected,invalid_phone,") {
		t.Errorf("rejects file:\n%s", rejects)
	}
	if !strings.Contains(stdout, "added") || !strings.Contains(stdout, "invalid_phone 1") {
		t.Errorf("summary:\n%s", stdout)
	}
}

func TestSandbox(t *testing.T) {
	code, stdout, stderr := cli(t, nil, "import", "samples/contacts.csv", "--provider", "octopush", "--sandbox", "--list", "customers", "--region", "FR")
	if code != exitRowsFailed || !strings.Contains(stdout, "added            8") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
}

func TestFatalCredentials(t *testing.T) {
	em, url := startOctopush(t)
	env := map[string]string{"OCTOPUSH_API_LOGIN": "me@example.com", "OCTOPUSH_API_KEY": "not-the-key-987"}
	code, stdout, stderr := cli(t, env, "import", "samples/contacts.csv", "--provider", "octopush", "--list", "customers",
		"--region", "FR", "--endpoint", url, "--batch-size", "2")
	if code != exitFatal {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, exitFatal, stdout, stderr)
	}
	if em.Requests() != 1 {
		t.Fatalf("%d requests, want 1", em.Requests())
	}
	if !strings.Contains(stderr, "check OCTOPUSH_API_LOGIN and OCTOPUSH_API_KEY") {
		t.Errorf("stderr does not say what to do:\n%s", stderr)
	}
	if strings.Contains(stdout+stderr, "not-the-key-987") {
		t.Error("the key leaked")
	}
}

// A redirect to another host stops the run (exit 3) before the credentials
// or the contacts leave for it; the message names the target and says to fix
// --endpoint.
func TestRedirectStopsTheRun(t *testing.T) {
	var reached atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Add(1) }))
	defer other.Close()
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusPermanentRedirect)
	}))
	defer redirecting.Close()
	env := map[string]string{"OCTOPUSH_API_LOGIN": "me@example.com", "OCTOPUSH_API_KEY": "the-key-987"}
	code, stdout, stderr := cli(t, env, "import", "samples/contacts.csv", "--provider", "octopush", "--list", "customers",
		"--region", "FR", "--endpoint", redirecting.URL, "--state", "none")
	if code != exitFatal {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, exitFatal, stdout, stderr)
	}
	if reached.Load() != 0 {
		t.Fatalf("%d requests reached the redirect's target", reached.Load())
	}
	if !strings.Contains(stderr, other.URL+"/v1/public/contact/create") || !strings.Contains(stderr, "fix --endpoint") {
		t.Errorf("stderr does not name the target and say what to do:\n%s", stderr)
	}
}

func TestExitCodes(t *testing.T) {
	em, url := startOctopush(t)
	good := filepath.Join(t.TempDir(), "good.csv")
	os.WriteFile(good, []byte("phone\n+33612345678\n+33612345679\n"), 0o644)
	base := []string{"--provider", "octopush", "--list", "l", "--endpoint", url, "--quiet"}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want int
	}{
		{"no arguments", nil, nil, exitUsage},
		{"unknown command", nil, []string{"export"}, exitUsage},
		{"unknown flag", em.Credentials(), append([]string{"import", good, "--frobnicate"}, base...), exitUsage},
		{"no file", em.Credentials(), append([]string{"import"}, base...), exitUsage},
		{"two files", em.Credentials(), append([]string{"import", good, good}, base...), exitUsage},
		{"no provider", em.Credentials(), []string{"import", good, "--list", "l"}, exitUsage},
		{"bad mode", em.Credentials(), append([]string{"import", good, "--mode", "merge"}, base...), exitUsage},
		{"missing file", em.Credentials(), append([]string{"import", "nope.csv"}, base...), exitUsage},
		{"no credentials", nil, append([]string{"import", good}, base...), exitUsage},
		{"all rows added", em.Credentials(), append([]string{"import", good}, base...), exitOK},
		{"flags before the file", em.Credentials(), append(append([]string{"import"}, base...), good), exitOK},
		{"help", nil, []string{"help"}, exitOK},
		{"import help", nil, []string{"import", "--help"}, exitOK},
		{"providers", nil, []string{"providers"}, exitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, stdout, stderr := cli(t, tt.env, tt.args...); code != tt.want {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tt.want, stdout, stderr)
			}
		})
	}
}

// --help lists every flag with its default.
func TestImportHelp(t *testing.T) {
	_, stdout, _ := cli(t, nil, "import", "--help")
	for _, flag := range []string{"provider", "list", "region", "mapping", "mode", "endpoint", "sandbox", "dry-run", "rate", "burst",
		"workers", "batch-size", "report", "rejects", "quiet", "log-format", "delimiter", "encoding", "max-errors", "max-streak"} {
		i := strings.Index(stdout, "  --"+flag)
		if i < 0 {
			t.Errorf("--help does not list --%s", flag)
			continue
		}
		entry := stdout[i:]
		if next := strings.Index(entry[3:], "\n  --"); next >= 0 {
			entry = entry[:next+3]
		}
		if !strings.Contains(entry, "(default") && !strings.Contains(entry, "(required)") {
			t.Errorf("--%s has no default in --help:\n%s", flag, entry)
		}
	}
}

// Each family of spreadsheet export in samples/ is read right: encoding,
// delimiter, columns, values, and what is refused.
func TestExportFamilies(t *testing.T) {
	tests := []struct {
		file, region        string
		encoding, delimiter string
		rows, added         int
		rejected            map[string]any
		warnings            map[string]any
		phone, first, last  string // one contact the provider must hold
		email               string
		extra               []string
	}{
		{"samples/excel-fr-windows1252.csv", "FR", "windows-1252", ";", 8, 6,
			map[string]any{"phone_precision_lost": 1.0}, map[string]any{"invalid_date": 1.0, "invalid_email": 1.0},
			"+33612345679", "Hélène", "Châtelet", "helene@exemple.fr", nil},
		{"samples/excel-fr-windows1252.csv", "", "windows-1252", ";", 8, 6,
			map[string]any{"phone_precision_lost": 1.0}, map[string]any{"invalid_date": 1.0, "invalid_email": 1.0},
			"+33612345670", "Françoise", "Dupré", "", []string{"--mapping", "samples/mapping-fr.yaml"}},
		{"samples/excel-es-unicode.txt", "ES", "utf-16le", "tab", 4, 3, map[string]any{}, map[string]any{},
			"+34612345678", "José", "García Núñez", "jose.garcia@ejemplo.es", nil},
		{"samples/google-contacts.csv", "GB", "utf-8", ",", 3, 3, map[string]any{}, map[string]any{"invalid_date": 1.0},
			"+447911123456", "Ada", "Lovelace", "ada@example.com", nil},
		{"samples/outlook.csv", "US", "utf-8", ",", 3, 3, map[string]any{}, map[string]any{"landline": 1.0},
			"+12065550142", "John", "Smith", "john.smith@contoso.com", nil},
		{"samples/contacts-fa.csv", "IR", "utf-8", ",", 5, 3, map[string]any{"invalid_phone": 1.0}, map[string]any{},
			"+989121234567", "علی", "رضایی", "ali@example.ir", nil},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file)+"/"+tt.region, func(t *testing.T) {
			em, url := startOctopush(t)
			reportPath := filepath.Join(t.TempDir(), "report.json")
			args := append([]string{"import", tt.file, "--provider", "octopush", "--list", "l", "--endpoint", url,
				"--report", reportPath, "--quiet"}, tt.extra...)
			if tt.region != "" {
				args = append(args, "--region", tt.region)
			}
			code, stdout, stderr := cli(t, em.Credentials(), args...)
			if code != exitOK && code != exitRowsFailed {
				t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
			}
			var rep map[string]any
			data, _ := os.ReadFile(reportPath)
			json.Unmarshal(data, &rep)
			if rep["encoding"] != tt.encoding || rep["delimiter"] != tt.delimiter || rep["rows"] != float64(tt.rows) ||
				rep["added"] != float64(tt.added) || !reflect.DeepEqual(rep["rejected_by_reason"], tt.rejected) ||
				!reflect.DeepEqual(rep["warnings"], tt.warnings) {
				t.Fatalf("report %s", data)
			}
			// Octopush does not store the e-mail: the same file read as the
			// import read it says what it is.
			opts := importer.InspectOptions{File: tt.file, Region: tt.region, Rows: tt.added}
			if len(tt.extra) == 2 && tt.extra[0] == "--mapping" {
				opts.Mapping = tt.extra[1]
			}
			in, err := importer.Inspect(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			if i := slices.IndexFunc(in.Contacts, func(c *mapping.Contact) bool { return c.Phone == tt.phone }); i < 0 || in.Contacts[i].Email != tt.email {
				t.Errorf("%s is not read with the e-mail %q: %+v", tt.phone, tt.email, in.Contacts)
			}
			for _, c := range em.Contacts("l") {
				if c.Phone == tt.phone {
					if c.FirstName != tt.first || c.LastName != tt.last {
						t.Fatalf("stored %+v", c)
					}
					return
				}
			}
			t.Fatalf("%s is not stored: %+v", tt.phone, em.Contacts("l"))
		})
	}
}

func TestInspect(t *testing.T) {
	mappingPath := filepath.Join(t.TempDir(), "mapping.yaml")
	code, stdout, stderr := cli(t, nil, "inspect", "samples/excel-fr-windows1252.csv", "--region", "FR", "--write-mapping", mappingPath)
	if code != exitRowsFailed {
		t.Fatalf("exit %d, want 1 (a row would be rejected)\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"windows-1252 (detected)", "; (detected)", "Téléphone portable  → phone", "Ville               → (ignored)",
		"+33612345679  Téléphone portable  Hélène", "line 5: phone_precision_lost", "line 6: birthday"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("inspect does not show %q:\n%s", want, stdout)
		}
	}
	// The written mapping, passed back, reads the file the same way.
	em, url := startOctopush(t)
	code, stdout, _ = cli(t, em.Credentials(), "import", "samples/excel-fr-windows1252.csv", "--provider", "octopush", "--list", "l",
		"--endpoint", url, "--mapping", mappingPath, "--quiet")
	if code != exitRowsFailed || len(em.Contacts("l")) != 6 {
		t.Fatalf("exit %d, %d stored\n%s", code, len(em.Contacts("l")), stdout)
	}
	if code, _, _ := cli(t, nil, "inspect", "samples/contacts-fa.csv", "--region", "IR", "--provider", "nope"); code != exitUsage {
		t.Fatalf("unknown provider: exit %d", code)
	}
	if code, _, _ := cli(t, nil, "inspect", "samples/google-contacts.csv", "--region", "GB"); code != exitOK {
		t.Fatalf("a clean file: exit %d", code)
	}
	// For Octopush, inspect says the e-mail column is not stored, and how to
	// keep it.
	_, stdout, _ = cli(t, nil, "inspect", "samples/contacts.csv", "--region", "FR", "--provider", "octopush")
	if !strings.Contains(stdout, `note: column "E-mail" (email): Octopush does not store e-mail addresses`) || !strings.Contains(stdout, "param1") {
		t.Errorf("inspect --provider octopush does not say the e-mail is not stored:\n%s", stdout)
	}
	if _, stdout, _ = cli(t, nil, "inspect", "samples/contacts.csv", "--region", "FR", "--provider", "smstools"); strings.Contains(stdout, "(email)") {
		t.Errorf("a provider without the note prints one:\n%s", stdout)
	}
}

// contactsync providers says, per provider, what an empty cell does, and
// the notes a user must read: the AmootSMS labels, Octopush's e-mail.
func TestProvidersCommand(t *testing.T) {
	code, stdout, _ := cli(t, nil, "providers")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	if n := strings.Count(stdout, "  empty cells   keep the value"); n != 4 {
		t.Errorf("%d providers say what an empty cell does, want 4:\n%s", n, stdout)
	}
	for _, want := range []string{"AmootSMS answers do not show a contact's labels", "a label given in the AmootSMS panel or by another program is lost",
		"Octopush does not store e-mail addresses", "custom: {param1: E-mail}"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("contactsync providers does not say %q:\n%s", want, stdout)
		}
	}
}

// A signal while the list read is retried: exit 130 at once, the report
// written, and a message that promises no confirmed rows.
func TestInterruptWhileOpeningWritesReport(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reg, _ := providers.Lookup("avosms")
	sb := reg.NewSandbox(providers.SandboxOptions{})
	var seen atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if seen.Add(1) == 2 {
			cancel() // SIGTERM while the list read is retried
		}
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	reportPath := filepath.Join(t.TempDir(), "report.json")
	code, stdout, stderr := cliContext(t, ctx, sb.Credentials(), "import", "samples/contacts.csv", "--provider", "avosms", "--list", "1001",
		"--endpoint", srv.URL, "--report", reportPath, "--retry-wait", "1ms", "--quiet")
	if code != exitInterrupted || !strings.Contains(stderr, "interrupted while opening the list, before any row was sent") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if strings.Contains(stderr, "confirmed rows are in the report") {
		t.Errorf("the message promises confirmed rows:\n%s", stderr)
	}
	var rep map[string]any
	data, err := os.ReadFile(reportPath)
	if err != nil {
		t.Fatalf("no report: %v", err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if rep["stopped"] != "interrupted" || rep["rows"] != 0.0 || rep["requests"] != 2.0 {
		t.Fatalf("report %s", data)
	}
	if n := seen.Load(); n != 2 {
		t.Fatalf("%d requests: the run went on after the signal", n)
	}
}

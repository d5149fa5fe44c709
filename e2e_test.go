package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"contactsync/importer"
	"contactsync/internal/pgtest"
	"contactsync/mapping"
	"contactsync/providers"
)

// TestMain lets a test run the program itself in a subprocess: the test
// binary started with CONTACTSYNC_RUN_MAIN=1 is contactsync, signals and
// exit codes included.
func TestMain(m *testing.M) {
	if os.Getenv("CONTACTSYNC_RUN_MAIN") == "1" {
		main()
		return
	}
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}

// stateBackends are where a test's state can live: the bbolt files, or a
// fresh PostgreSQL database.
var stateBackends = []struct {
	name  string
	where func(t *testing.T) string
}{
	{"bbolt", func(t *testing.T) string { return filepath.Join(t.TempDir(), "state.db") }},
	{"postgres", func(t *testing.T) string { return pgtest.URL(t) }},
}

// subject is one provider as the end-to-end tests drive it.
type subject struct {
	name, list, region string
	number             func(i int) string
}

var subjects = []subject{
	{"octopush", "customers", "FR", func(i int) string {
		return fmt.Sprintf("06 %02d %02d %02d %02d", 20+i/1000000%70, i/10000%100, i/100%100, i%100)
	}},
	{"avosms", "1001", "FR", func(i int) string {
		return fmt.Sprintf("07 %02d %02d %02d %02d", 30+i/1000000%60, i/10000%100, i/100%100, i%100)
	}},
	{"amootsms", "مشتریان", "IR", func(i int) string { return fmt.Sprintf("0912%07d", i) }},
	{"smstools", "42", "BE", func(i int) string { return fmt.Sprintf("0470 %02d %02d %02d", i/10000%100, i/100%100, i%100) }},
}

// server is a provider's emulator on loopback, counting requests.
type server struct {
	sb  providers.Sandbox
	url string
}

func (s subject) serve(t *testing.T, opts providers.SandboxOptions, wrap func(http.Handler) http.Handler) *server {
	t.Helper()
	reg, err := providers.Lookup(s.name)
	if err != nil {
		t.Fatal(err)
	}
	sb := reg.NewSandbox(opts)
	var h http.Handler = sb
	if wrap != nil {
		h = wrap(sb)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &server{sb: sb, url: srv.URL}
}

// file writes n contacts; rows in changed get another first name, rows in
// gone are left out.
func (s subject) file(t *testing.T, n int, changed, gone map[int]bool) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("first name,last name,mobile\n")
	for i := range n {
		if gone[i] {
			continue
		}
		first := fmt.Sprintf("Prénom%d", i)
		if changed[i] {
			first += "bis"
		}
		fmt.Fprintf(&b, "%s,Nom%d,%s\n", first, i, s.number(i))
	}
	path := filepath.Join(t.TempDir(), "contacts.csv")
	os.WriteFile(path, []byte(b.String()), 0o644)
	return path
}

func (s subject) args(srv *server, file, state, report string, extra ...string) []string {
	return append([]string{"import", file, "--provider", s.name, "--list", s.list, "--region", s.region,
		"--endpoint", srv.url, "--state", state, "--report", report, "--quiet", "--retry-wait", "1ms", "--rate", "0"}, extra...)
}

func readReport(t *testing.T, path string) *importer.Report {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r importer.Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if !r.Balanced() {
		t.Fatalf("unbalanced report %s", data)
	}
	return &r
}

// holdsExactly checks that the list holds the file's n numbers, once each,
// with the names of the file.
func (s subject) holdsExactly(t *testing.T, srv *server, n int, changed, gone map[int]bool) {
	t.Helper()
	stored := map[string]providers.StoredContact{}
	for _, c := range srv.sb.Contacts(s.list) {
		if _, dup := stored[c.Phone]; dup {
			t.Fatalf("%s is held twice", c.Phone)
		}
		stored[c.Phone] = c
	}
	want := 0
	for i := range n {
		if gone[i] {
			continue
		}
		want++
		p, problem := mapping.ParsePhone(s.number(i), s.region)
		if problem != nil {
			t.Fatal(problem)
		}
		first := fmt.Sprintf("Prénom%d", i)
		if changed[i] {
			first += "bis"
		}
		if c, ok := stored[p.E164]; !ok || c.FirstName != first {
			t.Fatalf("%s: stored %+v, want first name %s", p.E164, c, first)
		}
	}
	if len(stored) != want {
		t.Fatalf("the list holds %d contacts, want %d", len(stored), want)
	}
}

// A nightly rerun sends only what changed: nothing when nothing did, one
// batch's worth of requests for 1% of the rows.
func TestNightlyRerunSendsOnlyChanges(t *testing.T) {
	for _, b := range stateBackends {
		for _, s := range subjects {
			t.Run(b.name+"/"+s.name, func(t *testing.T) {
				srv := s.serve(t, providers.SandboxOptions{}, nil)
				dir := t.TempDir()
				state, report := b.where(t), filepath.Join(dir, "report.json")
				run := func(file string) *importer.Report {
					t.Helper()
					if code, stdout, stderr := cli(t, srv.sb.Credentials(), s.args(srv, file, state, report)...); code != exitOK {
						t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
					}
					return readReport(t, report)
				}
				if first := run(s.file(t, 200, nil, nil)); first.Added != 200 {
					t.Fatalf("first run %+v", first)
				}
				again := run(s.file(t, 200, nil, nil))
				if again.SkippedByReason["unchanged"] != 200 {
					t.Fatalf("unchanged rerun %+v", again)
				}
				looks := again.Requests // what Open costs: the look-up calls, if any
				changed := map[int]bool{17: true, 133: true}
				third := run(s.file(t, 200, changed, nil))
				reg, _ := providers.Lookup(s.name)
				batch := min(reg.Capabilities.MaxBatch, reg.Capabilities.Pacing.BatchSize)
				if want := looks + int64((len(changed)+batch-1)/batch); third.Requests != want || third.Updated != 2 {
					t.Fatalf("1%% changed: %d requests (want %d), report %+v", third.Requests, want, third)
				}
				s.holdsExactly(t, srv, 200, changed, nil)
			})
		}
	}
}

// subprocess starts contactsync itself, as a user's shell would.
func subprocess(t *testing.T, env map[string]string, args []string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "CONTACTSYNC_RUN_MAIN=1", "XDG_STATE_HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir())
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// countRequests counts what reaches the emulator and calls at once when the
// n-th request arrives.
func countRequests(n int32, at func()) func(http.Handler) http.Handler {
	var seen atomic.Int32
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if seen.Add(1) == n {
				at()
			}
			next.ServeHTTP(w, r)
		})
	}
}

// A run killed with SIGKILL part-way, then run again, leaves the provider
// holding exactly the file's contacts, each once, and the rerun accounts for
// every row.
func TestKilledRunResumes(t *testing.T) {
	for _, b := range stateBackends {
		for _, s := range subjects {
			t.Run(b.name+"/"+s.name, func(t *testing.T) {
				reached := make(chan struct{})
				srv := s.serve(t, providers.SandboxOptions{Faults: providers.Faults{Latency: 5 * time.Millisecond}},
					countRequests(60, func() { close(reached) }))
				dir := t.TempDir()
				state, report := b.where(t), filepath.Join(dir, "report.json")
				file := s.file(t, 200, nil, nil)
				cmd := subprocess(t, srv.sb.Credentials(), s.args(srv, file, state, report, "--batch-size", "3", "--workers", "3"))
				// By the 60th request (about 0.1 s of 5 ms answers, three at a
				// time) earlier batches were confirmed and journalled: the rerun
				// must skip them.
				<-reached
				cmd.Process.Kill() // SIGKILL: no report, no cleanup
				cmd.Wait()
				if _, err := os.Stat(report); err == nil {
					t.Fatal("a killed run wrote a report")
				}
				code, stdout, stderr := cli(t, srv.sb.Credentials(), s.args(srv, file, state, report)...)
				if code != exitOK {
					t.Fatalf("rerun: exit %d\n%s\n%s", code, stdout, stderr)
				}
				rerun := readReport(t, report)
				if rerun.Rows != 200 || rerun.SkippedByReason["unchanged"] == 0 || rerun.Failed+rerun.Rejected != 0 {
					t.Fatalf("rerun %+v", rerun)
				}
				s.holdsExactly(t, srv, 200, nil, nil)
			})
		}
	}
}

// SIGINT stops a run with exit code 130, a report that accounts for every
// row, and a state the next run carries on from.
func TestInterruptedRunResumes(t *testing.T) {
	for _, b := range stateBackends {
		for _, s := range subjects {
			t.Run(b.name+"/"+s.name, func(t *testing.T) {
				reached := make(chan struct{})
				srv := s.serve(t, providers.SandboxOptions{Faults: providers.Faults{Latency: 5 * time.Millisecond}},
					countRequests(20, func() { close(reached) }))
				dir := t.TempDir()
				state, report := b.where(t), filepath.Join(dir, "report.json")
				file := s.file(t, 150, nil, nil)
				cmd := subprocess(t, srv.sb.Credentials(), s.args(srv, file, state, report, "--batch-size", "3", "--workers", "3"))
				<-reached
				cmd.Process.Signal(syscall.SIGINT)
				if err := cmd.Wait(); cmd.ProcessState.ExitCode() != exitInterrupted {
					t.Fatalf("exit %d (%v), want 130", cmd.ProcessState.ExitCode(), err)
				}
				first := readReport(t, report)
				if first.Rows != 150 || first.Stopped != "interrupted" || first.FailedByReason["interrupted"] == 0 {
					t.Fatalf("interrupted run %+v", first)
				}
				code, stdout, stderr := cli(t, srv.sb.Credentials(), s.args(srv, file, state, report)...)
				if code != exitOK {
					t.Fatalf("rerun: exit %d\n%s\n%s", code, stdout, stderr)
				}
				rerun := readReport(t, report)
				if rerun.SkippedByReason["unchanged"] != first.Added+first.Updated || rerun.Added+rerun.Updated+rerun.SkippedByReason["unchanged"] != 150 {
					t.Fatalf("rerun %+v after %+v", rerun, first)
				}
				s.holdsExactly(t, srv, 150, nil, nil)
			})
		}
	}
}

// Mirror mode deletes exactly what left the file, never more than
// --max-delete allows; a provider without a delete refuses it.
func TestMirrorEveryProvider(t *testing.T) {
	for _, b := range stateBackends {
		for _, s := range subjects {
			t.Run(b.name+"/"+s.name, func(t *testing.T) {
				srv := s.serve(t, providers.SandboxOptions{}, nil)
				dir := t.TempDir()
				state, report := b.where(t), filepath.Join(dir, "report.json")
				creds := srv.sb.Credentials()
				if code, _, stderr := cli(t, creds, s.args(srv, s.file(t, 40, nil, nil), state, report)...); code != exitOK {
					t.Fatalf("first run: exit %d\n%s", code, stderr)
				}
				gone := map[int]bool{4: true, 9: true, 30: true}
				reg, _ := providers.Lookup(s.name)
				if !reg.Capabilities.Supports(providers.ModeMirror) {
					code, _, stderr := cli(t, creds, s.args(srv, s.file(t, 40, nil, gone), state, report, "--mode", "mirror")...)
					if code != exitUsage || !strings.Contains(stderr, "delete") {
						t.Fatalf("exit %d, want 2\n%s", code, stderr)
					}
					return
				}
				code, _, stderr := cli(t, creds, s.args(srv, s.file(t, 40, nil, gone), state, report, "--mode", "mirror", "--max-delete", "2")...)
				if code != exitFatal || !strings.Contains(stderr, "nothing was deleted") || len(srv.sb.Contacts(s.list)) != 40 {
					t.Fatalf("over --max-delete: exit %d, %d held\n%s", code, len(srv.sb.Contacts(s.list)), stderr)
				}
				code, _, stderr = cli(t, creds, s.args(srv, s.file(t, 40, nil, gone), state, report, "--mode", "mirror")...)
				if code != exitOK {
					t.Fatalf("mirror: exit %d\n%s", code, stderr)
				}
				if rep := readReport(t, report); rep.Deleted != 3 || rep.Rows != 37 {
					t.Fatalf("mirror report %+v", rep)
				}
				s.holdsExactly(t, srv, 40, nil, gone)
			})
		}
	}
}

// Each provider imports its sample from samples/ as a user would.
func TestProviderSamples(t *testing.T) {
	sub := func(name string) subject {
		for _, s := range subjects {
			if s.name == name {
				return s
			}
		}
		t.Fatalf("no subject %s", name)
		return subject{}
	}
	run := func(t *testing.T, srv *server, args ...string) *importer.Report {
		t.Helper()
		report := filepath.Join(t.TempDir(), "report.json")
		args = append(args, "--endpoint", srv.url, "--report", report, "--state", "none", "--quiet", "--rate", "0")
		if code, stdout, stderr := cli(t, srv.sb.Credentials(), args...); code != exitOK && code != exitRowsFailed {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		return readReport(t, report)
	}

	t.Run("amootsms persian", func(t *testing.T) {
		srv := sub("amootsms").serve(t, providers.SandboxOptions{}, nil)
		args := []string{"import", "samples/contacts-fa.csv", "--provider", "amootsms", "--list", "مشتریان"}
		rep := run(t, srv, args...)
		if rep.Added != 3 || rep.SkippedByReason["duplicate_in_file"] != 1 || rep.RejectedByReason["invalid_phone"] != 1 || rep.Requests != 4 {
			t.Fatalf("report %+v", rep)
		}
		// Run again: every contact is edited, none is created twice.
		if rep := run(t, srv, args...); rep.Updated != 3 || rep.Added != 0 {
			t.Fatalf("rerun %+v", rep)
		}
		got := srv.sb.Contacts("مشتریان")
		if len(got) != 3 {
			t.Fatalf("%d contacts: %+v", len(got), got)
		}
		ali := got[0] // sorted by phone
		if ali.Phone != "+989121234567" || ali.FirstName != "علی" || ali.LastName != "رضایی" || ali.Birthday != "1980-05-23" ||
			ali.Fields["Labels"] != "مشتریان,مشتری ویژه" || ali.Fields["GenderType"] != "True" {
			t.Fatalf("stored %+v", ali)
		}
	})

	t.Run("smstools updates by ID", func(t *testing.T) {
		srv := sub("smstools").serve(t, providers.SandboxOptions{}, nil)
		for _, p := range []string{"+32470123456", "+32471234567", "+32472345678"} {
			srv.sb.Seed("42", providers.StoredContact{Phone: p, FirstName: "Old"}) // IDs 1, 2, 3
		}
		rep := run(t, srv, "import", "samples/smstools-updates.csv", "--provider", "smstools", "--list", "42", "--region", "BE", "--batch-size", "4")
		if rep.Updated != 3 || rep.FailedByReason["not_found"] != 1 {
			t.Fatalf("report %+v", rep)
		}
		for _, c := range srv.sb.Contacts("42") {
			if c.FirstName == "Old" || c.ID == "999" {
				t.Fatalf("stored %+v", c)
			}
		}
	})

	t.Run("avosms list country", func(t *testing.T) {
		srv := sub("avosms").serve(t, providers.SandboxOptions{}, nil)
		rep := run(t, srv, "import", "samples/contacts.csv", "--provider", "avosms", "--list", "1001")
		// No --region: the list's country (FR) reads the national numbers,
		// and the British number is refused without being sent.
		if rep.Added != 7 || rep.RejectedByReason["country_mismatch"] != 1 || rep.Requests != 8 {
			t.Fatalf("report %+v", rep)
		}
	})
}

// --sandbox rehearses an import with every provider, without credentials.
func TestSandboxEveryProvider(t *testing.T) {
	for _, s := range subjects {
		t.Run(s.name, func(t *testing.T) {
			code, stdout, stderr := cli(t, nil, "import", s.file(t, 30, nil, nil), "--provider", s.name, "--sandbox",
				"--list", s.list, "--region", s.region, "--rate", "0", "--quiet")
			if code != exitOK || !strings.Contains(stdout, "added           30") {
				t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
			}
		})
	}
}

// A second SIGINT does not wait for the requests in flight.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	s := subjects[0]
	reached := make(chan struct{})
	srv := s.serve(t, providers.SandboxOptions{Faults: providers.Faults{Latency: 20 * time.Second}}, countRequests(1, func() { close(reached) }))
	dir := t.TempDir()
	cmd := subprocess(t, srv.sb.Credentials(), s.args(srv, s.file(t, 10, nil, nil), filepath.Join(dir, "state.db"), filepath.Join(dir, "report.json")))
	<-reached
	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	time.Sleep(100 * time.Millisecond) // the first signal is handled
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	// The request in flight takes 20 s; the first signal alone would wait for it.
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted || time.Since(start) > 10*time.Second {
		t.Fatalf("exit %d after %v", code, time.Since(start))
	}
}

// A damaged state file stops the run before any request, with exit 2 and a
// message that names the file and says what to do; moved aside, the next
// run sends every row again, as harmless updates.
func TestDamagedStateStopsBeforeSending(t *testing.T) {
	// Overwritten with binary data: text, such as a CSV file, is refused
	// before the state is opened, as a file that is no state file at all
	// (TestPathMessages).
	garbage := make([]byte, 16<<10)
	for i := range garbage {
		garbage[i] = byte(i*7 + i/256)
	}
	damages := []struct {
		name    string
		damage  func(path string) error
		problem string
	}{
		{"cut at a page boundary", func(p string) error { return os.Truncate(p, 8192) }, "it was cut short"},
		{"cut mid-page", func(p string) error { return os.Truncate(p, 3*4096+1234) }, "it was cut short"},
		{"empty", func(p string) error { return os.Truncate(p, 0) }, "it is empty: 0 bytes"},
		{"overwritten", func(p string) error { return os.WriteFile(p, garbage, 0o600) }, "it is not a state file, or it was overwritten"},
	}
	for _, s := range subjects {
		t.Run(s.name, func(t *testing.T) {
			srv := s.serve(t, providers.SandboxOptions{}, nil)
			dir := t.TempDir()
			state, report := filepath.Join(dir, "state.db"), filepath.Join(dir, "report.json")
			file := s.file(t, 30, nil, nil)
			if code, _, stderr := cli(t, srv.sb.Credentials(), s.args(srv, file, state, report)...); code != exitOK {
				t.Fatalf("first run: exit %d\n%s", code, stderr)
			}
			target := targetFile(t, state)
			good, _ := os.ReadFile(target)
			for _, d := range damages {
				t.Run(d.name, func(t *testing.T) {
					if err := os.WriteFile(target, good, 0o600); err != nil {
						t.Fatal(err)
					}
					if err := d.damage(target); err != nil {
						t.Fatal(err)
					}
					before := srv.sb.Requests()
					code, stdout, stderr := cli(t, srv.sb.Credentials(), s.args(srv, file, state, report)...)
					want := "contactsync: nothing was sent: the state file " + target + " is damaged ("
					if code != exitUsage || !strings.Contains(stderr, want) || !strings.Contains(stderr, d.problem) ||
						!strings.Contains(stderr, "move it aside (mv "+target+" "+target+".damaged) and run again") {
						t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
					}
					if strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "panic") {
						t.Fatalf("a crash:\n%s", stderr)
					}
					if n := srv.sb.Requests() - before; n != 0 {
						t.Fatalf("%d requests reached the provider", n)
					}
				})
			}
			// Moved aside as the message says, the next run starts afresh.
			os.Rename(target, target+".damaged")
			if code, _, stderr := cli(t, srv.sb.Credentials(), s.args(srv, file, state, report)...); code != exitOK {
				t.Fatalf("after moving the state aside: exit %d\n%s", code, stderr)
			}
			s.holdsExactly(t, srv, 30, nil, nil)
		})
	}
}

// A state file damaged once rows are on their way (cut short under the
// run) stops the run with exit 3, no crash, and the report still written.
func TestStateDamagedDuringTheRun(t *testing.T) {
	s := subjects[0]
	dir := t.TempDir()
	state, report := filepath.Join(dir, "state.db"), filepath.Join(dir, "report.json")
	srv := s.serve(t, providers.SandboxOptions{}, countRequests(5, func() {
		files, _ := filepath.Glob(filepath.Join(state+".d", s.name+"-*.db"))
		for _, f := range files {
			os.Truncate(f, 8192)
		}
	}))
	code, stdout, stderr := cli(t, srv.sb.Credentials(), s.args(srv, s.file(t, 300, nil, nil), state, report, "--batch-size", "10", "--workers", "1")...)
	target := targetFile(t, state)
	if code != exitFatal || !strings.Contains(stderr, "the state file "+target+" is damaged (") || !strings.Contains(stderr, "the run was stopped") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	rep := readReport(t, report)
	if rep.Rows != 300 || rep.Added == 0 || !strings.Contains(rep.Error, "is damaged") {
		t.Fatalf("report %+v", rep)
	}
}

// SIGTERM while the list read waits to be retried: exit 130 at once (not
// after the minute's wait), the report written.
func TestSignalWhileOpening(t *testing.T) {
	s := subjects[1] // AvoSMS reads the list before sending
	reached := make(chan struct{})
	var once sync.Once
	unavailable := func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			once.Do(func() { close(reached) })
		})
	}
	srv := s.serve(t, providers.SandboxOptions{}, unavailable)
	dir := t.TempDir()
	report := filepath.Join(dir, "report.json")
	args := s.args(srv, s.file(t, 10, nil, nil), filepath.Join(dir, "state.db"), report)
	cmd := subprocess(t, srv.sb.Credentials(), append(args, "--retry-wait", "1m"))
	<-reached
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); cmd.ProcessState.ExitCode() != exitInterrupted {
		t.Fatalf("exit %d (%v), want 130", cmd.ProcessState.ExitCode(), err)
	}
	rep := readReport(t, report)
	if rep.Stopped != "interrupted" || rep.Rows != 0 || rep.Requests != 1 {
		t.Fatalf("report %+v", rep)
	}
}

// targetFile is the file the state keeps the one target of a test in,
// beside --state STATE: STATE.d/<provider>-<digest>.db.
func targetFile(t testing.TB, state string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(state+".d", "*.db"))
	var targets []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".labels.db") {
			targets = append(targets, f)
		}
	}
	if len(targets) != 1 {
		t.Fatalf("the state %s holds %d target files: %q", state, len(targets), files)
	}
	return targets[0]
}

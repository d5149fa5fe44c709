package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"contactsync/mapping"
	"contactsync/providers"
)

// The real binary refuses an output that names the input, before a request:
// the input given as a path, or redirected to the standard input.
func TestOutputOverInputRefused(t *testing.T) {
	s := subjects[0]
	srv := s.serve(t, providers.SandboxOptions{}, nil)
	file := s.file(t, 5, nil, nil)
	content, _ := os.ReadFile(file)
	for _, tt := range []struct {
		name  string
		args  []string
		stdin bool
	}{
		{"report over the input", []string{"import", file, "--report", file}, false},
		{"rejects over the input, read from the standard input", []string{"import", "-", "--rejects", file}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], append(tt.args, "--provider", s.name, "--list", s.list, "--region", s.region,
				"--endpoint", srv.url, "--state", "none")...)
			cmd.Env = append(os.Environ(), "CONTACTSYNC_RUN_MAIN=1", "XDG_STATE_HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir())
			for k, v := range srv.sb.Credentials() {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			if tt.stdin {
				f, err := os.Open(file)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				cmd.Stdin = f
			}
			out, _ := cmd.CombinedOutput()
			if code := cmd.ProcessState.ExitCode(); code != exitUsage || !strings.Contains(string(out), "would overwrite it") {
				t.Fatalf("exit %d\n%s", code, out)
			}
			if after, _ := os.ReadFile(file); !bytes.Equal(after, content) || srv.sb.Requests() != 0 {
				t.Fatalf("the input changed, or %d requests were sent", srv.sb.Requests())
			}
		})
	}
}

// A report that cannot be written once the run is over does not turn the
// run's exit code into 2 ("nothing was sent"): the code is the run's, and
// the message says where the report could not go.
func TestReportLostAtTheEndKeepsTheExitCode(t *testing.T) {
	for _, tt := range []struct {
		file, region string
		want         int
	}{{"samples/contacts.csv", "FR", exitRowsFailed}, {"samples/google-contacts.csv", "GB", exitOK}} {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "reports")
			os.Mkdir(dir, 0o755)
			report := filepath.Join(dir, "report.json")
			// The directory is there when the run checks it, and gone by
			// the time the report is written.
			srv := subjects[0].serve(t, providers.SandboxOptions{}, countRequests(1, func() { os.RemoveAll(dir) }))
			code, stdout, stderr := cli(t, srv.sb.Credentials(), "import", tt.file, "--provider", "octopush", "--list", "l",
				"--region", tt.region, "--endpoint", srv.url, "--state", "none", "--report", report, "--quiet")
			if code != tt.want || !strings.Contains(stderr, "the report could not be written to "+report) {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tt.want, stdout, stderr)
			}
			if len(srv.sb.Contacts("l")) == 0 {
				t.Fatal("nothing was sent")
			}
		})
	}
}

// The rejects file failing part-way stops the run (exit 3); failing only as
// it is closed, after every row was sent, leaves the run's exit code. The
// message names the file either way.
func TestRejectsLostKeepsTheTruth(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full to fail writes with")
	}
	s := subjects[0]
	for _, tt := range []struct {
		name     string
		rejected int // rows; a rejected row's line is about 60 bytes, and 4 KiB are buffered
		want     int
	}{{"at the end", 3, exitRowsFailed}, {"part-way", 2000, exitFatal}} {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			b.WriteString("first name,last name,mobile\n")
			for i := range 100 {
				fmt.Fprintf(&b, "F%d,L%d,%s\n", i, i, s.number(i))
			}
			for i := range tt.rejected {
				fmt.Fprintf(&b, "Rejected%d,Row%d,not a phone number %d\n", i, i, i)
			}
			file := filepath.Join(t.TempDir(), "contacts.csv")
			os.WriteFile(file, []byte(b.String()), 0o644)
			srv := s.serve(t, providers.SandboxOptions{}, nil)
			code, stdout, stderr := cli(t, srv.sb.Credentials(), s.args(srv, file, "none", filepath.Join(t.TempDir(), "report.json"),
				"--rejects", "/dev/full")...)
			if code != tt.want || !strings.Contains(stderr, "the rejects file /dev/full could not be written") {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tt.want, stdout, stderr)
			}
		})
	}
}

// SIGINT part-way: the rows never tried are counted (failed, interrupted)
// and the rejects file, which is for rows to fix, holds none of them.
func TestInterruptLeavesRejectsToFix(t *testing.T) {
	s := subjects[0]
	reached := make(chan struct{})
	srv := s.serve(t, providers.SandboxOptions{Faults: providers.Faults{Latency: 5 * time.Millisecond}},
		countRequests(10, func() { close(reached) }))
	dir := t.TempDir()
	report, rejects := filepath.Join(dir, "report.json"), filepath.Join(dir, "rejects.csv")
	file := s.file(t, 3000, nil, nil)
	cmd := subprocess(t, srv.sb.Credentials(), s.args(srv, file, filepath.Join(dir, "state.db"), report,
		"--batch-size", "3", "--workers", "2", "--rejects", rejects))
	<-reached
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); cmd.ProcessState.ExitCode() != exitInterrupted {
		t.Fatalf("exit %d (%v), want 130", cmd.ProcessState.ExitCode(), err)
	}
	rep := readReport(t, report)
	if rep.Rows != 3000 || rep.FailedByReason["interrupted"] == 0 || rep.Added+rep.FailedByReason["interrupted"] != 3000 {
		t.Fatalf("report %+v", rep)
	}
	if data, _ := os.ReadFile(rejects); string(data) != "\uFEFFfirst name,last name,mobile,row,status,reason,detail\n" {
		t.Fatalf("rejects file after an interrupt:\n%.300s", data)
	}
}

// A dry run never creates a state file, not even its directory.
func TestDryRunCreatesNoState(t *testing.T) {
	s := subjects[1]
	srv := s.serve(t, providers.SandboxOptions{}, nil)
	dir := filepath.Join(t.TempDir(), "state")
	code, _, stderr := cli(t, srv.sb.Credentials(), s.args(srv, s.file(t, 5, nil, nil), filepath.Join(dir, "state.db"),
		filepath.Join(t.TempDir(), "report.json"), "--dry-run")...)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatal("the dry run created the state directory")
	}
}

// With --sandbox, a dry run asks the sandbox what the run asks it: on
// AvoSMS, the list's country, which reads numbers written without an
// international prefix (no --region is given) and refuses the others, as
// the run does.
func TestSandboxDryRunPlansWhatTheRunSends(t *testing.T) {
	type run struct{ name, file, region string }
	var runs []run
	for _, s := range subjects {
		region := s.region
		if s.name == "avosms" {
			region = "" // the list's
		}
		runs = append(runs, run{s.name, "", region})
	}
	runs = append(runs, run{"avosms", "samples/contacts.csv", ""})
	for _, tt := range runs {
		s := subjectNamed(t, tt.name)
		file := tt.file
		if file == "" {
			file = s.file(t, 30, nil, nil)
		}
		t.Run(tt.name+"/"+filepath.Base(file), func(t *testing.T) {
			report := filepath.Join(t.TempDir(), "report.json")
			args := []string{"import", file, "--provider", s.name, "--list", s.list, "--sandbox", "--quiet", "--report", report, "--rate", "0"}
			if tt.region != "" {
				args = append(args, "--region", tt.region)
			}
			code, _, stderr := cli(t, nil, append(args, "--dry-run")...)
			dry := readReport(t, report)
			if realCode, _, _ := cli(t, nil, args...); realCode != code {
				t.Fatalf("the dry run exits %d, the run %d\n%s", code, realCode, stderr)
			}
			real := readReport(t, report)
			planned := 0
			for _, n := range dry.Planned {
				planned += n
			}
			if planned != real.Added+real.Updated || planned == 0 || !reflect.DeepEqual(dry.RejectedByReason, real.RejectedByReason) {
				t.Fatalf("dry run %+v\nrun %+v", dry, real)
			}
			if strings.Contains(stderr, "without credentials") {
				t.Errorf("a sandbox dry run says it has no credentials:\n%s", stderr)
			}
		})
	}
}

// A dry run plans exactly what the same command then sends, on every
// provider: it makes the read-only calls the run makes first, and nothing
// else; it reads the state (skipping unchanged rows, finding mirror
// deletions) and leaves the file as it was; its plan has a line per row and
// per deletion. Without credentials it says once what it cannot know, and
// still reads the state of the one account the file holds the list for.
func TestDryRunPlansWhatTheRunSends(t *testing.T) {
	for _, s := range subjects {
		t.Run(s.name, func(t *testing.T) {
			srv := s.serve(t, providers.SandboxOptions{Record: true}, nil)
			dir := t.TempDir()
			state, report, plan := filepath.Join(dir, "state.db"), filepath.Join(dir, "report.json"), filepath.Join(dir, "plan.csv")
			creds := srv.sb.Credentials()
			if code, _, stderr := cli(t, creds, s.args(srv, s.file(t, 40, nil, nil), state, report)...); code != exitOK {
				t.Fatalf("first run: exit %d\n%s", code, stderr)
			}
			reg, _ := providers.Lookup(s.name)
			mode := "upsert"
			changed, gone := map[int]bool{5: true, 17: true}, map[int]bool{}
			if reg.Capabilities.Supports(providers.ModeMirror) {
				mode, gone = "mirror", map[int]bool{9: true, 30: true}
			}
			file := s.file(t, 44, changed, gone) // rows 40 to 43 are new
			args := s.args(srv, file, state, report, "--mode", mode)

			held := stateBytes(t, state)
			contacts := srv.sb.Contacts(s.list)
			recorded := len(srv.sb.Recorded())
			code, stdout, stderr := cli(t, creds, append(args, "--dry-run", "--plan", plan)...)
			if code != exitOK {
				t.Fatalf("dry run: exit %d\n%s\n%s", code, stdout, stderr)
			}
			dry := readReport(t, report)
			looks := srv.sb.Recorded()[recorded:]
			if after := stateBytes(t, state); !bytes.Equal(after, held) || !reflect.DeepEqual(srv.sb.Contacts(s.list), contacts) {
				t.Fatal("the dry run changed the state file or the list")
			}
			if pids, _ := filepath.Glob(filepath.Join(state+".d", "*.pid")); len(pids) > 0 {
				t.Fatal("the dry run named itself the state's owner")
			}
			if dry.Requests != int64(len(looks)) {
				t.Fatalf("the dry run counts %d requests, the provider saw %d", dry.Requests, len(looks))
			}

			recorded = len(srv.sb.Recorded())
			if code, stdout, stderr := cli(t, creds, args...); code != exitOK {
				t.Fatalf("run: exit %d\n%s\n%s", code, stdout, stderr)
			}
			real := readReport(t, report)
			sent := srv.sb.Recorded()[recorded:]
			// The run asks the provider first what the dry run asked, then
			// writes.
			if len(sent) < len(looks) {
				t.Fatalf("the dry run made %d requests, the run %d", len(looks), len(sent))
			}
			for i, r := range looks {
				if r.Method != sent[i].Method || r.Path != sent[i].Path || !bytes.Equal(r.Body, sent[i].Body) {
					t.Fatalf("request %d: the dry run sent %s %s, the run %s %s", i, r.Method, r.Path, sent[i].Method, sent[i].Path)
				}
			}
			t.Logf("dry run: %d requests %v; run: %d requests", len(looks), paths(looks), len(sent))
			p := dry.Planned
			if real.Added+real.Updated != p["create"]+p["update"]+p["upsert"] || real.Deleted != p["delete"] ||
				p["upsert"] == 0 && (real.Added != p["create"] || real.Updated != p["update"]) ||
				real.SkippedByReason["unchanged"] != dry.SkippedByReason["unchanged"] || real.Rejected != dry.Rejected {
				t.Fatalf("the dry run planned %v, skipping %v; the run did %+v", p, dry.SkippedByReason, real)
			}
			if real.Added != 4 || real.Updated != 2 || real.Deleted != len(gone) {
				t.Fatalf("the run did %+v", real)
			}

			// The plan: a line per row, then the deletions.
			lines := readPlan(t, plan)
			if len(lines) != 1+dry.Rows+p["delete"] || strings.Join(lines[0], ",") != "row,phone,operation,reason,detail" {
				t.Fatalf("plan of %d lines for %d rows and %d deletions:\n%v", len(lines), dry.Rows, p["delete"], lines)
			}
			ops := map[string]string{}
			for _, l := range lines[1:] {
				ops[strings.TrimPrefix(l[1], "'")] = l[2] + " " + l[3] + " row " + l[0]
			}
			update, add := "update  row ", "add  row "
			if p["upsert"] > 0 {
				update, add = "upsert  row ", "upsert  row "
			}
			line := func(i int) string { // the line of the i-th number in the file
				n := i + 2
				for g := range gone {
					if g < i {
						n--
					}
				}
				return fmt.Sprint(n)
			}
			for i, want := range map[int]string{0: "skip unchanged row " + line(0), 5: update + line(5), 40: add + line(40), 43: add + line(43)} {
				if got := ops[e164(t, s, i)]; got != want {
					t.Errorf("row of %s: plan says %q, want %q", e164(t, s, i), got, want)
				}
			}
			for i := range gone {
				if got := ops[e164(t, s, i)]; got != "delete not_in_file row " {
					t.Errorf("%s left the file: plan says %q", e164(t, s, i), got)
				}
			}

			// Without credentials: the same state is read, and the run says
			// once what it cannot know.
			code, stdout, stderr = cli(t, nil, append(args, "--dry-run")...)
			blind := readReport(t, report)
			if code != exitOK || blind.Requests != 0 || strings.Count(stderr, "dry run without credentials") != 1 ||
				blind.SkippedByReason["unchanged"] != real.Rows || blind.Planned["delete"] != 0 {
				t.Fatalf("dry run without credentials after the run: exit %d, report %+v\n%s\n%s", code, blind, stdout, stderr)
			}
		})
	}
}

func paths(rs []providers.RecordedRequest) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

// e164 is the number of a subject's i-th row, as contactsync sends it.
func e164(t *testing.T, s subject, i int) string {
	t.Helper()
	p, problem := mapping.ParsePhone(s.number(i), s.region)
	if problem != nil {
		t.Fatal(problem)
	}
	return p.E164
}

func readPlan(t *testing.T, path string) [][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\uFEFF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// stateBytes is every file of the state STATE: the files of STATE.d and
// their names, in order.
func stateBytes(t testing.TB, state string) []byte {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(state+".d", "*"))
	var b []byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b = append(append(append(b, f...), 0), data...)
	}
	return b
}

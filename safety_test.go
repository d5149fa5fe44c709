package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

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

package main

import (
	"bufio"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"contactsync/providers"
)

// For cron (stderr not a terminal), a stats line every --stats-interval
// says how far the run is; 0 and --quiet turn it off.
func TestStatsLines(t *testing.T) {
	s := subjectNamed(t, "octopush")
	tests := []struct {
		name  string
		flags []string
		want  bool
	}{
		{"every 10ms", []string{"--stats-interval", "10ms"}, true},
		{"off", []string{"--stats-interval", "0"}, false},
		{"quiet", []string{"--stats-interval", "10ms", "--quiet"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := make(chan struct{})
			// The second request waits for a stats line (or, when none is
			// due, for the run's other lines to be read): a stats line is
			// then due whatever the machine's speed.
			hold := countRequests(2, func() {
				if !tt.want {
					return
				}
				select {
				case <-seen:
				case <-time.After(time.Minute):
					t.Error("no stats line in a minute")
				}
			})
			srv := s.serve(t, providers.SandboxOptions{}, hold)
			file := s.file(t, 500, nil, nil)
			args := append([]string{"import", file, "--provider", s.name, "--list", s.list, "--region", s.region,
				"--endpoint", srv.url, "--state", "none", "--rate", "0", "--workers", "1", "--batch-size", "100"}, tt.flags...)
			cmd := exec.Command(os.Args[0], args...)
			cmd.Env = append(os.Environ(), "CONTACTSYNC_RUN_MAIN=1")
			for k, v := range srv.sb.Credentials() {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var stats []string
			lines := bufio.NewScanner(stderr)
			for lines.Scan() {
				if strings.Contains(lines.Text(), "msg=progress") {
					if len(stats) == 0 {
						close(seen)
					}
					stats = append(stats, lines.Text())
				}
			}
			if err := cmd.Wait(); err != nil {
				t.Fatal(err)
			}
			if !tt.want {
				if len(stats) > 0 {
					t.Fatalf("stats lines:\n%s", strings.Join(stats, "\n"))
				}
				return
			}
			if len(stats) == 0 {
				t.Fatal("no stats line")
			}
			for _, want := range []string{"level=INFO msg=progress rows=", " percent=", " rows_per_second=", " requests_per_second=", " retries=0", " elapsed="} {
				if !strings.Contains(stats[0], want) {
					t.Errorf("stats line without %q:\n%s", want, stats[0])
				}
			}
			if !strings.Contains(stats[0], " of=500 ") && !strings.Contains(stats[0], " of_about=") {
				t.Errorf("stats line without the total, exact or estimated:\n%s", stats[0])
			}
		})
	}
}

// The summary's headline says what happened; after rejects without
// --rejects it says how to see them; after an interrupt without a state, it
// says that running again sends everything again.
func TestSummaryAdvice(t *testing.T) {
	code, stdout, _ := cli(t, nil, "import", "samples/contacts.csv", "--provider", "octopush", "--sandbox", "--list", "customers", "--region", "FR")
	if code != exitRowsFailed || !strings.HasPrefix(stdout, "8 added, 1 skipped, 1 rejected of 10 rows\n") ||
		!strings.Contains(stdout, "run again with --rejects FILE") {
		t.Errorf("exit %d:\n%s", code, stdout)
	}
	rejects := filepath.Join(t.TempDir(), "rejects.csv")
	if _, stdout, _ = cli(t, nil, "import", "samples/contacts.csv", "--provider", "octopush", "--sandbox", "--list", "customers",
		"--region", "FR", "--rejects", rejects); strings.Contains(stdout, "--rejects") {
		t.Errorf("advice to use --rejects with --rejects:\n%s", stdout)
	}

	s := subjectNamed(t, "octopush")
	reached := make(chan struct{})
	srv := s.serve(t, providers.SandboxOptions{Faults: providers.Faults{Latency: 5 * time.Millisecond}},
		countRequests(5, func() { close(reached) }))
	file := s.file(t, 300, nil, nil)
	cmd := exec.Command(os.Args[0], "import", file, "--provider", s.name, "--list", s.list, "--region", s.region,
		"--endpoint", srv.url, "--state", "none", "--rate", "0", "--workers", "1", "--batch-size", "3", "--quiet")
	cmd.Env = append(os.Environ(), "CONTACTSYNC_RUN_MAIN=1")
	for k, v := range srv.sb.Credentials() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	<-reached
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	if cmd.ProcessState.ExitCode() != exitInterrupted || !strings.HasPrefix(out.String(), "Interrupted: ") ||
		!strings.Contains(out.String(), "Running again sends every row again, those added included: without a state (--state none)") {
		t.Errorf("exit %d:\n%s", cmd.ProcessState.ExitCode(), out.String())
	}
}

// Numeric flags out of range are refused (exit 2), naming the flag, its
// value and the range; a batch size above the provider's maximum is lowered
// to it, and the run says so.
func TestNumericFlags(t *testing.T) {
	good := filepath.Join(t.TempDir(), "good.csv")
	os.WriteFile(good, []byte("phone\n+33612345678\n"), 0o644)
	tests := []struct {
		flags []string
		want  string // in stderr; "" when the run goes on
	}{
		{[]string{"--rate", "-1"}, "--rate -1 is out of range: use 0 (no client-side limit) or more requests per second"},
		{[]string{"--rate", "-0.5"}, "--rate -0.5 is out of range"},
		{[]string{"--rate", "NaN"}, "--rate NaN is out of range"},
		{[]string{"--burst", "-1"}, "--burst -1 is out of range: use 0"},
		{[]string{"--batch-size", "0"}, "--batch-size 0 is out of range: use 1 or more contacts per request"},
		{[]string{"--batch-size", "-3"}, "--batch-size -3 is out of range"},
		{[]string{"--workers", "0"}, "--workers 0 is out of range: use 1 to 256"},
		{[]string{"--workers", "257"}, "--workers 257 is out of range: use 1 to 256"},
		{[]string{"--retries", "0"}, "--retries 0 is out of range: use 1 or more"},
		{[]string{"--max-errors", "-1"}, "--max-errors -1 is out of range"},
		{[]string{"--timeout", "0s"}, "--timeout 0s is out of range: use a duration above 0"},
		{[]string{"--stats-interval", "-1s"}, "--stats-interval -1s is out of range"},
		{[]string{"--rate", "0", "--burst", "0", "--workers", "256", "--batch-size", "1", "--max-errors", "0", "--stats-interval", "0"}, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.flags, " "), func(t *testing.T) {
			args := append([]string{"import", good, "--provider", "octopush", "--list", "l", "--sandbox", "--quiet"}, tt.flags...)
			code, stdout, stderr := cli(t, nil, args...)
			switch {
			case tt.want == "" && code != exitOK:
				t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
			case tt.want != "" && (code != exitUsage || !strings.Contains(stderr, tt.want)):
				t.Fatalf("exit %d, stderr\n%s\nwant exit 2 and %q", code, stderr, tt.want)
			}
		})
	}

	for provider, want := range map[string]string{
		"octopush": "--batch-size 500 is more than octopush takes in one request: batches of 200 are sent",
		"avosms":   "--batch-size 500 is more than avosms takes in one request: one contact per request",
	} {
		code, stdout, stderr := cli(t, nil, "import", "samples/contacts.csv", "--provider", provider, "--list", "1001",
			"--region", "FR", "--sandbox", "--batch-size", "500")
		if code != exitRowsFailed || !strings.Contains(stderr, want) {
			t.Errorf("exit %d\n%s\n%s\nwant %q", code, stdout, stderr, want)
		}
	}
}

// contactsync --version and contactsync version say which build this is.
func TestVersion(t *testing.T) {
	_, long, _ := cli(t, nil, "--version")
	code, word, stderr := cli(t, nil, "version")
	if code != exitOK || !strings.HasPrefix(word, "contactsync ") || long != word {
		t.Fatalf("exit %d: %q and %q\n%s", code, long, word, stderr)
	}
	tests := []struct {
		name string
		info *debug.BuildInfo
		want string
	}{
		{"go install of a tag", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"}}, "contactsync v1.4.0, go1.26.8"},
		{"a build in a clone", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "73912e9db8c6200afe1772f75be862f1e2b3e3a2"}, {Key: "vcs.time", Value: "2026-11-30T17:39:08Z"},
			{Key: "vcs.modified", Value: "true"}}}, "contactsync (devel), commit 73912e9db8c6 of 2026-11-30T17:39:08Z with local changes, go1.26.8"},
		{"no version", &debug.BuildInfo{GoVersion: "go1.26.8"}, "contactsync (devel), go1.26.8"},
	}
	for _, tt := range tests {
		if got := versionText(tt.info, true); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// A mistyped command, provider or flag gets the one meant.
func TestDidYouMean(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"improt", "x.csv"}, `unknown command "improt": did you mean import?`},
		{[]string{"inspcet", "x.csv"}, `unknown command "inspcet": did you mean inspect?`},
		{[]string{"frobnicate"}, `unknown command "frobnicate"` + "\n\ncontactsync pushes"},
		{[]string{"import", "samples/contacts.csv", "--provider", "octopus", "--list", "l", "--sandbox"}, `unknown provider "octopus": did you mean octopush?`},
		{[]string{"import", "samples/contacts.csv", "--provder", "octopush"}, "unknown flag --provder: did you mean --provider?"},
		{[]string{"inspect", "samples/contacts.csv", "--regoin", "FR"}, "unknown flag --regoin: did you mean --region?"},
		{[]string{"inspect", "samples/contacts.csv", "--provider", "smstool"}, `unknown provider "smstool": did you mean smstools?`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, stderr := cli(t, nil, tt.args...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d:\n%s\nwant %q", code, stderr, tt.want)
			}
		})
	}
}

// contactsync providers NAME describes one provider in the mapping's field
// names, with where to find its list and its default region.
func TestProvidersName(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{"octopush", []string{"octopush\n", "  finding it    the list's name as your Octopush account shows it", "  region        none: ",
			"phone       → phone_number", "first_name  → first_name", "not stored: email, birthday, civility, id"}},
		{"AvoSMS", []string{"avosms\n", "  finding it    the list's ID, a number", "  region        the list's own country",
			"last_name   → contactName", "civility    → contactCivility"}},
		{"amootsms", []string{"amootsms\n", "  region        IR: ", "phone       → Mobile", "tag         → Labels"}},
		{"smstools", []string{"smstools\n", "  finding it    the contact group's ID", "id          → ID", "not stored: email, civility, tag"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := cli(t, nil, "providers", tt.name)
			if code != exitOK {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("no %q in\n%s", w, stdout)
				}
			}
			if n := strings.Count(stdout, "  --list "); n != 1 {
				t.Errorf("%d providers described:\n%s", n, stdout)
			}
		})
	}
	if code, _, stderr := cli(t, nil, "providers", "octopus"); code != exitUsage || !strings.Contains(stderr, "did you mean octopush?") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
	code, stdout, _ := cli(t, nil, "providers")
	if code != exitOK || strings.Count(stdout, "  finding it ") != 4 || strings.Count(stdout, "phone       → ") != 4 {
		t.Errorf("exit %d, not every provider says where to find its list and what the phone is sent as:\n%s", code, stdout)
	}
}

// import --help groups its flags, every one of them, and ends with three
// examples; the helps and the usage fit 80 columns, line up, and say that
// FILE may be - for the standard input.
func TestHelpLayout(t *testing.T) {
	_, imp, _ := cli(t, nil, "import", "--help")
	_, insp, _ := cli(t, nil, "inspect", "--help")
	_, top, _ := cli(t, nil, "help")
	for name, text := range map[string]string{"import --help": imp, "inspect --help": insp, "help": top} {
		for _, l := range strings.Split(text, "\n") {
			if n := len([]rune(l)); n > 80 {
				t.Errorf("%s: a line of %d columns:\n%s", name, n, l)
			}
		}
		if !strings.Contains(strings.Join(strings.Fields(text), " "), "- for the standard input") {
			t.Errorf("%s does not say that FILE may be - for the standard input", name)
		}
	}

	at := 0
	for _, g := range importFlagGroups {
		i := strings.Index(imp[at:], "\n"+g.title+":\n")
		if i < 0 {
			t.Fatalf("import --help has no group %q after the previous ones", g.title)
		}
		at += i
	}
	_, fs, _ := parseImportFlags(nil)
	grouped := map[string]int{}
	for _, g := range importFlagGroups {
		for _, f := range g.flags {
			grouped[f]++
		}
	}
	flags := imp[:strings.Index(imp, "\nExamples:\n")]
	fs.VisitAll(func(f *flag.Flag) {
		if grouped[f.Name] != 1 {
			t.Errorf("--%s is in %d groups of import --help, want 1", f.Name, grouped[f.Name])
		}
		if strings.Count(flags, "\n  --"+f.Name+" ")+strings.Count(flags, "\n  --"+f.Name+"\n") != 1 {
			t.Errorf("--%s is not listed once", f.Name)
		}
	})
	if strings.Contains(imp, "Other flags") {
		t.Error("import --help has flags in no group")
	}
	examples := imp[strings.Index(imp, "\nExamples:\n"):]
	if n := strings.Count(examples, "contactsync import "); n != 3 {
		t.Errorf("%d examples, want 3:\n%s", n, examples)
	}

	// The commands' descriptions start in one column.
	commands := top[strings.Index(top, "\nCommands:\n")+len("\nCommands:\n"):]
	commands = commands[:strings.Index(commands, "\n\n")]
	column := -1
	for _, l := range strings.Split(commands, "\n") {
		word := strings.Fields(l)[0]
		col := strings.Index(l, word) + len(word)
		col += len(l[col:]) - len(strings.TrimLeft(l[col:], " "))
		if column >= 0 && col != column {
			t.Errorf("the commands' descriptions do not line up:\n%s", commands)
		}
		column = col
	}
}

// inspect --write-mapping on a file without a phone column still writes a
// mapping, to complete; once completed it maps the file. A file without a
// header line is told so.
func TestSkeletonMapping(t *testing.T) {
	dir := t.TempDir()
	file, skeleton := filepath.Join(dir, "clients.csv"), filepath.Join(dir, "mapping.yaml")
	os.WriteFile(file, []byte("Prénom,Nom,Contact\nJean,Dupont,06 12 34 56 78\nMarie,Curie,06 11 22 33 44\n"), 0o644)
	code, _, stderr := cli(t, nil, "inspect", file, "--region", "FR", "--write-mapping", skeleton)
	if code != exitUsage || !strings.Contains(stderr, "no phone column") ||
		!strings.Contains(stderr, "a mapping to complete was written to "+skeleton+": write the phone column's name after \"phone:\", then pass --mapping "+skeleton) {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	data, err := os.ReadFile(skeleton)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`# The file's columns: "Prénom", "Nom", "Contact"`, "region: FR\n", "first_name: Prénom\n", "last_name: Nom\n", "phone: \"\"\n"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("no %q in the mapping written:\n%s", want, data)
		}
	}
	if code, _, stderr := cli(t, nil, "inspect", file, "--mapping", skeleton); code != exitUsage || !strings.Contains(stderr, "phone names no column") {
		t.Errorf("the skeleton as it is: exit %d\n%s", code, stderr)
	}
	os.WriteFile(skeleton, []byte(strings.Replace(string(data), `phone: ""`, "phone: Contact", 1)), 0o644)
	if code, stdout, stderr := cli(t, nil, "inspect", file, "--mapping", skeleton); code != exitOK || !strings.Contains(stdout, "2 ready to send") {
		t.Errorf("the skeleton completed: exit %d\n%s\n%s", code, stdout, stderr)
	}

	headerless := filepath.Join(dir, "export.csv")
	os.WriteFile(headerless, []byte("Jean,Dupont,0612345678\nMarie,Curie,0611223344\n"), 0o644)
	code, _, stderr = cli(t, nil, "import", headerless, "--provider", "octopush", "--list", "l", "--sandbox")
	if code != exitUsage || !strings.Contains(stderr, `the first line looks like data, not a header ("0612345678" is a phone number)`) {
		t.Errorf("exit %d\n%s", code, stderr)
	}
}

// A missing FILE, a directory, a missing --config or mapping file, a
// --state that is not a state file: each is named, with what to do, and
// never in the system's words.
func TestPathMessages(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope")
	state := filepath.Join(dir, "state.db")
	if code, _, stderr := cli(t, nil, "import", "samples/contacts.csv", "--provider", "octopush", "--list", "l", "--region", "FR",
		"--sandbox", "--state", state); code != exitRowsFailed {
		t.Fatalf("a new state file: exit %d\n%s", code, stderr)
	}
	base := []string{"--provider", "octopush", "--list", "l", "--sandbox"}
	sample, _ := os.ReadFile("samples/contacts.csv")
	gz, xls := filepath.Join(dir, "contacts.csv.zst"), filepath.Join(dir, "old.xls")
	os.WriteFile(gz, compress(t, "zstd", sample), 0o644)
	os.WriteFile(xls, append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 504)...), 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing file", append([]string{"import", missing + ".csv"}, base...), missing + ".csv does not exist: check the path"},
		{"directory as FILE", append([]string{"import", dir}, base...), dir + " is a directory: name a CSV or .xlsx file in it"},
		{"inspect a missing file", []string{"inspect", missing + ".csv"}, missing + ".csv does not exist: check the path"},
		{"missing --config", []string{"import", "samples/contacts.csv", "--provider", "octopush", "--list", "l", "--config", missing + ".yaml"},
			"config file " + missing + ".yaml (--config) does not exist: check the path, or create it"},
		{"directory as --config", []string{"import", "samples/contacts.csv", "--provider", "octopush", "--list", "l", "--config", dir},
			"config file " + dir + " (--config) is a directory"},
		{"missing mapping", append([]string{"import", "samples/contacts.csv", "--mapping", missing + ".yaml"}, base...),
			"mapping file " + missing + ".yaml (--mapping) does not exist: check the path, or write one with contactsync inspect FILE --write-mapping"},
		{"a CSV as --state", append([]string{"import", "samples/contacts.csv", "--state", "samples/contacts.csv"}, base...),
			"nothing was sent: --state samples/contacts.csv is not a state file (it holds text, such as a CSV file): --state names the file where contactsync remembers what it sent; " +
				"if it names the wrong file (FILE and --state swapped?), pass the state file's path, a new one, or --state none; " +
				"if it was the state file, something overwrote it: move it aside (mv samples/contacts.csv samples/contacts.csv.damaged) and run again"},
		{"a UTF-16 CSV as --state", append([]string{"import", "samples/contacts.csv", "--state", "samples/excel-es-unicode.txt"}, base...),
			"is not a state file (it holds text, such as a CSV file)"},
		{"a workbook as --state", append([]string{"import", "samples/contacts.csv", "--state", "samples/contacts.xlsx"}, base...),
			"is not a state file (it holds a workbook or a zip archive)"},
		{"a compressed CSV as --state", append([]string{"import", "samples/contacts.csv", "--state", gz}, base...),
			"is not a state file (it holds a compressed file)"},
		{"an Excel 97-2003 workbook as --state", append([]string{"import", "samples/contacts.csv", "--state", xls}, base...),
			"is not a state file (it holds an Excel workbook)"},
		{"a directory as --state", append([]string{"import", "samples/contacts.csv", "--state", dir}, base...),
			"--state " + dir + " is a directory: name the state in it, such as --state " + filepath.Join(dir, "state.db")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := cli(t, nil, tt.args...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d\n%s\nwant %q", code, stderr, tt.want)
			}
			for _, raw := range []string{"no such file or directory", "open ", "stat ", "read " + dir, "invalid database"} {
				if strings.Contains(stderr, raw) {
					t.Errorf("the system's words %q in\n%s", raw, stderr)
				}
			}
		})
	}
}

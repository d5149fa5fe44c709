package importer_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"contactsync/importer"
	"contactsync/providers"
)

// contactsFile writes n contacts; names of the rows in changed get a suffix.
func contactsFile(t *testing.T, n int, changed map[int]bool, skip map[int]bool) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("first name,last name,mobile\n")
	for i := range n {
		if skip[i] {
			continue
		}
		suffix := ""
		if changed[i] {
			suffix = "-changed"
		}
		fmt.Fprintf(&b, "F%d%s,L%d,06 %08d\n", i, suffix, i, 10000000+i)
	}
	return writeFile(t, fmt.Sprintf("contacts-%d.csv", len(changed)+len(skip)), b.String())
}

func withState(e *env, file, state string) importer.Options {
	opts := e.options(file)
	opts.StateFile = state
	return opts
}

func TestStateSendsOnlyWhatChanged(t *testing.T) {
	e := newEnv(t, providers.SandboxOptions{}, nil)
	state := filepath.Join(t.TempDir(), "state.db")
	first, err := importer.Run(context.Background(), withState(e, contactsFile(t, 1000, nil, nil), state))
	if err != nil || first.Added != 1000 {
		t.Fatalf("first run: %v %+v", err, first)
	}
	before := e.em.Requests()
	again, err := importer.Run(context.Background(), withState(e, contactsFile(t, 1000, nil, nil), state))
	if err != nil || again.SkippedByReason["unchanged"] != 1000 || e.em.Requests() != before {
		t.Fatalf("unchanged rerun: %v %+v, %d requests", err, again, e.em.Requests()-before)
	}
	changed := map[int]bool{}
	for i := 0; i < 1000; i += 100 {
		changed[i] = true // 1% of the rows
	}
	opts := withState(e, contactsFile(t, 1000, changed, nil), state)
	opts.BatchSize = 4
	third, err := importer.Run(context.Background(), opts)
	if err != nil || third.Updated != 10 || third.SkippedByReason["unchanged"] != 990 {
		t.Fatalf("1%% changed: %v %+v", err, third)
	}
	if n := e.em.Requests() - before; n != 3 { // ceil(10/4)
		t.Fatalf("%d requests for 10 changed rows in batches of 4, want 3", n)
	}
	// --full sends everything again.
	opts = withState(e, contactsFile(t, 1000, changed, nil), state)
	opts.Full = true
	full, err := importer.Run(context.Background(), opts)
	if err != nil || full.Updated != 1000 {
		t.Fatalf("--full: %v %+v", err, full)
	}
}

func TestStateRetriesFailuresNotRejections(t *testing.T) {
	refused := "+33610000003"
	state := filepath.Join(t.TempDir(), "state.db")
	file := contactsFile(t, 6, nil, nil)
	e := newEnv(t, providers.SandboxOptions{RefusePhones: []string{refused}}, nil)
	opts := withState(e, file, state)
	opts.BatchSize = 1
	first, err := importer.Run(context.Background(), opts)
	if err != nil || first.Added != 5 || first.Rejected != 1 {
		t.Fatalf("first: %v %+v", err, first)
	}
	// A refused row is not sent again while it is unchanged.
	second, err := importer.Run(context.Background(), opts)
	if err != nil || second.RejectedByReason["invalid_phone"] != 1 || second.SkippedByReason["unchanged"] != 5 || second.Requests != 0 {
		t.Fatalf("second: %v %+v", err, second)
	}
	// A failed row is.
	down := newEnv(t, providers.SandboxOptions{Faults: providers.Faults{ErrorRate: 1}}, nil)
	state2 := filepath.Join(t.TempDir(), "state.db")
	if rep, _ := importer.Run(context.Background(), withState(down, file, state2)); rep.Failed != 6 {
		t.Fatalf("failing run: %+v", rep)
	}
	up := newEnv(t, providers.SandboxOptions{}, nil)
	if rep, err := importer.Run(context.Background(), withState(up, file, state2)); err != nil || rep.Added != 6 {
		t.Fatalf("after failures: %v %+v", err, rep)
	}
}

func TestMirror(t *testing.T) {
	e := newEnv(t, providers.SandboxOptions{}, nil)
	state := filepath.Join(t.TempDir(), "state.db")
	if _, err := importer.Run(context.Background(), withState(e, contactsFile(t, 20, nil, nil), state)); err != nil {
		t.Fatal(err)
	}
	gone := map[int]bool{3: true, 7: true}
	mirror := func(edit func(*importer.Options)) (*importer.Report, error) {
		opts := withState(e, contactsFile(t, 20, nil, gone), state)
		opts.Mode = providers.ModeMirror
		edit(&opts)
		return importer.Run(context.Background(), opts)
	}
	// More than --max-delete allows: nothing is deleted.
	rep, err := mirror(func(o *importer.Options) { o.MaxDelete = "1" })
	var fatal *importer.FatalError
	if !errors.As(err, &fatal) || !strings.Contains(err.Error(), "nothing was deleted") || rep.Deleted != 0 || len(e.em.Contacts("customers")) != 20 {
		t.Fatalf("over the cap: %v %+v", err, rep)
	}
	// A dry run says what would go.
	rep, err = mirror(func(o *importer.Options) { o.DryRun, o.MaxDelete = true, "10%" })
	if err != nil || rep.Planned["delete"] != 2 || len(e.em.Contacts("customers")) != 20 {
		t.Fatalf("dry run: %v %+v", err, rep)
	}
	rep, err = mirror(func(o *importer.Options) { o.MaxDelete = "10%" })
	if err != nil || rep.Deleted != 2 || rep.Rows != 18 || !rep.Balanced() {
		t.Fatalf("mirror: %v %+v", err, rep)
	}
	got := e.em.Contacts("customers")
	if len(got) != 18 || got[3].Phone == "+33610000003" {
		t.Fatalf("the list holds %d contacts", len(got))
	}
	// The deletions are remembered: nothing more to delete.
	if rep, err = mirror(func(*importer.Options) {}); err != nil || rep.Deleted != 0 || rep.SkippedByReason["unchanged"] != 18 {
		t.Fatalf("second mirror: %v %+v", err, rep)
	}
}

func TestMirrorNeedsState(t *testing.T) {
	e := newEnv(t, providers.SandboxOptions{}, nil)
	opts := e.options(contactsFile(t, 2, nil, nil))
	opts.Mode = providers.ModeMirror
	var ue *importer.UsageError
	if _, err := importer.Run(context.Background(), opts); !errors.As(err, &ue) || !strings.Contains(err.Error(), "--state") {
		t.Fatalf("err %v", err)
	}
	opts.StateFile, opts.MaxDelete = filepath.Join(t.TempDir(), "s.db"), "lots"
	if _, err := importer.Run(context.Background(), opts); !errors.As(err, &ue) || !strings.Contains(err.Error(), "--max-delete") {
		t.Fatalf("err %v", err)
	}
}

func TestStateInUse(t *testing.T) {
	e := newEnv(t, providers.SandboxOptions{}, nil)
	state := filepath.Join(t.TempDir(), "state.db")
	hold := make(chan struct{})
	released := make(chan struct{})
	// The first run sits on its first request while the second starts.
	slow := newEnv(t, providers.SandboxOptions{}, nil)
	slow.srv.Config.Handler = holdFirst(slow.em, hold)
	go func() {
		importer.Run(context.Background(), withState(slow, contactsFile(t, 3, nil, nil), state))
		close(released)
	}()
	holding := func() bool { pids, _ := filepath.Glob(filepath.Join(state+".d", "*.pid")); return len(pids) > 0 }
	waitFor(t, holding)
	_, err := importer.Run(context.Background(), withState(e, contactsFile(t, 3, nil, nil), state))
	var ue *importer.UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "in use by another run") || !strings.Contains(err.Error(), fmt.Sprintf("process %d", os.Getpid())) {
		t.Fatalf("err %v", err)
	}
	close(hold)
	<-released
}

func TestMaxErrors(t *testing.T) {
	e := newEnv(t, providers.SandboxOptions{Faults: providers.Faults{ErrorRate: 1}}, nil)
	opts := e.options(contactsFile(t, 200, nil, nil))
	opts.BatchSize, opts.Workers, opts.MaxErrors = 1, 1, 5
	opts.Retry.Attempts = 1
	rep, err := importer.Run(context.Background(), opts)
	var fatal *importer.FatalError
	if !errors.As(err, &fatal) || !strings.Contains(err.Error(), "--max-errors 5") {
		t.Fatalf("err %v", err)
	}
	// The collector counts failures a few events behind the worker (the
	// events channel buffers some), so a handful more may go out: what
	// matters is that the run stops there, not after 200.
	// (one in flight when the run stops is cancelled: its row is "aborted").
	n, exhausted := e.em.Requests(), rep.FailedByReason["retries_exhausted"]
	if n > 15 || exhausted < 5 || exhausted > n || rep.Rows != 200 || rep.FailedByReason["aborted"] != 200-exhausted {
		t.Fatalf("%d requests, report %+v", n, rep)
	}
}

func TestCredentialsFromConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	os.WriteFile(path, []byte("octopush:\n  OCTOPUSH_API_LOGIN: file@example.com\n  OCTOPUSH_API_KEY: file-key\n"), 0o600)
	names := []string{"OCTOPUSH_API_LOGIN", "OCTOPUSH_API_KEY"}
	env := map[string]string{"OCTOPUSH_API_KEY": "env-key", "XDG_CONFIG_HOME": dir}
	getenv := func(k string) string { return env[k] }

	creds, err := importer.Credentials("octopush", names, path, getenv)
	if err != nil || creds["OCTOPUSH_API_LOGIN"] != "file@example.com" || creds["OCTOPUSH_API_KEY"] != "env-key" {
		t.Fatalf("environment must win over the file: %v %v", creds, err)
	}
	os.Chmod(path, 0o644)
	if _, err := importer.Credentials("octopush", names, path, getenv); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a world-readable file: %v", err)
	}
	if _, err := importer.Credentials("octopush", names, filepath.Join(dir, "nope.yaml"), getenv); err == nil {
		t.Fatal("a missing --config file was accepted")
	}
	if creds, err := importer.Credentials("octopush", names, "", func(string) string { return "" }); err != nil || creds["OCTOPUSH_API_KEY"] != "" {
		t.Fatalf("no default file is fine: %v", err)
	}
}

// Two lists at once: a run on another list goes on while the first holds
// its target (a cron table importing two lists at the same hour).
func TestTwoListsAtOnce(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.db")
	hold := make(chan struct{})
	released := make(chan error, 1)
	slow := newEnv(t, providers.SandboxOptions{}, nil)
	slow.srv.Config.Handler = holdFirst(slow.em, hold)
	go func() {
		_, err := importer.Run(context.Background(), withState(slow, contactsFile(t, 3, nil, nil), state))
		released <- err
	}()
	waitFor(t, func() bool { pids, _ := filepath.Glob(filepath.Join(state+".d", "*.pid")); return len(pids) > 0 })
	e := newEnv(t, providers.SandboxOptions{}, nil)
	opts := withState(e, contactsFile(t, 3, nil, nil), state)
	opts.List = "prospects"
	rep, err := importer.Run(context.Background(), opts)
	if err != nil || rep.Added != 3 {
		t.Fatalf("the second list's run: %v %+v", err, rep)
	}
	close(hold)
	if err := <-released; err != nil {
		t.Fatal(err)
	}
}

package importer_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"contactsync/importer"
	"contactsync/providers"
)

// An output that names the input, or another output, is refused before
// anything is read or sent, and nothing is written: compared by resolved
// path and by inode, so that a symbolic or a hard link is caught too.
func TestOutputsNamingAnotherFileAreRefused(t *testing.T) {
	const content = "first name,last name,mobile\nA,B,06 12 34 56 78\n"
	tests := []struct {
		name string
		// set names the files of the run in dir, where input is the input.
		set  func(t *testing.T, dir, input string, o *importer.Options)
		want string
	}{
		{"report is the input", func(_ *testing.T, _, input string, o *importer.Options) { o.ReportFile = input },
			"--report %INPUT% is the input file"},
		{"rejects is the input", func(_ *testing.T, _, input string, o *importer.Options) { o.RejectsFile = input }, "--rejects"},
		{"the input by another path", func(_ *testing.T, dir, _ string, o *importer.Options) {
			o.RejectsFile = filepath.Join(dir, "sub", "..", "contacts.csv")
		}, "--rejects"},
		{"relative and absolute", func(t *testing.T, dir, input string, o *importer.Options) {
			t.Chdir(dir)
			o.File, o.ReportFile = "contacts.csv", input
		}, "--report"},
		{"a symbolic link to the input", func(t *testing.T, dir, input string, o *importer.Options) {
			o.ReportFile = filepath.Join(dir, "link.json")
			if err := os.Symlink(input, o.ReportFile); err != nil {
				t.Fatal(err)
			}
		}, "--report"},
		{"a hard link to the input", func(t *testing.T, dir, input string, o *importer.Options) {
			o.RejectsFile = filepath.Join(dir, "hard.csv")
			if err := os.Link(input, o.RejectsFile); err != nil {
				t.Fatal(err)
			}
		}, "--rejects"},
		{"the directory by a symbolic link", func(t *testing.T, dir, _ string, o *importer.Options) {
			alias := filepath.Join(t.TempDir(), "alias")
			if err := os.Symlink(dir, alias); err != nil {
				t.Fatal(err)
			}
			o.ReportFile = filepath.Join(alias, "contacts.csv")
		}, "--report"},
		{"report is rejects", func(_ *testing.T, dir, _ string, o *importer.Options) {
			o.ReportFile, o.RejectsFile = filepath.Join(dir, "out"), filepath.Join(dir, "out")
		}, "--report " + "%DIR%/out and --rejects"},
		{"report is the state", func(_ *testing.T, dir, _ string, o *importer.Options) {
			o.StateFile, o.ReportFile = filepath.Join(dir, "state.db"), filepath.Join(dir, "state.db")
		}, "--state"},
		{"report is the mapping", func(t *testing.T, dir, _ string, o *importer.Options) {
			o.Mapping, o.ReportFile = filepath.Join(dir, "mapping.yaml"), filepath.Join(dir, "mapping.yaml")
			os.WriteFile(o.Mapping, []byte("fields:\n  phone: mobile\n"), 0o644)
		}, "is --mapping"},
		{"plan is the input", func(_ *testing.T, _, input string, o *importer.Options) { o.DryRun, o.PlanFile = true, input }, "--plan"},
		{"standard input redirected from the rejects file", func(t *testing.T, dir, input string, o *importer.Options) {
			f, err := os.Open(input)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { f.Close() })
			o.File, o.Stdin, o.RejectsFile = "-", f, input
		}, "standard input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, providers.SandboxOptions{}, nil)
			dir := t.TempDir()
			input := filepath.Join(dir, "contacts.csv")
			if err := os.WriteFile(input, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			opts := e.options(input)
			tt.set(t, dir, input, &opts)
			files := listDir(t, dir)
			rep, err := importer.Run(context.Background(), opts)
			var ue *importer.UsageError
			if !errors.As(err, &ue) || rep != nil {
				t.Fatalf("err %v, report %+v; want a usage error and no report", err, rep)
			}
			want := strings.NewReplacer("%INPUT%", input, "%DIR%", dir).Replace(tt.want)
			if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "overwrite") {
				t.Errorf("the message does not say %q and why:\n%v", want, err)
			}
			if data, _ := os.ReadFile(input); string(data) != content {
				t.Fatalf("the input was changed:\n%s", data)
			}
			if got := listDir(t, dir); !slices.Equal(got, files) {
				t.Errorf("the refused run left files: %v, before %v", got, files)
			}
			if e.em.Requests() != 0 {
				t.Errorf("%d requests", e.em.Requests())
			}
		})
	}
	// Two inputs may be one file, and FILE named twice is no output.
	e := newEnv(t, providers.SandboxOptions{}, nil)
	opts := e.options(writeContacts(t, 1))
	opts.ReportFile = filepath.Join(t.TempDir(), "report.json")
	if _, err := importer.Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
}

// An output that cannot be written is found before the first request, and
// the refused run leaves no file behind; one that can is left as it was
// until the run writes it.
func TestUnwritableOutputsAreFoundFirst(t *testing.T) {
	tests := []struct {
		name string
		set  func(dir string, o *importer.Options)
		want string
	}{
		{"report in a missing directory", func(dir string, o *importer.Options) { o.ReportFile = filepath.Join(dir, "nope", "r.json") }, "--report"},
		{"report is a directory", func(dir string, o *importer.Options) { o.ReportFile = dir }, "it is a directory"},
		{"rejects under a file", func(dir string, o *importer.Options) {
			o.RejectsFile = filepath.Join(dir, "existing.txt", "rejects.csv")
		}, "--rejects"},
		{"plan in a missing directory", func(dir string, o *importer.Options) {
			o.DryRun, o.PlanFile = true, filepath.Join(dir, "nope", "plan.csv")
		}, "--plan"},
		{"state under a file", func(dir string, o *importer.Options) { o.StateFile = filepath.Join(dir, "existing.txt", "state.db") }, "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, providers.SandboxOptions{}, nil)
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "existing.txt"), []byte("keep"), 0o644)
			opts := e.options(writeContacts(t, 3))
			tt.set(dir, &opts)
			_, err := importer.Run(context.Background(), opts)
			var ue *importer.UsageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want a usage error naming %s", err, tt.want)
			}
			if e.em.Requests() != 0 {
				t.Errorf("%d requests before the output was found unwritable", e.em.Requests())
			}
			if got := listDir(t, dir); !slices.Equal(got, []string{"existing.txt"}) {
				t.Errorf("the refused run left %v", got)
			}
		})
	}
	// Checking an existing report does not change it before the run ends.
	e := newEnv(t, providers.SandboxOptions{}, nil)
	opts := e.options(writeContacts(t, 3))
	opts.ReportFile = writeFile(t, "report.json", "last night's")
	opts.Mode = providers.ModeUpdate // refused by Octopush after the check
	if _, err := importer.Run(context.Background(), opts); err == nil {
		t.Fatal("update mode ran on Octopush")
	}
	if data, _ := os.ReadFile(opts.ReportFile); string(data) != "last night's" {
		t.Fatalf("the report was changed by the check: %q", data)
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

package importer_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"contactsync/importer"
	"contactsync/providers"
)

// The plan of a dry run has a line per row, in file order: what the run
// would do with it and why, in the input's delimiter; a cell a spreadsheet
// would run is neutralised, as in the rejects file. (Mirror deletions:
// TestDryRunPlansWhatTheRunSends.)
func TestPlanFile(t *testing.T) {
	e := newEnv(t, providers.SandboxOptions{}, nil)
	file := writeFile(t, "c.csv", "mobile;name\n0612345678;a\n+33612345678;b\n=1+2;c\n0612345679;d\n")
	opts := e.options(file)
	opts.DryRun, opts.Mode = true, providers.ModeInsert
	opts.PlanFile = filepath.Join(t.TempDir(), "plan.csv")
	rep, err := importer.Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	mustBalance(t, rep)
	data, _ := os.ReadFile(opts.PlanFile)
	want := "\uFEFFrow;phone;operation;reason;detail\n" +
		"2;'+33612345678;add;;\n" +
		"3;'+33612345678;skip;duplicate_in_file;'+33612345678 appears earlier in the file\n" +
		"4;;reject;invalid_phone;\"\"\"=1+2\"\" is not a valid phone number for region FR\"\n" +
		"5;'+33612345679;add;;\n"
	if string(data) != want {
		t.Fatalf("plan\n%s\nwant\n%s", data, want)
	}
	if e.em.Requests() != 0 || len(e.em.Contacts("customers")) != 0 {
		t.Fatal("the dry run sent something")
	}

	// --plan is a dry run's.
	opts.DryRun = false
	var ue *importer.UsageError
	if _, err := importer.Run(context.Background(), opts); !errors.As(err, &ue) || e.em.Requests() != 0 {
		t.Fatalf("--plan without --dry-run: %v", err)
	}
}

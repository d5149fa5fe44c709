package importer_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"contactsync/importer"
	"contactsync/mapping"
)

// FuzzDryRunAccounting runs the whole pipeline over arbitrary files: nothing
// may panic, and every row the reader finds must end in exactly one outcome.
func FuzzDryRunAccounting(f *testing.F) {
	for _, s := range []string{
		"phone,name\n0612345678,a\n+33612345678,b\nx,c\n",
		"Téléphone;Nom\n06 12;\"a\n\"06 12 34 56 78\";b;c\n",
		"\xff\xfep\x00h\x00o\x00n\x00e\x00\n\x00",
		"mobile\n3.36123E+10\n3.3612345678E+10\n\n\n",
		"mobile,birthday,email\n0612345678,31/02/2000,nope\n",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "fuzz.csv")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		rep, err := importer.Run(context.Background(), importer.Options{File: path, Provider: "octopush", List: "l", Region: "FR", DryRun: true})
		var ue *importer.UsageError
		if errors.As(err, &ue) {
			return // refused as a whole: no header, no phone column…
		}
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if !rep.Balanced() {
			t.Fatalf("unbalanced report: %+v", rep)
		}
		if want := countRows(t, data); rep.Rows != want {
			t.Fatalf("report counts %d rows, the reader finds %d", rep.Rows, want)
		}
	})
}

// countRows counts the rows the reader yields, the run's ground truth.
func countRows(t *testing.T, data []byte) int {
	r, err := mapping.NewReader(bytes.NewReader(data), mapping.ReaderOptions{})
	if err != nil {
		t.Fatalf("the run read a file the reader refuses: %v", err)
	}
	n := 0
	for {
		if _, err := r.Next(); errors.Is(err, io.EOF) {
			return n
		} else if err != nil {
			t.Fatal(err)
		}
		n++
	}
}

package importer_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"contactsync/importer"
	"contactsync/internal/gencsv"
	"contactsync/providers"
)

func benchFile(b *testing.B, rows int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "contacts.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := gencsv.Write(f, rows, 1); err != nil {
		b.Fatal(err)
	}
	f.Close()
	return path
}

// BenchmarkDryRun measures the read → normalise → plan path, the part of
// every run that grows with the file.
func BenchmarkDryRun(b *testing.B) {
	const rows = 100_000
	file := benchFile(b, rows)
	b.ReportAllocs()
	for b.Loop() {
		rep, err := importer.Run(context.Background(), importer.Options{File: file, Provider: "octopush", List: "l", Region: "FR", DryRun: true})
		if err != nil || rep.Rows != rows {
			b.Fatal(err, rep)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkSandboxImport measures a whole import against the in-process
// emulator, without a rate limit.
func BenchmarkSandboxImport(b *testing.B) {
	const rows = 100_000
	file := benchFile(b, rows)
	b.ReportAllocs()
	for b.Loop() {
		rep, err := importer.Run(context.Background(), importer.Options{File: file, Provider: "octopush", List: "l", Region: "FR",
			Sandbox: true, Rate: 0, SandboxOptions: providers.SandboxOptions{}})
		if err != nil || rep.Rows != rows {
			b.Fatal(err, rep)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

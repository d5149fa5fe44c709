package importer

import (
	"bytes"
	"strings"
	"testing"
)

// The headline says what happened, never "imported" when nothing was; the
// summary ends with what to do when there is something to do.
func TestSummary(t *testing.T) {
	tests := []struct {
		name     string
		report   Report
		headline string
		advice   []string // lines after the counts
	}{
		{"the sample", Report{Rows: 10, Added: 8, Skipped: 1, Rejected: 1, Requests: 1,
			SkippedByReason: map[string]int{"duplicate_in_file": 1}, RejectedByReason: map[string]int{"invalid_phone": 1}},
			"8 added, 1 skipped, 1 rejected of 10 rows",
			[]string{"To list the rows rejected or failed, and why: run again with --rejects FILE."}},
		{"rejects written", Report{Rows: 10, Added: 9, Rejected: 1, Requests: 1, rejectsFile: true},
			"9 added, 1 rejected of 10 rows", nil},
		{"nothing changed", Report{Rows: 1200, Skipped: 1200, SkippedByReason: map[string]int{"unchanged": 1200}},
			"1,200 skipped of 1,200 rows: nothing sent", nil},
		{"an empty file", Report{}, "the file has no rows: nothing sent", nil},
		{"a dry run", Report{DryRun: true, Rows: 10, Skipped: 9, Rejected: 1,
			SkippedByReason: map[string]int{"dry_run": 8, "duplicate_in_file": 1}},
			"Dry run, nothing sent: 8 to send, 1 skipped, 1 rejected of 10 rows",
			[]string{"To list the rows rejected or failed, and why: run again with --rejects FILE."}},
		{"interrupted without a state", Report{Rows: 1000, Added: 200, Failed: 800, Stopped: reasonInterrupted, Requests: 2,
			FailedByReason: map[string]int{reasonInterrupted: 800}, forgetful: "without a state (--state none), nothing remembers what was sent"},
			"Interrupted: 200 added, 800 not sent of 1,000 rows",
			[]string{"Running again sends every row again, those added included: without a state (--state none), nothing remembers what was sent."}},
		{"interrupted without a state before a row was sent", Report{Rows: 1000, Failed: 1000, Stopped: reasonInterrupted,
			FailedByReason: map[string]int{reasonInterrupted: 1000}, forgetful: "the sandbox forgets what it received when the run ends"},
			"Interrupted: 1,000 not sent of 1,000 rows", nil},
		{"interrupted with a state", Report{Rows: 1000, Added: 200, Failed: 800, Stopped: reasonInterrupted, Requests: 2,
			FailedByReason: map[string]int{reasonInterrupted: 800}}, "Interrupted: 200 added, 800 not sent of 1,000 rows", nil},
		{"stopped, some failed", Report{Rows: 300, Added: 100, Failed: 200, Stopped: reasonAborted, Requests: 5,
			FailedByReason: map[string]int{"retries_exhausted": 50, reasonAborted: 150}},
			"Stopped: 100 added, 50 failed, 150 not sent of 300 rows",
			[]string{"To list the rows rejected or failed, and why: run again with --rejects FILE."}},
		{"stopped before a row", Report{Stopped: reasonAborted}, "Stopped: no row was read", nil},
		{"one row updated", Report{Rows: 1, Updated: 1, Requests: 1}, "1 updated of 1 row", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := tt.report
			if got := rep.Headline(); got != tt.headline {
				t.Errorf("headline %q, want %q", got, tt.headline)
			}
			var b bytes.Buffer
			rep.Summary(&b)
			lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
			if lines[0] != tt.headline || strings.Contains(b.String(), "imported") {
				t.Errorf("summary:\n%s", b.String())
			}
			var advice []string
			for _, l := range lines[1:] {
				if !strings.HasPrefix(l, "  ") {
					advice = append(advice, l)
				}
			}
			if strings.Join(advice, "\n") != strings.Join(tt.advice, "\n") {
				t.Errorf("advice\n%s\nwant\n%s", strings.Join(advice, "\n"), strings.Join(tt.advice, "\n"))
			}
		})
	}
}

package importer

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"contactsync/mapping"
	"contactsync/providers"
)

// Report is what a run did. Every data row of the file ends in exactly one
// of added, updated, skipped, rejected or failed:
// Rows == Added + Updated + Skipped + Rejected + Failed, always.
type Report struct {
	Provider string `json:"provider"`
	List     string `json:"list"`
	Mode     string `json:"mode"`
	DryRun   bool   `json:"dry_run"`
	File     string `json:"file"`
	// Source says what was read: the format, the sheet, the compression,
	// where from ("xlsx, sheet Contacts", "csv, gzip, standard input").
	Source string `json:"source"`
	// SourceUnchanged says the server answered that the download did not
	// change since the last complete run: nothing was read or sent.
	SourceUnchanged bool `json:"source_unchanged"`
	// Encoding and Delimiter are those of CSV text; a workbook has none.
	Encoding  string `json:"encoding,omitempty"`
	Delimiter string `json:"delimiter,omitempty"`
	Rows      int    `json:"rows"`
	Added     int    `json:"added"`
	Updated   int    `json:"updated"`
	Skipped   int    `json:"skipped"`
	Rejected  int    `json:"rejected"`
	Failed    int    `json:"failed"`
	Deleted   int    `json:"deleted"`
	// DeleteFailed counts mirror deletions the provider did not confirm;
	// they are tried again on the next run.
	DeleteFailed     int            `json:"delete_failed,omitempty"`
	Requests         int64          `json:"requests"`
	Retries          int64          `json:"retries"`
	DurationSeconds  float64        `json:"duration_seconds"`
	SkippedByReason  map[string]int `json:"skipped_by_reason"`
	RejectedByReason map[string]int `json:"rejected_by_reason"`
	FailedByReason   map[string]int `json:"failed_by_reason"`
	// Planned counts, in a dry run, the contacts each operation would send.
	Planned map[string]int `json:"planned,omitempty"`
	// Warnings counts values dropped without rejecting their row (an
	// unreadable date, an invalid e-mail), by reason; WarningRows lists the
	// first of them.
	Warnings    map[string]int `json:"warnings"`
	WarningRows []WarningRow   `json:"warning_rows,omitempty"`
	// Stopped says why the run ended early ("" when it ran to the end).
	Stopped string `json:"stopped,omitempty"`
	// Error is the message of the error that stopped the run.
	Error string `json:"error,omitempty"`

	// rejectsFile says --rejects was given, and forgetful that a rerun
	// cannot skip what this run sent (--state none, or the sandbox, which
	// forgets what it received): for the advice after the summary.
	rejectsFile bool
	forgetful   string
}

// WarningRow is one dropped value.
type WarningRow struct {
	Row    int    `json:"row"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
	Detail string `json:"detail"`
}

// maxWarningRows bounds the list: a column of bad dates in a million-row
// file must not make a million-entry report.
const maxWarningRows = 100

func newReport() *Report {
	return &Report{
		SkippedByReason:  map[string]int{},
		RejectedByReason: map[string]int{},
		FailedByReason:   map[string]int{},
		Warnings:         map[string]int{},
	}
}

// count records the outcome of one row.
func (r *Report) count(o providers.Outcome, reason string) {
	switch o {
	case providers.Added:
		r.Added++
	case providers.Updated:
		r.Updated++
	case providers.Skipped:
		r.Skipped++
		r.SkippedByReason[reason]++
	case providers.Rejected:
		r.Rejected++
		r.RejectedByReason[reason]++
	case providers.Failed:
		r.Failed++
		r.FailedByReason[reason]++
	case providers.Deleted:
		r.Deleted++
		return // not a row of the file
	}
	r.Rows++
}

// warn records a value dropped from the row at line.
func (r *Report) warn(line int, w mapping.Warning) {
	r.Warnings[w.Reason]++
	if len(r.WarningRows) < maxWarningRows {
		r.WarningRows = append(r.WarningRows, WarningRow{Row: line, Field: string(w.Field), Reason: w.Reason, Detail: w.Detail})
	}
}

// Balanced checks the accounting invariant.
func (r *Report) Balanced() bool {
	return r.Rows == r.Added+r.Updated+r.Skipped+r.Rejected+r.Failed
}

// WriteJSON writes the report to path.
func (r *Report) WriteJSON(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// Summary writes the human summary printed at the end of a run: a
// headline that says what happened, where, the counts by reason, and what
// to do next when there is something to do.
func (r *Report) Summary(w io.Writer) {
	if r.SourceUnchanged {
		fmt.Fprintf(w, "%s: unchanged since the last complete run (the server answered 304 Not Modified): nothing read, nothing sent to %s list %q\n", r.File, r.Provider, r.List)
		return
	}
	fmt.Fprintln(w, r.Headline())
	fmt.Fprintf(w, "  %s into %s list %q, %.1fs\n", r.File, r.Provider, r.List, r.DurationSeconds)
	line := func(label string, n int, reasons map[string]int) {
		if n == 0 {
			return
		}
		fmt.Fprintf(w, "  %-9s %8d", label, n)
		if len(reasons) > 0 {
			fmt.Fprintf(w, "  (%s)", reasonList(reasons))
		}
		fmt.Fprintln(w)
	}
	line("added", r.Added, nil)
	line("updated", r.Updated, nil)
	line("deleted", r.Deleted, nil)
	line("not deleted", r.DeleteFailed, nil)
	line("skipped", r.Skipped, r.SkippedByReason)
	line("rejected", r.Rejected, r.RejectedByReason)
	line("failed", r.Failed, r.FailedByReason)
	if len(r.Planned) > 0 {
		fmt.Fprintf(w, "  would send: %s\n", reasonList(r.Planned))
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintf(w, "  warnings: %s (no row was refused for them: the report's warning_rows say which and why)\n", reasonList(r.Warnings))
	}
	fmt.Fprintf(w, "  %d requests, %d retries\n", r.Requests, r.Retries)
	if r.Rejected+r.Failed-r.notSent() > 0 && !r.rejectsFile {
		fmt.Fprintf(w, "To list the rows rejected or failed, and why: run again with --rejects FILE.\n")
	}
	if r.Stopped == reasonInterrupted && r.forgetful != "" && r.Added+r.Updated+r.Deleted > 0 {
		fmt.Fprintf(w, "Running again sends every row again, those added included: %s.\n", r.forgetful)
	}
}

// Headline says in one line what became of the rows: "8 added, 1 skipped,
// 1 rejected of 10 rows".
func (r *Report) Headline() string {
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, count(n)+" "+what)
		}
	}
	planned := r.SkippedByReason["dry_run"]
	failed := r.Failed - r.notSent()
	add(planned, "to send")
	add(r.Added, "added")
	add(r.Updated, "updated")
	add(r.Skipped-planned, "skipped")
	add(r.Rejected, "rejected")
	add(failed, "failed")
	add(r.notSent(), "not sent")
	add(r.Deleted, "deleted")
	var prefix string
	switch {
	case r.DryRun:
		prefix = "Dry run, nothing sent: "
	case r.Stopped == reasonInterrupted:
		prefix = "Interrupted: "
	case r.Stopped != "":
		prefix = "Stopped: "
	}
	switch {
	case r.Rows == 0 && r.Deleted == 0 && r.Stopped != "":
		return prefix + "no row was read"
	case r.Rows == 0 && r.Deleted == 0:
		return prefix + "the file has no rows: nothing sent"
	case len(parts) == 0:
		return prefix + "nothing sent"
	}
	rows := "rows"
	if r.Rows == 1 {
		rows = "row"
	}
	head := prefix + strings.Join(parts, ", ") + " of " + count(r.Rows) + " " + rows
	if !r.DryRun && r.Stopped == "" && r.Added+r.Updated+r.Deleted == 0 && r.Requests == 0 {
		head += ": nothing sent"
	}
	return head
}

// notSent counts the rows a stop left untried.
func (r *Report) notSent() int {
	return r.FailedByReason[reasonInterrupted] + r.FailedByReason[reasonAborted]
}

// reasonList renders {"a": 2, "b": 1} as "a 2, b 1", largest first.
func reasonList(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			return m[b] - m[a]
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

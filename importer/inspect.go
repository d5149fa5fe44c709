package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"contactsync/mapping"
	"contactsync/providers"
)

// InspectOptions says what file to inspect and how to read it.
type InspectOptions struct {
	File      string
	Provider  string // optional: its custom fields and default region apply
	Region    string
	Mapping   string
	Delimiter rune
	Encoding  string
	Sheet     string
	Stdin     io.Reader
	// WriteMapping, when set, is where the mapping in use is written as
	// YAML, for the user to edit and pass back with --mapping.
	WriteMapping string
	// Rows is how many contacts to show as they would be sent.
	Rows int
	// RequireMobile counts rows whose only number is a landline as rejected.
	RequireMobile bool
}

// Inspection is what inspect decided and found.
type Inspection struct {
	File, Encoding, Delimiter, Region string
	EncodingGiven, DelimiterGiven     bool
	// Source says what was read ("xlsx, sheet Contacts", "csv, gzip").
	Source string
	// Sheets lists a workbook's sheets, Sheet the one read.
	Sheets     []string
	Sheet      string
	SheetGiven bool
	// HeaderLine is the line (the row, in a sheet) the header was found on
	// (1 unless a title or a note comes first).
	HeaderLine int
	// DateOrder says how dates are read (day or month first) and why.
	DateOrder string
	// Notes says what detection decided that the user may want to know.
	Notes    []string
	Columns  []InspectedColumn
	Report   *Report // of the dry run over the whole file
	Contacts []*mapping.Contact
	Problems []WarningRow
}

// InspectedColumn is one column of the file and the field it feeds.
type InspectedColumn struct {
	Name  string
	Field string // "" when the column is ignored
}

// sample collects, during a dry run, what inspect shows: the first contacts
// as they would be sent (written by the planner) and the first rejected rows
// (written by the collector).
type sample struct {
	max      int
	contacts []*mapping.Contact
	problems []WarningRow
}

// Inspect reads the whole file as a dry run would and reports how it was
// read and mapped, the first contacts as they would be sent and the problems.
func Inspect(ctx context.Context, o InspectOptions) (*Inspection, error) {
	reg := providers.Registration{Name: "any provider", Capabilities: providers.Capabilities{
		MaxBatch: 1, Modes: providers.Modes, CustomFields: allCustomFields(), Pacing: providers.Pacing{BatchSize: 1}}}
	if o.Provider != "" {
		var err error
		if reg, err = providers.Lookup(o.Provider); err != nil {
			return nil, &UsageError{Err: err}
		}
	}
	var stdin io.Reader
	if o.File == "-" {
		stdin = o.Stdin
	}
	files := localFiles(o.File, namedFile{flag: "--mapping", path: o.Mapping}, namedFile{flag: "--write-mapping", path: o.WriteMapping, output: true})
	if err := checkFiles(files, stdin); err != nil {
		return nil, err
	}
	opts := Options{File: o.File, Provider: reg.Name, Region: o.Region, Mapping: o.Mapping, Sheet: o.Sheet, Stdin: o.Stdin,
		Delimiter: o.Delimiter, Encoding: o.Encoding, DryRun: true, RequireMobile: o.RequireMobile}
	opts.applyDefaults(reg.Capabilities)
	r, err := prepare(ctx, opts, reg)
	var noPhone *mapping.NoPhoneColumnError
	if errors.As(err, &noPhone) && o.WriteMapping != "" {
		return nil, writeSkeleton(o, reg, noPhone, err)
	}
	if err != nil {
		return nil, err
	}
	defer r.close()
	r.sample = &sample{max: max(o.Rows, 1)}
	rep, err := r.execute()
	if err != nil {
		return nil, err
	}
	in := &Inspection{File: r.src.Name, Encoding: rep.Encoding, Delimiter: rep.Delimiter, Region: r.region,
		EncodingGiven: o.Encoding != "", DelimiterGiven: o.Delimiter != 0, Report: rep, Source: rep.Source,
		Sheet: r.sheet, SheetGiven: o.Sheet != "",
		Contacts: r.sample.contacts, Problems: r.sample.problems, HeaderLine: r.reader.HeaderLine(),
		Notes: append(slices.Clip(r.columns.Spec().Notes), fieldNotes(reg.Capabilities, r.columns.Spec())...)}
	if book := r.src.Workbook(); book != nil {
		in.Sheets = book.Sheets()
	}
	if r.columns.Spec().Fields[mapping.FieldBirthday] != nil {
		in.DateOrder = r.normaliser.DateOrder()
	}
	for i, h := range r.columns.Header {
		in.Columns = append(in.Columns, InspectedColumn{Name: h, Field: r.columns.Describe(i)})
	}
	if o.WriteMapping != "" {
		spec := *r.columns.Spec()
		if spec.Region == "" {
			spec.Region = r.region
		}
		if err := spec.Write(o.WriteMapping); err != nil {
			return in, fmt.Errorf("writing the mapping: %w", err)
		}
	}
	return in, nil
}

// writeSkeleton writes, for a file without a phone column, the mapping
// detected with an empty phone field to complete, and returns the error
// that says so.
func writeSkeleton(o InspectOptions, reg providers.Registration, noPhone *mapping.NoPhoneColumnError, err error) error {
	spec := mapping.Detect(noPhone.Header, mapping.DetectOptions{Custom: reg.Capabilities.CustomFields,
		ProviderFields: reg.Capabilities.Fields, Provider: reg.Name})
	if o.Region != "" {
		spec.Region = o.Region
	}
	if werr := spec.WriteSkeleton(o.WriteMapping, noPhone); werr != nil {
		return fmt.Errorf("%w; and the mapping could not be written: %v", err, werr)
	}
	return fmt.Errorf("%w\na mapping to complete was written to %s: write the phone column's name after \"phone:\", then pass --mapping %s",
		err, o.WriteMapping, o.WriteMapping)
}

func allCustomFields() []string {
	var out []string
	for _, name := range providers.Names() {
		reg, _ := providers.Lookup(name)
		out = append(out, reg.Capabilities.CustomFields...)
	}
	return out
}

// Print writes the inspection for a person to read.
func (in *Inspection) Print(w io.Writer) {
	how := func(given bool) string {
		if given {
			return "given"
		}
		return "detected"
	}
	rep := in.Report
	ready := rep.SkippedByReason["dry_run"]
	unit := "line" // where a row is in the file
	if in.Sheets != nil {
		unit = "row"
	}
	fmt.Fprintf(w, "%s\n", in.File)
	fmt.Fprintf(w, "  source     %s\n", in.Source)
	if in.Sheets != nil {
		why := "the first whose header names a phone column"
		if in.SheetGiven {
			why = "given"
		}
		fmt.Fprintf(w, "  sheet      %s (%s); the workbook's sheets: %s (--sheet NAME or N reads another)\n", in.Sheet, why, strings.Join(in.Sheets, ", "))
		if in.HeaderLine > 1 {
			fmt.Fprintf(w, "  header     row %d (the rows above it are a title or a note, and are skipped)\n", in.HeaderLine)
		}
	} else {
		fmt.Fprintf(w, "  encoding   %s (%s)\n", in.Encoding, how(in.EncodingGiven))
		fmt.Fprintf(w, "  delimiter  %s (%s)\n", in.Delimiter, how(in.DelimiterGiven))
		if in.HeaderLine > 1 {
			fmt.Fprintf(w, "  header     line %d (the lines above it are a title or a note, and are skipped)\n", in.HeaderLine)
		}
	}
	if in.DateOrder != "" {
		fmt.Fprintf(w, "  dates      %s\n", in.DateOrder)
	}
	if in.Region != "" {
		fmt.Fprintf(w, "  region     %s, for numbers without an international prefix\n", in.Region)
	} else {
		fmt.Fprintf(w, "  region     none: numbers need an international prefix (or pass --region)\n")
	}
	fmt.Fprintf(w, "  rows       %d: %d ready to send, %d duplicates, %d rejected\n",
		rep.Rows, ready, rep.SkippedByReason["duplicate_in_file"], rep.Rejected)

	fmt.Fprintf(w, "\ncolumns\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, c := range in.Columns {
		field := c.Field
		if field == "" {
			field = "(ignored)"
		}
		fmt.Fprintf(tw, "  %d\t%s\t→ %s\n", i+1, c.Name, field)
	}
	tw.Flush()
	for _, n := range in.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}

	if len(in.Contacts) > 0 {
		fmt.Fprintf(w, "\nfirst rows as they would be sent\n")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  %s\tphone\tfrom column\tfirst name\tlast name\temail\tbirthday\tcivility\ttag\tcustom\n", unit)
		for _, c := range in.Contacts {
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Line, c.Phone, c.PhoneFrom, c.FirstName, c.LastName,
				c.Email, c.Birthday, c.Civility, c.Tag, customList(c.Custom))
		}
		tw.Flush()
	}

	if rep.Rejected > 0 || len(rep.Warnings) > 0 {
		fmt.Fprintf(w, "\nproblems\n")
	}
	if rep.Rejected > 0 {
		fmt.Fprintf(w, "  rejected rows: %s\n", reasonList(rep.RejectedByReason))
		for _, p := range in.Problems {
			fmt.Fprintf(w, "    %s %d: %s: %s\n", unit, p.Row, p.Reason, p.Detail)
		}
		if n := rep.Rejected - len(in.Problems); n > 0 {
			fmt.Fprintf(w, "    … and %d more (contactsync import --dry-run --rejects FILE lists them all)\n", n)
		}
	}
	if len(rep.Warnings) > 0 {
		fmt.Fprintf(w, "  warnings: %s\n", reasonList(rep.Warnings))
		for _, wr := range rep.WarningRows[:min(len(rep.WarningRows), 10)] {
			if wr.Field == "" {
				fmt.Fprintf(w, "    %s %d: %s\n", unit, wr.Row, wr.Detail)
			} else {
				fmt.Fprintf(w, "    %s %d: %s: %s\n", unit, wr.Row, wr.Field, wr.Detail)
			}
		}
	}
}

func customList(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, " ")
}

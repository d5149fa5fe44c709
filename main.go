// Command contactsync pushes the contacts of a CSV file into an SMS
// provider's contact lists. See README.md for the user contract.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"contactsync/importer"
	"contactsync/providers"
	_ "contactsync/providers/all"
)

// Exit codes of the user contract.
const (
	exitOK          = 0
	exitRowsFailed  = 1
	exitUsage       = 2
	exitFatal       = 3
	exitInterrupted = 130
)

func main() {
	// The first SIGINT or SIGTERM stops the run gracefully; the second exits
	// at once. One channel sees both, so no signal falls between handlers.
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-signals
		fmt.Fprintln(os.Stderr, "contactsync: interrupted; letting the requests in flight finish (interrupt again to stop at once)")
		cancel()
		<-signals
		fmt.Fprintln(os.Stderr, "contactsync: second interrupt, exiting now")
		os.Exit(exitInterrupted)
	}()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is the whole program but for the process: tests call it directly.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "import":
		return runImport(ctx, args[1:], getenv, stdout, stderr)
	case "inspect":
		return runInspect(ctx, args[1:], stdout, stderr)
	case "providers":
		for _, name := range providers.Names() {
			reg, _ := providers.Lookup(name)
			fmt.Fprintln(stdout, reg.Capabilities.Describe(name))
		}
		return exitOK
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	}
	fmt.Fprintf(stderr, "contactsync: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `contactsync pushes the contacts of a CSV file or a workbook into an SMS provider's contact list.

Usage:
  contactsync import FILE --provider %s --list LIST [flags]
  contactsync inspect FILE [--region CC] [--write-mapping FILE]
                               how the file is read and mapped, and its problems
  contactsync providers        what each provider supports
  contactsync help             this text

FILE is a CSV or .xlsx file, compressed with gzip or zstd or not, - for the
standard input, or an http(s) URL such as a published Google sheet's CSV link.

Run "contactsync import --help" or "contactsync inspect --help" for the flags.
`, strings.Join(providers.Names(), "|"))
}

func runImport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	opts, flags, err := parseImportFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		flags.SetOutput(stdout)
		flags.Usage()
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "contactsync: %v\nRun \"contactsync import --help\" for the flags.\n", err)
		return exitUsage
	}
	opts.Stdout, opts.Stderr, opts.Stdin = stdout, stderr, os.Stdin
	if reg, err := providers.Lookup(opts.Provider); err == nil && !opts.Sandbox {
		opts.Credentials, err = importer.Credentials(reg.Name, reg.Capabilities.Credentials, flagValue(flags, "config"), getenv)
		if err != nil {
			fmt.Fprintf(stderr, "contactsync: %v\n", err)
			return exitUsage
		}
	}
	switch {
	case opts.StateFile != "":
	case opts.Sandbox:
		opts.StateFile = "none" // the sandbox forgets everything when the run ends; so should the state
	default:
		opts.StateFile = importer.DefaultStatePath(getenv)
	}
	interactive := isTerminal(stderr)
	opts.Logger = newLogger(flagValue(flags, "log-format"), stderr, interactive)
	opts.Progress = flagValue(flags, "quiet") != "true" && interactive

	report, err := importer.Run(ctx, opts)
	if report != nil {
		report.Summary(stdout)
		if opts.ReportFile != "" {
			// The path was checked before the first request; failing now,
			// after rows were sent, leaves the run's exit code as it is.
			if werr := report.WriteJSON(opts.ReportFile); werr != nil {
				fmt.Fprintf(stderr, "contactsync: the report could not be written to %s (%v); the summary above is what it would hold\n", opts.ReportFile, werr)
			}
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "contactsync: %v\n", err)
	}
	return exitCode(report, err)
}

// exitCode maps the outcome of a run to the documented exit codes.
func exitCode(report *importer.Report, err error) int {
	var usageErr *importer.UsageError
	var fatal *importer.FatalError
	var stateErr *importer.StateError
	var outErr *importer.OutputError
	switch {
	case errors.As(err, &usageErr):
		return exitUsage
	case errors.Is(err, importer.ErrInterrupted):
		return exitInterrupted
	case errors.As(err, &fatal), errors.As(err, &stateErr):
		return exitFatal
	case errors.As(err, &outErr) && report.Stopped != "":
		return exitFatal // the rejects file or the plan failed part-way, and stopped the run
	case err != nil && !errors.As(err, &outErr):
		return exitUsage
	case report.Rejected+report.Failed > 0:
		return exitRowsFailed
	}
	return exitOK
}

// newLogger logs retries and fatal errors, and for cron (stderr not a
// terminal, or JSON asked for) the final summary line too: a person at a
// terminal reads the summary on stdout.
func newLogger(format string, w io.Writer, interactive bool) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	if interactive {
		opts.Level = slog.LevelWarn
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func flagValue(fs *flag.FlagSet, name string) string { return fs.Lookup(name).Value.String() }

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// parseImportFlags reads the import command line; flags may come before or
// after FILE.
func parseImportFlags(args []string) (importer.Options, *flag.FlagSet, error) {
	var o importer.Options
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // runImport prints errors and help itself
	var mode, delimiter, logFormat string
	var adaptive bool
	fs.StringVar(&o.Provider, "provider", "", "provider: "+strings.Join(providers.Names(), ", ")+" (required)")
	fs.StringVar(&o.List, "list", "", "target list: Octopush list_name, AvoSMS listContactId, Smstools groupid, AmootSMS label (required)")
	fs.StringVar(&o.Tag, "tag", "", "tag every contact (Octopush tag_name, at most 20 characters)")
	fs.StringVar(&o.Region, "region", "", "ISO 3166 alpha-2 country of numbers written without an international prefix, e.g. FR")
	fs.StringVar(&o.Mapping, "mapping", "", "YAML column mapping file; without it, columns are detected from the header")
	fs.StringVar(&mode, "mode", string(providers.ModeUpsert), "upsert, insert (never touch existing), update (only existing) or mirror")
	fs.StringVar(&o.Endpoint, "endpoint", "", "replace the scheme and host of the provider's documented URLs, e.g. http://127.0.0.1:8080")
	fs.BoolVar(&o.Sandbox, "sandbox", false, "run against the built-in emulator of the provider; no credentials needed")
	fs.BoolVar(&o.DryRun, "dry-run", false, "read, map, validate, plan and report; send nothing")
	fs.Float64Var(&o.Rate, "rate", -1, "requests per second; 0 = no client-side limit (default: the provider's)")
	fs.IntVar(&o.Burst, "burst", 0, "requests allowed at once above --rate (default: the provider's)")
	fs.IntVar(&o.Workers, "workers", 0, "requests in flight at once (default: the provider's)")
	fs.IntVar(&o.BatchSize, "batch-size", 0, "contacts per request, up to the provider's maximum (default: the provider's)")
	fs.BoolVar(&adaptive, "adaptive", true, "lower the pace when the provider answers 429, raise it back up to --rate and --workers; false keeps --rate fixed")
	fs.StringVar(&delimiter, "delimiter", "", `field delimiter: , ; | or "tab" (default: detected)`)
	fs.StringVar(&o.Encoding, "encoding", "", "utf-8, utf-16le, utf-16be or windows-1252 (default: detected)")
	fs.StringVar(&o.Sheet, "sheet", "", "the .xlsx workbook's sheet to read, by name or number (default: the first whose header names a phone column)")
	fs.BoolVar(&o.RequireMobile, "require-mobile", false, "reject rows whose only number is a landline (default: sent, with a landline warning)")
	fs.StringVar(&o.ReportFile, "report", "", "write the JSON report to this file")
	fs.StringVar(&o.RejectsFile, "rejects", "", "write every rejected or failed row to this CSV file, with row, status, reason and detail")
	fs.StringVar(&o.PlanFile, "plan", "", "with --dry-run: write what the run would do with each row (and each mirror deletion) to this CSV file")
	fs.IntVar(&o.Retry.Attempts, "retries", importer.DefaultRetry.Attempts, "sends of one request before its rows fail, the first included")
	fs.DurationVar(&o.Retry.Initial, "retry-wait", importer.DefaultRetry.Initial, "first wait before a retry; it doubles (with jitter) up to 30s")
	fs.DurationVar(&o.RequestTimeout, "timeout", time.Minute, "longest wait for one answer")
	fs.StringVar(&o.StateFile, "state", "", "sync state file; none disables it (default: $XDG_STATE_HOME/contactsync/state.db, none with --sandbox)")
	fs.BoolVar(&o.Full, "full", false, "send unchanged rows too, and refresh the state")
	fs.StringVar(&o.MaxDelete, "max-delete", "10%", "with --mode mirror: stop before deleting more than N contacts, or N% of those sent")
	fs.IntVar(&o.MaxErrors, "max-errors", 0, "stop (exit 3) once N rows have failed for provider reasons; 0 = no limit")
	fs.IntVar(&o.MaxStreak, "max-streak", importer.DefaultMaxStreak, "stop (exit 3) once the provider has refused N contacts in a row for one reason, accepting none between; 0 = never")
	fs.String("config", "", "credentials file, one section per provider, readable only by its owner (default: $XDG_CONFIG_HOME/contactsync/config.yaml)")
	fs.StringVar(&logFormat, "log-format", "text", "log lines on stderr as text or json")
	fs.Bool("quiet", false, "no progress bar")
	fs.Usage = func() { importUsage(fs) }

	files, err := parseInterspersed(fs, args)
	if err != nil {
		return o, fs, err
	}
	switch {
	case len(files) != 1:
		return o, fs, fmt.Errorf("import needs exactly one FILE (got %d); see contactsync import --help", len(files))
	case o.Provider == "":
		return o, fs, fmt.Errorf("--provider is required: one of %s", strings.Join(providers.Names(), ", "))
	case logFormat != "text" && logFormat != "json":
		return o, fs, fmt.Errorf("--log-format must be text or json")
	}
	o.File = files[0]
	o.FixedPace = !adaptive
	o.Mode = providers.Mode(mode)
	if !validMode(o.Mode) {
		return o, fs, fmt.Errorf("--mode %q: use upsert, insert, update or mirror", mode)
	}
	o.Delimiter, err = parseDelimiter(delimiter)
	return o, fs, err
}

// parseInterspersed parses flags that may come before or after the
// positional arguments, and returns those.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

func parseDelimiter(d string) (rune, error) {
	switch strings.ToLower(d) {
	case "":
		return 0, nil
	case "tab", `\t`, "\t":
		return '\t', nil
	case ",", ";", "|":
		return rune(d[0]), nil
	}
	return 0, fmt.Errorf("--delimiter %q: use , ; | or tab", d)
}

func runInspect(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o importer.InspectOptions
	var delimiter string
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.Region, "region", "", "ISO 3166 alpha-2 country of numbers written without an international prefix, e.g. FR")
	fs.StringVar(&o.Provider, "provider", "", "read the file for this provider: its custom fields and default region (default: any provider)")
	fs.StringVar(&o.Mapping, "mapping", "", "YAML column mapping file; without it, columns are detected from the header")
	fs.StringVar(&delimiter, "delimiter", "", `field delimiter: , ; | or "tab" (default: detected)`)
	fs.StringVar(&o.Encoding, "encoding", "", "utf-8, utf-16le, utf-16be or windows-1252 (default: detected)")
	fs.StringVar(&o.Sheet, "sheet", "", "the .xlsx workbook's sheet to read, by name or number (default: the first whose header names a phone column)")
	fs.StringVar(&o.WriteMapping, "write-mapping", "", "write the mapping in use to this YAML file, to edit and pass back with --mapping")
	fs.BoolVar(&o.RequireMobile, "require-mobile", false, "count rows whose only number is a landline as rejected, as import --require-mobile does")
	fs.IntVar(&o.Rows, "rows", 5, "rows to show as they would be sent")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: contactsync inspect FILE [flags]\n\nShows how FILE is read (format, encoding and delimiter, or sheet), what each\ncolumn maps to, the first rows as they would be sent and the problems found.\nSends nothing.\nExit codes: 0 every row can be sent; 1 some rows would be rejected; 2 the\nfile cannot be read or mapped.\n\nFlags:\n")
		printFlags(fs)
	}
	files, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		fs.Usage()
		return exitOK
	}
	if err == nil && len(files) != 1 {
		err = fmt.Errorf("inspect needs exactly one FILE (got %d)", len(files))
	}
	if err == nil {
		o.Delimiter, err = parseDelimiter(delimiter)
	}
	if err != nil {
		fmt.Fprintf(stderr, "contactsync: %v\nRun \"contactsync inspect --help\" for the flags.\n", err)
		return exitUsage
	}
	o.File, o.Stdin = files[0], os.Stdin
	in, err := importer.Inspect(ctx, o)
	if in != nil {
		in.Print(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "contactsync: %v\n", err)
		return exitUsage
	}
	if o.WriteMapping != "" {
		fmt.Fprintf(stdout, "\nmapping written to %s: edit it, then pass it with --mapping %s\n", o.WriteMapping, o.WriteMapping)
	}
	if in.Report.Rejected > 0 {
		return exitRowsFailed
	}
	return exitOK
}

func credentialHelp() string {
	var b strings.Builder
	for _, name := range providers.Names() {
		reg, _ := providers.Lookup(name)
		fmt.Fprintf(&b, "  %-9s %s\n", name, strings.Join(reg.Capabilities.Credentials, ", "))
	}
	return b.String()
}

func validMode(m providers.Mode) bool {
	for _, v := range providers.Modes {
		if m == v {
			return true
		}
	}
	return false
}

// importUsage prints the import command's help.
func importUsage(fs *flag.FlagSet) {
	w := fs.Output()
	fmt.Fprintf(w, `Usage: contactsync import FILE --provider NAME --list LIST [flags]

Pushes the contacts of FILE into the list. FILE is a CSV or .xlsx file,
compressed with gzip or zstd or not, - for the standard input, or an http(s)
URL (a published Google sheet's CSV link); with a state, a URL is downloaded
again only if it changed. Credentials come from the environment, never from
flags:
%s

Exit codes: 0 every row added, updated or skipped; 1 some rows rejected or
failed (see --report, --rejects); 2 usage, configuration or unreadable input,
nothing sent; 3 stopped by a fatal provider error; 130 interrupted.

Flags:
`, credentialHelp())
	printFlags(fs)
}

// printFlags prints every flag with its default, including those whose
// default is empty or false, which flag.PrintDefaults leaves out.
func printFlags(fs *flag.FlagSet) {
	w := fs.Output()
	fs.VisitAll(func(f *flag.Flag) {
		name, help := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "  --%s", f.Name)
		if name != "" {
			fmt.Fprintf(w, " %s", name)
		}
		def := f.DefValue
		switch {
		case strings.Contains(help, "(default") || strings.Contains(help, "(required)"):
			def = ""
		case def == "" || def == "0" && f.Name != "rate":
			def = "none"
		}
		fmt.Fprintf(w, "\n      %s", help)
		if def != "" {
			fmt.Fprintf(w, " (default %s)", def)
		}
		fmt.Fprintln(w)
	})
}

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
	"math"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"contactsync/importer"
	"contactsync/internal/suggest"
	"contactsync/internal/wrap"
	"contactsync/providers"
	_ "contactsync/providers/all"
	"contactsync/state"
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
		return runProviders(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	case "version", "--version", "-version":
		info, ok := debug.ReadBuildInfo()
		fmt.Fprintln(stdout, versionText(info, ok))
		return exitOK
	}
	if near := suggest.Closest(args[0], commands); near != "" {
		fmt.Fprintf(stderr, "contactsync: unknown command %q: did you mean %s?\nRun \"contactsync help\" for the commands.\n", args[0], near)
		return exitUsage
	}
	fmt.Fprintf(stderr, "contactsync: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

// commands are run's, for suggestions.
var commands = []string{"import", "inspect", "providers", "version", "help"}

// versionText says which contactsync this is, from what the Go toolchain
// recorded in the binary: the module's version (a tag with go install
// module@version, else "(devel)"), and the commit it was built from, when
// it was built in a git clone.
func versionText(info *debug.BuildInfo, ok bool) string {
	if !ok {
		return "contactsync (version unknown: built without module support)"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	text := "contactsync " + v
	var revision, when string
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if revision != "" {
		text += ", commit " + revision[:min(len(revision), 12)]
		if when != "" {
			text += " of " + when
		}
		if modified {
			text += " with local changes"
		}
	}
	return text + ", " + info.GoVersion
}

// flagHint adds, to the error of a flag that does not exist, the flag of fs
// it most likely is.
func flagHint(fs *flag.FlagSet, err error) error {
	name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -")
	if !ok {
		return err
	}
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	if near := suggest.Closest(strings.TrimLeft(name, "-"), names); near != "" {
		return fmt.Errorf("unknown flag --%s: did you mean --%s?", strings.TrimLeft(name, "-"), near)
	}
	return fmt.Errorf("unknown flag --%s", strings.TrimLeft(name, "-"))
}

func usage(w io.Writer) {
	fmt.Fprintf(w, `contactsync pushes the contacts of a CSV file or a workbook into an SMS
provider's contact list: %s.

Usage:
  contactsync import FILE --provider NAME --list LIST [flags]
  contactsync inspect FILE [flags]
  contactsync providers [NAME]
  contactsync version
  contactsync help

Commands:
  import     push the contacts of FILE into the provider's list
  inspect    show how FILE is read and mapped, and its problems; sends nothing
  providers  what each provider supports, or one: its fields, list, region
  version    print the version (also: contactsync --version)
  help       print this text

FILE is a CSV or .xlsx file, compressed with gzip or zstd or not, - for the
standard input, or an http(s) URL such as a published Google sheet's CSV link.

Run "contactsync import --help" or "contactsync inspect --help" for the flags.
`, strings.Join(providers.Names(), ", "))
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
	if state.IsPostgres(opts.StateFile) {
		// The database's password: in the URL, PGPASSWORD, ~/.pgpass
		// (which pgx reads), or the config file's state section.
		pw, err := importer.Credentials("state", []string{"PGPASSWORD"}, flagValue(flags, "config"), getenv)
		if err != nil {
			fmt.Fprintf(stderr, "contactsync: %v\n", err)
			return exitUsage
		}
		opts.StatePassword = pw["PGPASSWORD"]
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
	opts.TerminalSummary = interactive && isTerminal(stdout)
	quiet := flagValue(flags, "quiet") == "true"
	opts.Progress = !quiet && interactive
	if quiet || interactive {
		opts.StatsInterval = 0 // the progress line says it all on a terminal
	}

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
	var srcErr *importer.SourceError
	switch {
	case errors.As(err, &usageErr):
		return exitUsage
	case errors.Is(err, importer.ErrInterrupted):
		return exitInterrupted
	case errors.As(err, &fatal), errors.As(err, &stateErr), errors.As(err, &srcErr):
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
	fs.StringVar(&o.Provider, "provider", "", "the provider `NAME`: "+strings.Join(providers.Names(), ", ")+" (required)")
	fs.StringVar(&o.List, "list", "", "the target `LIST`: Octopush list_name, AvoSMS listContactId, Smstools groupid, AmootSMS label (required)")
	fs.StringVar(&o.Tag, "tag", "", "`TAG` every contact (Octopush tag_name, at most 20 characters)")
	fs.StringVar(&o.Region, "region", "", "ISO 3166 alpha-2 country (`CC`) of numbers written without an international prefix, e.g. FR")
	fs.StringVar(&o.Mapping, "mapping", "", "YAML column mapping `FILE`; without it, columns are detected from the header")
	fs.StringVar(&mode, "mode", string(providers.ModeUpsert), "`MODE`: upsert, insert (never touch existing), update (only existing) or mirror")
	fs.StringVar(&o.Endpoint, "endpoint", "", "`URL` to replace the scheme and host of the provider's documented URLs, e.g. http://127.0.0.1:8080")
	fs.BoolVar(&o.Sandbox, "sandbox", false, "run against the built-in emulator of the provider; no credentials needed")
	fs.BoolVar(&o.DryRun, "dry-run", false, "read, map, validate, plan and report; send nothing")
	fs.Float64Var(&o.Rate, "rate", -1, "`N` requests per second; 0 = no client-side limit (default: the provider's)")
	fs.IntVar(&o.Burst, "burst", 0, "`N` requests allowed at once above --rate (default: the provider's)")
	fs.IntVar(&o.Workers, "workers", 0, "`N` requests in flight at once (default: the provider's)")
	fs.IntVar(&o.BatchSize, "batch-size", 0, "`N` contacts per request, up to the provider's maximum (default: the provider's)")
	fs.BoolVar(&adaptive, "adaptive", true, "lower the pace when the provider answers 429, raise it back up to --rate and --workers; false keeps --rate fixed")
	fs.StringVar(&delimiter, "delimiter", "", "field delimiter `D`: , ; | or tab (default: detected)")
	fs.StringVar(&o.Encoding, "encoding", "", "`ENCODING`: utf-8, utf-16le, utf-16be or windows-1252 (default: detected)")
	fs.StringVar(&o.Sheet, "sheet", "", "the .xlsx workbook's sheet to read, by `NAME` or number (default: the first whose header names a phone column)")
	fs.BoolVar(&o.RequireMobile, "require-mobile", false, "reject rows whose only number is a landline (default: sent, with a landline warning)")
	fs.StringVar(&o.ReportFile, "report", "", "write the JSON report to `FILE`")
	fs.StringVar(&o.RejectsFile, "rejects", "", "write every rejected or failed row to the CSV `FILE`, with row, status, reason and detail")
	fs.StringVar(&o.PlanFile, "plan", "", "with --dry-run: write what the run would do with each row (and each mirror deletion) to the CSV `FILE`")
	fs.IntVar(&o.Retry.Attempts, "retries", importer.DefaultRetry.Attempts, "`N` sends of one request before its rows fail, the first included")
	fs.DurationVar(&o.Retry.Initial, "retry-wait", importer.DefaultRetry.Initial, "first wait before a retry; it doubles (with jitter) up to 30s")
	fs.DurationVar(&o.RequestTimeout, "timeout", time.Minute, "longest wait for one answer")
	fs.StringVar(&o.StateFile, "state", "", "sync state `FILE`; none disables it (default: $XDG_STATE_HOME/contactsync/state.db, none with --sandbox)")
	fs.BoolVar(&o.Full, "full", false, "send unchanged rows too, and refresh the state")
	fs.StringVar(&o.MaxDelete, "max-delete", "10%", "with --mode mirror: stop before deleting more than `N` contacts, or N% of those sent")
	fs.IntVar(&o.MaxErrors, "max-errors", 0, "stop (exit 3) once `N` rows have failed for provider reasons; 0 = no limit")
	fs.IntVar(&o.MaxStreak, "max-streak", importer.DefaultMaxStreak, "stop (exit 3) once the provider has refused `N` contacts in a row for one reason, accepting none between; 0 = never")
	fs.String("config", "", "credentials `FILE`, one section per provider, readable only by its owner (default: $XDG_CONFIG_HOME/contactsync/config.yaml)")
	fs.StringVar(&logFormat, "log-format", "text", "log lines on stderr in `FORMAT` text or json")
	fs.Bool("quiet", false, "no progress line, and no stats lines")
	fs.DurationVar(&o.StatsInterval, "stats-interval", time.Minute, "when stderr is not a terminal (cron), log a progress line this often; 0 = never")
	fs.Usage = func() { importUsage(fs) }

	files, err := parseInterspersed(fs, args)
	if err != nil {
		return o, fs, flagHint(fs, err)
	}
	switch {
	case len(files) != 1:
		return o, fs, fmt.Errorf("import needs exactly one FILE (got %d); see contactsync import --help", len(files))
	case o.Provider == "":
		return o, fs, fmt.Errorf("--provider is required: one of %s", strings.Join(providers.Names(), ", "))
	case logFormat != "text" && logFormat != "json":
		return o, fs, fmt.Errorf("--log-format must be text or json")
	}
	if err := checkNumbers(fs); err != nil {
		return o, fs, err
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

// numberRanges are the values the numeric flags accept, when given: a flag
// left out keeps its default, which may lie outside (--rate's -1 stands for
// the provider's).
var numberRanges = []struct {
	flag     string
	min, max float64 // max 0: no maximum
	minOpen  bool    // min itself is refused
	allowed  string
}{
	{"rate", 0, 0, false, "0 (no client-side limit) or more requests per second"},
	{"burst", 0, 0, false, "0 (the provider's default) or more requests"},
	{"workers", 1, 256, false, "1 to 256 requests in flight"},
	{"batch-size", 1, 0, false, "1 or more contacts per request (more than the provider takes is lowered to its maximum)"},
	{"retries", 1, 0, false, "1 or more sends of a request, the first included"},
	{"max-errors", 0, 0, false, "0 (no limit) or more rows"},
	{"max-streak", 0, 0, false, "0 (never stop) or more contacts"},
	{"retry-wait", 0, 0, true, "a duration above 0, such as 1s"},
	{"timeout", 0, 0, true, "a duration above 0, such as 1m"},
	{"stats-interval", 0, 0, false, "0 (never) or a duration, such as 1m"},
}

// checkNumbers refuses a numeric flag given out of its range, naming the
// flag, its value and the range.
func checkNumbers(fs *flag.FlagSet) error {
	var errs []error
	fs.Visit(func(f *flag.Flag) {
		for _, r := range numberRanges {
			if r.flag != f.Name {
				continue
			}
			v := numberOf(f.Value)
			// NaN compares false with everything: it would pass the bounds.
			if math.IsNaN(v) || v < r.min || v == r.min && r.minOpen || r.max > 0 && v > r.max {
				errs = append(errs, fmt.Errorf("--%s %s is out of range: use %s", f.Name, f.Value, r.allowed))
			}
		}
	})
	return errors.Join(errs...)
}

// numberOf reads a numeric flag's value; a duration in seconds.
func numberOf(v flag.Value) float64 {
	switch g := v.(flag.Getter).Get().(type) {
	case int:
		return float64(g)
	case float64:
		return g
	case time.Duration:
		return g.Seconds()
	}
	panic(fmt.Sprintf("numberOf: %T is not a number", v))
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
	fs.StringVar(&o.Region, "region", "", "ISO 3166 alpha-2 country (`CC`) of numbers written without an international prefix, e.g. FR")
	fs.StringVar(&o.Provider, "provider", "", "read the file for the provider `NAME`: its custom fields and default region (default: any provider)")
	fs.StringVar(&o.Mapping, "mapping", "", "YAML column mapping `FILE`; without it, columns are detected from the header")
	fs.StringVar(&delimiter, "delimiter", "", "field delimiter `D`: , ; | or tab (default: detected)")
	fs.StringVar(&o.Encoding, "encoding", "", "`ENCODING`: utf-8, utf-16le, utf-16be or windows-1252 (default: detected)")
	fs.StringVar(&o.Sheet, "sheet", "", "the .xlsx workbook's sheet to read, by `NAME` or number (default: the first whose header names a phone column)")
	fs.StringVar(&o.WriteMapping, "write-mapping", "", "write the mapping in use to the YAML `FILE`, to edit and pass back with --mapping")
	fs.BoolVar(&o.RequireMobile, "require-mobile", false, "count rows whose only number is a landline as rejected, as import --require-mobile does")
	fs.IntVar(&o.Rows, "rows", 5, "`N` rows to show as they would be sent")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: contactsync inspect FILE [flags]\n\nShows how FILE is read (format, encoding and delimiter, or sheet), what each\ncolumn maps to, the first rows as they would be sent and the problems found.\nSends nothing. FILE is a CSV or .xlsx file, compressed with gzip or zstd or\nnot, - for the standard input, or an http(s) URL.\nExit codes: 0 every row can be sent; 1 some rows would be rejected; 2 the\nfile cannot be read or mapped.\n\nFlags:\n")
		printFlags(fs)
	}
	files, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		fs.Usage()
		return exitOK
	}
	if err != nil {
		err = flagHint(fs, err)
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

// runProviders describes every provider, or the one named.
func runProviders(args []string, stdout, stderr io.Writer) int {
	names := providers.Names()
	switch {
	case len(args) == 1 && strings.HasPrefix(args[0], "-"):
		fmt.Fprintf(stdout, "Usage: contactsync providers [NAME]\n\nDescribes each provider (%s), or the one named: what --list is and\nwhere to find it, the default region, what each field of a mapping is sent as,\nbatches, modes, pacing, credentials and what contactsync cannot know.\n", strings.Join(names, ", "))
		return exitOK
	case len(args) == 1:
		reg, err := providers.Lookup(args[0])
		if err != nil {
			fmt.Fprintf(stderr, "contactsync: %v\n", err)
			return exitUsage
		}
		names = []string{reg.Name}
	case len(args) > 1:
		fmt.Fprintf(stderr, "contactsync: providers takes one provider's name at most (got %d)\n", len(args))
		return exitUsage
	}
	for i, name := range names {
		reg, _ := providers.Lookup(name)
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		fmt.Fprint(stdout, reg.Capabilities.Describe(name))
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

// importUsage prints the import command's help: its flags by what they
// are about, then examples.
func importUsage(fs *flag.FlagSet) {
	w := fs.Output()
	fmt.Fprintf(w, `Usage: contactsync import FILE --provider NAME --list LIST [flags]

Pushes the contacts of FILE into the list. FILE is a CSV or .xlsx file,
compressed with gzip or zstd or not; - for the standard input; or an http(s)
URL (a published Google sheet's CSV link): with a state, a URL is downloaded
again only if it changed. Flags may come before or after FILE. Credentials
come from the environment (or --config), never from flags:
%s
Exit codes: 0 every row added, updated or skipped; 1 some rows rejected or
failed (see --report, --rejects); 2 usage, configuration or unreadable input,
nothing sent; 3 stopped by a fatal provider error; 130 interrupted.
`, credentialHelp())
	listed := map[string]bool{}
	for _, g := range importFlagGroups {
		fmt.Fprintf(w, "\n%s:\n", g.title)
		for _, name := range g.flags {
			if f := fs.Lookup(name); f != nil {
				printFlag(w, f)
				listed[name] = true
			}
		}
	}
	first := true
	fs.VisitAll(func(f *flag.Flag) {
		if !listed[f.Name] {
			if first {
				fmt.Fprintf(w, "\nOther flags:\n")
				first = false
			}
			printFlag(w, f)
		}
	})
	fmt.Fprint(w, importExamples)
}

// importFlagGroups orders import's flags by what they are about.
var importFlagGroups = []struct {
	title string
	flags []string
}{
	{"Target: where the contacts go", []string{"provider", "list", "mode", "tag", "sandbox", "dry-run", "endpoint"}},
	{"Input: how FILE is read", []string{"region", "mapping", "sheet", "delimiter", "encoding", "require-mobile"}},
	{"Pacing: how fast, how many retries", []string{"rate", "burst", "workers", "batch-size", "adaptive", "retries", "retry-wait", "timeout"}},
	{"Sync: what earlier runs sent", []string{"state", "full", "max-delete"}},
	{"Output: what the run tells", []string{"report", "rejects", "plan", "quiet", "log-format"}},
	{"Cron: running unattended", []string{"config", "stats-interval", "max-errors", "max-streak"}},
}

const importExamples = `
Examples:
  Rehearse against the built-in emulator, without credentials:
    contactsync import contacts.csv --provider octopush --list customers \
      --region FR --sandbox
  See what would be sent, and list the rows refused, sending nothing:
    crm-export | contactsync import - --provider avosms --list 1001 \
      --dry-run --rejects rejects.csv
  Nightly from cron, a published Google sheet (nothing sent while unchanged):
    contactsync import "$SHEET_CSV_URL" --provider smstools --list 42 \
      --region BE --log-format json --report /var/log/contactsync.json
`

// printFlags prints every flag of fs.
func printFlags(fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) { printFlag(fs.Output(), f) })
}

// printFlag prints a flag with its default, even one that is empty or
// false, which flag.PrintDefaults leaves out, and its help wrapped to fit
// 80 columns.
func printFlag(w io.Writer, f *flag.Flag) {
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
	if def != "" {
		help += " (default " + def + ")"
	}
	fmt.Fprintln(w)
	for _, line := range wrap.Words(help, 80-6) {
		fmt.Fprintf(w, "      %s\n", line)
	}
}

// Package importer runs an import: it streams the file through the mapping,
// plans each contact (dedupe, mode), batches contacts per provider limits
// and sends the batches with workers that share one rate limiter and one
// retry policy, then accounts for every row in the report.
package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	"contactsync/mapping"
	"contactsync/providers"
	"contactsync/state"
)

// Options is everything a run needs; main fills it from the flags.
type Options struct {
	File     string
	Provider string
	List     string
	Tag      string
	Region   string
	Mapping  string // YAML mapping file; "" detects columns from the header
	Mode     providers.Mode
	Endpoint string
	Sandbox  bool
	DryRun   bool

	// Pacing; negative (Rate) or zero (the others) means the provider's
	// default. Rate 0 means no client-side limit. Rate and Workers are
	// ceilings: the pace adapts below them to the provider's 429s unless
	// FixedPace (--adaptive=false).
	FixedPace bool
	Rate      float64
	Burst     int
	Workers   int
	BatchSize int

	Delimiter rune
	Encoding  string
	// Sheet picks a workbook's sheet, by name or number (1 for the first);
	// "" reads the first whose header names a phone column.
	Sheet string
	// Stdin is what FILE "-" reads.
	Stdin io.Reader

	ReportFile  string
	RejectsFile string
	// PlanFile, in a dry run, receives a line per row and per mirror
	// deletion: what the run would do with it, and why.
	PlanFile string

	// StatePassword is the PostgreSQL state's password when neither its URL
	// nor PGPASSWORD holds it (from the config file).
	StatePassword string
	// StateFile is the sync state; "" or "none" runs without one. Full
	// sends unchanged rows too (and refreshes the state).
	StateFile string
	Full      bool
	// MaxDelete caps mirror deletions: "N" contacts or "N%" of those the
	// state says were sent to the list (default 10%).
	MaxDelete string
	// MaxErrors stops the run once that many rows failed for provider
	// reasons (0: no limit).
	MaxErrors int
	// MaxStreak stops the run once that many contacts in a row were refused
	// (or failed) for one provider reason, none added or updated between
	// them (0: no limit; the command line's default is DefaultMaxStreak).
	MaxStreak int
	// RequireMobile rejects rows whose only number is a landline instead
	// of sending them with a warning.
	RequireMobile bool

	// Retry bounds the retries of one request.
	Retry RetryPolicy
	// RequestTimeout bounds one request, answer included.
	RequestTimeout time.Duration
	// DrainTimeout is how long requests in flight may finish after an
	// interrupt before they are cancelled.
	DrainTimeout time.Duration

	// Credentials holds the provider's credential variables.
	Credentials map[string]string
	// SandboxOptions configure the emulator --sandbox starts (tests inject
	// faults with it).
	SandboxOptions providers.SandboxOptions

	Stdout   io.Writer
	Stderr   io.Writer
	Logger   *slog.Logger
	Progress bool // show the progress line on Stderr, a terminal
	// TerminalSummary says a person reads Summary on the terminal that
	// shows the log: the summary log line would repeat it.
	TerminalSummary bool
	// StatsInterval, without Progress, logs a progress line this often (0:
	// never): for cron, where stderr is not a terminal.
	StatsInterval time.Duration
}

// RetryPolicy is the one retry policy of the program: exponential backoff
// with jitter, bounded in attempts and in time, never shorter than what a
// 429's Retry-After asked for.
type RetryPolicy struct {
	Attempts   int           // sends of one request, the first included
	Initial    time.Duration // first wait
	Max        time.Duration // longest wait
	MaxElapsed time.Duration // give up after retrying this long
}

// DefaultRetry is the policy of the command line.
var DefaultRetry = RetryPolicy{Attempts: 6, Initial: time.Second, Max: 30 * time.Second, MaxElapsed: 5 * time.Minute}

func (o *Options) applyDefaults(caps providers.Capabilities) {
	if o.Mode == "" {
		o.Mode = providers.ModeUpsert
	}
	if o.Rate < 0 {
		o.Rate = caps.Pacing.Rate
	}
	if o.Burst <= 0 {
		o.Burst = max(caps.Pacing.Burst, 1)
	}
	if o.Workers <= 0 {
		o.Workers = caps.Pacing.Workers
	}
	if o.BatchSize <= 0 {
		o.BatchSize = caps.Pacing.BatchSize
	}
	o.BatchSize = min(o.BatchSize, caps.MaxBatch)
	if o.Retry.Attempts <= 0 {
		o.Retry.Attempts = DefaultRetry.Attempts
	}
	if o.Retry.Initial <= 0 {
		o.Retry.Initial = DefaultRetry.Initial
	}
	if o.Retry.Max <= 0 {
		o.Retry.Max = max(DefaultRetry.Max, o.Retry.Initial)
	}
	if o.Retry.MaxElapsed <= 0 {
		o.Retry.MaxElapsed = DefaultRetry.MaxElapsed
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = time.Minute
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 30 * time.Second
	}
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(o.Stderr, nil))
	}
}

// Run imports the file. It returns the report whenever the run got as far
// as the provider (or, in a dry run, as reading the file), even with an
// error: *UsageError (nothing was sent), *FatalError (the provider stopped
// the run), *StateError, *OutputError (the rejects file or the plan could
// not be written) or ErrInterrupted.
func Run(ctx context.Context, opts Options) (*Report, error) {
	reg, err := providers.Lookup(opts.Provider)
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	asked := opts.BatchSize
	opts.applyDefaults(reg.Capabilities)
	if err := checkOptions(&opts, reg.Capabilities); err != nil {
		return nil, err
	}
	if asked > opts.BatchSize {
		opts.Logger.Warn(fmt.Sprintf("--batch-size %d is more than %s takes in one request: %s", asked, reg.Name, batchNote(reg.Capabilities.MaxBatch)))
	}
	var stdin io.Reader
	if opts.File == "-" {
		stdin = opts.Stdin
	}
	if err := checkFiles(runFiles(&opts), stdin); err != nil {
		return nil, err
	}
	r, err := prepare(ctx, opts, reg)
	if err != nil {
		return nil, err
	}
	defer r.close()
	if r.unchanged {
		return r.finishUnchanged(), nil
	}
	r.logNotes()
	return r.execute()
}

// logNotes prints, once at the start of the run, what the provider's notes
// say about the run's mode and about the fields the file's columns map to,
// and what a dry run without credentials cannot know.
func (r *run) logNotes() {
	if r.blindNote != "" {
		r.opts.Logger.Warn(r.blindNote, "provider", r.name)
	}
	for _, text := range r.caps.ModeNotes(r.opts.Mode) {
		r.opts.Logger.Warn(text, "provider", r.name, "mode", string(r.opts.Mode))
	}
	for _, note := range fieldNotes(r.caps, r.columns.Spec()) {
		r.opts.Logger.Warn(note, "provider", r.name)
	}
}

// fieldNotes returns the provider's notes about the fields the mapping
// fills and the provider does not store, each naming its columns.
func fieldNotes(caps providers.Capabilities, spec *mapping.Spec) []string {
	var out []string
	for _, f := range mapping.Fields {
		fs := spec.Fields[f]
		text := caps.FieldNote(f)
		if fs == nil || text == "" {
			continue
		}
		cols := fs.Columns
		if len(cols) == 0 {
			cols = []string{fs.Column}
		}
		out = append(out, fmt.Sprintf("column %s (%s): %s", quoteAll(cols), f, text))
	}
	return out
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// prepare builds the provider client and opens the state, the file, its
// mapping and the output files: everything that may refuse the run before a
// request to the provider is made. A dry run does all of it that reads
// only, so that it plans what the real run would send: it asks the provider
// what the real run asks (Open, in begin), with the sandbox or with
// credentials, and reads the state without writing it. When a download did
// not change since the last complete run, it stops there: r.unchanged is
// set.
func prepare(ctx context.Context, opts Options, reg providers.Registration) (_ *run, err error) {
	caps := reg.Capabilities
	r := &run{opts: opts, caps: caps, name: reg.Name, report: newReport(), ctx: ctx,
		secrets: secretValues(opts.Credentials), start: time.Now()}
	if opts.StatePassword != "" {
		r.secrets = append(r.secrets, opts.StatePassword)
	}
	r.sendCtx, r.cancel = context.WithCancel(context.WithoutCancel(ctx))
	r.stop, r.stopSend = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	if r.progress = newProgress(opts); r.progress != nil {
		opts.Logger = r.progress.guard(opts.Logger)
		r.opts.Logger = opts.Logger
	}

	creds := opts.Credentials
	missing := missingCredentials(creds, caps.Credentials)
	if !opts.DryRun || opts.Sandbox || len(missing) == 0 {
		var client *http.Client
		client, r.transport = newHTTPClient(opts.Rate, opts.Burst, opts.Workers, !opts.FixedPace, opts.RequestTimeout, opts.Logger)
		cfg := providers.Config{Endpoint: opts.Endpoint, Credentials: opts.Credentials, HTTPClient: client}
		if opts.Sandbox {
			sb := reg.NewSandbox(opts.SandboxOptions)
			url, err := providers.Serve(r.sendCtx, sb)
			if err != nil {
				return nil, usagef("starting the %s sandbox: %w", reg.Name, err)
			}
			cfg.Endpoint, cfg.Credentials = url, sb.Credentials()
			creds = cfg.Credentials
		}
		if r.provider, err = reg.New(cfg); err != nil {
			return nil, &UsageError{Err: fmt.Errorf("%s: %w", reg.Name, err)}
		}
	}
	// The state comes before the file, which it may make a conditional
	// download, and before the first request: a state that is damaged or
	// in use stops the run with nothing sent.
	accounts := 0
	if stateEnabled(opts.StateFile) {
		account := accountOf(reg.Name, creds, caps.Credentials)
		if opts.DryRun && r.provider == nil {
			// Whichever account the state holds the list for, if only one.
			var found []string
			if found, err = state.Accounts(opts.StateFile, reg.Name, opts.List); err != nil {
				return nil, &UsageError{Err: err}
			}
			if accounts, account = len(found), ""; accounts == 1 {
				account = found[0]
			}
		}
		if err := r.openState(account); err != nil {
			return nil, err
		}
	}
	if r.provider == nil {
		r.blindNote = blindDryRunNote(missing, opts.List, accounts > 0, accounts)
	}
	r.report.Provider, r.report.List, r.report.Mode, r.report.DryRun = reg.Name, opts.List, string(opts.Mode), opts.DryRun
	r.report.rejectsFile, r.report.forgetful = opts.RejectsFile != "", forgetful(opts)
	if err = r.openFile(); err != nil {
		return nil, err
	}
	if r.unchanged {
		return r, nil
	}
	rd := r.reader
	cols, err := resolveColumns(opts.Mapping, rd.Header(), mapping.DetectOptions{
		Custom: caps.CustomFields, ProviderFields: caps.Fields, Provider: reg.Name})
	if err != nil {
		return nil, usagef("%s: %w", r.fileName(), err)
	}
	if err := rd.Use(cols); err != nil {
		return nil, usagef("%s: %w", r.fileName(), err)
	}
	r.columns = cols
	if opts.RejectsFile != "" {
		if r.rejects, err = newRejectsWriter(opts.RejectsFile, rd.Header(), rd.Delimiter(), rd.Cells); err != nil {
			return nil, usagef("cannot write the rejects file: %w", err)
		}
	}
	if opts.PlanFile != "" {
		if r.planFile, err = newPlanWriter(opts.PlanFile, rd.Delimiter()); err != nil {
			return nil, usagef("cannot write the plan: %w", err)
		}
	}
	return r, nil
}

// execute runs the import from its first request on and completes the
// report.
func (r *run) execute() (*Report, error) {
	if err := r.begin(); err != nil {
		return r.finish(err)
	}
	return r.finish(r.pipeline())
}

// begin asks the provider about the target list, the run's first request,
// and readies what depends on its answer.
func (r *run) begin() (err error) {
	list := &providers.ListInfo{}
	if r.provider != nil {
		if list, err = r.open(); err != nil {
			return err
		}
	}
	r.region = firstNonEmpty(r.opts.Region, r.columns.Spec().Region, list.Region, r.caps.DefaultRegion)
	window, err := r.reader.Peek(sniffRows)
	if err != nil {
		return usagef("%s: %w", r.fileName(), err)
	}
	var sample []mapping.Record
	for _, row := range window {
		if row.Record != nil {
			sample = append(sample, *row.Record)
		}
	}
	if r.normaliser, err = mapping.NewNormaliser(r.columns, mapping.NormaliserOptions{Region: r.region, OnlyRegion: list.Region,
		RequireMobile: r.opts.RequireMobile, Sample: sample}); err != nil {
		return &UsageError{Err: err}
	}
	r.existing = list.Existing
	return nil
}

// finish completes the report, however the run ended: the state's journal
// is folded first, so that a state that fails there stops the run (exit 3)
// with the report still written.
func (r *run) finish(runErr error) (*Report, error) {
	r.rememberSource(runErr)
	if r.state != nil {
		err := r.state.Close()
		r.state = nil
		if err != nil && runErr == nil {
			runErr = &StateError{Err: err}
		}
	}
	r.report.DurationSeconds = time.Since(r.start).Seconds()
	defer r.logSummary()
	r.report.Requests = r.requests()
	r.report.Retries = r.retries.Load()
	if r.rejects != nil {
		if err := r.rejects.close(); err != nil {
			runErr = errors.Join(runErr, &OutputError{File: "the rejects file " + r.opts.RejectsFile, Err: err})
		}
	}
	if r.planFile != nil {
		if err := r.planFile.close(); err != nil {
			runErr = errors.Join(runErr, &OutputError{File: "the plan " + r.opts.PlanFile, Err: err})
		}
	}
	if runErr != nil {
		r.report.Error = r.redact(runErr.Error())
	}
	return r.report, runErr
}

// close releases what prepare opened.
func (r *run) close() {
	r.stopSend()
	r.cancel()
	if r.sheetRows != nil {
		r.sheetRows.Close()
	}
	if r.src != nil {
		r.src.Close()
	}
	if r.state != nil {
		r.state.Close()
	}
}

// logSummary writes the run's last log line, for cron; not when a person
// reads the summary on the same terminal.
func (r *run) logSummary() {
	if r.opts.TerminalSummary {
		return
	}
	rep := r.report
	level := slog.LevelInfo
	if rep.Stopped != "" {
		level = slog.LevelError
	}
	r.opts.Logger.Log(context.Background(), level, "summary", "provider", rep.Provider, "list", rep.List, "file", rep.File,
		"rows", rep.Rows, "added", rep.Added, "updated", rep.Updated, "skipped", rep.Skipped, "rejected", rep.Rejected,
		"failed", rep.Failed, "deleted", rep.Deleted, "requests", rep.Requests, "retries", rep.Retries,
		"duration_seconds", rep.DurationSeconds, "stopped", rep.Stopped, "source_unchanged", rep.SourceUnchanged)
}

// batchNote says what batches a provider is sent.
func batchNote(maxBatch int) string {
	if maxBatch == 1 {
		return "one contact per request (its API has no batch endpoint)"
	}
	return fmt.Sprintf("batches of %d are sent", maxBatch)
}

func stateEnabled(path string) bool { return path != "" && path != "none" }

// forgetful says why a rerun cannot skip what this run sent, if it cannot.
func forgetful(o Options) string {
	switch {
	case o.Sandbox:
		return "the sandbox forgets what it received when the run ends"
	case !stateEnabled(o.StateFile):
		return "without a state (--state none), nothing remembers what was sent"
	}
	return ""
}

// missingCredentials names the provider's credential variables that have no
// value; all of them when the provider names none (inspect's "any
// provider"), which cannot be asked anything.
func missingCredentials(creds map[string]string, names []string) []string {
	if len(names) == 0 {
		return []string{"credentials"}
	}
	var missing []string
	for _, n := range names {
		if creds[n] == "" {
			missing = append(missing, n)
		}
	}
	return missing
}

// blindDryRunNote says what a dry run without credentials cannot know, and
// how that may make its plan differ from what the run will send. state says
// the state file exists; accounts is how many accounts it holds the list
// for.
func blindDryRunNote(missing []string, list string, state bool, accounts int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "dry run without credentials (%s not set): the provider was not asked what list %s holds, as the real run asks before it sends. "+
		"So a row planned here as an upsert may be sent as an add or an update, or skipped (exists in insert mode, not_found in update mode), "+
		"and a number without an international prefix may be read here in another country than the list's (give --region)",
		strings.Join(missing, ", "), list)
	switch {
	case state && accounts == 1:
		b.WriteString("; the state was read for the one account it holds this list for")
	case state && accounts > 1:
		fmt.Fprintf(&b, "; the state holds this list for %d accounts and a dry run cannot tell which is yours: "+
			"it plans as if nothing had been sent (no row unchanged, no mirror deletion)", accounts)
	}
	b.WriteString(". Set the credentials to plan exactly what the run will send.")
	return b.String()
}

func checkOptions(o *Options, caps providers.Capabilities) error {
	if o.List == "" {
		return usagef("--list is required: %s", caps.ListHelp)
	}
	if o.PlanFile != "" && !o.DryRun {
		return usagef("--plan writes what a dry run would do: add --dry-run")
	}
	if o.Mode == providers.ModeMirror && !caps.Supports(o.Mode) {
		return usagef("--mode mirror deletes contacts, and %s's API documents no way to delete one", o.Provider)
	}
	if o.Mode == providers.ModeMirror && !stateEnabled(o.StateFile) {
		return usagef("--mode mirror deletes what earlier runs sent, which only the state knows: it cannot run with --state none")
	}
	if _, err := deleteLimit(o.MaxDelete, 0); err != nil {
		return &UsageError{Err: err}
	}
	if stateEnabled(o.StateFile) {
		if err := checkStatePath(o.StateFile); err != nil {
			return err
		}
	}
	if !caps.Supports(o.Mode) {
		modes := make([]string, len(caps.Modes))
		for i, m := range caps.Modes {
			modes[i] = string(m)
		}
		return usagef("--mode %s is not supported by %s (it supports %s)", o.Mode, o.Provider, strings.Join(modes, ", "))
	}
	if err := caps.CheckTarget(o.List, o.Tag); err != nil {
		return &UsageError{Err: err}
	}
	if o.Workers > 256 || o.BatchSize < 1 {
		return usagef("--workers must be 1..256 and --batch-size at least 1")
	}
	return nil
}

// sniffRows is the sniffing window: the rows read ahead to decide what the
// header alone cannot (the order of day and month in dates).
const sniffRows = 1000

func resolveColumns(mappingFile string, header []string, o mapping.DetectOptions) (*mapping.Columns, error) {
	var spec *mapping.Spec
	if mappingFile != "" {
		s, err := mapping.LoadSpec(mappingFile)
		if err != nil {
			return nil, err
		}
		spec = s
	} else {
		spec = mapping.Detect(header, o)
	}
	return mapping.Resolve(spec, header, o.Custom)
}

// open asks the provider about the target list, with the run's retry
// policy, under the caller's context: a signal stops the request and the
// waits between retries at once (a list read abandoned half-way changes
// nothing at the provider, so there is nothing to let finish).
func (r *run) open() (*providers.ListInfo, error) {
	var info *providers.ListInfo
	err := r.retry(r.ctx, func(int) error {
		var err error
		info, err = r.provider.Open(r.ctx, providers.Target{List: r.opts.List, Mode: r.opts.Mode})
		return err
	}, "opening the list")
	if err == nil {
		if info == nil {
			info = &providers.ListInfo{}
		}
		return info, nil
	}
	if errors.Is(err, context.Canceled) || r.ctx.Err() != nil {
		r.report.Stopped = reasonInterrupted
		return nil, errInterruptedOpening
	}
	r.report.Stopped = reasonAborted
	var tooLong *waitTooLongError
	switch {
	case errors.As(err, &tooLong):
		return nil, &FatalError{Provider: r.name, Err: fmt.Errorf("opening the list: %s: run again later", r.redact(tooLong.Error()))}
	case providers.ClassOf(err) == providers.Retryable:
		return nil, &FatalError{Provider: r.name, Err: fmt.Errorf("cannot reach the provider, retries exhausted: %s", r.redact(err.Error()))}
	}
	return nil, &FatalError{Provider: r.name, Err: errors.New(r.redact(err.Error()))}
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

func delimiterName(c rune) string {
	if c == '\t' {
		return "tab"
	}
	return string(c)
}

// secretValues lists credential values worth scrubbing from messages.
func secretValues(creds map[string]string) []string {
	var out []string
	for _, v := range creds {
		if len(v) >= 4 {
			out = append(out, v)
		}
	}
	return out
}

// numCPU is how many normalisers run: phone validation is the costly step.
var numCPU = runtime.GOMAXPROCS(0)

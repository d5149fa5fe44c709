package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"contactsync/mapping"
	"contactsync/providers"
	"contactsync/source"
	"contactsync/state"
)

// run is one import in progress.
type run struct {
	opts      Options
	caps      providers.Capabilities
	name      string
	provider  providers.Provider // nil in a dry run without credentials
	blindNote string             // a dry run without credentials: what it cannot know
	transport *pacedTransport
	src       *source.Source
	url       bool              // FILE is a download
	settings  uint64            // of a download: sourceSettings, as the run began
	unchanged bool              // the download did not change since the last complete run
	sheet     string            // the workbook's sheet read
	sheetRows *source.SheetRows // its rows, closed with the run
	reader    *mapping.Reader
	columns   *mapping.Columns
	region    string
	state     state.Store // nil with --state none and in tests that do not ask for it; read-only in a dry run
	// stateWrites carries confirmed batches from the collector to writeState.
	stateWrites chan commit
	normaliser  *mapping.Normaliser
	existing    map[uint64]string
	report      *Report
	rejects     *rejectsWriter
	planFile    *planWriter // --plan, in a dry run
	progress    *progress
	secrets     []string
	retries     atomic.Int64
	start       time.Time
	// sample, when set, collects what inspect shows.
	sample *sample
	// inFlight bounds the text of the rows read and not yet planned.
	inFlight *byteBudget
	// rowsRead counts the rows that entered the pipeline, and readAll says
	// the reader reached the end of the file, for the progress.
	rowsRead atomic.Int64
	readAll  atomic.Bool

	// ctx is the caller's: a signal cancels it.
	ctx context.Context
	// sendCtx carries the requests: cancelled at once by a fatal error, and
	// DrainTimeout after an interrupt.
	sendCtx context.Context
	cancel  context.CancelFunc
	// stop is cancelled when no new work may start; haltReason says why.
	stop       context.Context
	stopSend   context.CancelFunc
	haltMu     sync.Mutex
	haltReason string
	haltErr    error
}

// Rows travel between stages in chunks, bounded in rows and in bytes: 512
// rows close to the 1 MiB row limit would make a chunk of half a gigabyte,
// and numCPU chunks wait in each of two channels, numCPU more are being
// normalised, and the planner holds those that came out of order.
const (
	// chunkSize is how many rows travel together between stages: large
	// enough to make channel costs vanish, small enough to keep memory flat.
	chunkSize = 512
	// chunkBytes closes a chunk early once its rows' text reaches it.
	chunkBytes = 256 << 10
	// inFlightBytes bounds the text of every row read and not yet planned,
	// in all stages together and whatever the number of CPUs: ordinary rows
	// never reach it (a chunk of them is about 50 kB), rows near the limit
	// wait for it. A row's cells and its contact hold about as much again
	// each.
	inFlightBytes = 8 << 20
)

// chunk is a run of consecutive rows; seq orders chunks after the
// normalisers, which finish them out of order. bytes is what its rows took
// of the run's inFlight budget.
type chunk struct {
	seq   int
	rows  []work
	bytes int
	// prev and known are what the state remembers of the rows' numbers
	// (records, and the account's labels), read by the normaliser.
	prev  []state.Record
	known []string
}

// byteBudget is a counting semaphore of bytes: the reader takes a row's
// bytes before the row enters the pipeline, the planner gives a chunk's back
// once it is planned.
type byteBudget struct {
	mu   sync.Mutex
	free sync.Cond
	size int
	left int
}

func newByteBudget(size int) *byteBudget {
	b := &byteBudget{size: size, left: size}
	b.free.L = &b.mu
	return b
}

// take waits until n bytes are free and takes them; it returns what it
// took, the whole budget for a row larger than it.
func (b *byteBudget) take(n int) int {
	n = min(n, b.size)
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.left < n {
		b.free.Wait()
	}
	b.left -= n
	return n
}

// give returns bytes taken.
func (b *byteBudget) give(n int) {
	b.mu.Lock()
	b.left += n
	b.mu.Unlock()
	b.free.Broadcast()
}

type work struct {
	row      mapping.Row
	contact  *mapping.Contact
	warnings []mapping.Warning
	problem  *mapping.Problem
}

// event is what became of one row (or, for Deleted, of one contact).
type event struct {
	line     int
	text     string
	outcome  providers.Outcome
	reason   string
	detail   string
	warnings []mapping.Warning
	planned  providers.Op // dry run: what would have been sent
	phone    string       // with --plan: the contact's number
	// For the state, on rows the provider answered for.
	key         uint64
	fingerprint uint64
	id          string
	labels      string // Result.Labels
	deletion    bool   // a mirror deletion: not a row of the file
	// sent says the provider (or its client) decided this outcome, not the
	// planner.
	sent bool
}

// Halt reasons, as they appear in failed_by_reason.
const (
	reasonAborted     = "aborted"
	reasonInterrupted = "interrupted"
)

// isHaltReason says whether a failed row's reason is a halt's: the row was
// never tried, or its request was cut short by the halt.
func isHaltReason(reason string) bool { return reason == reasonAborted || reason == reasonInterrupted }

// halt stops new work; the first call's reason and error win.
func (r *run) halt(reason string, err error) {
	r.haltMu.Lock()
	defer r.haltMu.Unlock()
	if r.haltReason != "" {
		return
	}
	r.haltReason, r.haltErr = reason, err
	r.report.Stopped = reason
	r.stopSend()
}

// halted returns the halt reason, or "" while the run goes on.
func (r *run) halted() string {
	if r.stop.Err() == nil {
		return ""
	}
	r.haltMu.Lock()
	defer r.haltMu.Unlock()
	return r.haltReason
}

// pipeline streams the file through reader → normalisers → planner →
// workers → collector and returns why it stopped early, if it did.
func (r *run) pipeline() error {
	chunks := make(chan *chunk, numCPU)
	normalised := make(chan *chunk, numCPU)
	jobs := make(chan *job, r.opts.Workers)
	events := make(chan []event, 4)
	done := make(chan struct{})
	defer close(done)
	r.inFlight = newByteBudget(inFlightBytes)

	go r.watchInterrupt(done)
	r.progress.start(r.meters)
	requestsBefore := r.requests() // opening the list sends no row

	readErr := make(chan error, 1)
	go func() { readErr <- r.read(chunks) }()

	var norm sync.WaitGroup
	for range numCPU {
		norm.Go(func() {
			for c := range chunks {
				r.normalise(c)
				normalised <- c
			}
		})
	}
	go func() { norm.Wait(); close(normalised) }()

	var producers sync.WaitGroup
	producers.Go(func() { r.plan(normalised, jobs, events); close(jobs) })
	producers.Go(func() { r.sendAll(jobs, events) })
	go func() { producers.Wait(); close(events) }()

	stateDone := make(chan struct{})
	if r.state != nil && !r.opts.DryRun {
		r.stateWrites = make(chan commit, 512)
		go func() { r.writeState(r.stateWrites); close(stateDone) }()
	} else {
		close(stateDone)
	}
	collectErr := r.collect(events)
	if r.stateWrites != nil {
		close(r.stateWrites)
	}
	<-stateDone
	r.progress.finish()

	r.haltMu.Lock()
	haltErr := r.haltErr
	r.haltMu.Unlock()
	if haltErr != nil {
		return haltErr
	}
	if err := <-readErr; err != nil {
		if r.interrupted(err) {
			return ErrInterrupted
		}
		err = fmt.Errorf("%s: %w", r.fileName(), err)
		if !r.opts.DryRun && r.requests() > requestsBefore {
			r.report.Stopped = reasonAborted
			return &SourceError{Err: err}
		}
		return err
	}
	return collectErr
}

// requests counts the requests sent to the provider so far.
func (r *run) requests() int64 {
	if r.transport == nil {
		return 0
	}
	return r.transport.requests.Load()
}

// watchInterrupt turns a cancelled caller context into a graceful stop: no
// new request starts, those in flight get DrainTimeout to finish.
func (r *run) watchInterrupt(done <-chan struct{}) {
	select {
	case <-done:
		return
	case <-r.ctx.Done():
	}
	r.halt(reasonInterrupted, ErrInterrupted)
	t := time.NewTimer(r.opts.DrainTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		r.cancel()
	}
}

// read streams rows in chunks of chunkSize rows or chunkBytes of text,
// within the inFlight budget. It reads to the end even after a halt, so
// that every row of the file is accounted for.
func (r *run) read(out chan<- *chunk) error {
	defer close(out)
	c := &chunk{rows: make([]work, 0, chunkSize)}
	var err error
	for {
		var row mapping.Row
		row, err = r.reader.Next()
		if errors.Is(err, io.EOF) {
			r.readAll.Store(true)
			err = nil
			break
		}
		if err != nil {
			break // the rows read before go on, and are accounted for
		}
		c.bytes += r.inFlight.take(len(row.Text))
		c.rows = append(c.rows, work{row: row})
		r.rowsRead.Add(1)
		if len(c.rows) == chunkSize || c.bytes >= chunkBytes {
			out <- c
			c = &chunk{seq: c.seq + 1, rows: make([]work, 0, chunkSize)}
		}
	}
	if len(c.rows) > 0 {
		out <- c
	}
	return err
}

// normalise validates and normalises a chunk's rows; it runs on every CPU.
func (r *run) normalise(c *chunk) {
	if r.halted() != "" {
		return // the planner fails these rows without looking at them
	}
	for i := range c.rows {
		w := &c.rows[i]
		if w.row.Problem != nil {
			continue
		}
		w.contact, w.warnings, w.problem = r.normaliser.Normalise(w.row.Line, w.row.Record)
		if w.row.Warning != nil {
			w.warnings = append(w.warnings, *w.row.Warning)
		}
		if w.contact != nil && r.opts.Tag != "" {
			w.contact.Tag = mapping.CleanTags(r.opts.Tag + "," + w.contact.Tag)
		}
	}
	// The state is read here, on every CPU, rather than by the planner: a
	// PostgreSQL state answers in milliseconds, which the planner would
	// wait for one chunk after another. Reading a chunk before an earlier
	// one is planned is safe: the state changes only for numbers already
	// planned, and a number seen again in the file is a duplicate whatever
	// the state says.
	c.prev, c.known = r.previous(c), r.knownLabels(c)
}

// plan puts chunks back in file order, then decides each row: rejected,
// duplicate, skipped by the mode, or batched for sending.
func (r *run) plan(in <-chan *chunk, jobs chan<- *job, events chan<- []event) {
	pending := map[int]*chunk{}
	next := 0
	seen := &keySet{}
	defer seen.release()
	b := &batcher{size: r.opts.BatchSize, out: jobs, open: map[batchKey]*job{}}
	for c := range in {
		pending[c.seq] = c
		for {
			c, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			evs := r.planChunk(c, seen, b)
			// What the planner keeps of the rows (the contacts it batched,
			// the text of rejected rows) is bounded downstream.
			r.inFlight.give(c.bytes)
			if len(evs) > 0 {
				events <- evs
			}
		}
	}
	if r.opts.Mode == providers.ModeMirror && r.state != nil && r.halted() == "" {
		if evs := r.planDeletes(seen, b); len(evs) > 0 {
			events <- evs
		}
	}
	b.flush()
}

// planDeletes finds what mirror mode removes: the numbers the state says
// were sent to the list and the file no longer holds. More than --max-delete
// of them stops the run before anything is deleted; a dry run only counts
// them.
func (r *run) planDeletes(seen *keySet, b *batcher) []event {
	var gone []*mapping.Contact
	sent := 0
	// Collected first, sent after: the read transaction must be over before
	// the batcher blocks on a busy worker.
	err := r.state.Sent(func(key uint64, rec state.Record) {
		sent++
		if !seen.has(key) {
			gone = append(gone, &mapping.Contact{Phone: mapping.PhoneOfKey(key), Key: key, ID: rec.ID})
		}
	})
	if err == nil && r.caps.Labels {
		keys, known := make([]uint64, len(gone)), make([]string, len(gone))
		for i, c := range gone {
			keys[i] = c.Key
		}
		if err = r.state.Labels(keys, known); err == nil {
			for i, c := range gone {
				c.KnownLabels = known[i]
			}
		}
	}
	if err != nil {
		r.halt(reasonAborted, &StateError{Err: fmt.Errorf("reading the state: %w", err)})
		return nil
	}
	limit, err := deleteLimit(r.opts.MaxDelete, sent)
	if err != nil {
		r.halt(reasonAborted, &UsageError{Err: err})
		return nil
	}
	if len(gone) > limit {
		r.halt(reasonAborted, &FatalError{Provider: r.name, Err: fmt.Errorf(
			"mirror would delete %d of the %d contacts sent to the list, more than --max-delete allows (%d): nothing was deleted; check the file, or raise --max-delete",
			len(gone), sent, limit)})
		return nil
	}
	if r.opts.DryRun {
		evs := make([]event, len(gone))
		for i, c := range gone {
			evs[i] = event{key: c.Key, phone: c.Phone, deletion: true, planned: providers.OpDelete, outcome: providers.Skipped}
		}
		return evs
	}
	for _, c := range gone {
		b.add(providers.OpDelete, c, "", 0)
	}
	return nil
}

// deleteLimit reads --max-delete: "N" contacts or "N%" of those sent.
func deleteLimit(v string, sent int) (int, error) {
	if v == "" {
		v = "10%"
	}
	if pct, ok := strings.CutSuffix(v, "%"); ok {
		p, err := strconv.ParseFloat(pct, 64)
		if err != nil || p < 0 || p > 100 {
			return 0, fmt.Errorf("--max-delete %q: use a number of contacts or a percentage such as 10%%", v)
		}
		return int(float64(sent) * p / 100), nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("--max-delete %q: use a number of contacts or a percentage such as 10%%", v)
	}
	return n, nil
}

func (r *run) planChunk(c *chunk, seen *keySet, b *batcher) []event {
	var evs []event
	prev, known := c.prev, c.known
	for i := range c.rows {
		w := &c.rows[i]
		// Only rejected and failed rows keep their text: the rejects file
		// is all it is for, and it does not take the rows a halt kept from
		// being tried.
		ev := event{line: w.row.Line}
		if reason := r.halted(); reason != "" {
			ev.outcome, ev.reason = providers.Failed, reason
			evs = append(evs, ev)
			continue
		}
		if p := firstProblem(w.row.Problem, w.problem); p != nil {
			ev.outcome, ev.reason, ev.detail, ev.text = providers.Rejected, p.Reason, p.Detail, w.row.Text
			evs = append(evs, ev)
			continue
		}
		ev.warnings = w.warnings
		ct := w.contact
		if r.planFile != nil {
			ev.phone = ct.Phone
		}
		if p := r.checkTags(ct.Tag); p != nil {
			ev.outcome, ev.reason, ev.detail, ev.text = providers.Rejected, p.Reason, p.Detail, w.row.Text
			evs = append(evs, ev)
			continue
		}
		if !seen.add(ct.Key) {
			ev.outcome, ev.reason, ev.detail = providers.Skipped, "duplicate_in_file", ct.Phone+" appears earlier in the file"
			evs = append(evs, ev)
			continue
		}
		var fp uint64
		if r.state != nil {
			fp = fingerprint(ct)
		}
		if prev != nil && prev[i].Kind != 0 && prev[i].Fingerprint == fp {
			switch {
			case prev[i].Sent():
				ev.outcome, ev.reason = providers.Skipped, "unchanged"
				evs = append(evs, ev)
				continue
			case prev[i].Kind == state.Rejected:
				ev.outcome, ev.reason, ev.text = providers.Rejected, prev[i].Reason, w.row.Text
				ev.detail = "the provider refused this row in an earlier run; change it to send it again"
				evs = append(evs, ev)
				continue
			}
		}
		op, skip := r.decide(ct)
		switch {
		case skip != "":
			ev.outcome, ev.reason = providers.Skipped, skip
		case r.opts.DryRun:
			ev.outcome, ev.reason, ev.planned = providers.Skipped, "dry_run", op
			if r.sample != nil && len(r.sample.contacts) < r.sample.max {
				r.sample.contacts = append(r.sample.contacts, ct)
			}
		default:
			if len(w.warnings) > 0 {
				evs = append(evs, event{line: w.row.Line, warnings: w.warnings})
			}
			if known != nil {
				ct.KnownLabels = known[i]
			}
			b.add(op, ct, w.row.Text, fp)
			continue
		}
		evs = append(evs, ev)
	}
	return evs
}

// previous reads what the state remembers of a chunk's numbers, in one read
// (a transaction, a query) that is over before anything blocks on sending.
// It returns nil without state, or with --full.
func (r *run) previous(c *chunk) []state.Record {
	if r.state == nil || r.opts.Full || r.halted() != "" {
		return nil
	}
	prev := make([]state.Record, len(c.rows))
	err := r.state.Lookup(chunkKeys(c), prev)
	if err != nil {
		r.halt(reasonAborted, &StateError{Err: fmt.Errorf("reading the state: %w", err)})
		return nil
	}
	return prev
}

// knownLabels reads the labels the state remembers for a chunk's numbers,
// for a provider with Capabilities.Labels; nil otherwise, and in a dry run.
func (r *run) knownLabels(c *chunk) []string {
	if r.state == nil || !r.caps.Labels || r.opts.DryRun || r.halted() != "" {
		return nil
	}
	known := make([]string, len(c.rows))
	err := r.state.Labels(chunkKeys(c), known)
	if err != nil {
		r.halt(reasonAborted, &StateError{Err: fmt.Errorf("reading the state: %w", err)})
		return nil
	}
	return known
}

// chunkKeys lists the number of each row of a chunk, 0 for a row without a
// contact.
func chunkKeys(c *chunk) []uint64 {
	keys := make([]uint64, len(c.rows))
	for i := range c.rows {
		if ct := c.rows[i].contact; ct != nil && c.rows[i].problem == nil {
			keys[i] = ct.Key
		}
	}
	return keys
}

// checkTags refuses a row whose own tag the provider would refuse.
func (r *run) checkTags(tags string) *mapping.Problem {
	if r.caps.MaxTagLen == 0 || tags == "" {
		return nil
	}
	for _, t := range strings.Split(tags, ",") {
		if n := len([]rune(t)); n > r.caps.MaxTagLen {
			return &mapping.Problem{Reason: "tag_too_long",
				Detail: fmt.Sprintf("tag %q is %d characters long; %s accepts at most %d", t, n, r.name, r.caps.MaxTagLen)}
		}
	}
	return nil
}

func firstProblem(ps ...*mapping.Problem) *mapping.Problem {
	for _, p := range ps {
		if p != nil {
			return p
		}
	}
	return nil
}

// decide picks the operation for a contact from the mode and what the
// provider said the list holds; skip names why it is not sent at all.
func (r *run) decide(c *mapping.Contact) (op providers.Op, skip string) {
	if !r.caps.ContactIDs {
		c.ID = "" // an "ID" column of a CRM means nothing to this provider
	}
	exists, known := c.ID != "", c.ID != ""
	if !known && r.existing != nil {
		var id string
		id, exists = r.existing[c.Key]
		known = true
		c.ID = id
	}
	mode := r.opts.Mode
	switch {
	case known && exists && mode == providers.ModeInsert:
		return 0, "exists"
	case known && exists:
		return providers.OpUpdate, ""
	case mode == providers.ModeUpdate:
		return 0, "not_found"
	case known, mode == providers.ModeInsert:
		return providers.OpCreate, ""
	}
	return providers.OpUpsert, ""
}

// collect is the only writer of the report, the rejects file and the state.
// Each message is one batch's outcomes (or one chunk's), so the state gets
// one transaction per confirmed batch.
func (r *run) collect(events <-chan []event) error {
	var writeErr error
	failed := 0
	var refused streak
	forgetting := false // the streak stopped the run: no refusal is remembered
	for evs := range events {
		var c commit
		for i := range evs {
			e := &evs[i]
			for _, w := range e.warnings {
				r.report.warn(e.line, w)
			}
			if r.planFile != nil && writeErr == nil && e.outcome != 0 {
				if err := r.planFile.write(e, r.redact(e.detail)); err != nil {
					writeErr = &OutputError{File: "the plan " + r.opts.PlanFile, Err: err}
					r.halt(reasonAborted, writeErr)
				}
			}
			switch {
			case e.outcome == 0:
				continue // warnings of a row still being sent
			case e.deletion:
				r.countDeletion(e, &c.writes)
				r.rememberLabels(e, &c.labels)
				continue
			}
			r.report.count(e.outcome, e.reason)
			if e.planned != 0 {
				if r.report.Planned == nil {
					r.report.Planned = map[string]int{}
				}
				r.report.Planned[e.planned.String()]++
			}
			if r.state != nil && e.key != 0 {
				switch {
				case e.outcome == providers.Added:
					c.writes = append(c.writes, state.Write{Key: e.key, Record: state.Record{Kind: state.Added, Fingerprint: e.fingerprint, ID: e.id}})
				case e.outcome == providers.Updated:
					c.writes = append(c.writes, state.Write{Key: e.key, Record: state.Record{Kind: state.Updated, Fingerprint: e.fingerprint, ID: e.id}})
				case e.outcome == providers.Rejected && e.reason != providers.ReasonProviderFailed:
					c.writes = append(c.writes, state.Write{Key: e.key, Record: state.Record{Kind: state.Rejected, Fingerprint: e.fingerprint, Reason: e.reason}})
				}
				r.rememberLabels(e, &c.labels)
			}
			if r.sample != nil && e.outcome == providers.Rejected && len(r.sample.problems) < r.sample.max {
				r.sample.problems = append(r.sample.problems, WarningRow{Row: e.line, Reason: e.reason, Detail: e.detail})
			}
			// The rejects file holds rows to fix: not those a halt kept
			// from being tried (the unread rest of an interrupted file),
			// which the next run sends as they are.
			if r.rejects != nil && writeErr == nil && (e.outcome == providers.Rejected || e.outcome == providers.Failed && !isHaltReason(e.reason)) {
				if err := r.rejects.write(e.text, e.line, e.outcome.String(), e.reason, r.redact(e.detail)); err != nil {
					writeErr = &OutputError{File: "the rejects file " + r.opts.RejectsFile, Err: err}
					r.halt(reasonAborted, writeErr)
				}
			}
			if e.outcome == providers.Failed && !isHaltReason(e.reason) {
				failed++
				if r.opts.MaxErrors > 0 && failed == r.opts.MaxErrors {
					r.halt(reasonAborted, &FatalError{Provider: r.name,
						Err: fmt.Errorf("%d rows failed (--max-errors %d): the account or the provider is not working", failed, r.opts.MaxErrors)})
					r.cancel()
				}
			}
			if e.sent && r.state != nil && e.outcome == providers.Rejected && forgetting {
				// Refused after the streak stopped the run: as suspect.
				c.writes = append(c.writes, state.Write{Key: e.key, Delete: true})
			}
			if e.sent && refused.add(e, r.opts.MaxStreak) {
				r.halt(reasonAborted, &FatalError{Provider: r.name, Err: refused.err()})
				r.cancel()
				forgetting = true
				if r.state != nil {
					c.writes = append(c.writes, refused.forget()...)
				}
			}
		}
		if r.stateWrites != nil && (len(c.writes) > 0 || len(c.labels) > 0) {
			r.stateWrites <- c
		}
		r.progress.update(r.report)
	}
	return writeErr
}

// commit is what the collector makes of one batch's outcomes for the state.
type commit struct {
	writes []state.Write
	labels []state.LabelWrite
}

// writeState journals confirmed batches. While one transaction syncs to
// disk the next batches queue, and the next transaction takes all of them
// (group commit): a sync costs milliseconds, and one per batch would cap the
// import at a few hundred batches a second. Nothing is written before the
// provider confirmed it. The account's labels are written first: were the
// run killed between the two, the labels would hold one more run's than the
// list's state says was sent, which only keeps a label, never loses one.
func (r *run) writeState(batches <-chan commit) {
	var pending commit
	for first := range batches {
		pending.writes = append(pending.writes[:0], first.writes...)
		pending.labels = append(pending.labels[:0], first.labels...)
	drain:
		for {
			select {
			case more, ok := <-batches:
				if !ok {
					break drain
				}
				pending.writes = append(pending.writes, more.writes...)
				pending.labels = append(pending.labels, more.labels...)
			default:
				break drain
			}
		}
		if err := r.state.Commit(pending.writes, pending.labels); err != nil {
			r.halt(reasonAborted, &StateError{Err: err})
			r.cancel()
			for range batches { // the collector must not block on a dead writer
			}
			return
		}
	}
}

// countDeletion accounts for a mirror deletion, which is not a row.
func (r *run) countDeletion(e *event, writes *[]state.Write) {
	switch {
	case e.planned != 0:
		if r.report.Planned == nil {
			r.report.Planned = map[string]int{}
		}
		r.report.Planned[e.planned.String()]++
	case e.outcome == providers.Deleted:
		r.report.Deleted++
		*writes = append(*writes, state.Write{Key: e.key, Delete: true})
	case e.outcome == providers.Skipped:
		// Already gone from the list: nothing to delete, nothing to remember.
		*writes = append(*writes, state.Write{Key: e.key, Delete: true})
	default:
		r.report.DeleteFailed++
	}
}

package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"contactsync/mapping"
	"contactsync/providers"
)

// run is one import in progress.
type run struct {
	opts       Options
	caps       providers.Capabilities
	name       string
	provider   providers.Provider // nil in a dry run
	transport  *pacedTransport
	file       *os.File
	reader     *mapping.Reader
	columns    *mapping.Columns
	region     string
	normaliser *mapping.Normaliser
	existing   map[uint64]string
	report     *Report
	rejects    *rejectsWriter
	progress   *progress
	secrets    []string
	retries    atomic.Int64
	start      time.Time
	// sample, when set, collects what inspect shows.
	sample *sample

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

// chunkSize is how many rows travel together between stages: large enough
// to make channel costs vanish, small enough to keep memory flat.
const chunkSize = 512

// chunk is a run of consecutive rows; seq orders chunks after the
// normalisers, which finish them out of order.
type chunk struct {
	seq  int
	rows []work
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
}

// Halt reasons, as they appear in failed_by_reason.
const (
	reasonAborted     = "aborted"
	reasonInterrupted = "interrupted"
)

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

	go r.watchInterrupt(done)

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

	collectErr := r.collect(events)
	r.progress.finish()

	r.haltMu.Lock()
	haltErr := r.haltErr
	r.haltMu.Unlock()
	if haltErr != nil {
		return haltErr
	}
	if err := <-readErr; err != nil {
		return fmt.Errorf("%s: %w", r.opts.File, err)
	}
	return collectErr
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

// read streams rows in chunks. It reads to the end even after a halt, so
// that every row of the file is accounted for.
func (r *run) read(out chan<- *chunk) error {
	defer close(out)
	c := &chunk{rows: make([]work, 0, chunkSize)}
	for {
		row, err := r.reader.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		c.rows = append(c.rows, work{row: row})
		if len(c.rows) == chunkSize {
			out <- c
			c = &chunk{seq: c.seq + 1, rows: make([]work, 0, chunkSize)}
		}
	}
	if len(c.rows) > 0 {
		out <- c
	}
	return nil
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
		w.contact, w.warnings, w.problem = r.normaliser.Normalise(w.row.Line, &w.row.Record)
	}
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
			if evs := r.planChunk(c, seen, b); len(evs) > 0 {
				events <- evs
			}
		}
	}
	b.flush()
}

func (r *run) planChunk(c *chunk, seen *keySet, b *batcher) []event {
	var evs []event
	for i := range c.rows {
		w := &c.rows[i]
		// Only rejected and failed rows keep their text: the rejects file
		// is all it is for.
		ev := event{line: w.row.Line}
		if reason := r.halted(); reason != "" {
			ev.outcome, ev.reason, ev.text = providers.Failed, reason, w.row.Text
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
			b.add(op, ct, w.row.Text)
			continue
		}
		evs = append(evs, ev)
	}
	return evs
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

// collect is the only writer of the report and the rejects file.
func (r *run) collect(events <-chan []event) error {
	var writeErr error
	for evs := range events {
		for i := range evs {
			e := &evs[i]
			for _, w := range e.warnings {
				r.report.warn(e.line, w)
			}
			if e.outcome == 0 {
				continue // warnings of a row still being sent
			}
			r.report.count(e.outcome, e.reason)
			if e.planned != 0 {
				if r.report.Planned == nil {
					r.report.Planned = map[string]int{}
				}
				r.report.Planned[e.planned.String()]++
			}
			if r.sample != nil && e.outcome == providers.Rejected && len(r.sample.problems) < r.sample.max {
				r.sample.problems = append(r.sample.problems, WarningRow{Row: e.line, Reason: e.reason, Detail: e.detail})
			}
			if r.rejects != nil && writeErr == nil && (e.outcome == providers.Rejected || e.outcome == providers.Failed) {
				if err := r.rejects.write(e.text, e.line, e.outcome.String(), e.reason, r.redact(e.detail)); err != nil {
					writeErr = fmt.Errorf("writing the rejects file: %w", err)
					r.halt(reasonAborted, writeErr)
				}
			}
		}
		r.progress.update(r.report, false)
	}
	r.progress.update(r.report, true)
	return writeErr
}

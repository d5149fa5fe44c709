package importer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v4"

	"contactsync/mapping"
	"contactsync/providers"
)

// job is a batch on its way to the provider, with the rows it came from.
type job struct {
	batch providers.Batch
	texts []string // the file's text of each contact's row, for --rejects
	fps   []uint64 // each contact's fingerprint, for the state
	bytes int      // of texts
	// deletion marks a mirror deletion, whose outcomes are not rows.
	deletion bool
}

// batchBytes closes a batch early once its rows' text reaches it: a batch
// of rows close to the 1 MiB row limit would otherwise hold 200 MB, and
// twice as many batches as workers wait or are being sent. Ordinary batches
// (200 rows of about 100 bytes) never reach it.
const batchBytes = 1 << 20

type batchKey struct {
	op  providers.Op
	tag string
}

// batcher groups planned contacts into batches of one operation and tag.
type batcher struct {
	size int
	out  chan<- *job
	open map[batchKey]*job
}

func (b *batcher) add(op providers.Op, c *mapping.Contact, text string, fp uint64) {
	k := batchKey{op, c.Tag}
	j := b.open[k]
	if j == nil {
		j = &job{batch: providers.Batch{Op: op, Tag: c.Tag, Contacts: make([]*mapping.Contact, 0, b.size)}, deletion: op == providers.OpDelete}
		b.open[k] = j
	}
	j.batch.Contacts = append(j.batch.Contacts, c)
	j.texts = append(j.texts, text)
	j.fps = append(j.fps, fp)
	j.bytes += len(text)
	if len(j.batch.Contacts) == b.size || j.bytes >= batchBytes {
		delete(b.open, k)
		b.out <- j
	}
}

// flush sends the partial batches, in file order.
func (b *batcher) flush() {
	rest := make([]*job, 0, len(b.open))
	for _, j := range b.open {
		rest = append(rest, j)
	}
	slices.SortFunc(rest, func(x, y *job) int { return x.batch.Contacts[0].Line - y.batch.Contacts[0].Line })
	for _, j := range rest {
		b.out <- j
	}
}

// sendAll runs the workers. The first batch goes alone: if the provider
// refuses the credentials or the list, the run stops after one request
// instead of one per worker.
func (r *run) sendAll(jobs <-chan *job, events chan<- []event) {
	gate := make(chan struct{})
	var first atomic.Bool
	var wg sync.WaitGroup
	for range r.opts.Workers {
		wg.Go(func() {
			for j := range jobs {
				if first.CompareAndSwap(false, true) {
					events <- r.process(j)
					close(gate)
					continue
				}
				<-gate
				events <- r.process(j)
			}
		})
	}
	wg.Wait()
}

// process sends one batch and says what became of each of its rows.
func (r *run) process(j *job) []event {
	if reason := r.halted(); reason != "" {
		return j.fail(reason, "")
	}
	var results []providers.Result
	err := r.retry(r.stop, func(attempt int) error {
		j.batch.Attempt = attempt
		res, err := r.provider.Apply(r.sendCtx, &j.batch)
		if err == nil && len(res) != len(j.batch.Contacts) {
			err = fmt.Errorf("the provider answered for %d contacts out of %d", len(res), len(j.batch.Contacts))
		}
		results = res
		return err
	}, j.batch.Op.String())
	if err == nil {
		evs := make([]event, len(results))
		for i, res := range results {
			evs[i] = j.event(i, res.Outcome, res.Reason, "")
			evs[i].id, evs[i].labels = res.ID, res.Labels
		}
		return evs
	}
	var pe *providers.Error
	errors.As(err, &pe)
	var tooLong *waitTooLongError
	switch class := providers.ClassOf(err); {
	case r.halted() != "":
		return j.fail(r.halted(), "")
	case errors.As(err, &tooLong):
		return j.fail("rate_limited", r.redact(tooLong.Error()))
	case class == providers.Row && len(j.batch.Contacts) > 1:
		// The provider refused the request for some of its contacts
		// without saying which: halves isolate them in log2(n) requests
		// each, and every other contact still gets through.
		left, right := j.split()
		return append(r.process(left), r.process(right)...)
	case class == providers.Row:
		return []event{j.event(0, pe.RowOutcome(), pe.Reason, r.redact(pe.Error()))}
	case class == providers.Retryable && pe != nil && pe.Reason == providers.ReasonUnreadable:
		// The provider answered, but never as its API confirms a write:
		// the rows may or may not be stored, and are sent again next run.
		return j.fail(providers.ReasonNotConfirmed, r.redact(err.Error()))
	case class == providers.Retryable:
		return j.fail("retries_exhausted", r.redact(err.Error()))
	case class == providers.Fatal:
		r.opts.Logger.Error("fatal provider error", "provider", r.name, "reason", pe.Reason, "error", r.redact(err.Error()))
		r.halt(reasonAborted, &FatalError{Provider: r.name, Err: errors.New(r.redact(err.Error()))})
		r.cancel()
		return j.fail(pe.Reason, r.redact(pe.Error()))
	default:
		// An error nobody classified is a bug; stopping is safer than
		// guessing whether the request was applied.
		err = fmt.Errorf("unexpected error: %s", r.redact(err.Error()))
		r.halt(reasonAborted, &FatalError{Provider: r.name, Err: err})
		r.cancel()
		return j.fail("unexpected_error", err.Error())
	}
}

// event says what became of the job's i-th contact.
func (j *job) event(i int, o providers.Outcome, reason, detail string) event {
	c := j.batch.Contacts[i]
	return event{line: c.Line, text: j.texts[i], outcome: o, reason: reason, detail: detail,
		key: c.Key, fingerprint: j.fps[i], deletion: j.deletion, sent: true}
}

func (j *job) fail(reason, detail string) []event {
	evs := make([]event, len(j.batch.Contacts))
	for i := range j.batch.Contacts {
		evs[i] = j.event(i, providers.Failed, reason, detail)
	}
	return evs
}

func (j *job) split() (*job, *job) {
	h := len(j.batch.Contacts) / 2
	half := func(from, to int) *job {
		return &job{batch: providers.Batch{Op: j.batch.Op, Tag: j.batch.Tag, Contacts: j.batch.Contacts[from:to]},
			texts: j.texts[from:to], fps: j.fps[from:to], deletion: j.deletion}
	}
	return half(0, h), half(h, len(j.batch.Contacts))
}

// retry runs op under the run's retry policy: retryable errors are retried
// with exponential, jittered backoff (never sooner than a Retry-After asked),
// others are returned at once, and ctx ending stops the waiting at once. A
// Retry-After longer than what is left of the retry budget ends the retries
// at once with a *waitTooLongError: waiting it out would outlast the budget
// anyway, and the run with it.
func (r *run) retry(ctx context.Context, op func(attempt int) error, what string) error {
	p := r.opts.Retry
	exp := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(p.Initial),
		backoff.WithMaxInterval(p.Max),
		backoff.WithMaxElapsedTime(p.MaxElapsed),
	)
	ra := &retryAfter{BackOff: backoff.WithMaxRetries(exp, uint64(p.Attempts-1)),
		left: func() time.Duration { return p.MaxElapsed - exp.GetElapsedTime() }}
	attempt := 0
	err := backoff.RetryNotify(func() error {
		attempt++
		err := op(attempt)
		if err == nil {
			return nil
		}
		if providers.ClassOf(err) != providers.Retryable {
			return backoff.Permanent(err)
		}
		ra.after = 0
		var pe *providers.Error
		if errors.As(err, &pe) {
			ra.after = pe.RetryAfter
		}
		return err
	}, backoff.WithContext(ra, ctx), func(err error, wait time.Duration) {
		r.retries.Add(1)
		r.opts.Logger.Warn("retrying", "provider", r.name, "request", what, "attempt", attempt,
			"wait", wait.Round(time.Millisecond).String(), "reason", reasonOf(err), "error", r.redact(err.Error()))
	})
	if ra.refused != nil && ctx.Err() == nil {
		ra.refused.err = err
		return ra.refused
	}
	return err
}

// retryAfter makes a backoff wait at least what the provider's Retry-After
// asked for, and stops when that is more than the budget has left. The
// provider's wait may exceed RetryPolicy.Max, which bounds our own backoff,
// not what the provider asks.
type retryAfter struct {
	backoff.BackOff
	after   time.Duration        // the last answer's Retry-After
	left    func() time.Duration // what is left of RetryPolicy.MaxElapsed
	refused *waitTooLongError
}

func (b *retryAfter) NextBackOff() time.Duration {
	d := b.BackOff.NextBackOff()
	if d == backoff.Stop || b.after <= d {
		return d
	}
	if left := b.left(); b.after > left {
		b.refused = &waitTooLongError{wait: b.after, left: left}
		return backoff.Stop
	}
	return b.after
}

// waitTooLongError ends the retries of a request: the provider asked to
// wait longer than what was left of the retry budget. Its rows fail as
// rate_limited.
type waitTooLongError struct {
	wait, left time.Duration
	err        error // the provider's last answer
}

func (e *waitTooLongError) Error() string {
	return fmt.Sprintf("the provider asked to wait %s; more than the %s retry budget left", roundWait(e.wait), roundWait(max(e.left, 0)))
}

func (e *waitTooLongError) Unwrap() error { return e.err }

// roundWait shows a wait to the second, or to the millisecond below one.
func roundWait(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Second)
}

func reasonOf(err error) string {
	var pe *providers.Error
	if errors.As(err, &pe) {
		return pe.Reason
	}
	return "error"
}

// redact removes credential values from a message bound for the user, in
// the forms an answer that echoes a request carries them. Providers redact
// what they quote of an answer before they cut it; this catches the rest.
func (r *run) redact(s string) string { return providers.Redact(s, r.secrets) }

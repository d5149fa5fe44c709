package importer

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// None of the four providers documents its rate limit, so --rate is a
// guess, and a guess above the provider's limit reaches the allowed pace
// only by having many requests refused with 429: a provider may throttle or
// block an account that does that every night. The pacer adapts instead, as
// TCP's congestion control and rclone's pacer do: a 429 (or any answer with
// a Retry-After) lowers the pace multiplicatively, successes raise it again
// additively, never above --rate; the number of requests in flight follows
// the same signal, never above --workers.
const (
	// paceCut is what a 429 leaves of the pace and of the window. Close
	// to 1: the pace then saws between paceCut and 1 times the provider's
	// limit, for an average near (1+paceCut)/2 of it.
	paceCut = 0.85
	// paceGrowth is how fast the pace grows back: that share of itself per
	// second, so that a provider allowing 5 requests/s and one allowing
	// 500 are both found within seconds, and a 429 comes only every few
	// dozen requests at the top of the saw.
	paceGrowth = 0.04
	// paceProbe is the growth once the pace is back near the limit the
	// provider showed at the last cut (paceNear of it): the pace stays
	// just under that limit for long, and probes above it slowly, as
	// TCP CUBIC plateaus near its last window.
	paceProbe = 0.005
	paceNear  = 0.95
	// paceFloor is the slowest pace: one request every 10 seconds.
	paceFloor = 0.1
	// paceWindow is how far back the pace of accepted requests is
	// measured: a 429 cuts from it, the best estimate of the provider's
	// limit, rather than from the pace asked for.
	paceWindow = 2 * time.Second
	// paceGrace is how long after a cut the requests started may still
	// find the provider's bucket empty: their 429s do not cut again.
	paceGrace = 250 * time.Millisecond
	// paceLogStep logs a recovering pace each time it has grown by a
	// quarter, and once it is back at the ceiling.
	paceLogStep = 1.25
)

// pacer holds the pace all requests share.
type pacer struct {
	adaptive  bool
	ceiling   float64 // --rate; +Inf without a client-side limit
	maxWindow int     // --workers
	limiter   *rate.Limiter
	logger    *slog.Logger

	mu       sync.Mutex
	pace     float64 // requests per second; +Inf: not limited
	window   float64 // requests allowed in flight
	inFlight int
	freed    chan struct{} // closed when a slot frees or the window grows
	lastCut  time.Time     // requests started before it were sent at the old pace
	limit    float64       // the pace the provider accepted at the last cut
	grown    time.Time     // when the pace last grew
	logged   float64       // the pace last logged
	first    time.Time     // the first request's start
	accepted []time.Time   // answers other than 429, from accepted[head] on within paceWindow
	head     int
	cuts     int
}

func newPacer(rps float64, burst, workers int, adaptive bool, logger *slog.Logger) *pacer {
	p := &pacer{adaptive: adaptive, ceiling: math.Inf(1), maxWindow: max(workers, 1), logger: logger,
		freed: make(chan struct{}), grown: time.Now()}
	if rps > 0 {
		p.ceiling = rps
	}
	p.pace, p.logged, p.window = p.ceiling, p.ceiling, float64(p.maxWindow)
	p.limiter = rate.NewLimiter(limitOf(p.pace), max(burst, 1))
	return p
}

func limitOf(pace float64) rate.Limit {
	if math.IsInf(pace, 1) {
		return rate.Inf
	}
	return rate.Limit(pace)
}

// wait takes a place in the window, then a token of the pace. It returns
// when the request may start, or the context's error.
func (p *pacer) wait(ctx context.Context) (time.Time, error) {
	for {
		p.mu.Lock()
		if !p.adaptive || p.inFlight < int(p.window) {
			p.inFlight++
			p.mu.Unlock()
			break
		}
		freed := p.freed
		p.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
	if err := p.limiter.Wait(ctx); err != nil {
		p.done(time.Time{}, nil, err)
		return time.Time{}, err
	}
	start := time.Now()
	if p.adaptive {
		p.mu.Lock()
		if p.first.IsZero() {
			p.first = start
		}
		p.mu.Unlock()
	}
	return start, nil
}

// done gives the place back and reads the answer as a signal: a 429 or a
// Retry-After slows the pace, any other answer below 500 lets it grow.
// Network failures and 5xx say nothing about the pace.
func (p *pacer) done(start time.Time, resp *http.Response, err error) {
	p.mu.Lock()
	p.inFlight--
	p.wake()
	var change func() // logged once the lock is let go: a log line is I/O
	if p.adaptive && !start.IsZero() && err == nil && resp != nil {
		now := time.Now()
		switch {
		case resp.StatusCode == http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "":
			change = p.slowDown(start, now)
		case resp.StatusCode < 500:
			p.acceptedPace(now) // drops what is older than paceWindow
			p.accepted = append(p.accepted, now)
			change = p.speedUp(now)
		}
	}
	p.mu.Unlock()
	if change != nil {
		change()
	}
}

// wake lets waiting requests look at the window again.
func (p *pacer) wake() {
	close(p.freed)
	p.freed = make(chan struct{})
}

// slowDown cuts the pace and the window, once for the requests sent at the
// old pace or just after the cut: their 429s say nothing about the new pace.
// It cuts from the pace the provider accepted, not the pace asked for, so
// that cuts do not compound below the provider's limit.
func (p *pacer) slowDown(start, now time.Time) (log func()) {
	if start.Before(p.lastCut.Add(paceGrace)) {
		return nil
	}
	from := p.pace
	if accepted := p.acceptedPace(now); accepted > 0 && accepted < from {
		from = accepted // what the provider took is the best guess of its limit
	}
	p.limit = from
	p.pace = max(paceFloor, from*paceCut)
	p.window = max(1, p.window*paceCut)
	p.lastCut, p.grown, p.logged = now, now, p.pace
	p.cuts++
	p.limiter.SetLimit(limitOf(p.pace))
	pace, window := round2(p.pace), int(p.window)
	return func() {
		p.logger.Warn("the provider asked to slow down: pace lowered", "requests_per_second", pace, "in_flight", window)
	}
}

// speedUp grows the pace by paceGrowth of itself per second since it last
// grew, and the window by one per window's worth of successes, up to the
// ceilings.
func (p *pacer) speedUp(now time.Time) (log func()) {
	if p.window < float64(p.maxWindow) {
		p.window = min(float64(p.maxWindow), p.window+1/p.window)
		p.wake()
	}
	if math.IsInf(p.pace, 1) || p.pace >= p.ceiling {
		p.grown = now
		return nil
	}
	growth := paceGrowth
	if p.pace >= paceNear*p.limit {
		growth = paceProbe
	}
	p.pace += max(paceFloor, p.pace*growth) * now.Sub(p.grown).Seconds()
	p.grown = now
	if p.pace >= p.ceiling || math.IsInf(p.ceiling, 1) && p.pace > 4*p.acceptedPace(now)+10 {
		// Back at --rate, or, without one, well above what is sent:
		// the pace no longer limits.
		p.pace = p.ceiling
		p.limiter.SetLimit(limitOf(p.pace))
		pace := round2(p.pace)
		return func() { p.logger.Info("pace back to its ceiling", "requests_per_second", pace) }
	}
	p.limiter.SetLimit(limitOf(p.pace))
	if p.pace >= p.logged*paceLogStep {
		p.logged = p.pace
		pace := round2(p.pace)
		return func() { p.logger.Info("pace raised", "requests_per_second", pace) }
	}
	return nil
}

// acceptedPace is the pace of the answers other than 429 within
// paceWindow (or since the first request, if that is shorter).
func (p *pacer) acceptedPace(now time.Time) float64 {
	for p.head < len(p.accepted) && now.Sub(p.accepted[p.head]) > paceWindow {
		p.head++
	}
	if p.head > len(p.accepted)/2 {
		p.accepted = append(p.accepted[:0], p.accepted[p.head:]...)
		p.head = 0
	}
	span := min(paceWindow, now.Sub(p.first))
	if span <= 0 {
		return 0
	}
	return float64(len(p.accepted)-p.head) / span.Seconds()
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

package importer

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/term"
)

// progress says how far a run is: on a terminal, one line redrawn in place
// that fits the terminal's width; elsewhere (cron), a log line every
// StatsInterval, as rclone's --stats does. It is nil, and does nothing, when
// neither is wanted.
//
// The collector publishes the row counts (update); the bytes read, the
// requests and the retries are counters read as they are. A goroutine of
// its own draws, so that a run waiting on the provider still shows it.
type progress struct {
	out    io.Writer
	tty    bool          // a line redrawn in place, rather than log lines
	every  time.Duration // between two draws
	logger *slog.Logger  // stats lines

	mu     sync.Mutex
	counts Report // the collector's last published counts (only the counts are set)
	shown  bool   // a progress line is on the terminal, to clear before anything else is written
	began  time.Time
	meters func() meters
	window []reading // for rates: the samples of the last rateWindow

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// meters are the counters the progress reads without the collector.
type meters struct {
	read, size int64 // bytes of FILE read, and its size (-1 when unknown)
	rowsRead   int64 // rows that entered the pipeline
	readAll    bool  // all of them: the reader reached the end of the file
	requests   int64
	retries    int64
}

// reading is what rates are computed from.
type reading struct {
	at       time.Time
	rows     int
	requests int64
}

const (
	// drawEvery is how often the terminal line is redrawn.
	drawEvery = 200 * time.Millisecond
	// rateWindow is how far back rates look: long enough to smooth the
	// batches' bursts, short enough to follow the adaptive pace.
	rateWindow = 10 * time.Second
	// defaultWidth is assumed when the terminal does not say.
	defaultWidth = 80
)

// newProgress returns the progress the options ask for, or nil.
func newProgress(o Options) *progress {
	p := &progress{out: o.Stderr, logger: o.Logger, stop: make(chan struct{}), done: make(chan struct{})}
	switch {
	case o.Progress:
		p.tty, p.every = true, drawEvery
	case o.StatsInterval > 0:
		p.every = o.StatsInterval
	default:
		return nil
	}
	return p
}

// guard returns a logger whose lines first clear the progress line, which
// the next draw puts back: a log line never lands in the middle of it.
func (p *progress) guard(l *slog.Logger) *slog.Logger {
	if p == nil || !p.tty {
		return l
	}
	return slog.New(&clearingHandler{h: l.Handler(), p: p})
}

// start draws at once, then every p.every until finish.
func (p *progress) start(m func() meters) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.began, p.meters = time.Now(), m
	p.mu.Unlock()
	go func() {
		defer close(p.done)
		t := time.NewTicker(p.every)
		defer t.Stop()
		if p.tty {
			p.draw()
		}
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.draw()
			}
		}
	}()
}

// update publishes the collector's counts.
func (p *progress) update(r *Report) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.counts.Rows, p.counts.Added, p.counts.Updated = r.Rows, r.Added, r.Updated
	p.counts.Skipped, p.counts.Rejected, p.counts.Failed = r.Skipped, r.Rejected, r.Failed
	p.mu.Unlock()
}

// finish stops drawing and takes the line off the terminal: the summary
// follows. It may be called more than once, and before start.
func (p *progress) finish() {
	if p == nil {
		return
	}
	p.once.Do(func() {
		close(p.stop)
		p.mu.Lock()
		started := p.meters != nil
		p.mu.Unlock()
		if started {
			<-p.done
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		p.clear()
	})
}

// clear takes the progress line off the terminal; p.mu is held.
func (p *progress) clear() {
	if p.shown {
		io.WriteString(p.out, "\r\x1b[K")
		p.shown = false
	}
}

func (p *progress) draw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.snapshot(time.Now())
	if !p.tty {
		p.logger.Info("progress", s.attrs()...)
		return
	}
	fmt.Fprintf(p.out, "\r%s\x1b[K", s.line(terminalWidth(p.out)-1)) // the last column would wrap on some terminals
	p.shown = true
}

// terminalWidth is w's width in columns, or defaultWidth.
func terminalWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
			return cols
		}
	}
	return defaultWidth
}

// snapshot is what one draw shows; p.mu is held.
func (p *progress) snapshot(now time.Time) snapshot {
	m := p.meters()
	s := snapshot{counts: p.counts, meters: m, elapsed: now.Sub(p.began)}
	p.window = append(p.window, reading{at: now, rows: s.counts.Rows, requests: m.requests})
	for len(p.window) > 2 && now.Sub(p.window[1].at) >= rateWindow {
		p.window = p.window[1:]
	}
	first := reading{at: p.began}
	if len(p.window) > 1 {
		first = p.window[0]
	}
	if dt := now.Sub(first.at).Seconds(); dt > 0 {
		s.rowsPerSecond = float64(s.counts.Rows-first.rows) / dt
		s.requestsPerSecond = float64(m.requests-first.requests) / dt
	}
	return s
}

// snapshot is the state of the run at one draw.
type snapshot struct {
	counts            Report
	meters            meters
	elapsed           time.Duration
	rowsPerSecond     float64
	requestsPerSecond float64
}

// total estimates the rows of the file from the bytes read: the rows read
// so far, scaled by the part of the file they came from. Rows are counted
// when done, which lags the reading by what is in flight; an estimate from
// rows read, not bytes alone, keeps that lag out of the percentage (the
// reader's buffers, a few dozen KiB ahead, make it low on small files). It
// is exact once the reader reached the end, and unknown (0) without a size.
func (s snapshot) total() (rows int, exact bool) {
	m := s.meters
	switch {
	case m.readAll:
		return int(m.rowsRead), true
	case m.size < 0 || m.read <= 0 || m.rowsRead <= 0:
		return 0, false
	}
	return max(int(float64(m.rowsRead)*float64(m.size)/float64(m.read)), int(m.rowsRead)), false
}

// eta is the time left at the current pace, or -1 when it cannot be told.
func (s snapshot) eta() time.Duration {
	total, _ := s.total()
	if total == 0 || s.rowsPerSecond <= 0 {
		return -1
	}
	left := max(total-s.counts.Rows, 0)
	return time.Duration(float64(left) / s.rowsPerSecond * float64(time.Second))
}

// segment is one part of the progress line: kept by priority (lowest
// first) while the line fits, shown in order.
type segment struct {
	order, priority int
	text            string
}

// line renders the snapshot in at most width columns: the parts that do
// not fit are left out, least useful first.
func (s snapshot) line(width int) string {
	c := s.counts
	total, exact := s.total()
	var segs []segment
	add := func(order, priority int, text string) { segs = append(segs, segment{order, priority, text}) }
	if total > 0 {
		add(1, 0, fmt.Sprintf("%d%%", s.percent(total)))
		about := "~"
		if exact {
			about = ""
		}
		add(2, 1, fmt.Sprintf("%s/%s%s rows", count(c.Rows), about, count(total)))
		add(3, 7, fmt.Sprintf("%s of %s", bytesText(s.meters.read), bytesText(s.meters.size)))
	} else {
		add(2, 0, count(c.Rows)+" rows")
		add(3, 7, bytesText(s.meters.read)+" read")
	}
	add(4, 2, perSecond(s.rowsPerSecond)+" rows/s")
	add(5, 3, perSecond(s.requestsPerSecond)+" req/s")
	retries := fmt.Sprintf("%s retries", count(int(s.meters.retries)))
	if s.meters.retries == 1 {
		retries = "1 retry"
	}
	add(6, 4, retries)
	for i, o := range s.outcomes() {
		if o.n > 0 {
			add(7+i, 8+i, count(o.n)+" "+o.name)
		}
	}
	if eta := s.eta(); eta >= 0 {
		add(20, 1, "ETA "+duration(eta))
	} else {
		add(20, 5, duration(s.elapsed))
	}
	line := fit(segs, width)
	if total > 0 && width-utf8.RuneCountInString(line) > barWidth {
		line = bar(s.percent(total)) + " " + line
	}
	return line
}

// outcome is a count of rows by what became of them.
type outcome struct {
	n    int
	name string
}

func (s snapshot) outcomes() []outcome {
	c := s.counts
	return []outcome{{c.Added, "added"}, {c.Updated, "updated"}, {c.Skipped, "skipped"}, {c.Rejected, "rejected"}, {c.Failed, "failed"}}
}

// percent is the part of the total done.
func (s snapshot) percent(total int) int { return min(100, 100*s.counts.Rows/max(total, 1)) }

// fit keeps the segments of lowest priority whose texts, joined, fit in
// width columns, and joins them in order.
func fit(segs []segment, width int) string {
	const sep = " · "
	byPriority := make([]segment, len(segs))
	copy(byPriority, segs)
	for i := 1; i < len(byPriority); i++ { // a handful of segments: insertion sort keeps equal ones in order
		for j := i; j > 0 && byPriority[j].priority < byPriority[j-1].priority; j-- {
			byPriority[j], byPriority[j-1] = byPriority[j-1], byPriority[j]
		}
	}
	keep := map[int]bool{}
	used := 0
	for _, sg := range byPriority {
		w := utf8.RuneCountInString(sg.text)
		if used > 0 {
			w += utf8.RuneCountInString(sep)
		}
		if used+w > width {
			continue
		}
		used += w
		keep[sg.order] = true
	}
	var parts []string
	for _, sg := range segs {
		if keep[sg.order] {
			parts = append(parts, sg.text)
		}
	}
	return strings.Join(parts, sep)
}

// attrs is the snapshot as a stats log line's attributes.
func (s snapshot) attrs() []any {
	c := s.counts
	a := []any{"rows", c.Rows}
	if total, exact := s.total(); total > 0 {
		if exact {
			a = append(a, "of", total)
		} else {
			a = append(a, "of_about", total)
		}
		a = append(a, "percent", s.percent(total))
	}
	a = append(a, "rows_per_second", round(s.rowsPerSecond), "requests_per_second", round(s.requestsPerSecond),
		"retries", s.meters.retries)
	for _, o := range s.outcomes() {
		if o.n > 0 {
			a = append(a, o.name, o.n)
		}
	}
	a = append(a, "elapsed", duration(s.elapsed))
	if eta := s.eta(); eta >= 0 {
		a = append(a, "eta", duration(eta))
	}
	return a
}

func round(f float64) float64 {
	if f >= 10 {
		return float64(int(f + 0.5))
	}
	return float64(int(f*10+0.5)) / 10
}

// barWidth is the bar's width, brackets included; it is drawn only when
// everything else fits beside it.
const barWidth = 16

// bar draws pct in barWidth columns.
func bar(pct int) string {
	inner := barWidth - 2
	done := inner * pct / 100
	return "[" + strings.Repeat("=", done) + strings.Repeat(" ", inner-done) + "]"
}

// count writes n with thousands separators: 1,234,567.
func count(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return s
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func perSecond(r float64) string {
	if r >= 10 {
		return count(int(r + 0.5))
	}
	return strconv.FormatFloat(r, 'f', 1, 64)
}

// bytesText writes a size in decimal units: 27.1 MB.
func bytesText(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n)/unit, 0
	for v >= unit && i < 3 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %cB", v, "kMGT"[i])
}

// duration writes d compactly: 45s, 3m07s, 2h05m.
func duration(d time.Duration) string {
	secs := int(d.Round(time.Second) / time.Second)
	switch {
	case secs >= 3600:
		return fmt.Sprintf("%dh%02dm", secs/3600, secs%3600/60)
	case secs >= 60:
		return fmt.Sprintf("%dm%02ds", secs/60, secs%60)
	}
	return fmt.Sprintf("%ds", secs)
}

// clearingHandler clears the progress line before each log line.
type clearingHandler struct {
	h slog.Handler
	p *progress
}

func (c *clearingHandler) Enabled(ctx context.Context, l slog.Level) bool { return c.h.Enabled(ctx, l) }

func (c *clearingHandler) Handle(ctx context.Context, r slog.Record) error {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	c.p.clear()
	return c.h.Handle(ctx, r)
}

func (c *clearingHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return &clearingHandler{h: c.h.WithAttrs(a), p: c.p}
}

func (c *clearingHandler) WithGroup(name string) slog.Handler {
	return &clearingHandler{h: c.h.WithGroup(name), p: c.p}
}

// meters reads the run's counters for the progress.
func (r *run) meters() meters {
	m := meters{read: r.src.BytesRead(), size: r.src.Size(), rowsRead: r.rowsRead.Load(), readAll: r.readAll.Load(),
		retries: r.retries.Load()}
	if r.transport != nil {
		m.requests = r.transport.requests.Load()
	}
	return m
}

package importer

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress shows rows per second and the counts so far on a terminal. It is
// nil (and does nothing) when stderr is not a terminal or with --quiet.
type progress struct {
	bar  *progressbar.ProgressBar
	last time.Time
}

func newProgress(w io.Writer) *progress {
	return &progress{bar: progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("reading"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("rows"),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionClearOnFinish(),
	)}
}

// update moves the bar to the report's row count, at most five times a second.
func (p *progress) update(r *Report, force bool) {
	if p == nil {
		return
	}
	now := time.Now()
	if !force && now.Sub(p.last) < 200*time.Millisecond {
		return
	}
	p.last = now
	p.bar.Set(r.Rows)
	p.bar.Describe(fmt.Sprintf("added %d · updated %d · skipped %d · rejected %d · failed %d",
		r.Added, r.Updated, r.Skipped, r.Rejected, r.Failed))
}

func (p *progress) finish() {
	if p == nil {
		return
	}
	p.bar.Finish()
	p.bar.Exit()
}

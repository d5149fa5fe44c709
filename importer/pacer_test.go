package importer

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
)

func testPacer(rps float64, workers int, adaptive bool) (*pacer, *bytes.Buffer) {
	var logs bytes.Buffer
	return newPacer(rps, 1, workers, adaptive, slog.New(slog.NewTextHandler(&logs, nil))), &logs
}

// A 429 cuts the pace from what the provider accepted, and the window; the
// 429s of requests sent before the cut, or just after it, do not cut again.
func TestPacerCutsOnceFromTheAcceptedPace(t *testing.T) {
	p, logs := testPacer(20, 8, true)
	t0 := time.Now()
	p.first = t0.Add(-2 * time.Second)
	for i := range 10 { // 5 accepted a second over the last two seconds
		p.accepted = append(p.accepted, t0.Add(-time.Duration(i)*200*time.Millisecond))
	}
	logNow(p.slowDown(t0, t0))
	if want := 5 * paceCut; math.Abs(p.pace-want) > 0.01 || p.window != 8*paceCut {
		t.Fatalf("pace %.2f window %.2f, want %.2f and %.2f", p.pace, p.window, want, 8*paceCut)
	}
	if !strings.Contains(logs.String(), "pace lowered") || !strings.Contains(logs.String(), "requests_per_second=4.25") {
		t.Fatalf("the cut is not logged with its pace:\n%s", logs)
	}
	pace := p.pace
	p.slowDown(t0.Add(-time.Millisecond), t0.Add(time.Millisecond)) // sent before the cut
	p.slowDown(t0.Add(paceGrace/2), t0.Add(paceGrace))              // sent while the bucket was empty
	if p.pace != pace || p.cuts != 1 {
		t.Fatalf("cut again: pace %.2f after %d cuts", p.pace, p.cuts)
	}
	p.slowDown(t0.Add(2*paceGrace), t0.Add(3*paceGrace))
	if p.cuts != 2 {
		t.Fatalf("a 429 after the grace did not cut")
	}
}

// Successes raise the pace back, fast below the limit the provider showed,
// slowly near it, and never above --rate.
func TestPacerGrowsBackToTheCeiling(t *testing.T) {
	p, logs := testPacer(20, 8, true)
	t0 := time.Now()
	p.pace, p.limit, p.grown = 10, 16, t0
	p.speedUp(t0.Add(time.Second))
	if want := 10 * (1 + paceGrowth); math.Abs(p.pace-want) > 0.01 {
		t.Fatalf("pace %.3f after a second below the limit, want %.3f", p.pace, want)
	}
	p.pace, p.grown = 15.5, t0
	p.speedUp(t0.Add(time.Second))
	if p.pace > 15.5*(1+paceProbe)+paceFloor {
		t.Fatalf("pace %.3f: it grew fast near the provider's limit", p.pace)
	}
	for i := 2; p.pace < 20 && i < 10000; i++ {
		logNow(p.speedUp(t0.Add(time.Duration(i) * time.Second)))
	}
	if p.pace != 20 || !strings.Contains(logs.String(), "pace back to its ceiling") {
		t.Fatalf("pace %.2f, want the ceiling 20\n%s", p.pace, logs)
	}
	p.speedUp(t0.Add(time.Hour))
	if p.pace != 20 {
		t.Fatalf("pace %.2f above --rate", p.pace)
	}
}

// --adaptive=false keeps the pace and the window whatever the answers.
func TestFixedPaceIgnoresAnswers(t *testing.T) {
	p, _ := testPacer(20, 8, false)
	for range 3 {
		start, err := p.wait(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		p.done(start, &http.Response{StatusCode: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"1"}}}, nil)
	}
	if p.pace != 20 || p.window != 8 || p.cuts != 0 {
		t.Fatalf("pace %.2f window %.2f cuts %d", p.pace, p.window, p.cuts)
	}
}

// The window holds requests beyond it until one ends; an interrupt ends the
// wait.
func TestPacerWindow(t *testing.T) {
	p, _ := testPacer(0, 2, true)
	p.window = 1
	first, err := p.wait(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		_, err := p.wait(context.Background())
		got <- err
	}()
	select {
	case <-got:
		t.Fatal("a request went past a full window")
	case <-time.After(20 * time.Millisecond):
	}
	p.done(first, &http.Response{StatusCode: http.StatusOK}, nil)
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled wait: %v", err)
	}
}

// logNow writes the log line a change of pace returns, as done does once
// it has let go of the lock.
func logNow(log func()) {
	if log != nil {
		log()
	}
}

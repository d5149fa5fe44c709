package importer

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The progress line never exceeds the width it is given, and keeps what
// matters most when it must leave parts out.
func TestProgressLineFits(t *testing.T) {
	mid := snapshot{counts: Report{Rows: 120345, Added: 118000, Skipped: 2000, Rejected: 345},
		meters:  meters{read: 12_300_000, size: 27_100_000, rowsRead: 130000, requests: 603, retries: 2},
		elapsed: 15 * time.Second, rowsPerSecond: 8123.4, requestsPerSecond: 40.2}
	pipe := mid
	pipe.meters.size = -1
	done := mid
	done.meters.read, done.meters.rowsRead, done.meters.readAll = done.meters.size, 267000, true
	buffered := mid // every byte read, not every row parsed yet
	buffered.meters.read = buffered.meters.size
	tests := []struct {
		name  string
		s     snapshot
		width int
		want  []string // in the line, in this order
		not   []string
	}{
		{"80 columns", mid, 79, []string{"42%", "120,345/~286,422 rows", "8,123 rows/s", "40 req/s", "2 retries", "ETA 20s"}, []string{"MB", "["}},
		{"120 columns", mid, 119, []string{"42%", "12.3 MB of 27.1 MB", "118,000 added", "ETA 20s"}, []string{"["}},
		{"180 columns", mid, 179, []string{"[=====", "42%", "118,000 added", "2,000 skipped", "345 rejected", "ETA 20s"}, nil},
		{"40 columns: the percentage, the rows and the ETA", mid, 39, []string{"42%", "rows", "ETA 20s"}, []string{"req/s"}},
		{"20 columns", mid, 19, []string{"42%", "ETA 20s"}, nil},
		{"the file read: the total is exact", done, 79, []string{"45%", "120,345/267,000 rows"}, []string{"~"}},
		{"the file read into buffers, not to its end: still an estimate", buffered, 79, []string{"120,345/~130,000 rows"}, nil},
		{"no size: no percentage, no ETA, the time so far", pipe, 79, []string{"120,345 rows", "8,123 rows/s", "15s"}, []string{"%", "ETA", "~"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := tt.s.line(tt.width)
			if n := utf8.RuneCountInString(line); n > tt.width {
				t.Errorf("%d columns, more than %d: %s", n, tt.width, line)
			}
			at := 0
			for _, w := range tt.want {
				i := strings.Index(line[at:], w)
				if i < 0 {
					t.Fatalf("%q not in order in %q", w, line)
				}
				at += i + len(w)
			}
			for _, w := range tt.not {
				if strings.Contains(line, w) {
					t.Errorf("%q in %q", w, line)
				}
			}
		})
	}
}

// For cron, the stats line is one log line with the same figures.
func TestStatsLine(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(Options{StatsInterval: time.Hour, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	p.began = time.Now().Add(-10 * time.Second)
	p.meters = func() meters { return meters{read: 500, size: 1000, rowsRead: 50, requests: 4, retries: 1} }
	p.update(&Report{Rows: 40, Added: 38, Rejected: 2})
	p.draw()
	got := buf.String()
	for _, want := range []string{"msg=progress rows=40 of_about=100 percent=40 rows_per_second=4 requests_per_second=0.4 retries=1 added=38 rejected=2 elapsed=10s eta=15s"} {
		if !strings.Contains(got, want) {
			t.Errorf("stats line\n%s\nwant\n%s", got, want)
		}
	}
	if strings.Contains(got, "\r") || strings.Contains(got, "\x1b") {
		t.Errorf("terminal codes in a stats line: %q", got)
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0s", 59 * time.Second: "59s", 61 * time.Second: "1m01s",
		2*time.Hour + 5*time.Minute + 40*time.Second: "2h05m"} {
		if got := duration(d); got != want {
			t.Errorf("duration(%v) = %s, want %s", d, got, want)
		}
	}
}

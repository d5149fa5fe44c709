package main

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"contactsync/providers"
)

// For cron (stderr not a terminal), a stats line every --stats-interval
// says how far the run is; 0 and --quiet turn it off.
func TestStatsLines(t *testing.T) {
	s := subjectNamed(t, "octopush")
	tests := []struct {
		name  string
		flags []string
		want  bool
	}{
		{"every 10ms", []string{"--stats-interval", "10ms"}, true},
		{"off", []string{"--stats-interval", "0"}, false},
		{"quiet", []string{"--stats-interval", "10ms", "--quiet"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := make(chan struct{})
			// The second request waits for a stats line (or, when none is
			// due, for the run's other lines to be read): a stats line is
			// then due whatever the machine's speed.
			hold := countRequests(2, func() {
				if !tt.want {
					return
				}
				select {
				case <-seen:
				case <-time.After(time.Minute):
					t.Error("no stats line in a minute")
				}
			})
			srv := s.serve(t, providers.SandboxOptions{}, hold)
			file := s.file(t, 500, nil, nil)
			args := append([]string{"import", file, "--provider", s.name, "--list", s.list, "--region", s.region,
				"--endpoint", srv.url, "--state", "none", "--rate", "0", "--workers", "1", "--batch-size", "100"}, tt.flags...)
			cmd := exec.Command(os.Args[0], args...)
			cmd.Env = append(os.Environ(), "CONTACTSYNC_RUN_MAIN=1")
			for k, v := range srv.sb.Credentials() {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var stats []string
			lines := bufio.NewScanner(stderr)
			for lines.Scan() {
				if strings.Contains(lines.Text(), "msg=progress") {
					if len(stats) == 0 {
						close(seen)
					}
					stats = append(stats, lines.Text())
				}
			}
			if err := cmd.Wait(); err != nil {
				t.Fatal(err)
			}
			if !tt.want {
				if len(stats) > 0 {
					t.Fatalf("stats lines:\n%s", strings.Join(stats, "\n"))
				}
				return
			}
			if len(stats) == 0 {
				t.Fatal("no stats line")
			}
			for _, want := range []string{"level=INFO msg=progress rows=", " of=500 percent=", " rows_per_second=", " requests_per_second=", " retries=0", " elapsed="} {
				if !strings.Contains(stats[0], want) {
					t.Errorf("stats line without %q:\n%s", want, stats[0])
				}
			}
		})
	}
}

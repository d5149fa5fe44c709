package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"contactsync/providers"
	"contactsync/providers/octopush"
)

// measurePacing runs imports against an emulator that enforces a rate limit
// the tool is not told, and reports the pace of accepted requests and the
// share refused with 429; then the same without a server limit, where the
// pace must stay at --rate.
func measurePacing(bin, dir string) {
	for _, c := range []struct {
		server   float64 // the emulator's limit, requests/s; 0: none
		ceiling  int     // --rate
		requests int
		extra    []string
	}{
		{5, 20, 600, nil},
		{50, 100, 3000, nil},
		{0, 20, 300, nil},
		{5, 20, 200, []string{"--adaptive=false"}},
	} {
		em := octopush.NewEmulator(providers.SandboxOptions{Faults: providers.Faults{ServerRate: c.server, Latency: 20 * time.Millisecond}})
		var mu sync.Mutex
		var accepted []time.Time
		refused := 0
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
			em.ServeHTTP(rec, r)
			mu.Lock()
			defer mu.Unlock()
			if rec.status == http.StatusTooManyRequests {
				refused++
			} else {
				accepted = append(accepted, time.Now())
			}
		}))
		file := filepath.Join(dir, fmt.Sprintf("pacing-%d.csv", c.requests))
		if _, err := os.Stat(file); err != nil {
			check(writeFile(file, c.requests, 11))
		}
		args := append([]string{"import", file, "--provider", "octopush", "--list", "bench", "--region", "FR", "--quiet", "--state", "none",
			"--endpoint", srv.URL, "--batch-size", "1", "--rate", fmt.Sprint(c.ceiling), "--retries", "20", "--log-format", "json"}, c.extra...)
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "OCTOPUSH_API_LOGIN="+octopush.SandboxLogin, "OCTOPUSH_API_KEY="+octopush.SandboxKey)
		if err := cmd.Run(); err != nil && cmd.ProcessState.ExitCode() != 1 {
			check(err)
		}
		srv.Close()
		if len(accepted) < 2 {
			check(fmt.Errorf("the pacing run had %d requests accepted", len(accepted)))
		}
		span := accepted[len(accepted)-1].Sub(accepted[0]).Seconds()
		achieved := float64(len(accepted)-1) / span
		name := fmt.Sprintf("server allows %g/s, --rate %d", c.server, c.ceiling)
		if c.server == 0 {
			name = fmt.Sprintf("no server limit, --rate %d", c.ceiling)
		}
		if len(c.extra) > 0 {
			name += " " + c.extra[0]
		}
		limit := c.server
		if limit == 0 {
			limit = float64(c.ceiling)
		}
		fmt.Printf("%-46s %5d accepted, %.2f/s accepted (%.0f%% of %g), %d refused with 429 (%.1f%% of requests)\n",
			name, len(accepted), achieved, 100*achieved/limit, limit, refused, 100*float64(refused)/float64(refused+len(accepted)))
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

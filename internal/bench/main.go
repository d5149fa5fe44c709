// Command bench measures contactsync as a user runs it: the real binary on
// generated files, for a dry run and a sandbox import (rows/s, peak RSS),
// the request rate it achieves with --rate against a slow server, peak RSS
// on hostile input (rows close to the 1 MiB row limit, listings of 100 MB
// read before sending), and on other sources: a 200,000-row .xlsx workbook,
// the large file gzip-compressed and downloaded from a URL.
//
//	go run ./internal/bench [-rows 1000000] [-small 100000] [-only wide,listing,xlsx,sources]
//	go run ./internal/bench -gen FILE -rows N   # only write a file
//	go run ./internal/bench -gen-xlsx FILE.xlsx -from FILE.csv
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"contactsync/internal/gencsv"
	"contactsync/internal/pgtest"
	"contactsync/providers"
	"contactsync/providers/octopush"
)

func main() {
	bin := flag.String("bin", "bin/contactsync", "the contactsync binary to measure")
	rows := flag.Int("rows", 1_000_000, "rows of the large file")
	small := flag.Int("small", 100_000, "rows of the small file (memory growth is measured between the two)")
	dir := flag.String("dir", "out/bench", "where generated files go")
	gen := flag.String("gen", "", "only write a file of -rows rows to this path")
	genXLSX := flag.String("gen-xlsx", "", "only write the rows of the CSV file -from to this .xlsx path")
	from := flag.String("from", "", "with -gen-xlsx: the CSV file")
	seed := flag.Uint64("seed", 1, "generator seed")
	skipRate := flag.Bool("skip-rate", false, "skip the --rate measurement (it takes about 15 s)")
	serve := flag.String("serve", "", "only serve an Octopush emulator on this address (used by the harness itself)")
	latency := flag.Duration("latency", 0, "with -serve: the emulator's latency")
	only := flag.String("only", "", "run only these measurements, comma-separated: rows (dry run, imports, state), rate, pacing, wide, listing, xlsx, sources")
	xlsxRows := flag.Int("xlsx-rows", 200_000, "rows of the .xlsx workbook")
	listingMB := flag.Int("listing-mb", 100, "size of the listings of the listing measurement, in MB")
	flag.Parse()
	runs := func(name string) bool { return *only == "" || slices.Contains(strings.Split(*only, ","), name) }

	if *serve != "" {
		check(http.ListenAndServe(*serve, octopush.NewEmulator(providers.SandboxOptions{Faults: providers.Faults{Latency: *latency}})))
		return
	}

	if *gen != "" {
		check(writeFile(*gen, *rows, *seed))
		return
	}
	if *genXLSX != "" {
		check(writeWorkbook(*genXLSX, *from))
		return
	}
	check(os.MkdirAll(*dir, 0o755))
	fmt.Printf("%-34s %10s %12s %10s %10s\n", "run", "rows", "rows/s", "wall", "peak RSS")
	if runs("rows") {
		measureRows(*bin, *dir, *rows, *small, *seed)
	}
	if runs("wide") {
		measureWide(*bin, *dir)
	}
	if runs("listing") {
		measureListings(*bin, *dir, *listingMB<<20)
	}
	if runs("xlsx") {
		measureWorkbook(*bin, *dir, *xlsxRows, *seed)
	}
	if runs("sources") {
		measureSources(*bin, *dir, *rows, *seed)
	}
	if runs("rate") && !*skipRate {
		measureRate(*bin, *dir)
	}
	if runs("pacing") {
		measurePacing(*bin, *dir)
	}
}

// measureRows measures the dry run on two sizes of file, a sandbox import
// and imports with and without a state file.
func measureRows(bin, dir string, rows, small int, seed uint64) {
	smallFile := filepath.Join(dir, fmt.Sprintf("contacts-%d.csv", small))
	largeFile := filepath.Join(dir, fmt.Sprintf("contacts-%d.csv", rows))
	for path, n := range map[string]int{smallFile: small, largeFile: rows} {
		if _, err := os.Stat(path); err != nil {
			check(writeFile(path, n, seed))
		}
	}
	dsmall := measure(bin, dir, "dry run", smallFile, "--dry-run")
	dlarge := measure(bin, dir, "dry run", largeFile, "--dry-run")
	fmt.Printf("%-34s %+9.1f MB from %d to %d rows\n", "dry run peak RSS growth", float64(dlarge.rssKB-dsmall.rssKB)/1024, small, rows)
	imp := measure(bin, dir, "sandbox import, --rate 0", largeFile, "--sandbox", "--rate", "0")
	fmt.Printf("%-34s %10d contacts sent, %.0f contacts/s, %d requests\n", "sandbox import", imp.sent, float64(imp.sent)/imp.wall.Seconds(), imp.requests)
	measureState(bin, dir, largeFile, dlarge)
}

type result struct {
	wall     time.Duration
	rssKB    int64
	sent     int
	requests int
}

// measure runs the binary on file and reports wall time and peak RSS.
func measure(bin, dir, name, file string, extra ...string) result {
	return measureEnv(bin, dir, name, file, nil, extra...)
}

func measureEnv(bin, dir, name, file string, env []string, extra ...string) result {
	report := filepath.Join(dir, "report.json")
	args := append([]string{"import", file, "--provider", "octopush", "--list", "bench", "--region", "FR", "--quiet", "--report", report, "--state", "none"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if code := cmd.ProcessState.ExitCode(); err != nil && code != 1 {
		check(fmt.Errorf("%s %v: %w", bin, args, err))
	}
	var rep struct {
		Rows, Added, Updated int
		Requests             int
	}
	data, err := os.ReadFile(report)
	check(err)
	check(json.Unmarshal(data, &rep))
	rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
	fmt.Printf("%-34s %10d %12.0f %9.2fs %7.1f MB\n", name+" "+filepath.Base(file), rep.Rows, float64(rep.Rows)/wall.Seconds(), wall.Seconds(), float64(rss)/1024)
	return result{wall: wall, rssKB: rss, sent: rep.Added + rep.Updated, requests: rep.Requests}
}

// measureState imports the large file with a state file against an
// emulator in this process (as a real provider is in another one), then
// runs the unchanged file again: that rerun must send nothing and run at
// least at half the dry run's rate.
func measureState(bin, dir, file string, dry result) {
	url, stop := emulatorProcess(0)
	defer stop()
	env := []string{"OCTOPUSH_API_LOGIN=" + octopush.SandboxLogin, "OCTOPUSH_API_KEY=" + octopush.SandboxKey}
	plain := measureEnv(bin, dir, "import without state, --rate 0", file, env, "--endpoint", url, "--rate", "0", "--list", "bench-plain")
	fmt.Printf("%-34s %10d contacts sent, %.0f contacts/s\n", "import without state", plain.sent, float64(plain.sent)/plain.wall.Seconds())

	state := filepath.Join(dir, "state.db")
	os.Remove(state)
	os.RemoveAll(state + ".d")
	bolt := measureStateAt(bin, dir, file, url, env, dry, "bbolt", state, "bench")

	// The same against a local PostgreSQL of its own, beside bbolt's.
	pg, stopPG, err := pgtest.Start()
	if err != nil {
		fmt.Printf("%-34s skipped: %v\n", "PostgreSQL state", err)
		return
	}
	defer stopPG()
	pgr := measureStateAt(bin, dir, file, url, env, dry, "PostgreSQL", pg, "bench-pg")
	fmt.Printf("%-34s import %.0f%% of bbolt's rate, unchanged rerun %.0f%%\n", "PostgreSQL state",
		100*bolt.first.wall.Seconds()/pgr.first.wall.Seconds(), 100*bolt.again.wall.Seconds()/pgr.again.wall.Seconds())
}

type stateRuns struct{ first, again result }

// measureStateAt imports the file into list with the state at state, then
// runs again on the unchanged file.
func measureStateAt(bin, dir, file, url string, env []string, dry result, name, state, list string) stateRuns {
	args := []string{"--endpoint", url, "--rate", "0", "--state", state, "--list", list}
	first := measureEnv(bin, dir, "import with "+name+" state", file, env, args...)
	fmt.Printf("%-34s %10d contacts sent, %.0f contacts/s, %d requests\n", "import with "+name+" state", first.sent, float64(first.sent)/first.wall.Seconds(), first.requests)
	again := measureEnv(bin, dir, "unchanged rerun, "+name, file, env, args...)
	fmt.Printf("%-34s %d requests, %.0f%% of the dry run's rate\n", "unchanged rerun, "+name, again.requests, 100*dry.wall.Seconds()/again.wall.Seconds())
	return stateRuns{first, again}
}

// emulatorProcess serves an Octopush emulator from a child process. A child's
// peak RSS counts the pages it shared with its parent before exec, so the
// harness must stay small: the emulator, which grows with every contact it
// stores, runs apart.
func emulatorProcess(latency time.Duration) (url string, stop func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	addr := ln.Addr().String()
	ln.Close()
	self, err := os.Executable()
	check(err)
	cmd := exec.Command(self, "-serve", addr, "-latency", latency.String())
	cmd.Stderr = os.Stderr
	check(cmd.Start())
	for range 100 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "http://" + addr, func() { cmd.Process.Kill(); cmd.Wait() }
}

// measureRate runs an import paced at 20 requests/s against a server that
// answers in 200 ms, and reports the achieved rate and the most requests
// seen in any one-second window.
func measureRate(bin, dir string) {
	const rate, burst, latency, requests = 20, 5, 200 * time.Millisecond, 300
	em := octopush.NewEmulator(providers.SandboxOptions{Faults: providers.Faults{Latency: latency}})
	var mu sync.Mutex
	var times []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
		em.ServeHTTP(w, r)
	}))
	defer srv.Close()
	file := filepath.Join(dir, "rate.csv")
	check(writeFile(file, requests, 7))
	cmd := exec.Command(bin, "import", file, "--provider", "octopush", "--list", "bench", "--region", "FR", "--quiet", "--state", "none",
		"--endpoint", srv.URL, "--batch-size", "1", "--rate", fmt.Sprint(rate), "--burst", fmt.Sprint(burst))
	cmd.Env = append(os.Environ(), "OCTOPUSH_API_LOGIN="+octopush.SandboxLogin, "OCTOPUSH_API_KEY="+octopush.SandboxKey)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil && cmd.ProcessState.ExitCode() != 1 {
		check(err)
	}
	if len(times) < 2 {
		check(fmt.Errorf("the --rate run sent %d requests", len(times)))
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	span := times[len(times)-1].Sub(times[0]).Seconds()
	peak := 0
	for i := range times {
		n := sort.Search(len(times), func(j int) bool { return !times[j].Before(times[i].Add(time.Second)) }) - i
		peak = max(peak, n)
	}
	achieved := float64(len(times)-1) / span
	fmt.Printf("%-34s %d requests, %.2f requests/s (%.1f%% of %d), at most %d in any second (limit %d)\n",
		fmt.Sprintf("--rate %d, server latency %v", rate, latency), len(times), achieved, 100*achieved/rate, rate, peak, rate+burst)
}

func writeFile(path string, rows int, seed uint64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := gencsv.Write(f, rows, seed); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

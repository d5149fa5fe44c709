//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"contactsync/providers"
)

// openPTY opens a pseudo-terminal of cols columns: the program writes to
// its terminal side, the test reads the other.
func openPTY(t *testing.T, cols uint16) (master, terminal *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil { // unlockpt
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN) // ptsname
	if err != nil {
		t.Fatal(err)
	}
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: cols}); err != nil {
		t.Fatal(err)
	}
	return m, tty
}

// screen collects what the program writes to its terminal, and says when
// it first wrote something.
type screen struct {
	mu    sync.Mutex
	out   []byte
	want  string
	seen  chan struct{}
	once  sync.Once
	ended chan struct{}
}

func (s *screen) read(master *os.File) {
	defer close(s.ended)
	buf := make([]byte, 4096)
	for {
		n, err := master.Read(buf)
		s.mu.Lock()
		s.out = append(s.out, buf[:n]...)
		if strings.Contains(string(s.out), s.want) {
			s.once.Do(func() { close(s.seen) })
		}
		s.mu.Unlock()
		if err != nil {
			return // EIO once the program, the last holder of its terminal, exited
		}
	}
}

var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;?]*[A-Za-z]")

// lines splits what a terminal shows into the lines it draws: a carriage
// return starts the line again, as the progress line's redraws do.
func lines(out []byte) []string {
	return regexp.MustCompile("[\r\n]+").Split(ansiEscape.ReplaceAllString(string(out), ""), -1)
}

// The progress line fits the terminal: nothing written to a terminal of 80
// columns (or 120) is as wide, and the line says how far the run is. The
// summary on the terminal is not followed by the summary log line, even
// with JSON logs.
func TestProgressFitsTheTerminal(t *testing.T) {
	s := subjectNamed(t, "octopush")
	for _, tt := range []struct {
		cols  uint16
		flags []string
	}{{80, nil}, {120, nil}, {80, []string{"--log-format", "json"}}} {
		cols := tt.cols
		t.Run(fmt.Sprint(cols, tt.flags), func(t *testing.T) {
			sc := &screen{want: " added", seen: make(chan struct{}), ended: make(chan struct{})}
			// The second request waits until the terminal shows a line with
			// the first batch's contacts added: a progress line, drawn while
			// the run goes on.
			hold := countRequests(2, func() {
				select {
				case <-sc.seen:
				case <-time.After(time.Minute):
					t.Error("no progress line with the contacts added in a minute")
				}
			})
			srv := s.serve(t, providers.SandboxOptions{}, hold)
			file := s.file(t, 2000, nil, nil)
			master, tty := openPTY(t, cols)
			cmd := exec.Command(os.Args[0], "import", file, "--provider", s.name, "--list", s.list, "--region", s.region,
				"--endpoint", srv.url, "--state", "none", "--rate", "0", "--workers", "1", "--batch-size", "100")
			cmd.Args = append(cmd.Args, tt.flags...)
			cmd.Env = append(os.Environ(), "CONTACTSYNC_RUN_MAIN=1")
			for k, v := range srv.sb.Credentials() {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			cmd.Stdout, cmd.Stderr = tty, tty
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			tty.Close() // the program holds its terminal alone: its exit ends the reads
			go sc.read(master)
			err := cmd.Wait()
			<-sc.ended
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				t.Fatal(err)
			}
			shown := ""
			for _, l := range lines(sc.out) {
				// A line as wide as the terminal wraps on some of them (the
				// cursor moves past the last column), and each redraw adds a line.
				if n := utf8.RuneCountInString(l); n >= int(cols) {
					t.Errorf("a line of %d columns on a terminal of %d:\n%s", n, cols, l)
				}
				if strings.Contains(l, "%") && strings.Contains(l, "rows/s") && strings.Contains(l, "ETA") && strings.Contains(l, " added") {
					shown = l
				}
			}
			if shown == "" {
				t.Fatalf("no progress line with a percentage, a rate, an ETA and the rows added:\n%q", sc.out)
			}
			t.Logf("progress line, %d columns:\n%s", utf8.RuneCountInString(shown), shown)
			if strings.Contains(string(sc.out), "summary") || !strings.Contains(string(sc.out), "2,000 added of 2,000 rows") {
				t.Errorf("not the summary alone:\n%s", sc.out)
			}
			if cmd.ProcessState.ExitCode() != exitOK {
				t.Fatalf("exit %d:\n%s", cmd.ProcessState.ExitCode(), sc.out)
			}
		})
	}
}

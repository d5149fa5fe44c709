package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"contactsync/providers"
)

// The real binary refuses an output that names the input, before a request:
// the input given as a path, or redirected to the standard input.
func TestOutputOverInputRefused(t *testing.T) {
	s := subjects[0]
	srv := s.serve(t, providers.SandboxOptions{}, nil)
	file := s.file(t, 5, nil, nil)
	content, _ := os.ReadFile(file)
	for _, tt := range []struct {
		name  string
		args  []string
		stdin bool
	}{
		{"report over the input", []string{"import", file, "--report", file}, false},
		{"rejects over the input, read from the standard input", []string{"import", "-", "--rejects", file}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], append(tt.args, "--provider", s.name, "--list", s.list, "--region", s.region,
				"--endpoint", srv.url, "--state", "none")...)
			cmd.Env = append(os.Environ(), "CONTACTSYNC_RUN_MAIN=1", "XDG_STATE_HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir())
			for k, v := range srv.sb.Credentials() {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			if tt.stdin {
				f, err := os.Open(file)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				cmd.Stdin = f
			}
			out, _ := cmd.CombinedOutput()
			if code := cmd.ProcessState.ExitCode(); code != exitUsage || !strings.Contains(string(out), "would overwrite it") {
				t.Fatalf("exit %d\n%s", code, out)
			}
			if after, _ := os.ReadFile(file); !bytes.Equal(after, content) || srv.sb.Requests() != 0 {
				t.Fatalf("the input changed, or %d requests were sent", srv.sb.Requests())
			}
		})
	}
}

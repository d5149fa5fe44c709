package importer_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"contactsync/importer"
	"contactsync/providers"
)

// --max-streak stops a run only when the provider refuses contact after
// contact for one reason, none accepted between; rows contactsync rejects
// itself never count.
func TestMaxStreak(t *testing.T) {
	const rows = 60
	number := func(i int) string { return fmt.Sprintf("+336%08d", 10000000+i) }
	every := func(keep func(int) bool) []string {
		var out []string
		for i := range rows {
			if keep(i) {
				out = append(out, number(i))
			}
		}
		return out
	}
	tests := []struct {
		name    string
		refused []string
		invalid int // rows whose number contactsync rejects itself, first in the file
		streak  int
		stops   bool
	}{
		{"every contact refused", every(func(int) bool { return true }), 0, 10, true},
		{"every other contact refused", every(func(i int) bool { return i%2 == 0 }), 0, 10, false},
		{"a streak one short", every(func(i int) bool { return i < 9 }), 0, 10, false},
		{"a streak of the limit", every(func(i int) bool { return i >= 20 && i < 30 }), 0, 10, true},
		{"rows rejected before sending", nil, 30, 10, false},
		{"no limit", every(func(int) bool { return true }), 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			b.WriteString("first name,mobile\n")
			for i := range tt.invalid {
				fmt.Fprintf(&b, "Bad%d,12%d\n", i, i)
			}
			for i := range rows {
				fmt.Fprintf(&b, "N%d,%s\n", i, number(i))
			}
			e := newEnv(t, providers.SandboxOptions{RefusePhones: tt.refused}, nil)
			opts := e.options(writeFile(t, "contacts.csv", b.String()))
			opts.BatchSize, opts.Workers, opts.MaxStreak = 1, 1, tt.streak
			rep, err := importer.Run(context.Background(), opts)
			var fatal *importer.FatalError
			if stopped := errors.As(err, &fatal); stopped != tt.stops {
				t.Fatalf("err %v, want a stop: %v", err, tt.stops)
			}
			if !rep.Balanced() || rep.Rows != rows+tt.invalid {
				t.Fatalf("report %+v", rep)
			}
			if tt.stops && (rep.Stopped != "aborted" || !strings.Contains(err.Error(), fmt.Sprintf("last %d contacts in a row (invalid_phone)", tt.streak))) {
				t.Errorf("stopped %q: %v", rep.Stopped, err)
			}
			if !tt.stops && rep.Rejected != len(tt.refused)+tt.invalid {
				t.Errorf("rejected %d, want %d", rep.Rejected, len(tt.refused)+tt.invalid)
			}
		})
	}
}

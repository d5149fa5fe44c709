package importer

import (
	"errors"
	"fmt"

	"contactsync/state"
)

// UsageError is a problem with the command line, the configuration or the
// input file, found before anything was sent (exit code 2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// FatalError stopped the run: the provider refused something no other
// request can get past (credentials, credit, unknown list), or too many rows
// failed (exit code 3).
type FatalError struct {
	Provider string
	Err      error
}

func (e *FatalError) Error() string {
	return fmt.Sprintf("%s: %v; the run was stopped", e.Provider, e.Err)
}
func (e *FatalError) Unwrap() error { return e.Err }

// ErrInterrupted is returned when a signal stopped the run (exit code 130).
// What the provider confirmed is in the report.
var ErrInterrupted = errors.New("interrupted: confirmed rows are in the report; run the same command again to carry on")

// errInterruptedOpening is ErrInterrupted for a run stopped while it opened
// the list: no row was sent, so none was confirmed.
var errInterruptedOpening error = &interruptedError{msg: "interrupted while opening the list, before any row was sent; run the same command again"}

// interruptedError is ErrInterrupted (to errors.Is) with its own message.
type interruptedError struct{ msg string }

func (e *interruptedError) Error() string        { return e.msg }
func (e *interruptedError) Is(target error) bool { return target == ErrInterrupted }

// StateError stopped the run: the state could not be read or written,
// and carrying on would send rows again or forget what was sent (exit code 3).
type StateError struct{ Err error }

func (e *StateError) Error() string {
	var de *state.DamagedStateError
	if errors.As(e.Err, &de) {
		return e.Err.Error() + "; the run was stopped (the report says which rows the provider confirmed)"
	}
	return e.Err.Error() + "; the run was stopped so that the state stays true (what was confirmed before is kept)"
}
func (e *StateError) Unwrap() error { return e.Err }

// SourceError is a file that could not be read to its end once rows were
// sent (a download that broke off and could not be resumed): the rows read
// before stand, the rest were never read (exit code 3).
type SourceError struct{ Err error }

func (e *SourceError) Error() string {
	return e.Err.Error() + "; the run was stopped: the rows read before were sent (the report says which), the rest of the file was not read; run the same command again once the file can be read"
}
func (e *SourceError) Unwrap() error { return e.Err }

// OutputError is a file of the run's own (the rejects file, the plan) that
// could not be written once rows were sent. Part-way, it stops the run
// (Report.Stopped is set: exit code 3); when the run ends, the rows' own
// outcome stands and the message says which file is missing or incomplete.
type OutputError struct {
	File string // "the rejects file report.csv"
	Err  error
}

func (e *OutputError) Error() string {
	return fmt.Sprintf("%s could not be written: %v", e.File, e.Err)
}
func (e *OutputError) Unwrap() error { return e.Err }

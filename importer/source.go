package importer

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"time"

	"contactsync/mapping"
	"contactsync/providers"
	"contactsync/source"
	"contactsync/state"
)

// openFile opens FILE and its reader: the CSV text, or a workbook's sheet.
// A download is conditional when the state holds the validators of the last
// complete run over the same URL with the same settings; when the server
// answers that the file did not change, r.unchanged is set and there is no
// reader.
func (r *run) openFile() error {
	name, secrets := source.NameOf(r.opts.File)
	r.secrets = append(r.secrets, secrets...)
	r.report.File = name
	if source.IsURL(r.opts.File) {
		r.url = true
		// Once, before the mapping is read for the run: the settings the
		// next run compares are those this one used, even were the mapping
		// file edited while it ran.
		r.settings = r.sourceSettings()
	} else if r.opts.File != "-" {
		r.report.File = filepath.Base(r.opts.File)
	}
	o := source.Options{Stdin: r.opts.Stdin, Timeout: r.opts.RequestTimeout, Retry: r.retrySource}
	if r.conditional() {
		var err error
		if o.Validators, err = r.downloadValidators(); err != nil {
			return &StateError{Err: err}
		}
	}
	// The caller's context: an interrupt stops a download at once, as it
	// changes nothing anywhere.
	src, err := source.Open(r.ctx, r.opts.File, o)
	switch {
	case errors.Is(err, source.ErrNotModified):
		r.unchanged = true
		r.report.Source = name
		return nil
	case err != nil && r.ctx.Err() != nil:
		return ErrInterrupted
	case err != nil:
		// The source's messages name a URL without its secrets.
		return usagef("cannot read the input: %w", err)
	}
	r.src = src
	if book := src.Workbook(); book != nil {
		r.reader, r.sheet, err = r.openSheet(book)
		r.report.Source = src.Describe(r.sheet)
		return err
	}
	r.report.Source = src.Describe("")
	if r.opts.Sheet != "" {
		return usagef("--sheet %s: %s is not a workbook (it is read as CSV text)", r.opts.Sheet, src.Name)
	}
	r.reader, err = mapping.NewReader(src.Text(), mapping.ReaderOptions{Delimiter: r.opts.Delimiter, Encoding: r.opts.Encoding})
	if err != nil {
		return usagef("%s: %w", src.Name, err)
	}
	r.report.Encoding, r.report.Delimiter = r.reader.Encoding(), delimiterName(r.reader.Delimiter())
	return nil
}

// conditional says whether FILE is downloaded only if it changed: a URL,
// with a state to remember the last download by, in a run that sends.
func (r *run) conditional() bool {
	return r.url && r.state != nil && !r.opts.DryRun && !r.opts.Full
}

// openSheet opens the sheet --sheet names, else the first whose header names
// a phone column (a workbook often opens with a notes or summary sheet).
func (r *run) openSheet(book *source.Workbook) (*mapping.Reader, string, error) {
	if r.opts.Sheet != "" {
		name, err := book.Find(r.opts.Sheet)
		if err != nil {
			return nil, "", &UsageError{Err: err}
		}
		rd, err := r.readSheet(book, name)
		return rd, name, err
	}
	for _, name := range book.Sheets() {
		if rd, err := r.readSheet(book, name); err == nil && mapping.NamesPhone(rd.Header()) {
			return rd, name, nil
		}
		if r.sheetRows != nil {
			r.sheetRows.Close()
			r.sheetRows = nil
		}
	}
	// No sheet names a phone column: the first is read, and the mapping
	// (a --mapping file may name the column) says what is missing.
	name := book.Sheets()[0]
	rd, err := r.readSheet(book, name)
	return rd, name, err
}

// readSheet starts reading a sheet.
func (r *run) readSheet(book *source.Workbook, name string) (*mapping.Reader, error) {
	rows, err := book.Rows(name)
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	r.sheetRows = rows
	rd, err := mapping.NewSheetReader(rows)
	if err != nil {
		return nil, usagef("%s, sheet %s: %w", r.src.Name, name, err)
	}
	return rd, nil
}

// fileName names the file in messages: with its sheet, for a workbook.
func (r *run) fileName() string {
	if r.sheet != "" {
		return r.src.Name + ", sheet " + r.sheet
	}
	return r.src.Name
}

// retrySource runs one step of a download under the run's retry policy:
// what the source says may pass is retried as a provider's network failure
// is, and the rest is returned at once.
func (r *run) retrySource(what string, op func() error) error {
	var cause error
	err := r.retry(r.ctx, func(int) error {
		cause = op()
		var te *source.TransientError
		if errors.As(cause, &te) {
			return &providers.Error{Class: providers.Retryable, Reason: "source_unavailable", RetryAfter: te.RetryAfter, Message: te.Error()}
		}
		if cause != nil {
			return errPermanent
		}
		return nil
	}, what)
	if err != nil {
		return cause
	}
	return nil
}

// errPermanent stands, for the retry policy, for an error it must not
// retry: ClassOf would take some (a cancelled download's url.Error) for
// network failures.
var errPermanent = errors.New("not retried")

// sourceSettings hashes what changes the contacts sent from the same file:
// a download is conditional only while they stay the same, so that a new
// --tag or mapping is applied even if the sheet did not change.
func (r *run) sourceSettings() uint64 {
	h := fnv.New64a()
	if r.opts.Mapping != "" {
		spec, err := os.ReadFile(r.opts.Mapping)
		if err != nil {
			spec = []byte(err.Error())
		}
		h.Write(spec)
	}
	fmt.Fprintf(h, "\x00%s\x00%s\x00%s\x00%t\x00%s\x00%d\x00%s", r.opts.Tag, r.opts.Region, r.opts.Mode, r.opts.RequireMobile,
		r.opts.Sheet, r.opts.Delimiter, r.opts.Encoding)
	return h.Sum64()
}

// rememberSource keeps, after a run that read the whole download and sent
// every row (or was told they were refused), the validators the next run
// sends; after any other run it forgets them, so that the next run reads
// the file again and sends what failed.
func (r *run) rememberSource(runErr error) {
	if !r.url || r.state == nil || r.opts.DryRun {
		return
	}
	var err error
	if complete := runErr == nil && r.report.Stopped == "" && r.report.Failed == 0; complete && !r.src.Validators.IsZero() {
		err = r.state.SetDownload(r.opts.File, &state.Download{ETag: r.src.Validators.ETag,
			LastModified: r.src.Validators.LastModified, Settings: r.settings})
	} else {
		err = r.state.SetDownload(r.opts.File, nil)
	}
	if err != nil {
		// The rows' state is written; the next run downloads the file
		// again and skips the unchanged rows, which costs only time.
		r.opts.Logger.Warn("cannot remember the download's validators", "error", err)
	}
}

// finishUnchanged completes the report of a run whose download the server
// said did not change: nothing was read, nothing sent.
func (r *run) finishUnchanged() *Report {
	r.report.SourceUnchanged = true
	r.report.DurationSeconds = time.Since(r.start).Seconds()
	r.opts.Logger.Info("the file did not change since the last complete run: nothing to send", "file", r.report.File)
	r.logSummary()
	return r.report
}

// interrupted says whether a read error is the caller's interrupt.
func (r *run) interrupted(err error) bool {
	return r.ctx.Err() != nil && errors.Is(err, context.Canceled)
}

// downloadValidators returns the validators to send for the run's URL: none
// when the last complete run used other settings, or there was none.
func (r *run) downloadValidators() (source.Validators, error) {
	d, err := r.state.Download(r.opts.File)
	if err != nil || d.Settings != r.settings {
		return source.Validators{}, err
	}
	return source.Validators{ETag: d.ETag, LastModified: d.LastModified}, nil
}

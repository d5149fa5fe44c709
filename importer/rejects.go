package importer

import (
	"bufio"
	"encoding/csv"
	"os"
	"strconv"
	"strings"

	"github.com/gocarina/gocsv"
)

// rejectsWriter writes the --rejects file: every rejected or failed row with
// its original cells, then row (the line in the input file), status, reason
// and detail. It uses the input's delimiter and a UTF-8 BOM so that the
// spreadsheet that made the input opens it the same way, and it neutralises
// cells a spreadsheet would run as formulas.
type rejectsWriter struct {
	f     *os.File
	buf   *bufio.Writer
	w     *gocsv.SafeCSVWriter
	cells func(text string) []string
	width int
	rec   []string
}

func newRejectsWriter(path string, header []string, comma rune, cells func(string) []string) (*rejectsWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	buf := bufio.NewWriter(f)
	buf.WriteString("\uFEFF")
	cw := csv.NewWriter(buf)
	cw.Comma = comma
	rw := &rejectsWriter{f: f, buf: buf, w: gocsv.NewSafeCSVWriter(cw), cells: cells, width: len(header)}
	head := append(append([]string{}, header...), "row", "status", "reason", "detail")
	if err := rw.w.Write(neutralise(head)); err != nil {
		f.Close()
		return nil, err
	}
	return rw, nil
}

// write adds one row. A row with more cells than the header keeps them all;
// one with fewer is padded so that row, status and reason stay aligned.
func (r *rejectsWriter) write(text string, line int, status, reason, detail string) error {
	cells := r.cells(text)
	r.rec = r.rec[:0]
	r.rec = append(r.rec, cells...)
	for len(r.rec) < r.width {
		r.rec = append(r.rec, "")
	}
	r.rec = append(r.rec, strconv.Itoa(line), status, reason, detail)
	return r.w.Write(neutralise(r.rec))
}

func (r *rejectsWriter) close() error {
	r.w.Flush()
	if err := r.w.Error(); err != nil {
		r.f.Close()
		return err
	}
	if err := r.buf.Flush(); err != nil {
		r.f.Close()
		return err
	}
	return r.f.Close()
}

// neutralise prefixes with an apostrophe every cell a spreadsheet would
// evaluate (=, +, -, @, or a leading tab or carriage return), so that a
// hostile cell in the input cannot run as a formula when the rejects file is
// opened. Spreadsheets hide the apostrophe; contactsync drops it on re-import.
func neutralise(cells []string) []string {
	for i, c := range cells {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			cells[i] = "'" + c
		}
	}
	return cells
}

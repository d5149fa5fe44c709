package importer

import (
	"bufio"
	"encoding/csv"
	"os"
	"strconv"
	"strings"

	"github.com/gocarina/gocsv"
)

// sheetFile is a CSV file the run writes for a person to open in the
// spreadsheet that made the input (the rejects file, the plan): in the
// input's delimiter, with a UTF-8 BOM, every cell a spreadsheet would run
// as a formula neutralised.
type sheetFile struct {
	f   *os.File
	buf *bufio.Writer
	w   *gocsv.SafeCSVWriter
}

// createSheetFile creates path and writes header.
func createSheetFile(path string, comma rune, header []string) (*sheetFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	buf := bufio.NewWriter(f)
	buf.WriteString("\uFEFF")
	cw := csv.NewWriter(buf)
	cw.Comma = comma
	s := &sheetFile{f: f, buf: buf, w: gocsv.NewSafeCSVWriter(cw)}
	if err := s.write(header); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// write adds a line; its cells may be changed by neutralise.
func (s *sheetFile) write(cells []string) error { return s.w.Write(neutralise(cells)) }

func (s *sheetFile) close() error {
	s.w.Flush()
	err := s.w.Error()
	if err == nil {
		err = s.buf.Flush()
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// rejectsWriter writes the --rejects file: every rejected or failed row with
// its original cells, then row (the line in the input file), status, reason
// and detail.
type rejectsWriter struct {
	*sheetFile
	cells func(text string) []string
	width int
	rec   []string
}

func newRejectsWriter(path string, header []string, comma rune, cells func(string) []string) (*rejectsWriter, error) {
	f, err := createSheetFile(path, comma, append(append([]string{}, header...), "row", "status", "reason", "detail"))
	if err != nil {
		return nil, err
	}
	return &rejectsWriter{sheetFile: f, cells: cells, width: len(header)}, nil
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
	return r.sheetFile.write(r.rec)
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

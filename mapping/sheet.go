package mapping

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// SheetRows is a table read row by row, such as a workbook's sheet, whose
// cells are already split: there is no delimiter, quoting or encoding to
// guess.
type SheetRows interface {
	// Next returns the next row's number in the sheet and its cells, or
	// io.EOF after the last row.
	Next() (row int, cells []string, err error)
}

// ErrEmptySheet is returned for a sheet without a header row.
var ErrEmptySheet = errors.New("the sheet is empty: it has no header row")

// NewSheetReader finds the header among the first rows of a sheet and
// prepares to stream the rows after it, which then go through the same
// decoding, checks and mapping as the rows of a CSV file. Row numbers are
// the sheet's, blank rows are skipped, and a row's Text is its cells written
// as a CSV line, which Cells splits back for the rejects file.
func NewSheetReader(rows SheetRows) (*Reader, error) {
	var ahead []sheetRow
	for len(ahead) < headerWindow {
		n, cells, err := rows.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading row %d: %w", n, err)
		}
		if !blankCells(cells) {
			ahead = append(ahead, sheetRow{n, cells})
		}
	}
	if len(ahead) == 0 {
		return nil, ErrEmptySheet
	}
	recs := make([]headerCandidate, len(ahead))
	for i, r := range ahead {
		recs[i] = newHeaderCandidate(len(r.cells), r.cells)
	}
	f := &sheetFeed{rows: rows, ahead: ahead[pickHeader(recs):]}
	f.w = csv.NewWriter(&f.line)
	return newReader(f, ',', "")
}

type sheetRow struct {
	n     int
	cells []string
}

// sheetFeed writes a sheet's rows as CSV records for csv.Reader, the header
// first: so that a sheet's rows are decoded, checked and mapped by the very
// code that reads CSV files.
type sheetFeed struct {
	rows  SheetRows
	ahead []sheetRow // read while looking for the header, fed first
	// width is the header's cell count: a row is cut or padded to it.
	// Unlike a CSV line, a sheet's row cannot shift its cells, so cells
	// past the header have no column to go to, and a workbook leaves out
	// the empty cells at the end of a row: neither is worth a warning.
	width int
	line  bytes.Buffer
	w     *csv.Writer
	out   []byte
	itemQueue
	eof bool
	err error
}

// Read feeds csv.Reader with whole records.
func (f *sheetFeed) Read(p []byte) (int, error) {
	for len(f.out) == 0 {
		if f.err != nil {
			return 0, f.err
		}
		if f.eof {
			return 0, io.EOF
		}
		f.next()
	}
	n := copy(p, f.out)
	f.out = f.out[n:]
	return n, nil
}

func (f *sheetFeed) failed() error { return f.err }

// next queues the next non-blank row.
func (f *sheetFeed) next() {
	var r sheetRow
	if len(f.ahead) > 0 {
		r, f.ahead[0] = f.ahead[0], sheetRow{}
		f.ahead = f.ahead[1:]
	} else {
		var err error
		r.n, r.cells, err = f.rows.Next()
		switch {
		case errors.Is(err, io.EOF):
			f.eof = true
			return
		case err != nil:
			f.err = fmt.Errorf("reading row %d: %w", r.n, err)
			return
		case blankCells(r.cells):
			return
		}
	}
	text := f.csvLine(r.cells)
	if len(text) > maxRecordBytes {
		f.push(item{line: r.n, text: strings.ToValidUTF8(text[:1024], ""), problem: &Problem{Reason: ReasonRowTooLong, Detail: "the row is longer than 1 MiB"}})
		f.out = append(f.out, placeholder...)
		return
	}
	f.push(item{line: r.n, text: text})
	if f.width == 0 {
		f.width = len(r.cells) // the header
	}
	if len(r.cells) == f.width {
		f.out = append(f.out, text...)
		return
	}
	cells := make([]string, f.width)
	copy(cells, r.cells)
	f.out = append(f.out, f.csvLine(cells)...)
}

// csvLine writes cells as one CSV line.
func (f *sheetFeed) csvLine(cells []string) string {
	f.line.Reset()
	f.w.Write(cells) // a bytes.Buffer does not fail
	f.w.Flush()
	return f.line.String()
}

func blankCells(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

package mapping

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gocarina/gocsv"
)

// Reasons a row is rejected before its values are even looked at.
const (
	ReasonBrokenQuotes = "broken_quotes"
	ReasonColumnCount  = "wrong_column_count"
	ReasonInvalidBytes = "invalid_bytes"
	ReasonRowTooLong   = "row_too_long"
)

// Problem says why a row cannot be used.
type Problem struct {
	Reason string // the report's key, e.g. "invalid_phone"
	Detail string // for the rejects file, in words the user can act on
}

func (p *Problem) Error() string { return p.Reason + ": " + p.Detail }

// Row is one data row of the file.
type Row struct {
	Line    int    // line where the row starts
	Text    string // the row as it is in the file
	Record  Record // valid when Problem is nil
	Problem *Problem
}

// ReaderOptions configures a Reader; zero values mean "detect".
type ReaderOptions struct {
	Delimiter rune
	Encoding  string
}

// Reader streams the rows of a CSV file: it holds one row at a time, never
// the file. Rows are decoded by gocsv over an encoding/csv.Reader fed by the
// splitter, so a broken row is reported and skipped, never fatal.
type Reader struct {
	comma    rune
	encoding string
	sp       *splitter
	um       *gocsv.Unmarshaller
	header   []string
}

// ErrEmpty is returned for a file without a header line.
var ErrEmpty = errors.New("the file is empty: it has no header line")

// NewReader reads the header of r and prepares to stream its rows.
func NewReader(r io.Reader, opts ReaderOptions) (*Reader, error) {
	text, enc, err := decode(r, opts.Encoding)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(text, 64<<10)
	comma := opts.Delimiter
	if comma == 0 {
		sample, _ := br.Peek(32 << 10)
		comma = sniffDelimiter(sample)
	}
	if comma >= 0x80 {
		return nil, fmt.Errorf("delimiter %q is not supported: use , ; | or TAB", comma)
	}
	sp := newSplitter(br, byte(comma))
	cr := csv.NewReader(sp)
	cr.Comma = comma
	cr.LazyQuotes = false
	cr.FieldsPerRecord = 0 // the header's count; others are rejected per row
	cr.ReuseRecord = true  // gocsv copies what it keeps
	um, err := gocsv.NewUnmarshaller(cr, Record{})
	if errors.Is(err, io.EOF) {
		return nil, ErrEmpty
	}
	if err != nil {
		return nil, fmt.Errorf("reading the header: %w", err)
	}
	head, _ := sp.pop()
	if head.problem != nil {
		return nil, fmt.Errorf("the header (line %d) cannot be read: %s", head.line, head.problem.Detail)
	}
	header := make([]string, len(um.Headers))
	for i, h := range um.Headers {
		header[i] = cleanHeader(h)
	}
	return &Reader{comma: comma, encoding: enc, sp: sp, um: um, header: header}, nil
}

// Header returns the file's column names, cleaned of BOMs and stray spaces.
func (r *Reader) Header() []string { return r.header }

// Delimiter returns the field delimiter in use.
func (r *Reader) Delimiter() rune { return r.comma }

// Encoding names the encoding the file is read in.
func (r *Reader) Encoding() string { return r.encoding }

// Use makes the reader decode columns as c maps them.
func (r *Reader) Use(c *Columns) error {
	return r.um.RenormalizeHeaders(func([]string) []string { return c.tags() })
}

// Next returns the next row, or io.EOF after the last one. A row that cannot
// be read comes back with its Problem set, never as an error: errors are for
// a file that cannot be read on.
func (r *Reader) Next() (Row, error) {
	v, err := r.um.Read()
	if errors.Is(err, io.EOF) {
		return Row{}, io.EOF
	}
	if r.sp.err != nil {
		return Row{}, fmt.Errorf("reading line %d: %w", r.sp.line, r.sp.err)
	}
	it, ok := r.sp.pop()
	if !ok {
		// Cannot happen: the splitter queues one item per csv record.
		return Row{}, fmt.Errorf("lost track of rows after line %d", r.sp.line)
	}
	row := Row{Line: it.line, Text: it.text, Problem: it.problem}
	if row.Problem != nil {
		return row, nil
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount) {
			row.Problem = &Problem{Reason: ReasonColumnCount,
				Detail: fmt.Sprintf("the row has %d columns; the header has %d", len(r.Cells(row.Text)), len(r.header))}
			return row, nil
		}
		row.Problem = &Problem{Reason: ReasonBrokenQuotes, Detail: err.Error()}
		return row, nil
	}
	row.Record = v.(Record)
	return row, nil
}

// Cells splits a row's text into its cells, as well as a broken row allows.
func (r *Reader) Cells(text string) []string {
	cr := csv.NewReader(strings.NewReader(text))
	cr.Comma = r.comma
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	if rec, err := cr.Read(); err == nil {
		return rec
	}
	return strings.Split(strings.TrimRight(text, "\r\n"), string(r.comma))
}

// cleanHeader strips what spreadsheets leave around a column name: a BOM,
// zero-width and non-breaking spaces, surrounding blanks.
func cleanHeader(h string) string {
	h = strings.Map(func(r rune) rune {
		switch r {
		case '\uFEFF', '\u200B', '\u2060': // ZWNJ stays: Persian words use it
			return -1
		case '\u00A0', '\u202F', '\u2007':
			return ' '
		}
		return r
	}, h)
	return strings.Join(strings.Fields(h), " ")
}

// sniffDelimiter picks, among , ; TAB and |, the one that splits the first
// lines into the same number of fields most often, ignoring quoted text.
func sniffDelimiter(sample []byte) rune {
	lines := strings.SplitN(string(sample), "\n", 11)
	if len(lines) > 10 {
		lines = lines[:10] // the last one may be cut
	}
	best, bestScore := ',', 0
	for _, c := range []rune{',', ';', '\t', '|'} {
		counts := map[int]int{}
		for _, l := range lines {
			if strings.TrimSpace(l) == "" {
				continue
			}
			counts[countOutsideQuotes(l, c)]++
		}
		score := 0
		for n, k := range counts {
			if n > 0 && k*n > score {
				score = k * n
			}
		}
		if score > bestScore {
			best, bestScore = c, score
		}
	}
	return best
}

func countOutsideQuotes(line string, c rune) int {
	n, quoted := 0, false
	for _, r := range line {
		switch {
		case r == '"':
			quoted = !quoted
		case r == c && !quoted:
			n++
		}
	}
	return n
}

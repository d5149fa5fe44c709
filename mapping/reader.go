package mapping

import (
	"bufio"
	"bytes"
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
	Line    int     // line where the row starts
	Text    string  // the row as it is in the file
	Record  *Record // set when Problem is nil
	Problem *Problem
	// Warning says the row was read with a doubt: short, or with a
	// trailing delimiter.
	Warning *Warning
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
	comma      rune
	encoding   string
	sp         records
	um         *gocsv.Unmarshaller
	header     []string
	headerLine int
	peeked     []Row // rows read ahead by Peek, returned first by Next
}

// ErrEmpty is returned for a file without a header line.
var ErrEmpty = errors.New("the file is empty: it has no header line")

// records feeds csv.Reader whole, well-formed records and keeps, in the same
// order, the item the Reader returns with each: where the row starts, its
// text, and what is wrong with it. The splitter does it for CSV text, the
// sheet feed for a workbook's rows.
type records interface {
	io.Reader
	pop() (item, bool)
	// failed returns the error that stopped the input, naming where.
	failed() error
}

// NewReader finds the header of r, reads it, and prepares to stream the
// rows after it.
func NewReader(r io.Reader, opts ReaderOptions) (*Reader, error) {
	text, enc, err := decode(r, opts.Encoding)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(text, 64<<10)
	sample, _ := br.Peek(64 << 10)
	if crOnly(sample) {
		// Classic Mac OS line ends: a CR alone ends a line.
		br = bufio.NewReaderSize(crToLF{br}, 64<<10)
		sample, _ = br.Peek(64 << 10)
	}
	sample = bytes.TrimPrefix(sample, utf8BOM)
	comma := opts.Delimiter
	skip := 0
	if d, ok := sepHint(sample); ok {
		// Excel's "sep=;" first line names the delimiter.
		if comma == 0 {
			comma = d
		}
		skip = 1
		sample = sample[bytes.IndexByte(sample, '\n')+1:]
	}
	if comma == 0 {
		comma = sniffDelimiter(sample[:min(len(sample), 32<<10)])
	}
	if comma >= 0x80 {
		return nil, fmt.Errorf("delimiter %q is not supported: use , ; | or TAB", comma)
	}
	skip += headerOffset(sample, byte(comma))
	sp := newSplitter(br, byte(comma))
	sp.skip = skip
	rd, err := newReader(sp, comma, enc)
	if errors.Is(err, io.EOF) {
		return nil, ErrEmpty
	}
	return rd, err
}

// newReader reads the header, the first record sp gives, and prepares to
// decode the rows after it.
func newReader(sp records, comma rune, enc string) (*Reader, error) {
	cr := csv.NewReader(sp)
	cr.Comma = comma
	cr.LazyQuotes = false
	cr.FieldsPerRecord = -1                         // the splitter checks cell counts, leniently
	cr.ReuseRecord = true                           // gocsv copies what it keeps
	um, err := gocsv.NewUnmarshaller(cr, &Record{}) // a pointer: rows pass by reference
	if errors.Is(err, io.EOF) {
		return nil, err
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
	return &Reader{comma: comma, encoding: enc, sp: sp, um: um, header: header, headerLine: head.line}, nil
}

// HeaderLine is the line of the file the header was found on: 1 unless a
// title, a note or a "sep=" line comes first.
func (r *Reader) HeaderLine() int { return r.headerLine }

// sepHint reads Excel's "sep=;" first line.
func sepHint(sample []byte) (rune, bool) {
	line, _, _ := bytes.Cut(sample, []byte("\n"))
	line = bytes.TrimRight(line, "\r")
	if len(line) == 5 && strings.EqualFold(string(line[:4]), "sep=") {
		return rune(line[4]), true
	}
	return 0, false
}

// crOnly reports a file whose lines end with CR alone (classic Mac OS).
func crOnly(sample []byte) bool {
	return bytes.IndexByte(sample, '\n') < 0 && bytes.IndexByte(sample, '\r') >= 0
}

// crToLF turns CR line ends into LF.
type crToLF struct{ r io.Reader }

func (c crToLF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i := range p[:n] {
		if p[i] == '\r' {
			p[i] = '\n'
		}
	}
	return n, err
}

// headerOffset finds the header among the first lines of the sample and
// returns how many physical lines come before it.
func headerOffset(sample []byte, comma byte) int {
	var recs []headerCandidate
	var lines []int // physical lines before each candidate
	line := 0
	for len(sample) > 0 && len(recs) < headerWindow {
		start, quoted, commas := line, false, 0
		var text []byte
		for len(sample) > 0 {
			l, rest, found := bytes.Cut(sample, []byte("\n"))
			if !found && len(recs) > 0 {
				sample = nil // the sample's last line may be cut
				break
			}
			sample = rest
			line++
			text = append(text, l...)
			text = append(text, '\n')
			var sc scan
			quoted, sc = scanQuotes(text[len(text)-len(l)-1:], comma, quoted)
			commas += sc.commas
			if !quoted || !sc.ok {
				break
			}
		}
		if len(text) == 0 || len(bytes.Trim(text, " \t\r\n"+string(comma))) == 0 {
			continue // blank
		}
		recs = append(recs, newHeaderCandidate(commas+1, splitCells(string(text), rune(comma))))
		lines = append(lines, start)
	}
	if len(recs) < 2 {
		return 0 // nothing to choose from; the splitter skips blank lines
	}
	return lines[pickHeader(recs)]
}

// headerWindow is how many of the first non-blank records the header is
// looked for among.
const headerWindow = 50

// headerCandidate is one of the first records of a file as the header
// search sees it.
type headerCandidate struct {
	cells    int // cells, empty ones included
	nonEmpty int
	values   []string
}

func newHeaderCandidate(cells int, values []string) headerCandidate {
	c := headerCandidate{cells: cells, values: values}
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			c.nonEmpty++
		}
	}
	return c
}

// pickHeader returns which of the first records of a file is its header.
// Exports may open with a title, blank lines or a note (LinkedIn's
// "Notes:"). The header is the first record that names a phone column and
// has the file's usual cell count; failing that, the first one that does
// not look like a preamble. Records before it must look like a preamble —
// fewer cells than usual, or one value at most — so a data row is never
// taken for one.
func pickHeader(recs []headerCandidate) int {
	if len(recs) < 2 {
		return 0
	}
	counts := map[int]int{}
	usual := 0
	for _, r := range recs {
		counts[r.cells]++
		if counts[r.cells] > counts[usual] || counts[r.cells] == counts[usual] && r.cells > usual {
			usual = r.cells
		}
	}
	// One cell fewer than usual is still the file's shape: data rows may
	// end with an extra delimiter.
	full := func(r headerCandidate) bool { return r.cells >= usual-1 }
	preamble := func(r headerCandidate) bool { return usual >= 2 && (!full(r) || r.nonEmpty <= 1) }
	for i, r := range recs {
		if full(r) && NamesPhone(r.values) {
			return i
		}
		if !preamble(r) {
			break
		}
	}
	for i, r := range recs {
		if !preamble(r) {
			return i
		}
	}
	return 0
}

// NamesPhone reports whether a header names a phone column: the mark of a
// header among the first lines of a file, and of the sheet of a workbook
// that holds the contacts.
func NamesPhone(cells []string) bool {
	for _, c := range cells {
		if m, ok := classify(c); ok && m.field == FieldPhone && !m.label && m.kind != KindNever {
			return true
		}
	}
	return false
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

// Peek reads up to n rows ahead — the sniffing window that decides what
// the header alone cannot, such as the order of dates — and keeps them for
// Next.
func (r *Reader) Peek(n int) ([]Row, error) {
	for len(r.peeked) < n {
		row, err := r.read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return r.peeked, err
		}
		r.peeked = append(r.peeked, row)
	}
	return r.peeked, nil
}

// Next returns the next row, or io.EOF after the last one. A row that cannot
// be read comes back with its Problem set, never as an error: errors are for
// a file that cannot be read on.
func (r *Reader) Next() (Row, error) {
	if len(r.peeked) > 0 {
		row := r.peeked[0]
		r.peeked[0] = Row{}
		r.peeked = r.peeked[1:]
		return row, nil
	}
	return r.read()
}

func (r *Reader) read() (Row, error) {
	v, err := r.um.Read()
	if errors.Is(err, io.EOF) {
		return Row{}, io.EOF
	}
	if err := r.sp.failed(); err != nil {
		return Row{}, err
	}
	it, ok := r.sp.pop()
	if !ok {
		// Cannot happen: the feed queues one item per csv record.
		return Row{}, errors.New("lost track of rows")
	}
	row := Row{Line: it.line, Text: it.text, Problem: it.problem, Warning: it.warning}
	if row.Problem != nil {
		return row, nil
	}
	if err != nil {
		row.Problem = &Problem{Reason: ReasonBrokenQuotes, Detail: err.Error()}
		return row, nil
	}
	row.Record = v.(*Record)
	return row, nil
}

// Cells splits a row's text into its cells, as well as a broken row allows.
func (r *Reader) Cells(text string) []string { return splitCells(text, r.comma) }

// splitCells splits a record's text into its cells, leniently.
func splitCells(text string, comma rune) []string {
	cr := csv.NewReader(strings.NewReader(text))
	cr.Comma = comma
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	if rec, err := cr.Read(); err == nil {
		return rec
	}
	return strings.Split(strings.TrimRight(text, "\r\n"), string(comma))
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

package mapping

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// The splitter finds where each record of the file starts and ends before
// encoding/csv parses it, so that one broken row costs one row: a quote left
// open would otherwise make csv.Reader swallow the rest of the file into a
// single field. It applies csv's own (non-lazy) quoting rules, passes every
// well-formed record through unchanged, and replaces each broken one by a
// placeholder record, so that csv.Reader yields exactly one record per item
// of the splitter's queue, good or bad, in file order.

const (
	// maxRecordLines bounds a record whose quoted field spans lines; a quote
	// still open after that many lines is taken for a broken quote.
	maxRecordLines = 100
	// maxRecordBytes bounds one record in memory.
	maxRecordBytes = 1 << 20
)

// placeholder stands for a broken record in csv.Reader's input: one empty
// quoted field, which csv.Reader neither skips nor refuses.
var placeholder = []byte("\"\"\n")

// item is one record of the file, good or broken.
type item struct {
	line    int    // line where the record starts (1-based)
	text    string // the record as it is in the file, line ends included
	problem *Problem
	warning *Warning // read, with a doubt (a short row, a trailing delimiter)
}

// itemQueue holds, in file order, the items of the records handed to
// csv.Reader and not yet returned: csv.Reader reads ahead by its buffer.
type itemQueue struct {
	items []item
	head  int
}

func (q *itemQueue) push(it item) { q.items = append(q.items, it) }

// pop returns the next record's item; ok is false when the queue is empty.
func (q *itemQueue) pop() (item, bool) {
	if q.head == len(q.items) {
		return item{}, false
	}
	it := q.items[q.head]
	q.items[q.head] = item{}
	q.head++
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	}
	return it, true
}

type splitter struct {
	in      *bufio.Reader
	comma   byte
	line    int      // physical lines consumed
	pending [][]byte // lines to scan again after a broken multi-line record
	out     []byte   // records ready for csv.Reader
	itemQueue
	eof     bool
	err     error // first error reading the file
	started bool
	long    bool // the last line returned was cut at maxRecordBytes
	// skip is how many lines come before the header (a title, a note,
	// Excel's "sep=;" line): they are read and dropped.
	skip int
	// cells is the header's cell count, 0 until the header is read.
	cells int
}

func newSplitter(r io.Reader, comma byte) *splitter {
	return &splitter{in: bufio.NewReaderSize(r, 64<<10), comma: comma}
}

// Read feeds csv.Reader with whole records.
func (s *splitter) Read(p []byte) (int, error) {
	for len(s.out) == 0 {
		if s.err != nil {
			return 0, s.err
		}
		if s.eof && len(s.pending) == 0 {
			return 0, io.EOF
		}
		s.scanRecord()
	}
	n := copy(p, s.out)
	s.out = s.out[n:]
	if len(s.out) == 0 {
		s.out = s.out[:0:0]
	}
	return n, nil
}

// failed returns the error that stopped reading the file, naming the line.
func (s *splitter) failed() error {
	if s.err == nil {
		return nil
	}
	return fmt.Errorf("reading line %d: %w", s.line, s.err)
}

// nextLine returns the next physical line, line end included, or nil at the
// end of the file. The slice is the caller's.
func (s *splitter) nextLine() []byte {
	if n := len(s.pending); n > 0 {
		l := s.pending[0]
		s.pending = s.pending[1:]
		s.line++
		s.long = false
		return l
	}
	if s.eof {
		return nil
	}
	var line []byte
	s.long = false
	for {
		chunk, err := s.in.ReadSlice('\n')
		if len(line)+len(chunk) <= maxRecordBytes {
			line = append(line, chunk...)
		} else {
			s.long = true
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			s.eof = true
			if !errors.Is(err, io.EOF) {
				s.err = err
			}
		}
		break
	}
	if len(line) == 0 {
		return nil
	}
	if !s.started {
		s.started = true
		line = bytes.TrimPrefix(line, utf8BOM)
	}
	s.line++
	return line
}

var utf8BOM = []byte("\xEF\xBB\xBF")

// scanRecord reads one record and queues it (or skips a blank line).
func (s *splitter) scanRecord() {
	for ; s.skip > 0; s.skip-- {
		s.nextLine()
	}
	first := s.nextLine()
	if first == nil {
		return
	}
	start := s.line
	if s.long {
		s.reject(start, first[:1024], &Problem{Reason: ReasonRowTooLong, Detail: "the row is longer than 1 MiB"})
		return
	}
	if s.blank(first) {
		return
	}
	lines := [][]byte{first}
	size := len(first)
	quoted, sc := scanQuotes(first, s.comma, false)
	ok, commas, bare := sc.ok, sc.commas, sc.bare
	for ok && quoted {
		next := s.nextLine()
		if next == nil || s.long || len(lines) == maxRecordLines || size+len(next) > maxRecordBytes {
			if next != nil {
				s.unread(next)
			}
			ok = false
			break
		}
		lines = append(lines, next)
		size += len(next)
		quoted, sc = scanQuotes(next, s.comma, true)
		ok, commas, bare = sc.ok, commas+sc.commas, bare || sc.bare
	}
	if !ok {
		// Only the first line is condemned: the lines after it are scanned
		// again as records of their own, so a stray quote cannot hide them.
		for i := len(lines) - 1; i >= 1; i-- {
			s.unread(lines[i])
		}
		s.reject(start, first, &Problem{Reason: ReasonBrokenQuotes, Detail: "a quote is opened or closed in the wrong place"})
		return
	}
	rec := first // nearly every record is one line: no copy
	if len(lines) > 1 {
		rec = bytes.Join(lines, nil)
	}
	if bytes.IndexByte(rec, 0) >= 0 {
		s.reject(start, rec, &Problem{Reason: ReasonInvalidBytes, Detail: "the row holds a NUL byte"})
		return
	}
	if !utf8.Valid(rec) {
		s.reject(start, rec, &Problem{Reason: ReasonInvalidBytes, Detail: "the row holds bytes that are not valid text in the file's encoding"})
		return
	}
	it := item{line: start, text: string(rec)}
	if rec[len(rec)-1] != '\n' {
		rec = append(rec, '\n')
	}
	if bare {
		// A quote inside an unquoted cell (Jean "Jeannot") is text, as
		// Excel, LibreOffice and Python's csv read it; encoding/csv
		// refuses it, so it gets the cell quoted.
		rec = quoteBareCells(rec, s.comma)
	}
	switch cells := commas + 1; {
	case s.cells == 0:
		s.cells = cells // the header
	case cells == s.cells+1 && endsWithDelimiter(rec, s.comma):
		rec = dropTrailingDelimiter(rec)
		it.warning = &Warning{Reason: WarnTrailingCell, Detail: "the row ends with an extra delimiter (an empty cell the header does not name); it was dropped"}
	case cells > s.cells:
		s.reject(start, []byte(it.text), &Problem{Reason: ReasonColumnCount,
			Detail: fmt.Sprintf("the row has %d cells; the header has %d", cells, s.cells)})
		return
	case cells < s.cells:
		it.warning = &Warning{Reason: WarnShortRow,
			Detail: fmt.Sprintf("the row has %d cells; the header has %d: the last ones are read as empty", cells, s.cells)}
	}
	s.push(it)
	s.out = append(s.out, rec...)
}

// endsWithDelimiter reports whether a record's last cell is empty and
// unquoted: "a,b,\n".
func endsWithDelimiter(rec []byte, comma byte) bool {
	rec = bytes.TrimRight(rec, "\r\n")
	return len(rec) > 0 && rec[len(rec)-1] == comma
}

// dropTrailingDelimiter cuts the delimiter before a record's line end.
func dropTrailingDelimiter(rec []byte) []byte {
	body := bytes.TrimRight(rec, "\r\n")
	end := rec[len(body):]
	return append(body[:len(body)-1:len(body)-1], end...)
}

// quoteBareCells quotes each unquoted cell of a record that holds a quote,
// doubling its quotes: `Jean "Jeannot"` becomes `"Jean ""Jeannot"""`.
func quoteBareCells(rec []byte, comma byte) []byte {
	out := make([]byte, 0, len(rec)+8)
	for i := 0; i < len(rec); {
		if rec[i] == '"' { // a quoted cell: copied to its closing quote
			j := i + 1
			for j < len(rec) {
				if rec[j] == '"' {
					if j+1 < len(rec) && rec[j+1] == '"' {
						j += 2
						continue
					}
					break
				}
				j++
			}
			j = min(j+1, len(rec))
			out = append(out, rec[i:j]...)
			i = j
		} else {
			j := i
			for j < len(rec) && rec[j] != comma && rec[j] != '\n' && !(rec[j] == '\r' && j+1 < len(rec) && rec[j+1] == '\n') {
				j++
			}
			if cell := rec[i:j]; bytes.IndexByte(cell, '"') >= 0 {
				out = append(out, '"')
				out = append(out, bytes.ReplaceAll(cell, []byte(`"`), []byte(`""`))...)
				out = append(out, '"')
			} else {
				out = append(out, cell...)
			}
			i = j
		}
		if i < len(rec) && rec[i] != '"' {
			out = append(out, rec[i])
			i++
		}
	}
	return out
}

func (s *splitter) reject(line int, text []byte, p *Problem) {
	s.push(item{line: line, text: string(bytes.ToValidUTF8(bytes.ReplaceAll(text, []byte{0}, nil), []byte("\uFFFD"))), problem: p})
	s.out = append(s.out, placeholder...)
}

// unread puts a line back to be scanned again.
func (s *splitter) unread(l []byte) {
	s.pending = append([][]byte{l}, s.pending...)
	s.line--
}

// blank reports whether a line holds no value: spreadsheets export empty
// rows as a run of delimiters.
func (s *splitter) blank(l []byte) bool {
	for _, c := range l {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != s.comma {
			return false
		}
	}
	return true
}

// scan is what scanQuotes found on a line.
type scan struct {
	ok     bool // the line keeps the quoting rules
	commas int  // delimiters outside quotes
	bare   bool // a quote inside an unquoted cell, which is text
}

// scanQuotes follows encoding/csv's quoting rules over one physical line,
// except that a quote inside an unquoted cell is text (as spreadsheets read
// it) rather than an error. quoted says whether the line starts inside a
// quoted cell; the result says whether it ends inside one. ok is false when
// the line breaks the rules: text right after a closing quote.
func scanQuotes(line []byte, comma byte, quoted bool) (stillQuoted bool, sc scan) {
	if !quoted && bytes.IndexByte(line, '"') < 0 {
		return false, scan{ok: true, commas: bytes.Count(line, []byte{comma})}
	}
	sc.ok = true
	fieldStart := !quoted
	closed := false // just after a closing quote
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quoted:
			if c == '"' {
				if i+1 < len(line) && line[i+1] == '"' {
					i++
					continue
				}
				quoted, closed = false, true
			}
		case closed:
			closed = false
			switch {
			case c == comma:
				fieldStart = true
				sc.commas++
			case c == '\n':
				return false, sc
			case c == '\r' && (i+1 == len(line) || line[i+1] == '\n'):
				return false, sc
			default:
				sc.ok = false
				return false, sc
			}
		case c == comma:
			fieldStart = true
			sc.commas++
		case c == '"':
			if !fieldStart {
				sc.bare = true // Jean "Jeannot": text
				continue
			}
			quoted, fieldStart = true, false
		case c == '\n':
			return false, sc
		default:
			fieldStart = false
		}
	}
	return quoted, sc
}

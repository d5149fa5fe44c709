package source

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

const (
	// maxWorkbookBytes bounds the workbook read into memory: a zip is read
	// from its end, so a workbook is read whole before its first row.
	// 200,000 rows take about 10 MB.
	maxWorkbookBytes = 512 << 20
	// sheetInMemory is the largest part of a workbook (a sheet, the shared
	// strings) kept unpacked in memory; larger ones are unpacked to a
	// temporary file and streamed from it, so that memory stays flat
	// whatever the number of rows.
	sheetInMemory = 4 << 20
	// maxUnpacked bounds what a workbook may unpack to, against a zip bomb.
	maxUnpacked = 4 << 30
)

// Workbook is an .xlsx workbook whose sheets are read row by row.
type Workbook struct {
	f        *excelize.File
	name     string
	sheets   []string
	date1904 bool // dates count from 1904 (old Mac workbooks), not 1900
}

func openWorkbook(r io.Reader, name string) (*Workbook, error) {
	f, err := excelize.OpenReader(&capped{r: r, left: maxWorkbookBytes}, excelize.Options{UnzipXMLSizeLimit: sheetInMemory, UnzipSizeLimit: maxUnpacked})
	if errors.Is(err, errTooLarge) {
		return nil, fmt.Errorf("%s is a workbook larger than %d MiB: save the sheet as CSV (File › Save As › CSV UTF-8), which is read as it streams", name, maxWorkbookBytes>>20)
	}
	if err != nil {
		return nil, fmt.Errorf("%s is a zip archive that cannot be read as an Excel workbook (.xlsx): %v; open it in Excel or LibreOffice and save it as .xlsx or as CSV", name, err)
	}
	b := &Workbook{f: f, name: name, sheets: f.GetSheetList()}
	if len(b.sheets) == 0 {
		f.Close()
		return nil, fmt.Errorf("%s is a zip archive without a workbook inside: contactsync reads .xlsx and CSV files", name)
	}
	props, err := f.GetWorkbookProps()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	b.date1904 = props.Date1904 != nil && *props.Date1904
	if err := plainNumbers(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("reading the cell formats of %s: %w", name, err)
	}
	return b, nil
}

var errTooLarge = errors.New("too large")

// capped reads at most left bytes of r, then fails with errTooLarge.
type capped struct {
	r    io.Reader
	left int64
}

func (c *capped) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		if n, err := c.r.Read(one[:]); n == 0 {
			return 0, err // the end, as it should be
		}
		return 0, errTooLarge
	}
	n, err := c.r.Read(p[:min(int64(len(p)), c.left)])
	c.left -= int64(n)
	return n, err
}

// Sheets lists the workbook's sheets, in order.
func (b *Workbook) Sheets() []string { return b.sheets }

// Find returns the sheet --sheet names: by its name (case aside), else by
// its number, 1 for the first.
func (b *Workbook) Find(spec string) (string, error) {
	for _, s := range b.sheets {
		if s == spec {
			return s, nil
		}
	}
	for _, s := range b.sheets {
		if strings.EqualFold(s, spec) {
			return s, nil
		}
	}
	if n, err := strconv.Atoi(spec); err == nil && n >= 1 && n <= len(b.sheets) {
		return b.sheets[n-1], nil
	}
	return "", fmt.Errorf("%s has no sheet %q: its sheets are %s; pass --sheet with one of these names, or its number (1 for the first)",
		b.name, spec, strings.Join(quoteAll(b.sheets), ", "))
}

func quoteAll(v []string) []string {
	out := make([]string, len(v))
	for i, s := range v {
		out[i] = strconv.Quote(s)
	}
	return out
}

// Rows streams a sheet's rows; close it when done.
func (b *Workbook) Rows(sheet string) (*SheetRows, error) {
	rows, err := b.f.Rows(sheet)
	if err != nil {
		return nil, fmt.Errorf("%s, sheet %q: %w", b.name, sheet, err)
	}
	return &SheetRows{rows: rows, date1904: b.date1904}, nil
}

// Close removes the temporary files the workbook was unpacked to.
func (b *Workbook) Close() error { return b.f.Close() }

// SheetRows is a sheet read row by row.
type SheetRows struct {
	rows     *excelize.Rows
	n        int
	date1904 bool
}

// Next returns the next row's number and its cells, as the sheet shows them
// but for numbers (below), or io.EOF after the last row. Rows the sheet does
// not hold come as no cells.
func (s *SheetRows) Next() (int, []string, error) {
	if !s.rows.Next() {
		if err := s.rows.Error(); err != nil {
			return s.n + 1, nil, err
		}
		return 0, nil, io.EOF
	}
	// Next moves one row at a time, the missing ones included: the count
	// is the row's number.
	s.n++
	cells, err := s.rows.Columns()
	for i, c := range cells {
		if serial, ok := strings.CutPrefix(c, dateMark); ok {
			cells[i] = s.date(serial)
		}
	}
	return s.n, cells, err
}

// date writes a date serial number as yyyy-mm-dd.
func (s *SheetRows) date(serial string) string {
	v, err := strconv.ParseFloat(serial, 64)
	if err != nil {
		return serial
	}
	t, err := excelize.ExcelDateToTime(v, s.date1904)
	if err != nil {
		return serial
	}
	return t.Format("2006-01-02")
}

// Close closes the sheet's temporary file, if it has one.
func (s *SheetRows) Close() error { return s.rows.Close() }

// dateMark starts what a date cell reads as before SheetRows.Next writes it
// as a date: a control character that XML text, and so a text cell, cannot
// hold.
const dateMark = "\x01"

// plainNumbers makes cells typed as numbers read as their full value, not
// as the sheet shows them: Excel stores phone numbers as numbers, and the
// formats that show them ("General" as 6.12E+08, "#,##0" with separators,
// a currency, a fraction) would lose digits or add characters. Only three
// kinds of format are kept in spirit:
//   - a date or a date and time reads yyyy-mm-dd, for birthdays;
//   - a layout of digits ("0000000000", "00 00 00 00 00") is applied: it
//     writes the leading zero the sheet shows and the value lost;
//   - any other number reads as its digits (General, which excelize writes
//     in full).
//
// Text cells are never formatted. excelize applies a cell's format as it
// reads it and gives no per-cell access to the format while streaming, so
// the formats themselves are rewritten in the workbook's styles, in memory
// only: every style's number format is replaced by the one to read with.
// A date's is its serial number after dateMark, which Next turns into
// yyyy-mm-dd: excelize's own date formatting cost six times the rest of
// reading a row.
func plainNumbers(f *excelize.File) error {
	if _, err := f.GetStyle(0); err != nil || f.Styles == nil || f.Styles.CellXfs == nil {
		return nil // no styles: every number is General already
	}
	// Six decimals: the time of day never rounds a date to the next one
	// but in the last tenth of a second.
	serial := `"` + dateMark + `"0.000000`
	dateStyle, err := f.NewStyle(&excelize.Style{CustomNumFmt: &serial})
	if err != nil {
		return err
	}
	dateFmt := *f.Styles.CellXfs.Xf[dateStyle].NumFmtID
	general := 0
	for i := range f.Styles.CellXfs.Xf {
		st, err := f.GetStyle(i)
		if err != nil {
			return err
		}
		switch formatKind(st) {
		case kindDate:
			f.Styles.CellXfs.Xf[i].NumFmtID = &dateFmt
		case kindOther:
			f.Styles.CellXfs.Xf[i].NumFmtID = &general
		}
	}
	return nil
}

type numberKind int

const (
	kindOther  numberKind = iota // read as the number's digits
	kindDate                     // read as yyyy-mm-dd
	kindLayout                   // a layout of digits: applied
)

// formatKind classifies a style's number format.
func formatKind(st *excelize.Style) numberKind {
	if st.CustomNumFmt != nil {
		return codeKind(*st.CustomNumFmt)
	}
	switch id := st.NumFmt; {
	// The built-in dates (14-17, 22) and the East Asian ones (27-31, 36,
	// 50-54, 57, 58); the others are times or numbers.
	case id >= 14 && id <= 17, id == 22, id >= 27 && id <= 31, id == 36, id >= 50 && id <= 54, id == 57, id == 58:
		return kindDate
	}
	return kindOther
}

// codeKind classifies a custom number format code.
func codeKind(code string) numberKind {
	var tokens strings.Builder // the code without its literal text
	sections := 1
	for i := 0; i < len(code); i++ {
		switch c := code[i]; c {
		case '"': // quoted text
			for i++; i < len(code) && code[i] != '"'; i++ {
			}
		case '\\', '_', '*': // an escaped character, a space as wide as one, a fill
			i++
		case '[': // a colour, a condition, a locale, or an elapsed time ([h]), which counts
			end := strings.IndexByte(code[i:], ']')
			if end < 0 {
				end = len(code) - i
			}
			if inner := strings.ToLower(code[i+1 : i+end]); inner != "" && strings.Trim(inner, "hms") == "" {
				tokens.WriteString(inner)
			}
			i += end
		case ';':
			sections++
		default:
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			tokens.WriteByte(c)
		}
	}
	t := tokens.String()
	switch {
	case strings.ContainsAny(t, "yd"), strings.Contains(t, "m") && !strings.ContainsAny(t, "hs"):
		return kindDate
	case sections == 1 && strings.Contains(t, "0") && strings.Trim(t, "0# -()/+") == "":
		return kindLayout
	}
	return kindOther
}

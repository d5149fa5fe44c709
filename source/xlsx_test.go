package source

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// writeWorkbook writes a workbook of three sheets, the way Excel stores
// contacts: a notes sheet first, then the contacts under a title row, with
// phones stored as numbers in several formats, dates as dates, text as
// shared strings.
func writeWorkbook(t *testing.T) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	style := func(s excelize.Style) int {
		id, err := f.NewStyle(&s)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	code := func(c string) int { return style(excelize.Style{CustomNumFmt: &c}) }
	padded, spaced, grouped, french := code("0000000000"), code(`00\ 00\ 00\ 00\ 00`), style(excelize.Style{NumFmt: 3}), code("dd/mm/yyyy")
	shortDate, dateTime, clock, euros := style(excelize.Style{NumFmt: 14}), style(excelize.Style{NumFmt: 22}), style(excelize.Style{NumFmt: 20}), code(`#,##0.00\ "€"`)
	scientific, text := style(excelize.Style{NumFmt: 11}), style(excelize.Style{NumFmt: 49})
	birthday := time.Date(1985, 3, 4, 0, 0, 0, 0, time.UTC)

	f.SetSheetName("Sheet1", "Notes")
	f.SetSheetRow("Notes", "A1", &[]any{"Title", "Text"})
	f.SetSheetRow("Notes", "A2", &[]any{"Call list", "see the Contacts sheet"})

	f.NewSheet("Contacts")
	type cell struct {
		v     any
		style int
	}
	rows := map[int][]cell{
		1: {{"Customers 2024", 0}},
		3: {{"Name", 0}, {"Mobile", 0}, {"Home", 0}, {"Birthday", 0}, {"Spent", 0}, {"Since", 0}},
		4: {{"Ada", 0}, {612345678, padded}, {145678901, spaced}, {birthday, french}, {1234.5, euros}, {0.5, clock}},
		5: {{"Bob", 0}, {33612345678, 0}, {"", 0}, {birthday, shortDate}, {1234.5, scientific}, {birthday.Add(13 * time.Hour), dateTime}},
		6: {{"Chloé", 0}, {612345678, grouped}, {"01 45 67 89 01", text}, {"23/07/1980", french}, {"", 0}, {"", 0}},
		// row 7 is not in the sheet
		8: {{"Ada", 0}, {"+33 6 12 34 56 78", 0}},
	}
	for r, cells := range rows {
		for c, v := range cells {
			if v.v == "" {
				continue
			}
			name, _ := excelize.CoordinatesToCellName(c+1, r)
			if err := f.SetCellValue("Contacts", name, v.v); err != nil {
				t.Fatal(err)
			}
			if v.style != 0 {
				f.SetCellStyle("Contacts", name, name, v.style)
			}
		}
	}
	f.NewSheet("Archive")
	f.SetSheetRow("Archive", "A1", &[]any{"Name", "Phone"})
	f.SetSheetRow("Archive", "A2", &[]any{"Old", 611111111})

	path := filepath.Join(t.TempDir(), "contacts.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

type sheetRow struct {
	n     int
	cells []string
}

func readSheet(t *testing.T, b *Workbook, sheet string) []sheetRow {
	t.Helper()
	rows, err := b.Rows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []sheetRow
	for {
		n, cells, err := rows.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sheetRow{n, cells})
	}
}

func TestWorkbook(t *testing.T) {
	src, err := Open(context.Background(), writeWorkbook(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	b := src.Workbook()
	if src.Format != FormatXLSX || b == nil || src.Text() != nil {
		t.Fatalf("format %q", src.Format)
	}
	if got := b.Sheets(); !reflect.DeepEqual(got, []string{"Notes", "Contacts", "Archive"}) {
		t.Fatalf("sheets %q", got)
	}
	for spec, want := range map[string]string{"Contacts": "Contacts", "contacts": "Contacts", "3": "Archive", "1": "Notes"} {
		if got, err := b.Find(spec); got != want || err != nil {
			t.Errorf("--sheet %s: %q, %v; want %q", spec, got, err, want)
		}
	}
	if _, err := b.Find("Customers"); err == nil || !strings.Contains(err.Error(), `"Notes", "Contacts", "Archive"`) {
		t.Errorf("an unknown sheet: %v, want the list of sheets", err)
	}

	got := readSheet(t, b, "Contacts")
	want := []sheetRow{
		{1, []string{"Customers 2024"}},
		{2, nil},
		{3, []string{"Name", "Mobile", "Home", "Birthday", "Spent", "Since"}},
		// A number padded by its format keeps the zero the sheet shows; a
		// layout of digits is applied; a date reads yyyy-mm-dd; any other
		// number reads as its full value.
		{4, []string{"Ada", "0612345678", "01 45 67 89 01", "1985-03-04", "1234.5", "0.5"}},
		{5, []string{"Bob", "33612345678", "", "1985-03-04", "1234.5", "1985-03-04"}},
		// Text stays as typed, whatever the cell's format.
		{6, []string{"Chloé", "612345678", "01 45 67 89 01", "23/07/1980"}},
		{7, nil},
		{8, []string{"Ada", "+33 6 12 34 56 78"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows\n%v\nwant\n%v", got, want)
	}
	if src.Describe("Contacts") != "xlsx, sheet Contacts" {
		t.Errorf("describe %q", src.Describe("Contacts"))
	}
}

func TestCodeKind(t *testing.T) {
	for code, want := range map[string]numberKind{
		"0000000000":                         kindLayout,
		`00\ 00\ 00\ 00\ 00`:                 kindLayout,
		`"+33 "000000000`:                    kindLayout,
		"(000) 000-0000":                     kindLayout,
		"[<=9999999]###-####;(###) ###-####": kindOther, // Excel's US phone: full digits are as good
		"#,##0":                              kindOther,
		"0.00E+00":                           kindOther,
		"General":                            kindOther,
		"dd/mm/yyyy":                         kindDate,
		"[$-409]mmmm d, yyyy;@":              kindDate,
		"mmm-yy":                             kindDate,
		"DD.MM.YYYY":                         kindDate,
		"h:mm:ss":                            kindOther,
		"[h]:mm":                             kindOther,
		"m/d/yyyy h:mm":                      kindDate,
		`#,##0.00\ "€"`:                      kindOther,
		`"Tel. "@`:                           kindOther,
	} {
		if got := codeKind(code); got != want {
			t.Errorf("%s: %v, want %v", code, got, want)
		}
	}
}

// Old Mac workbooks count days from 1904: the same date is another serial.
func TestWorkbookDate1904(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	on := true
	if err := f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &on}); err != nil {
		t.Fatal(err)
	}
	date, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
	f.SetSheetRow("Sheet1", "A1", &[]any{"Mobile", "Born"})
	// 29,648 days after 1 January 1904 is 4 March 1985 (31,110 from 1900).
	f.SetSheetRow("Sheet1", "A2", &[]any{612345678, 29648})
	f.SetCellStyle("Sheet1", "B2", "B2", date)
	path := filepath.Join(t.TempDir(), "mac.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	src, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	got := readSheet(t, src.Workbook(), "Sheet1")
	if want := []string{"612345678", "1985-03-04"}; !reflect.DeepEqual(got[1].cells, want) {
		t.Errorf("cells %q, want %q", got[1].cells, want)
	}
}

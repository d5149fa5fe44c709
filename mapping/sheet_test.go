package mapping

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// sheetRowsOf is a sheet given as its rows, numbered from 1; a nil row is
// one the workbook does not hold (excelize gives it as no cells).
type sheetRowsOf struct {
	rows [][]string
	n    int
	err  error // returned after the rows, instead of io.EOF
}

func (s *sheetRowsOf) Next() (int, []string, error) {
	if s.n == len(s.rows) {
		if s.err != nil {
			return s.n + 1, nil, s.err
		}
		return 0, nil, io.EOF
	}
	s.n++
	return s.n, s.rows[s.n-1], nil
}

func TestSheetReader(t *testing.T) {
	long := strings.Repeat("x", maxRecordBytes)
	tests := []struct {
		name       string
		rows       [][]string
		headerLine int
		want       []readRow
		// cells are what Cells gives back from each row's text, for the
		// rejects file: the row's own cells, extra ones included.
		cells [][]string
	}{
		{"header first", [][]string{{"Name", "Mobile"}, {"Ada", "0612345678"}, {"Bob", "0712345678"}}, 1,
			[]readRow{{2, "0612345678", "", ""}, {3, "0712345678", "", ""}},
			[][]string{{"Ada", "0612345678"}, {"Bob", "0712345678"}}},
		{"a title and a blank row above the header; blank rows are not rows", [][]string{{"Contacts 2024"}, nil, {"Name", "Mobile", "Note"},
			{"Ada", "0612345678", "x"}, {"", " "}, nil, {"Bob", "0712345678"}}, 3,
			[]readRow{{4, "0612345678", "", ""}, {7, "0712345678", "", ""}},
			[][]string{{"Ada", "0612345678", "x"}, {"Bob", "0712345678"}}},
		{"a row without its last cells is read without a warning; cells past the header are ignored",
			[][]string{{"Mobile", "Name", "Note"}, {"0612345678"}, {"0712345678", "Bob", "n", "stray"}}, 1,
			[]readRow{{2, "0612345678", "", ""}, {3, "0712345678", "", ""}},
			[][]string{{"0612345678"}, {"0712345678", "Bob", "n", "stray"}}},
		{"delimiters, quotes and line breaks inside cells", [][]string{{"Name", "Mobile"}, {"Dupont, \"Jean\"\nsecond line", "06 12 34 56 78"}}, 1,
			[]readRow{{2, "06 12 34 56 78", "", ""}},
			[][]string{{"Dupont, \"Jean\"\nsecond line", "06 12 34 56 78"}}},
		{"a row over 1 MiB is rejected, the run goes on", [][]string{{"Name", "Mobile"}, {long, "0612345678"}, {"Bob", "0712345678"}}, 1,
			[]readRow{{2, "", ReasonRowTooLong, ""}, {3, "0712345678", "", ""}},
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewSheetReader(&sheetRowsOf{rows: tt.rows})
			if err != nil {
				t.Fatal(err)
			}
			if r.HeaderLine() != tt.headerLine {
				t.Errorf("header on row %d, want %d", r.HeaderLine(), tt.headerLine)
			}
			cols, err := Resolve(Detect(r.Header(), DetectOptions{}), r.Header(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Use(cols); err != nil {
				t.Fatal(err)
			}
			var got []readRow
			var cells [][]string
			for {
				row, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				rr := readRow{line: row.Line}
				if row.Problem != nil {
					rr.reason = row.Problem.Reason
				} else {
					rr.phone = row.Record.Phones[0]
					cells = append(cells, r.Cells(row.Text))
				}
				if row.Warning != nil {
					rr.warn = row.Warning.Reason
				}
				got = append(got, rr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("rows\n%+v\nwant\n%+v", got, tt.want)
			}
			if tt.cells != nil && !reflect.DeepEqual(cells, tt.cells) {
				t.Errorf("cells\n%q\nwant\n%q", cells, tt.cells)
			}
		})
	}
}

func TestSheetReaderErrors(t *testing.T) {
	if _, err := NewSheetReader(&sheetRowsOf{rows: [][]string{nil, {" "}}}); !errors.Is(err, ErrEmptySheet) {
		t.Errorf("blank sheet: %v", err)
	}
	// The rows after the header search window are read as they come: an
	// error there ends the reading, naming the row.
	broken := errors.New("unexpected end of XML")
	rows := [][]string{{"Mobile"}}
	for range 60 {
		rows = append(rows, []string{"0612345678"})
	}
	r, err := NewSheetReader(&sheetRowsOf{rows: rows, err: broken})
	if err != nil {
		t.Fatal(err)
	}
	for range 60 {
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.Next(); !errors.Is(err, broken) || !strings.Contains(err.Error(), "row 62") {
		t.Errorf("a sheet that cannot be read on: %v, want the error naming row 62", err)
	}
}

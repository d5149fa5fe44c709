package mapping

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// readAll reads every row of input with columns detected from its header.
type readRow struct {
	line   int
	phone  string // the Record's phone, for good rows
	reason string // the Problem's reason, for bad rows
	warn   string // the Warning's reason, for rows read with a doubt
}

func readAll(t testing.TB, input []byte, opts ReaderOptions) (*Reader, []readRow) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(input), opts)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	cols, err := Resolve(Detect(r.Header(), DetectOptions{}), r.Header(), nil)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if err := r.Use(cols); err != nil {
		t.Fatal(err)
	}
	var rows []readRow
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return r, rows
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		rr := readRow{line: row.Line}
		if row.Warning != nil {
			rr.warn = row.Warning.Reason
		}
		if row.Problem != nil {
			rr.reason = row.Problem.Reason
		} else {
			rr.phone = row.Record.Phones[0]
		}
		rows = append(rows, rr)
	}
}

func TestRead(t *testing.T) {
	tests := []struct {
		name  string
		input string
		delim rune // expected delimiter
		want  []readRow
	}{
		{"simple", "name,phone\na,1\nb,2\n", ',', []readRow{{2, "1", "", ""}, {3, "2", "", ""}}},
		{"crlf and no final newline", "name,phone\r\na,1\r\nb,2", ',', []readRow{{2, "1", "", ""}, {3, "2", "", ""}}},
		{"semicolons", "nom;téléphone\na;1\n", ';', []readRow{{2, "1", "", ""}}},
		{"tabs", "name\tphone\na\t1\n", '\t', []readRow{{2, "1", "", ""}}},
		{"pipes", "name|phone\na|1\n", '|', []readRow{{2, "1", "", ""}}},
		{"semicolons with commas in values", "nom;téléphone;note\n\"Dupont, Jean\";1;a,b,c\n", ';', []readRow{{2, "1", "", ""}}},
		{"utf-8 bom", "\xEF\xBB\xBFphone,name\n1,a\n", ',', []readRow{{2, "1", "", ""}}},
		{"blank lines and delimiter-only lines are not rows", "name,phone\n\na,1\n,\n  \nb,2\n,,\n", ',', []readRow{{3, "1", "", ""}, {6, "2", "", ""}}},
		{"a row with too many cells is rejected, the run goes on", "name,phone\na,1\nc,3,x\nd,4\n", ',',
			[]readRow{{2, "1", "", ""}, {3, "", ReasonColumnCount, ""}, {4, "4", "", ""}}},
		{"short rows are read, with a warning", "name,phone,note\na,1\nb\nd,4,x\n", ',',
			[]readRow{{2, "1", "", WarnShortRow}, {3, "", "", WarnShortRow}, {4, "4", "", ""}}},
		{"one trailing delimiter is dropped, with a warning", "name,phone\na,1,\nb,2,\r\nc,3\n", ',',
			[]readRow{{2, "1", "", WarnTrailingCell}, {3, "2", "", WarnTrailingCell}, {4, "3", "", ""}}},
		{"a header with a trailing delimiter (Thunderbird)", "name,phone,\na,1,\n", ',', []readRow{{2, "1", "", ""}}},
		{"quoted multi-line cell", "name,phone\n\"a\nb\",1\nc,2\n", ',', []readRow{{2, "1", "", ""}, {4, "2", "", ""}}},
		{"escaped quotes", "name,phone\n\"say \"\"hi\"\"\",1\n", ',', []readRow{{2, "1", "", ""}}},
		{"a quote inside an unquoted cell is text", "name,phone\na\"b,1\nJean \"Jeannot\",2\n", ',', []readRow{{2, "1", "", ""}, {3, "2", "", ""}}},
		{"a quote inside an unquoted cell can't swallow rows", "name,phone\nJean \"Jeannot,1\nc,2\n", ',', []readRow{{2, "1", "", ""}, {3, "2", "", ""}}},
		{"text after a closing quote", "name,phone\n\"a\"b,1\nc,2\n", ',', []readRow{{2, "", ReasonBrokenQuotes, ""}, {3, "2", "", ""}}},
		{"unclosed quote does not swallow the file", "name,phone\n\"a,1\nb,2\nc,3\n", ',',
			[]readRow{{2, "", ReasonBrokenQuotes, ""}, {3, "2", "", ""}, {4, "3", "", ""}}},
		{"nul byte rejects its row only", "name,phone\na\x00,1\nb,2\n", ',', []readRow{{2, "", ReasonInvalidBytes, ""}, {3, "2", "", ""}}},
		{"invalid utf-8 rejects its row only", "name,phone\nZoé,1\nb\xff,2\nc,3\n", ',',
			[]readRow{{2, "1", "", ""}, {3, "", ReasonInvalidBytes, ""}, {4, "3", "", ""}}},
		{"header only", "name,phone\n", ',', nil},
		{"leading blank lines", "\n\nname,phone\na,1\n", ',', []readRow{{4, "1", "", ""}}},
		{"classic Mac line ends", "name,phone\ra,1\rb,2\r", ',', []readRow{{2, "1", "", ""}, {3, "2", "", ""}}},
		{"Excel's sep= line", "sep=;\nname;phone\na;1\n", ';', []readRow{{3, "1", "", ""}}},
		{"a title line and a blank line above the header", "Adhérents 2024;;\n;;\nnom;prénom;portable\na;b;1\nc;d;2\n", ';',
			[]readRow{{4, "1", "", ""}, {5, "2", "", ""}}},
		{"LinkedIn's note above the header", "Notes:\n\"When exporting your connection data, you may notice that some of the email addresses are missing.\"\n\nFirst Name,Last Name,Phone\na,b,1\nc,d,2\n", ',',
			[]readRow{{5, "1", "", ""}, {6, "2", "", ""}}},
		{"a data row is never taken for a preamble", "Name,Mobile,Type\nAnn,1,Portable\nBob,2,Mobile\n", ',',
			[]readRow{{2, "1", "", ""}, {3, "2", "", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, rows := readAll(t, []byte(tt.input), ReaderOptions{})
			if r.Delimiter() != tt.delim {
				t.Errorf("delimiter %q, want %q", r.Delimiter(), tt.delim)
			}
			if len(rows) != len(tt.want) {
				t.Fatalf("got %d rows %+v, want %+v", len(rows), rows, tt.want)
			}
			for i := range rows {
				if rows[i] != tt.want[i] {
					t.Errorf("row %d: got %+v, want %+v", i, rows[i], tt.want[i])
				}
			}
		})
	}
}

func TestReadHeaderErrors(t *testing.T) {
	for _, tt := range []struct{ name, input, want string }{
		{"empty", "", "empty"},
		{"blank", "\n\n,,\n", "empty"},
		{"broken header", "\"name,phone\n", "header"},
		{"binary", "\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00>\x00\x01\x00\x00\x00", "not a text file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tt.input), ReaderOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewReader(%q) = %v, want an error about %s", tt.input, err, tt.want)
			}
		})
	}
}

func TestReadEncodings(t *testing.T) {
	text := "Prénom;Téléphone\nZoé;0612345678\nÉlodie;0612345679\n"
	cp1252, _ := charmap.Windows1252.NewEncoder().String(text)
	utf16le, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(strings.ReplaceAll(text, ";", "\t"))
	utf16be, _ := unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewEncoder().String(text)
	utf16noBOM, _ := unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewEncoder().String(text)
	tests := []struct {
		name, input, force, want string
	}{
		{"utf-8", text, "", EncodingUTF8},
		{"windows-1252", cp1252, "", EncodingCP1252},
		{"utf-16le with bom, tab-separated", utf16le, "", EncodingUTF16LE},
		{"utf-16be with bom", utf16be, "", EncodingUTF16BE},
		{"utf-16le without bom", utf16noBOM, "", EncodingUTF16LE},
		{"forced", cp1252, "latin1", EncodingCP1252},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tt.input), ReaderOptions{Encoding: tt.force})
			if err != nil {
				t.Fatal(err)
			}
			if r.Encoding() != tt.want {
				t.Fatalf("encoding %s, want %s", r.Encoding(), tt.want)
			}
			if h := r.Header(); len(h) != 2 || h[0] != "Prénom" || h[1] != "Téléphone" {
				t.Fatalf("header %q", h)
			}
			cols, _ := Resolve(Detect(r.Header(), DetectOptions{}), r.Header(), nil)
			r.Use(cols)
			row, err := r.Next()
			if err != nil || row.Problem != nil || row.Record.FirstName != "Zoé" {
				t.Fatalf("first row %+v %v", row, err)
			}
		})
	}
	if _, err := NewReader(strings.NewReader(text), ReaderOptions{Encoding: "ebcdic"}); err == nil {
		t.Fatal("an unknown encoding was accepted")
	}
}

// A UTF-8 file with one stray byte stays UTF-8: only that row is affected.
func TestDetectEncodingStrayByte(t *testing.T) {
	var b strings.Builder
	b.WriteString("nom,téléphone\n")
	for range 50 {
		b.WriteString("Zoé Hélène,0612345678\n")
	}
	b.WriteString("bad\xff,0612345678\n")
	if got := DetectEncoding([]byte(b.String()), true); got != EncodingUTF8 {
		t.Fatalf("got %s", got)
	}
}

func TestCells(t *testing.T) {
	r, err := NewReader(strings.NewReader("a;b\n"), ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Cells("x;\"y;z\"\r\n"); len(got) != 2 || got[1] != "y;z" {
		t.Fatalf("Cells = %q", got)
	}
	if got := r.Cells("x;\"broken\n"); len(got) != 2 {
		t.Fatalf("Cells of a broken row = %q", got)
	}
}

// Any valid CSV that csv.Writer produces is read back unchanged, row for row.
func TestReadRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "é", " ", ",", ";", "\"", "\n", "\r\n", "0", "۹", "\t", "|"}
	for iter := range 200 {
		comma := []rune{',', ';', '\t', '|'}[iter%4]
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.Comma = comma
		w.UseCRLF = iter%2 == 0
		w.Write([]string{"name", "phone", "note"})
		var want []string
		for range rng.IntN(20) {
			rec := make([]string, 3)
			for i := range rec {
				var cell strings.Builder
				for range rng.IntN(6) {
					cell.WriteString(alphabet[rng.IntN(len(alphabet))])
				}
				rec[i] = cell.String()
			}
			rec[1] = "p" + rec[1] // never blank: blank rows are skipped
			want = append(want, strings.ReplaceAll(rec[1], "\r\n", "\n"))
			w.Write(rec)
		}
		w.Flush()
		_, rows := readAll(t, buf.Bytes(), ReaderOptions{Delimiter: comma})
		if len(rows) != len(want) {
			t.Fatalf("iteration %d: %d rows, want %d\n%q", iter, len(rows), len(want), buf.String())
		}
		for i, r := range rows {
			if r.reason != "" || r.phone != want[i] {
				t.Fatalf("iteration %d row %d: %+v, want phone %q\n%q", iter, i, r, want[i], buf.String())
			}
		}
	}
}

// FuzzReader feeds arbitrary bytes: nothing may panic, every row comes back
// with a line number that grows, and a row is either a record or a problem.
func FuzzReader(f *testing.F) {
	for _, s := range []string{
		"name,phone\na,1\n",
		"nom;tel\n\"a;1\nb;2\n",
		"\xEF\xBB\xBFphone\n1\n\n2",
		"phone\tname\n\"x\"y\t1\n",
		"\xFF\xFEp\x00h\x00o\x00n\x00e\x00\n\x001\x00\n\x00",
		"phone,a\n1,\x00\n",
		"phone\n\"\"\"\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), ReaderOptions{})
		if err != nil {
			return // empty or unreadable header: refused as a whole
		}
		cols, err := Resolve(Detect(r.Header(), DetectOptions{}), r.Header(), nil)
		for _, h := range r.Header() {
			if err == nil {
				break
			}
			if h != "" {
				cols, err = Resolve(&Spec{Fields: map[Field]*FieldSpec{FieldPhone: {Column: h}}}, r.Header(), nil)
			}
		}
		if err != nil {
			return // no named column to read
		}
		if err := r.Use(cols); err != nil {
			t.Fatal(err)
		}
		last, rows := 0, 0
		for {
			row, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			rows++
			if row.Line <= last {
				t.Fatalf("row at line %d after line %d", row.Line, last)
			}
			last = row.Line
			if row.Problem != nil && (row.Problem.Reason == "" || row.Problem.Detail == "") {
				t.Fatalf("problem without reason: %+v", row.Problem)
			}
			if row.Problem == nil && row.Record == nil {
				t.Fatalf("line %d: a good row without its record", row.Line)
			}
			if rows > len(data) {
				t.Fatal("more rows than bytes")
			}
		}
	})
}

func BenchmarkRead(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("Prénom,Nom,Téléphone,Email,Date de naissance\n")
	for i := range 10000 {
		buf.WriteString("Jean,Dupont,06 12 34 ")
		buf.WriteString(strings.Repeat("5", 1+i%2))
		buf.WriteString(" 78,jean@example.fr,23/05/1980\n")
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		readAll(b, buf.Bytes(), ReaderOptions{})
	}
}

package source

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

const csvText = "name,mobile\nAda,0612345678\n"

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zstded(t *testing.T, b []byte) []byte {
	t.Helper()
	w, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	return w.EncodeAll(b, nil)
}

func zipped(t *testing.T, files ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for i := 0; i < len(files); i += 2 {
		f, err := w.CreateHeader(&zip.FileHeader{Name: files[i], Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(files[i+1]))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// The format is told by the first bytes, never by the name: every file
// here is called contacts.csv.
func TestIdentify(t *testing.T) {
	tests := []struct {
		name        string
		content     []byte
		format      string
		compression string
		err         string // part of the error, when the file is refused
	}{
		{"csv", []byte(csvText), FormatCSV, "", ""},
		{"gzip", gzipped(t, []byte(csvText)), FormatCSV, "gzip", ""},
		{"zstd", zstded(t, []byte(csvText)), FormatCSV, "zstd", ""},
		{"an empty file is text (the reader says it is empty)", nil, FormatCSV, "", ""},
		{".xls", append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 512)...), "", "", "save it as .xlsx"},
		{".xls, gzipped", gzipped(t, append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 512)...)), "", "", "Excel 97-2003"},
		{".ods", zipped(t, "mimetype", "application/vnd.oasis.opendocument.spreadsheet", "content.xml", "<x/>"), "", "", "OpenDocument spreadsheet (.ods)"},
		{"another zip", zipped(t, "notes.txt", "hello"), "", "", "zip archive"},
		{"broken gzip", []byte{0x1F, 0x8B, 0x01}, "", "", "gzip"},
		// What Excel writes for File › Save As › Web Page, and CRMs as .xls.
		{"a web page", []byte("\uFEFF\r\n<html xmlns:o=\"urn:schemas-microsoft-com:office:office\" xmlns:x=\"urn:schemas-microsoft-com:office:excel\">\r\n<body><table><tr><td>Mobile</td></tr></table></body></html>"), "", "", "a web page (HTML)"},
		{"a sign-in page", gzipped(t, []byte("<!DOCTYPE html>\n<html lang=\"en\"><head><title>Sign in</title>")), "", "", "sign-in page"},
		{"XML Spreadsheet 2003", []byte("<?xml version=\"1.0\"?>\r\n<?mso-application progid=\"Excel.Sheet\"?>\r\n<Workbook xmlns=\"urn:schemas-microsoft-com:office:spreadsheet\"\r\n xmlns:o=\"urn:schemas-microsoft-com:office:office\">"), "", "", "Excel 2003 XML spreadsheet"},
		{"a header that merely mentions html", []byte("html,mobile\nx,+33612345678\n"), FormatCSV, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "contacts.csv")
			os.WriteFile(path, tt.content, 0o644)
			src, err := Open(context.Background(), path, Options{})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), path) {
					t.Fatalf("err %v, want one naming the file and saying %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			if src.Format != tt.format || src.Compression != tt.compression {
				t.Fatalf("format %q, compression %q", src.Format, src.Compression)
			}
			text, err := io.ReadAll(src.Text())
			if err != nil {
				t.Fatal(err)
			}
			want := string(tt.content)
			if tt.compression != "" {
				want = csvText
			}
			if string(text) != want {
				t.Fatalf("text %q", text)
			}
		})
	}
}

func TestStdin(t *testing.T) {
	src, err := Open(context.Background(), "-", Options{Stdin: bytes.NewReader(gzipped(t, []byte(csvText)))})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	text, _ := io.ReadAll(src.Text())
	if string(text) != csvText || src.Name != "standard input" || src.Describe("") != "csv, gzip, standard input" {
		t.Fatalf("%q from %q (%s)", text, src.Name, src.Describe(""))
	}
}

// What the progress line's percentage comes from: the size of what is read
// (compressed, when it is), when it can be known, and the bytes read of it.
func TestSizeAndBytesRead(t *testing.T) {
	gz := gzipped(t, []byte(csvText))
	dir := t.TempDir()
	plain, packed := filepath.Join(dir, "plain.csv"), filepath.Join(dir, "packed.csv.gz")
	os.WriteFile(plain, []byte(csvText), 0o644)
	os.WriteFile(packed, gz, 0o644)
	redirected, err := os.Open(packed)
	if err != nil {
		t.Fatal(err)
	}
	defer redirected.Close()
	book := writeWorkbook(t)
	serve := func(length bool) string {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if length {
				w.Header().Set("Content-Length", fmt.Sprint(len(csvText)))
			} else {
				w.(http.Flusher).Flush() // chunked: no length
			}
			io.WriteString(w, csvText)
		}))
		t.Cleanup(ts.Close)
		return ts.URL + "/contacts.csv"
	}
	tests := []struct {
		name  string
		file  string
		stdin io.Reader
		size  int64
	}{
		{"a file", plain, nil, int64(len(csvText))},
		{"a compressed file: its compressed size", packed, nil, int64(len(gz))},
		{"a file redirected to the standard input", "-", redirected, int64(len(gz))},
		{"a pipe", "-", bytes.NewReader([]byte(csvText)), -1},
		{"a download with its length", serve(true), nil, int64(len(csvText))},
		{"a download without", serve(false), nil, -1},
		{"a workbook, read whole before its first row", book, nil, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := Open(context.Background(), tt.file, Options{Stdin: tt.stdin})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			if src.Size() != tt.size {
				t.Errorf("size %d, want %d", src.Size(), tt.size)
			}
			if src.Text() != nil {
				io.ReadAll(src.Text())
				if tt.size >= 0 && src.BytesRead() != tt.size {
					t.Errorf("%d bytes read of %d", src.BytesRead(), tt.size)
				}
			}
		})
	}
}

// A path that cannot be read is named, with what to do, not with the
// system's words.
func TestOpenPathMessages(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope.csv")
	tests := []struct{ name, path, want string }{
		{"missing", missing, missing + " does not exist: check the path (FILE may also be - for the standard input, or an http(s) URL)"},
		{"a directory", dir, dir + " is a directory: name a CSV or .xlsx file in it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(context.Background(), tt.path, Options{})
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
}

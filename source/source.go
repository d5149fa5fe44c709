// Package source opens FILE, whatever it is: a path, "-" for standard input,
// or an http(s) URL downloaded as it is read (with a conditional GET when
// the last run's validators are known); plain or compressed (gzip, zstd,
// told by their first bytes), CSV text or an .xlsx workbook read sheet by
// sheet. It knows nothing of contacts or providers.
package source

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"
)

// The formats a source holds.
const (
	FormatCSV  = "csv"
	FormatXLSX = "xlsx"
)

// Options says how to open FILE.
type Options struct {
	// Stdin is what "-" reads.
	Stdin io.Reader
	// Validators are those of the last complete run over the same URL: a
	// download sends them, and ErrNotModified is the answer when the file
	// did not change.
	Validators Validators
	// Timeout bounds the wait for an answer, and for each part of a
	// download's body; 0 means a minute.
	Timeout time.Duration
	// Retry runs op under the caller's retry policy: again after a
	// *TransientError, not after any other error. Nil runs it once.
	Retry func(what string, op func() error) error
}

// ErrNotModified is Open's answer when the server says the file did not
// change since the download Options.Validators came from.
var ErrNotModified = errors.New("the file did not change since the last run")

// Source is an opened FILE.
type Source struct {
	// Name names the file in messages: its path, "standard input", or its
	// URL without what may be a secret.
	Name string
	// Format is FormatCSV or FormatXLSX.
	Format string
	// Compression is "gzip", "zstd" or "".
	Compression string
	// Validators are the download's own, to remember once the file has
	// been read to the end and every row went through (URLs only).
	Validators Validators

	origin string    // "standard input", the URL as Name writes it, or "" for a path
	text   io.Reader // FormatCSV: the text, uncompressed
	book   *Workbook // FormatXLSX
	close  []func() error
	size   int64    // of what is read, compressed or not; -1 when unknown
	read   *counter // bytes read of it so far
}

// Open opens FILE. It reads only the first bytes of a CSV file (the rest is
// read as Text is), and a workbook whole, as .xlsx must be.
func Open(ctx context.Context, file string, o Options) (*Source, error) {
	s := &Source{Name: file, size: -1}
	var in io.Reader
	switch {
	case file == "-":
		if o.Stdin == nil {
			return nil, errors.New("no standard input to read")
		}
		s.Name, s.origin, in = "standard input", "standard input", o.Stdin
		// A file redirected to the standard input (< contacts.csv) has a
		// size; a pipe has none.
		if f, ok := o.Stdin.(*os.File); ok {
			if info, err := f.Stat(); err == nil && info.Mode().IsRegular() {
				s.size = info.Size()
			}
		}
	case IsURL(file):
		d, err := download(ctx, file, o)
		if err != nil {
			return nil, err
		}
		s.Name, s.origin, s.Validators = d.name, d.name, d.validators()
		s.close = append(s.close, d.Close)
		s.size = d.first.ContentLength // -1 when the server did not say
		in = d
	default:
		f, err := openFile(file)
		if err != nil {
			return nil, err
		}
		s.close = append(s.close, f.Close)
		if info, err := f.Stat(); err == nil {
			s.size = info.Size()
		}
		in = f
	}
	s.read = &counter{r: in}
	if err := s.identify(s.read); err != nil {
		s.Close()
		return nil, err
	}
	if s.book != nil {
		// A workbook is read whole before its first row: the bytes read say
		// nothing of how far the rows are.
		s.size = -1
	}
	return s, nil
}

// openFile opens a path and says, when it cannot, what to do about it in
// words rather than in the system's ("open x: no such file or directory").
func openFile(path string) (*os.File, error) {
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%s does not exist: check the path (FILE may also be - for the standard input, or an http(s) URL)", path)
	case errors.Is(err, fs.ErrPermission):
		return nil, fmt.Errorf("%s cannot be read: permission denied; check its permissions (ls -l %s)", path, path)
	case err != nil:
		return nil, fmt.Errorf("%s cannot be read: %w", path, err)
	case info.IsDir():
		return nil, fmt.Errorf("%s is a directory: name a CSV or .xlsx file in it", path)
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrPermission) {
		return nil, fmt.Errorf("%s cannot be read: permission denied; check its permissions (ls -l %s)", path, path)
	}
	return f, err
}

// Size is the size of what is read (compressed, when it is), or -1 when it
// is not known: a pipe, a download whose server does not say, a workbook.
func (s *Source) Size() int64 { return s.size }

// BytesRead is how much of it has been read so far; safe to call while
// another goroutine reads.
func (s *Source) BytesRead() int64 { return s.read.n.Load() }

// counter counts the bytes read through it.
type counter struct {
	r io.Reader
	n atomic.Int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// NameOf returns how messages name FILE — a URL without its password, its
// fragment and its query values but harmless ones — and what it left out,
// which must appear in no message either.
func NameOf(file string) (string, []string) {
	switch {
	case file == "-":
		return "standard input", nil
	case !IsURL(file):
		return file, nil
	}
	u, err := url.Parse(file)
	if err != nil {
		return "the URL given", nil
	}
	return redactURL(u)
}

// IsURL reports whether FILE names a download rather than a path.
func IsURL(file string) bool {
	lower := strings.ToLower(file)
	return strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://")
}

// What a file may hold other than text, told by its first bytes.
const (
	ContainerGzip = "gzip"
	ContainerZstd = "zstd"
	ContainerZip  = "zip" // a workbook (.xlsx, .ods) or an archive
	ContainerOLE  = "ole" // an Excel 97-2003 workbook, or one with a password
)

// containers are the magic bytes of each container, the longest last.
var containers = []struct {
	name  string
	magic []byte
}{
	{ContainerGzip, []byte{0x1F, 0x8B}},
	{ContainerZstd, []byte{0x28, 0xB5, 0x2F, 0xFD}},
	{ContainerZip, []byte("PK\x03\x04")},
	{ContainerOLE, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}},
}

// Container names the container head (a file's first bytes) opens, or ""
// for anything else, text included.
func Container(head []byte) string {
	for _, c := range containers {
		if bytes.HasPrefix(head, c.magic) {
			return c.name
		}
	}
	return ""
}

// An OpenDocument file is a zip whose first entry, stored, is its
// "mimetype": the type is in clear a few bytes in.
var odsMimetype = []byte("application/vnd.oasis.opendocument")

// headLen is what Container needs to see.
var headLen = len(containers[len(containers)-1].magic)

// identify tells the format from the first bytes, not from the name: a
// .csv file may be a workbook, and a download has no name to go by.
func (s *Source) identify(in io.Reader) error {
	br := bufio.NewReaderSize(in, 64<<10)
	head, err := br.Peek(headLen)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	switch Container(head) {
	case ContainerGzip:
		gz, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("%s looks gzip-compressed but cannot be read: %w", s.Name, err)
		}
		s.Compression = "gzip"
		s.close = append(s.close, gz.Close)
		br = bufio.NewReaderSize(gz, 64<<10)
	case ContainerZstd:
		// One goroutine, and a window of 8 MiB at most (what every
		// compression level up to 19 uses; the library would accept 512
		// MiB): a compressed file must not cost much more memory than a
		// plain one.
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxWindow(8<<20))
		if err != nil {
			return fmt.Errorf("%s looks zstd-compressed but cannot be read: %w", s.Name, err)
		}
		s.Compression = "zstd"
		s.close = append(s.close, func() error { zr.Close(); return nil })
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	if s.Compression != "" {
		if head, err = br.Peek(headLen); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: decompressing: %w", s.Name, err)
		}
	}
	switch Container(head) {
	case ContainerOLE:
		return fmt.Errorf("%s is an Excel 97-2003 workbook (.xls), or a workbook protected by a password: contactsync reads .xlsx and CSV files; open it in Excel or LibreOffice and save it as .xlsx (without a password) or as CSV UTF-8", s.Name)
	case ContainerZip:
		if start, _ := br.Peek(128); bytes.Contains(start, odsMimetype) {
			return fmt.Errorf("%s is an OpenDocument spreadsheet (.ods): contactsync reads .xlsx and CSV files; open it in LibreOffice and save it as .xlsx (File › Save As › Excel 2007-365) or as CSV", s.Name)
		}
		book, err := openWorkbook(br, s.Name)
		if err != nil {
			return err
		}
		s.Format, s.book = FormatXLSX, book
		s.close = append(s.close, book.Close)
	default:
		if err := s.checkText(br); err != nil {
			return err
		}
		s.Format, s.text = FormatCSV, br
	}
	return nil
}

// Markup that a file named .csv or .xls may hold instead of text: Excel's
// "Web page" and "XML Spreadsheet 2003" formats, which CRMs also export as
// .xls, and a web page saved or downloaded in the file's place.
var (
	htmlStarts    = [][]byte{[]byte("<!doctype html"), []byte("<html")}
	xmlStart      = []byte("<?xml")
	excelXMLSpace = []byte("urn:schemas-microsoft-com:office:spreadsheet")
)

// markupSniffSize is how much of the text checkText looks at.
const markupSniffSize = 1024

// checkText refuses text that is markup rather than CSV, saying what to do,
// instead of reading "<!DOCTYPE html>" as a header with no phone column.
func (s *Source) checkText(br *bufio.Reader) error {
	start, _ := br.Peek(markupSniffSize)
	start = bytes.ToLower(bytes.TrimLeft(bytes.TrimPrefix(start, []byte("\uFEFF")), " \t\r\n"))
	for _, h := range htmlStarts {
		if bytes.HasPrefix(start, h) {
			return fmt.Errorf("%s is a web page (HTML), not CSV text: a spreadsheet or CRM export saved as a web page or as an HTML .xls must be opened in Excel or LibreOffice and saved as .xlsx or CSV; a download may have led to a sign-in page", s.Name)
		}
	}
	if bytes.HasPrefix(start, xmlStart) && bytes.Contains(start, excelXMLSpace) {
		return fmt.Errorf("%s is an Excel 2003 XML spreadsheet: contactsync reads .xlsx and CSV files; open it in Excel or LibreOffice and save it as .xlsx or as CSV UTF-8", s.Name)
	}
	return nil
}

// Text returns the CSV text, uncompressed; nil for a workbook.
func (s *Source) Text() io.Reader { return s.text }

// Workbook returns the workbook; nil for CSV text.
func (s *Source) Workbook() *Workbook { return s.book }

// Describe says what was read, for the report and inspect: "csv",
// "csv, gzip", "xlsx, sheet Contacts", "csv, https://example.com/c.csv".
// sheet is the sheet read, for a workbook.
func (s *Source) Describe(sheet string) string {
	parts := []string{s.Format}
	if s.book != nil && sheet != "" {
		parts = append(parts, "sheet "+sheet)
	}
	if s.Compression != "" {
		parts = append(parts, s.Compression)
	}
	if s.origin != "" {
		parts = append(parts, s.origin)
	}
	return strings.Join(parts, ", ")
}

// Close releases the file, the download or the workbook's temporary files.
func (s *Source) Close() error {
	var first error
	for i := len(s.close) - 1; i >= 0; i-- {
		if err := s.close[i](); err != nil && first == nil {
			first = err
		}
	}
	s.close = nil
	return first
}

package main

import (
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"
)

// measureWorkbook runs a dry run of a workbook of rows rows beside one of
// the same rows as CSV: .xlsx must be read row by row, in flat memory.
func measureWorkbook(bin, dir string, rows int, seed uint64) {
	book := filepath.Join(dir, fmt.Sprintf("contacts-%d.xlsx", rows))
	text := filepath.Join(dir, fmt.Sprintf("contacts-%d.csv", rows))
	if _, err := os.Stat(text); err != nil {
		check(writeFile(text, rows, seed))
	}
	if _, err := os.Stat(book); err != nil {
		// In another process: excelize holds the workbook while it writes
		// it, and the pages this process holds when it starts the binary
		// count in the binary's peak RSS.
		self, err := os.Executable()
		check(err)
		cmd := exec.Command(self, "-gen-xlsx", book, "-from", text)
		cmd.Stderr = os.Stderr
		check(cmd.Run())
	}
	measure(bin, dir, "dry run", text, "--dry-run")
	measure(bin, dir, "dry run", book, "--dry-run")
}

// writeWorkbook writes the rows of a CSV file as Excel stores them when
// they are typed in: digits-only phones as numbers shown with their leading
// zero ("0000000000"), dates as dates, the rest as text; with excelize's
// StreamWriter, which holds a row at a time.
func writeWorkbook(path, text string) error {
	in, err := os.Open(text)
	if err != nil {
		return err
	}
	defer in.Close()
	f := excelize.NewFile()
	defer f.Close()
	f.SetSheetName("Sheet1", "Contacts")
	padded := "0000000000"
	phone, err := f.NewStyle(&excelize.Style{CustomNumFmt: &padded})
	if err != nil {
		return err
	}
	date, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		return err
	}
	sw, err := f.NewStreamWriter("Contacts")
	if err != nil {
		return err
	}
	cr := csv.NewReader(in)
	for n := 1; ; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		row := make([]any, len(rec))
		for i, v := range rec {
			row[i] = v
			if n == 1 {
				continue
			}
			if d, err := strconv.ParseInt(v, 10, 64); err == nil {
				row[i] = excelize.Cell{StyleID: phone, Value: d}
			} else if t, err := time.Parse("02/01/2006", v); err == nil {
				row[i] = excelize.Cell{StyleID: date, Value: t}
			}
		}
		cell, _ := excelize.CoordinatesToCellName(1, n)
		if err := sw.SetRow(cell, row); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.SaveAs(path)
}

// measureSources runs the dry run of the large file read from a local
// file, gzip-compressed, and downloaded from a URL: a download is streamed
// as it is read, and must cost no more memory than the file.
func measureSources(bin, dir string, rows int, seed uint64) {
	text := filepath.Join(dir, fmt.Sprintf("contacts-%d.csv", rows))
	if _, err := os.Stat(text); err != nil {
		check(writeFile(text, rows, seed))
	}
	gz := text + ".gz"
	if _, err := os.Stat(gz); err != nil {
		check(gzipFile(gz, text))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, text)
	}))
	defer srv.Close()
	measure(bin, dir, "dry run", text, "--dry-run")
	measure(bin, dir, "dry run", gz, "--dry-run")
	measure(bin, dir, "dry run, URL", srv.URL+"/"+filepath.Base(text), "--dry-run")
}

func gzipFile(path, from string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	w := gzip.NewWriter(out)
	if _, err := io.Copy(w, in); err != nil {
		out.Close()
		return err
	}
	if err := w.Close(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

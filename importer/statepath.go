package importer

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"contactsync/source"
)

// checkStatePath refuses a --state that names something other than a
// state: a directory, or a file that is plainly not one (text such as a CSV
// file, a workbook, a compressed file), as when FILE and --state were
// swapped; the state's own checks would call it damaged and say to move it
// aside, which renames the user's input. Any other file (the state file of
// an older contactsync, read once to carry it over) is left to them. A path
// that does not exist yet is a new state: its files go in PATH.d/.
func checkStatePath(path string) error {
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return usagef("--state %s cannot be read: %v; check its permissions, or pass another --state", path, err)
	case info.IsDir():
		return usagef("--state %s is a directory: name the state in it, such as --state %s (its files then go in %s.d/)", path, filepath.Join(path, "state.db"), filepath.Join(path, "state.db"))
	case info.Size() == 0:
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return usagef("--state %s cannot be read: %v; check its permissions, or pass another --state", path, err)
	}
	defer f.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return usagef("--state %s cannot be read: %v", path, err)
	}
	head = head[:n]
	what := ""
	switch container := source.Container(head); {
	case container == source.ContainerZip:
		what = "a workbook or a zip archive"
	case container == source.ContainerOLE:
		what = "an Excel workbook"
	case container == source.ContainerGzip, container == source.ContainerZstd:
		what = "a compressed file"
	case !bytes.Contains(head, []byte{0}), bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		// A state file opens with a page header of mostly zero bytes; text
		// has none, unless it is UTF-16, which opens with its byte order mark.
		what = "text, such as a CSV file"
	default:
		return nil
	}
	return usagef("nothing was sent: --state %s is not a state file (it holds %s): --state names the file where contactsync "+
		"remembers what it sent; if it names the wrong file (FILE and --state swapped?), pass the state file's path, a new one, "+
		"or --state none; if it was the state file, something overwrote it: move it aside (mv %s %s.damaged) and run again",
		path, what, path, path)
}

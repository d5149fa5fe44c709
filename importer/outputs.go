package importer

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"contactsync/source"
)

// namedFile is a file of the command line, named as the user named it.
type namedFile struct {
	flag   string // "--report"; "" for FILE, the input
	path   string
	output bool
}

func (f namedFile) String() string {
	if f.flag == "" {
		return "the input file"
	}
	return f.flag + " " + f.path
}

// runFiles lists the local files an import reads and writes: the input
// (unless it is a URL or the standard input), the mapping, and every output.
func runFiles(o *Options) []namedFile {
	files := localFiles(o.File,
		namedFile{flag: "--mapping", path: o.Mapping},
		namedFile{flag: "--report", path: o.ReportFile, output: true},
		namedFile{flag: "--rejects", path: o.RejectsFile, output: true},
		namedFile{flag: "--plan", path: o.PlanFile, output: true})
	// A dry run does not write the state, but --report naming it still
	// would.
	if stateEnabled(o.StateFile) {
		files = append(files, namedFile{flag: "--state", path: o.StateFile, output: true})
	}
	return files
}

// localFiles lists FILE, when it is a local path, and the flags' files that
// are named.
func localFiles(file string, flags ...namedFile) []namedFile {
	var files []namedFile
	if file != "-" && !source.IsURL(file) {
		files = append(files, namedFile{path: file})
	}
	for _, f := range flags {
		if f.path != "" {
			files = append(files, f)
		}
	}
	return files
}

// checkFiles refuses, before anything is read, a command line that names
// one file twice where one of them is written: the input (or the standard
// input it is redirected from) would be overwritten by the report, or the
// state by the rejects. Files are compared by their resolved paths and, when
// they exist, by their device and inode, so that a symbolic or hard link to
// the input is caught too. Then it checks that each output can be written,
// so that a report that cannot be written is found before the first request
// rather than after the last.
func checkFiles(files []namedFile, stdin io.Reader) error {
	type seen struct {
		namedFile
		resolved string
		info     fs.FileInfo
	}
	var all []seen
	if f, ok := stdin.(*os.File); ok {
		if info, err := f.Stat(); err == nil && info.Mode().IsRegular() {
			all = append(all, seen{namedFile: namedFile{path: "-"}, info: info})
		}
	}
	for _, f := range files {
		s := seen{namedFile: f, resolved: resolvePath(f.path)}
		s.info, _ = os.Stat(f.path)
		for _, other := range all {
			same := s.resolved != "" && s.resolved == other.resolved ||
				s.info != nil && other.info != nil && os.SameFile(s.info, other.info)
			if !same || !f.output && !other.output {
				continue
			}
			switch {
			case other.path == "-":
				return usagef("%s is the file the standard input is read from: the run would overwrite it; name another file", f)
			case !other.output:
				return usagef("%s is %s: the run would overwrite it; name another file", f, other)
			}
			return usagef("%s and %s are the same file: one would overwrite the other; give each its own file", other, f)
		}
		all = append(all, s)
	}
	for _, f := range files {
		if !f.output || f.flag == "--state" {
			continue // the state is opened, and so checked, before the first request
		}
		if err := checkWritable(f.path); err != nil {
			return usagef("%s cannot be written: %w; pass a path you can write to", f, err)
		}
	}
	return nil
}

// resolvePath makes a path absolute, symbolic links resolved: those of the
// file itself when it exists, else those of its directory.
func resolvePath(path string) string {
	if p, err := filepath.EvalSymlinks(path); err == nil {
		path = p
	} else if dir, err := filepath.EvalSymlinks(filepath.Dir(path)); err == nil {
		path = filepath.Join(dir, filepath.Base(path))
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return ""
	}
	return abs
}

// checkWritable checks that path can be written, without changing it and
// without leaving a file behind: an existing file is opened for writing
// (not truncated); for a new one, a temporary file is created beside it and
// removed. What is not a regular file (a terminal, /dev/null) is left to the
// write itself.
func checkWritable(path string) error {
	info, err := os.Stat(path)
	switch {
	case err == nil && info.IsDir():
		return errors.New("it is a directory")
	case err == nil && !info.Mode().IsRegular():
		return nil
	case err == nil:
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		return f.Close()
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".contactsync-check-*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return fmt.Errorf("directory %s: %w", dir, pe.Err)
		}
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

package mapping

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"

	"contactsync/internal/wrap"
)

// NoPhoneColumnError is Resolve's error for a file none of whose columns
// the mapping takes for a phone number's.
type NoPhoneColumnError struct {
	Header []string
}

func (e *NoPhoneColumnError) Error() string {
	msg := fmt.Sprintf("no phone column: none of the columns (%s) is named like a phone number", strings.Join(e.Header, ", "))
	if hint := e.DataHint(); hint != "" {
		return msg + "; " + hint
	}
	return msg + "; name one with a mapping file (--mapping, see `contactsync inspect --write-mapping`)"
}

// DataHint says, when the header read is a row of data rather than the
// columns' names (the file has no header line), which of its cells shows
// it; "" otherwise.
func (e *NoPhoneColumnError) DataHint() string {
	for _, cell := range e.Header {
		what := ""
		switch {
		case looksLikePhone(cell):
			what = "a phone number"
		case strings.Contains(cell, "@"):
			if _, ok := CleanEmail(cell); ok {
				what = "an e-mail address"
			}
		}
		if what != "" {
			return fmt.Sprintf("the first line looks like data, not a header (%q is %s): if the file has no header line, add one "+
				"that names its columns, e.g. first_name,last_name,phone", cell, what)
		}
	}
	return ""
}

// hintRegions are the countries a header cell is tried as a phone number
// of, besides an international number: those of the providers' users.
var hintRegions = []string{"FR", "BE", "ES", "IR", "GB", "DE", "US"}

// dateLike is a date a phone number's digits could hide in: 12/03/1985,
// 12.03.1985, 1985-03-12.
var dateLike = regexp.MustCompile(`^\s*\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\s*$`)

func looksLikePhone(cell string) bool {
	if strings.ContainsFunc(cell, unicode.IsLetter) || dateLike.MatchString(cell) {
		return false
	}
	if _, p := ParsePhone(cell, ""); p == nil {
		return true
	}
	for _, r := range hintRegions {
		if _, p := ParsePhone(cell, r); p == nil {
			return true
		}
	}
	return false
}

// WriteSkeleton writes spec, which names no phone column, as a mapping file
// for the user to complete: its phone field names no column yet, and
// comments list the file's columns and say what to do.
func (s *Spec) WriteSkeleton(path string, e *NoPhoneColumnError) error {
	skeleton := *s
	skeleton.Fields = map[Field]*FieldSpec{FieldPhone: {}}
	for f, fs := range s.Fields {
		if f != FieldPhone {
			skeleton.Fields[f] = fs
		}
	}
	var b bytes.Buffer
	b.WriteString("# contactsync column mapping, to complete: no column of the file is named like a\n")
	b.WriteString("# phone number. Write the phone column's name after \"phone:\" below (several, best\n")
	b.WriteString("# first: [Mobile, Home]), then pass this file back with --mapping.\n")
	if hint := e.DataHint(); hint != "" {
		for _, line := range wrap.Words("Careful: "+hint+".", 78) {
			b.WriteString("# " + line + "\n")
		}
	}
	quoted := make([]string, len(e.Header))
	for i, h := range e.Header {
		quoted[i] = strconv.Quote(h)
	}
	b.WriteString("# The file's columns: " + strings.Join(quoted, ", ") + "\n")
	b.WriteString("# fields: " + fieldList() + "\n")
	b.WriteString("# birthday formats: yyyy-mm-dd, dd/mm/yyyy, mm/dd/yyyy, excel\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&skeleton); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

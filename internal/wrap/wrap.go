// Package wrap breaks prose into lines for a terminal or a comment block:
// --help's flag texts and the notes of a generated mapping file.
package wrap

import (
	"strings"
	"unicode/utf8"
)

// Words breaks text into lines of at most width columns, between words; a
// word longer than width stands alone on its line.
func Words(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		switch {
		case line == "":
			line = word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) > width:
			lines = append(lines, line)
			line = word
		default:
			line += " " + word
		}
	}
	return append(lines, line)
}

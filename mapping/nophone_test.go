package mapping

import (
	"strings"
	"testing"
)

// A file without a header line shows it: its first line, read as the
// header, holds a phone number or an e-mail address.
func TestNoPhoneColumnDataHint(t *testing.T) {
	tests := []struct {
		header []string
		want   string // in the hint; "" for none
	}{
		{[]string{"Jean", "Dupont", "0612345678"}, `"0612345678" is a phone number`},
		{[]string{"Jean", "+33 6 12 34 56 78"}, `"+33 6 12 34 56 78" is a phone number`},
		{[]string{"Ada", "ada@example.org"}, `"ada@example.org" is an e-mail address`},
		{[]string{"Prénom", "Nom", "Numéro de client"}, ""},
		{[]string{"Name", "Born", "12/03/1985", "2024"}, ""},
		{[]string{"contact@", "Nom"}, ""},
	}
	for _, tt := range tests {
		_, err := Resolve(Detect(tt.header, DetectOptions{}), tt.header, nil)
		e, ok := err.(*NoPhoneColumnError)
		if !ok {
			t.Fatalf("%v: err %v, want a NoPhoneColumnError", tt.header, err)
		}
		hint := e.DataHint()
		if tt.want == "" && hint != "" || !strings.Contains(hint, tt.want) {
			t.Errorf("%v: hint %q, want %q", tt.header, hint, tt.want)
		}
		if tt.want != "" && !strings.Contains(err.Error(), "the first line looks like data, not a header") {
			t.Errorf("%v: %v", tt.header, err)
		}
	}
}

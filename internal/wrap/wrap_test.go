package wrap

import (
	"reflect"
	"testing"
)

func TestWords(t *testing.T) {
	for _, tt := range []struct {
		text  string
		width int
		want  []string
	}{
		{"", 10, []string{""}},
		{"a b c", 10, []string{"a b c"}},
		{"a b c", 3, []string{"a b", "c"}},
		{"  spaces   between\twords\n", 14, []string{"spaces between", "words"}},
		{"numéro de téléphone", 9, []string{"numéro de", "téléphone"}}, // columns, not bytes
		{"a superlongword b", 5, []string{"a", "superlongword", "b"}},
	} {
		if got := Words(tt.text, tt.width); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Words(%q, %d) = %q, want %q", tt.text, tt.width, got, tt.want)
		}
	}
}

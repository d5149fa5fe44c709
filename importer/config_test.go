package importer_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"contactsync/importer"
	"contactsync/providers/providertest"
)

// A malformed config file is reported by its line and the kind of problem,
// never by quoting it: yaml's own messages show a value's first characters
// or a whole anchor name, and the file holds the credentials.
func TestConfigErrorsQuoteNothing(t *testing.T) {
	const secret = "Zk9-secret/value+42"
	for _, tt := range []struct {
		name, file, want string
	}{
		{"quote left open", "octopush:\n  OCTOPUSH_API_KEY: \"" + secret + "\n", "line 2: not valid YAML"},
		{"section that is a value", "octopush: " + secret + "\n", "line 1: not one section per provider"},
		{"list for a value", "octopush:\n  OCTOPUSH_API_KEY: [" + secret + "]\n", "line 2: not one section per provider"},
		{"tab indentation", "octopush:\n\tOCTOPUSH_API_KEY: " + secret + "\n", "line 2: not valid YAML"},
		{"colon in an unquoted value", "octopush:\n  OCTOPUSH_API_KEY: Zk9-secret: value+42\n", "line 2: not valid YAML"},
		{"variable set twice", "octopush:\n  OCTOPUSH_API_KEY: " + secret + "\n  OCTOPUSH_API_KEY: " + secret + "\n", "line 3: not one section per provider"},
		{"value read as an anchor", "octopush:\n  OCTOPUSH_API_KEY: *" + secret + "\n", "not valid YAML"},
		{"unknown escape", "octopush:\n  OCTOPUSH_API_KEY: \"Zk9-\\qsecret/value+42\"\n", "line 2: not valid YAML"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := importer.Credentials("octopush", []string{"OCTOPUSH_API_LOGIN", "OCTOPUSH_API_KEY"}, path, func(string) string { return "" })
			if err == nil {
				t.Fatal("a malformed config file was accepted")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%q does not name the file and say %q", err, tt.want)
			}
			if leak := providertest.Leak(err.Error(), []string{secret}); leak != "" {
				t.Errorf("%q leaks %q", err, leak)
			}
		})
	}
}

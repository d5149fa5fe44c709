package suggest

import "testing"

func TestClosest(t *testing.T) {
	commands := []string{"import", "inspect", "providers", "version", "help"}
	providers := []string{"amootsms", "avosms", "octopush", "smstools"}
	tests := []struct {
		word       string
		candidates []string
		want       string
	}{
		{"improt", commands, "import"},
		{"imprt", commands, "import"},
		{"Import", commands, "import"},
		{"inspct", commands, "inspect"},
		{"provider", commands, "providers"},
		{"verison", commands, "version"},
		{"hlep", commands, "help"},
		{"sync", commands, ""},
		{"frobnicate", commands, ""},
		{"x", commands, ""},
		{"octopus", providers, "octopush"},
		{"avosm", providers, "avosms"},
		{"smstool", providers, "smstools"},
		{"amoot", providers, ""},
		{"twilio", providers, ""},
	}
	for _, tt := range tests {
		if got := Closest(tt.word, tt.candidates); got != tt.want {
			t.Errorf("Closest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}

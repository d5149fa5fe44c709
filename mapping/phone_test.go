package mapping

import (
	"testing"
)

func TestParsePhone(t *testing.T) {
	tests := []struct {
		name, raw, region string
		want              string // E.164, or "" when refused
		reason            string
	}{
		{"french national with spaces", "06 12 34 56 78", "FR", "+33612345678", ""},
		{"dots", "06.12.34.56.78", "FR", "+33612345678", ""},
		{"dashes", "06-12-34-56-78", "FR", "+33612345678", ""},
		{"brackets", "(06) 12 34 56 78", "FR", "+33612345678", ""},
		{"international", "+33 6 12 34 56 78", "", "+33612345678", ""},
		{"international with (0)", "+33 (0)6 12 34 56 78", "", "+33612345678", ""},
		{"00 for +", "0033 6 12 34 56 78", "", "+33612345678", ""},
		{"00 with (0)", "0033 (0)6 12 34 56 78", "FR", "+33612345678", ""},
		{"excel apostrophe", "'0612345678", "FR", "+33612345678", ""},
		{"excel text formula", `="0612345678"`, "FR", "+33612345678", ""},
		{"leading zero lost", "612345678", "FR", "+33612345678", ""},
		{"plus lost", "33612345678", "FR", "+33612345678", ""},
		{"plus lost without region", "33612345678", "", "+33612345678", ""},
		{"region ignored for international", "+34 612 34 56 78", "FR", "+34612345678", ""},
		{"spanish mobile", "612 34 56 78", "ES", "+34612345678", ""},
		{"us number", "(202) 555-0143", "US", "+12025550143", ""},
		{"uk mobile", "07911 123456", "GB", "+447911123456", ""},
		{"lowercase region", "06 12 34 56 78", "fr", "+33612345678", ""},
		{"persian digits", "۰۹۱۲۱۲۳۴۵۶۷", "IR", "+989121234567", ""},
		{"arabic-indic digits", "٠٩١٢١٢٣٤٥٦٧", "IR", "+989121234567", ""},
		{"iranian national", "09121234567", "IR", "+989121234567", ""},
		{"non-breaking spaces", "06\u00a012\u00a034\u00a056\u00a078", "FR", "+33612345678", ""},
		{"bidi marks around a persian number", "\u200e09121234567\u200f", "IR", "+989121234567", ""},
		{"full-width digits", "０６１２３４５６７８", "FR", "+33612345678", ""},
		{"exact scientific notation", "3.3612345678E+10", "", "+33612345678", ""},
		{"exact scientific notation, decimal comma", "3,3612345678E+10", "", "+33612345678", ""},
		{"lossy scientific notation", "3.36123E+10", "FR", "", ReasonPrecisionLost},
		{"empty", "", "FR", "", ReasonMissingPhone},
		{"blank", "   ", "FR", "", ReasonMissingPhone},
		{"letters", "not a number", "FR", "", ReasonInvalidPhone},
		{"too short", "0612", "FR", "", ReasonInvalidPhone},
		{"national without region", "0612345678", "", "", ReasonInvalidPhone},
		{"fictional uk range", "+44 7700 900123", "", "", ReasonInvalidPhone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, problem := ParsePhone(tt.raw, tt.region)
			if tt.reason != "" {
				if problem == nil || problem.Reason != tt.reason {
					t.Fatalf("ParsePhone(%q, %q) = %q, %v; want reason %s", tt.raw, tt.region, got.E164, problem, tt.reason)
				}
				return
			}
			if problem != nil || got.E164 != tt.want {
				t.Fatalf("ParsePhone(%q, %q) = %q, %v; want %s", tt.raw, tt.region, got.E164, problem, tt.want)
			}
			if KeyOf(got.E164) == 0 || PhoneOfKey(KeyOf(got.E164)) != got.E164 {
				t.Fatalf("key of %s does not round-trip", got.E164)
			}
		})
	}
}

// Two spellings of one number must give one key: that is what makes them one
// contact.
func TestParsePhoneSpellingsShareKey(t *testing.T) {
	spellings := []string{"06 12 34 56 78", "+33612345678", "0033 (0)6 12 34 56 78", "'612345678", "3.3612345678E+10"}
	var first uint64
	for _, s := range spellings {
		p, problem := ParsePhone(s, "FR")
		if problem != nil {
			t.Fatalf("%q: %v", s, problem)
		}
		if first == 0 {
			first = KeyOf(p.E164)
		}
		if KeyOf(p.E164) != first {
			t.Errorf("%q has key %d, want %d", s, KeyOf(p.E164), first)
		}
	}
}

func TestPhoneInRegion(t *testing.T) {
	p, _ := ParsePhone("+33612345678", "")
	if !p.InRegion("FR") || p.InRegion("BE") {
		t.Fatal("InRegion disagrees with the number's country")
	}
}

func FuzzParsePhone(f *testing.F) {
	for _, s := range []string{"06 12 34 56 78", "+33 (0)6 12", "0033", "3.36E+10", "۰۹۱۲", `="1"`, "'", "+", "e", "1e99"} {
		f.Add(s, "FR")
	}
	f.Fuzz(func(t *testing.T, raw, region string) {
		p, problem := ParsePhone(raw, region)
		if problem == nil {
			if KeyOf(p.E164) == 0 {
				t.Fatalf("ParsePhone(%q) accepted %q, which has no key", raw, p.E164)
			}
			// Normalising a normalised number changes nothing.
			again, problem := ParsePhone(p.E164, "")
			if problem != nil || again.E164 != p.E164 {
				t.Fatalf("ParsePhone(%q) = %q, which parses as %q, %v", raw, p.E164, again.E164, problem)
			}
		} else if problem.Reason == "" || problem.Detail == "" {
			t.Fatalf("problem without reason or detail for %q", raw)
		}
	})
}

func BenchmarkParsePhone(b *testing.B) {
	b.ReportAllocs()
	inputs := []string{"06 12 34 56 78", "+33 6 12 34 56 79", "0612345680", "+34 612 34 56 78"}
	for i := 0; b.Loop(); i++ {
		if _, p := ParsePhone(inputs[i%len(inputs)], "FR"); p != nil {
			b.Fatal(p)
		}
	}
}

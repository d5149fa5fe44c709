package mapping

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"
)

// Reasons a phone number is refused.
const (
	ReasonMissingPhone    = "missing_phone"
	ReasonInvalidPhone    = "invalid_phone"
	ReasonPrecisionLost   = "phone_precision_lost"
	ReasonCountryMismatch = "country_mismatch"
)

// Phone is a parsed, valid number.
type Phone struct {
	E164 string
	// Type is libphonenumber's: MOBILE, FIXED_LINE, FIXED_LINE_OR_MOBILE
	// (where the plan cannot tell, as in the US), VOIP…
	Type   phonenumbers.PhoneNumberType
	number *phonenumbers.PhoneNumber
}

// validType types a parsed number; ok is false when it is not valid. It is
// IsValidNumber's own test (a number is valid when it has a type), so
// knowing the type costs nothing more than validating.
func validType(num *phonenumbers.PhoneNumber) (phonenumbers.PhoneNumberType, bool) {
	t := phonenumbers.GetNumberType(num)
	return t, t != phonenumbers.UNKNOWN
}

// InRegion reports whether the number belongs to the ISO country region.
func (p Phone) InRegion(region string) bool {
	return phonenumbers.IsValidNumberForRegion(p.number, strings.ToUpper(region))
}

// ParsePhone reads a phone number as spreadsheets leave them and returns it
// in E.164 form. region is the country of numbers written without an
// international prefix ("" when unknown). It accepts spaces, dots, dashes,
// brackets, a leading apostrophe or ="…" (text markers of Excel), "(0)"
// after a country code, 00 for +, Persian and Arabic-Indic digits, a
// national number that lost its leading zero in a spreadsheet, an
// international number that lost its "+", and scientific notation when it is
// exact. Validation is libphonenumber's.
func ParsePhone(raw, region string) (Phone, *Problem) {
	s, letters, problem := cleanPhone(raw)
	if problem != nil {
		return Phone{}, problem
	}
	if s == "" {
		return Phone{}, &Problem{Reason: ReasonMissingPhone, Detail: "the phone cell is empty"}
	}
	region = strings.ToUpper(region)
	if !letters {
		if p, ok := fastParse(s, region); ok {
			return p, nil
		}
	}
	candidates := []string{s}
	switch {
	case letters || s[0] == '+':
	case region != "":
		if ndd := phonenumbers.GetNddPrefixForRegion(region, true); ndd != "" && !strings.HasPrefix(s, ndd) {
			candidates = append(candidates, ndd+s) // leading zero lost
		}
		candidates = append(candidates, "+"+s) // "+" lost
	default:
		candidates = []string{"+" + s}
	}
	for _, c := range candidates {
		num, err := phonenumbers.Parse(c, region)
		if err != nil {
			continue
		}
		if t, ok := validType(num); ok {
			return Phone{E164: phonenumbers.Format(num, phonenumbers.E164), Type: t, number: num}, nil
		}
	}
	detail := fmt.Sprintf("%q is not a valid phone number", strings.TrimSpace(raw))
	if s[0] != '+' && region == "" {
		detail += " (it has no country code: pass --region, e.g. --region FR)"
	} else if s[0] != '+' {
		detail += " for region " + region
	}
	return Phone{}, &Problem{Reason: ReasonInvalidPhone, Detail: detail}
}

// cleanPhone reduces a cell to digits with an optional leading "+", or
// returns the cell trimmed, with letters set, when it holds letters
// (libphonenumber reads extensions and vanity numbers itself).
func cleanPhone(raw string) (s string, letters bool, problem *Problem) {
	s = asciiDigits(strings.TrimSpace(raw))
	if strings.HasPrefix(s, `="`) && strings.HasSuffix(s, `"`) && len(s) >= 3 {
		s = s[2 : len(s)-1]
	}
	s = strings.TrimLeft(s, "'")
	if strings.HasPrefix(s, "+") || strings.HasPrefix(s, "00") {
		// "+33 (0)6…": the national prefix written for locals is not dialled.
		s = strings.Replace(s, "(0)", "", 1)
	}
	if m, ok := scientific(s); ok {
		return m, false, nil
	} else if m == "lossy" {
		return "", false, &Problem{Reason: ReasonPrecisionLost,
			Detail: fmt.Sprintf("%q was shortened by the spreadsheet (scientific notation): its last digits are lost; export the column as text", s)}
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' || r == '＋':
			if b.Len() == 0 {
				b.WriteByte('+')
			}
		case unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) || strings.ContainsRune(".-()/[]–—_\u00A0", r):
		case unicode.IsLetter(r):
			letters = true
		}
	}
	out := b.String()
	if strings.HasPrefix(out, "00") {
		out = "+" + out[2:]
	}
	if letters {
		return s, true, nil
	}
	return out, false, nil
}

// scientific expands a number a spreadsheet wrote in scientific notation
// ("3.3612345678E+10", "3,36E+10"). It returns the digits and true when the
// mantissa holds every digit; "lossy" and false when the spreadsheet dropped
// digits; "" and false when s is not in scientific notation.
func scientific(s string) (string, bool) {
	e := strings.IndexAny(s, "eE")
	if e < 1 || e == len(s)-1 {
		return "", false
	}
	mant, exp := s[:e], strings.TrimPrefix(s[e+1:], "+")
	intPart, frac, _ := strings.Cut(strings.Replace(mant, ",", ".", 1), ".")
	if len(intPart) != 1 || !allDigits(intPart) || !allDigits(frac) || !allDigits(exp) || len(exp) == 0 || len(exp) > 2 {
		return "", false
	}
	n := int(exp[0] - '0')
	if len(exp) == 2 {
		n = n*10 + int(exp[1]-'0')
	}
	switch {
	case len(frac) > n:
		return "", false // not a whole number: not a phone
	case len(frac) < n:
		// The mantissa is shorter than the number: the last digits were
		// rounded away, and padding them with zeros would invent a number.
		return "lossy", false
	}
	return intPart + frac, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

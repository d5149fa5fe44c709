package mapping

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// slowParse is what the fast path must agree with: Parse, then
// IsValidNumber, then E.164 and the number's type.
func slowParse(s, region string) (string, phonenumbers.PhoneNumberType, bool) {
	num, err := phonenumbers.Parse(s, region)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", 0, false
	}
	return phonenumbers.Format(num, phonenumbers.E164), phonenumbers.GetNumberType(num), true
}

func checkFastPath(t *testing.T, s, region string) {
	t.Helper()
	fast, ok := fastParse(s, region)
	if !ok {
		return
	}
	slow, typ, valid := slowParse(s, region)
	if !valid || slow != fast.E164 || typ != fast.Type {
		t.Fatalf("fastParse(%q, %q) = %s (type %v); Parse gives %q (type %v), valid %v", s, region, fast.E164, fast.Type, slow, typ, valid)
	}
}

// For every region libphonenumber knows, numbers around its example numbers,
// written nationally and internationally, parse the same on both paths.
func TestFastPathAgreesWithParse(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	regions := make([]string, 0, 256)
	for r := range phonenumbers.GetSupportedRegions() {
		regions = append(regions, r)
	}
	slices.Sort(regions)
	fastHits := 0
	for _, region := range regions {
		for _, typ := range []phonenumbers.PhoneNumberType{phonenumbers.MOBILE, phonenumbers.FIXED_LINE} {
			ex := phonenumbers.GetExampleNumberForType(region, typ)
			if ex == nil {
				continue
			}
			for i := range 30 {
				nn := ex.GetNationalNumber()
				if i > 0 {
					nn = nn ^ uint64(rng.IntN(1000)) // vary the last digits
				}
				num := &phonenumbers.PhoneNumber{CountryCode: ex.CountryCode, NationalNumber: &nn,
					ItalianLeadingZero: ex.ItalianLeadingZero, NumberOfLeadingZeros: ex.NumberOfLeadingZeros}
				national := phonenumbers.NormalizeDigitsOnly(phonenumbers.Format(num, phonenumbers.NATIONAL))
				intl := phonenumbers.Format(num, phonenumbers.E164)
				for _, s := range []string{national, intl, strings.TrimPrefix(intl, "+")} {
					checkFastPath(t, s, region)
					if _, ok := fastParse(s, region); ok {
						fastHits++
					}
				}
			}
		}
	}
	if fastHits < 5000 {
		t.Fatalf("the fast path answered only %d times: it is not exercised", fastHits)
	}
}

var fuzzRegions = []string{"FR", "ES", "IR", "US", "GB", "BE", "DE", "IT", "AR", "RU", "BR", "MX", "IN", "CN", "HU", "CH", "MA", "SN", "CI", "ZZ", ""}

func FuzzPhoneFastPath(f *testing.F) {
	for _, s := range []string{"0612345678", "+33612345678", "612345678", "09121234567", "+14155550123", "0612", "+3906123"} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, s string, regionIndex uint8) {
		var b strings.Builder
		for i, r := range s {
			if r >= '0' && r <= '9' || r == '+' && i == 0 {
				b.WriteRune(r)
			}
		}
		if b.Len() == 0 || b.Len() > 20 {
			return
		}
		checkFastPath(t, b.String(), fuzzRegions[int(regionIndex)%len(fuzzRegions)])
	})
}

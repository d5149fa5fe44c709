package mapping

import (
	"strconv"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// The fast path reads the numbers spreadsheets mostly hold — digits with an
// optional "+" — without phonenumbers.Parse, whose general-purpose regular
// expressions (extensions, prefixes) cost three quarters of a row's time.
// It builds the number from the region's dial plan, taken from
// libphonenumber's own metadata, and validates it as IsValidNumber does. It
// only answers when its result is the one Parse would give; anything else
// (a national prefix that is a pattern, a transform rule, an international
// prefix in national form, a leading zero kept in the national number) goes
// to Parse. FuzzPhoneFastPath checks the equivalence.

// dialPlan is what the fast path needs of a region's numbering plan.
type dialPlan struct {
	cc     int
	ccText string
	ndd    string // national prefix for parsing, a literal ("" for none)
	idd    string // international prefix, a literal
	simple bool   // the plan is literal enough for the fast path
}

var dialPlans = sync.OnceValue(func() (p struct {
	byRegion map[string]dialPlan
	byCC     map[int]dialPlan
}) {
	p.byRegion, p.byCC = map[string]dialPlan{}, map[int]dialPlan{}
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return p // no fast path; Parse reports the problem
	}
	for _, m := range coll.GetMetadata() {
		plan := dialPlan{
			cc:     int(m.GetCountryCode()),
			ccText: strconv.Itoa(int(m.GetCountryCode())),
			ndd:    m.GetNationalPrefixForParsing(),
			idd:    m.GetInternationalPrefix(),
		}
		plan.simple = allDigits(plan.ndd) && m.GetNationalPrefixTransformRule() == "" && plan.idd != "" && allDigits(plan.idd)
		p.byRegion[m.GetId()] = plan
	}
	for cc := range phonenumbers.GetSupportedCallingCodes() {
		if plan, ok := p.byRegion[phonenumbers.GetRegionCodeForCountryCode(cc)]; ok {
			p.byCC[cc] = plan
		}
	}
	return p
})

// fastParse reads s, digits with an optional leading "+", as Parse(s,
// region) then IsValidNumber would, when it can tell; ok is false when it
// cannot or the number is not valid.
func fastParse(s, region string) (Phone, bool) {
	plans := dialPlans()
	if strings.HasPrefix(s, "+") {
		digits := s[1:]
		if digits == "" || digits[0] == '0' {
			return Phone{}, false // no calling code starts with 0
		}
		for l := 1; l <= 3 && l < len(digits); l++ {
			cc, err := strconv.Atoi(digits[:l])
			if err != nil {
				return Phone{}, false
			}
			plan, ok := plans.byCC[cc]
			if !ok {
				continue
			}
			national := digits[l:]
			if !plan.simple || national[0] == '0' || plan.ndd != "" && strings.HasPrefix(national, plan.ndd) {
				return Phone{}, false
			}
			return buildPhone(cc, national, digits)
		}
		return Phone{}, false
	}
	plan, ok := plans.byRegion[region]
	if !ok || !plan.simple || strings.HasPrefix(s, plan.idd) {
		return Phone{}, false
	}
	national := s
	if plan.ndd != "" {
		national = strings.TrimPrefix(s, plan.ndd)
	}
	if national == "" || national[0] == '0' {
		return Phone{}, false
	}
	return buildPhone(plan.cc, national, plan.ccText+national)
}

func buildPhone(cc int, national, e164Digits string) (Phone, bool) {
	if len(national) < phonenumbers.MIN_LENGTH_FOR_NSN || len(national) > phonenumbers.MAX_LENGTH_FOR_NSN || !allDigits(national) {
		return Phone{}, false
	}
	nn, err := strconv.ParseUint(national, 10, 64)
	if err != nil {
		return Phone{}, false
	}
	cc32 := int32(cc)
	num := &phonenumbers.PhoneNumber{CountryCode: &cc32, NationalNumber: &nn}
	t, ok := validType(num)
	if !ok {
		return Phone{}, false
	}
	return Phone{E164: "+" + e164Digits, Type: t, number: num}, true
}

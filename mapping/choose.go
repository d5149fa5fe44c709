package mapping

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"
)

// A row's number is chosen among all its phone cells, not from one column
// for the whole file: exports carry several numbers per contact (Google's
// "Phone 1 - Value" … with a label beside each, Outlook's Mobile, Home and
// Business columns), and the one that receives SMS differs from row to row.

// The tiers of a candidate number; lower wins, the first among equals.
const (
	tierLabelledMobile = iota // labelled mobile, and libphonenumber agrees or cannot tell
	tierTypedMobile           // whatever its label, the numbering plan says mobile
	tierMaybeMobile           // no label; the plan allows a mobile (US, CA…)
	tierLandline              // labelled fixed, and the plan allows it: from here, a landline
	tierMislabelled           // labelled mobile, but the plan says fixed
	tierFixed                 // the plan says it cannot be a mobile
	tierNone
)

func tierOf(k PhoneKind, t phonenumbers.PhoneNumberType) int {
	mobile := t == phonenumbers.MOBILE || t == phonenumbers.FIXED_LINE_OR_MOBILE
	switch {
	case k == KindMobile && mobile:
		return tierLabelledMobile
	case t == phonenumbers.MOBILE:
		return tierTypedMobile
	case mobile && k == KindUnknown:
		return tierMaybeMobile
	case mobile:
		return tierLandline
	case k == KindMobile:
		return tierMislabelled
	}
	return tierFixed
}

// choice is the number chosen for a row.
type choice struct {
	phone Phone
	slot  int // index in Columns.Phones
	tier  int
	kind  PhoneKind
}

// choosePhone picks the row's number: the first valid number labelled
// mobile, else the first the numbering plan says is a mobile, else the best
// of the rest; never a fax, pager or telex. A row without a valid number is
// refused with the problem of its best column.
func (n *Normaliser) choosePhone(r *Record, region string) (choice, *Problem) {
	best := choice{tier: tierNone}
	var problem *Problem
	never := ""
	for k, s := range n.cols.Phones {
		cell := r.Phones[k]
		if strings.TrimSpace(cell) == "" {
			continue
		}
		kind := s.Kind
		if s.Label >= 0 {
			if lk := labelKind(r.PhoneLabels[k]); lk != KindUnknown {
				kind = lk
			}
		}
		if kind == KindNever {
			if never == "" {
				never = s.Name
			}
			continue
		}
		numbersIn(cell, func(num string) bool {
			p, prob := ParsePhone(num, region)
			if prob == nil && n.onlyRegion != "" && !p.InRegion(n.onlyRegion) {
				prob = &Problem{Reason: ReasonCountryMismatch,
					Detail: fmt.Sprintf("%s is not a number of %s, the list's country", p.E164, n.onlyRegion)}
			}
			if prob != nil {
				if problem == nil {
					problem = prob
				}
				return true
			}
			if t := tierOf(kind, p.Type); t < best.tier {
				best = choice{phone: p, slot: k, tier: t, kind: kind}
			}
			return best.tier != tierLabelledMobile
		})
		if best.tier == tierLabelledMobile {
			break
		}
	}
	switch {
	case best.tier != tierNone:
		return best, nil
	case problem != nil:
		return best, problem
	case never != "":
		return best, &Problem{Reason: ReasonMissingPhone, Detail: fmt.Sprintf("the row's only number is in column %q, which cannot receive SMS", never)}
	case len(n.cols.Phones) > 1:
		return best, &Problem{Reason: ReasonMissingPhone, Detail: fmt.Sprintf("the row's %d phone cells are all empty", len(n.cols.Phones))}
	}
	return best, &Problem{Reason: ReasonMissingPhone, Detail: "the phone cell is empty"}
}

// landlineWhy says why a chosen number is taken for a landline.
func landlineWhy(c choice) string {
	switch {
	case c.tier == tierLandline:
		return "is labelled as a fixed line"
	case c.phone.Type == phonenumbers.FIXED_LINE:
		return "is a fixed line"
	}
	return "is not a mobile number (" + strings.ToLower(strings.ReplaceAll(typeName(c.phone.Type), "_", " ")) + ")"
}

func typeName(t phonenumbers.PhoneNumberType) string {
	switch t {
	case phonenumbers.TOLL_FREE:
		return "toll_free"
	case phonenumbers.PREMIUM_RATE:
		return "premium_rate"
	case phonenumbers.SHARED_COST:
		return "shared_cost"
	case phonenumbers.VOIP:
		return "voip"
	case phonenumbers.PERSONAL_NUMBER:
		return "personal_number"
	case phonenumbers.PAGER:
		return "pager"
	case phonenumbers.UAN:
		return "uan"
	case phonenumbers.VOICEMAIL:
		return "voicemail"
	}
	return "fixed_line"
}

// commonLabels are the label cells nearly every row holds, looked up
// before the vocabulary.
var commonLabels = map[string]PhoneKind{
	"mobile": KindMobile, "cell": KindMobile, "iphone": KindMobile, "mobil": KindMobile,
	"home": KindLandline, "work": KindLandline, "business": KindLandline,
	"fax": KindNever, "home fax": KindNever, "work fax": KindNever, "pager": KindNever,
	"main": KindUnknown, "other": KindUnknown, "": KindUnknown,
}

// labelKind reads a row's label cell ("Mobile", "* Mobile", "Work Fax",
// "Portable", "موبایل").
func labelKind(label string) PhoneKind {
	label = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(label), "*"))
	if k, ok := commonLabels[strings.ToLower(label)]; ok {
		return k
	}
	kind := KindUnknown
	for _, t := range headerTokens(label) {
		switch conceptOf(t) {
		case cFax, cPager, cTelex, cElsewhere:
			return KindNever
		case cMobile:
			kind = KindMobile
		case cLandline, cLineAlone:
			if kind == KindUnknown {
				kind = KindLandline
			}
		}
	}
	return kind
}

// numbersIn calls fn with each number of a cell that holds several — Google
// writes "+33 6… ::: +33 7…", others separate them with ";", ",", "/", "|"
// or a new line — or with the whole cell; fn returns false to stop. A cell
// is cut only where each piece holds a number's worth of digits, so that
// "06/12/34/56/78" and "3,36E+10" stay one number.
func numbersIn(cell string, fn func(string) bool) {
	if strings.Contains(cell, ":::") {
		for _, p := range strings.Split(cell, ":::") {
			if strings.TrimSpace(p) != "" && !fn(p) {
				return
			}
		}
		return
	}
	if !strings.ContainsAny(cell, ";,/|\n\r") {
		fn(cell)
		return
	}
	parts := strings.FieldsFunc(cell, func(r rune) bool { return strings.ContainsRune(";,/|\n\r", r) })
	long := 0
	for _, p := range parts {
		digits := 0
		for _, r := range p {
			if unicode.IsDigit(r) {
				digits++
			}
		}
		if digits >= 6 {
			long++
		}
	}
	if long < 2 {
		fn(cell)
		return
	}
	for _, p := range parts {
		if strings.TrimSpace(p) != "" && !fn(p) {
			return
		}
	}
}

// chooseEmail picks the row's address: Google's primary (its label starts
// with "*") first, then the columns best first, the first valid address of
// a cell that holds several. bad is the first non-empty value when none is
// valid.
func (n *Normaliser) chooseEmail(r *Record) (email, bad string) {
	try := func(k int) string {
		cell := strings.TrimSpace(r.Emails[k])
		if cell == "" {
			return ""
		}
		if bad == "" {
			bad = cell
		}
		if e, ok := CleanEmail(cell); ok {
			return e
		}
		if !strings.ContainsAny(cell, ":;, ") {
			return ""
		}
		for _, p := range strings.FieldsFunc(cell, func(r rune) bool { return strings.ContainsRune(":;, ", r) }) {
			if e, ok := CleanEmail(p); ok {
				return e
			}
		}
		return ""
	}
	if n.emailStars {
		for k, s := range n.cols.Emails {
			if s.Label >= 0 && strings.HasPrefix(strings.TrimSpace(r.EmailLabels[k]), "*") {
				if e := try(k); e != "" {
					return e, ""
				}
			}
		}
	}
	for k := range n.cols.Emails {
		if e := try(k); e != "" {
			return e, ""
		}
	}
	return "", bad
}

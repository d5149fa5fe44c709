package mapping

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// PhoneKind is what a phone column's name, or a row's label cell, says of
// the number it holds.
type PhoneKind uint8

// The kinds of phone a column or label names.
const (
	KindUnknown  PhoneKind = iota // "Phone", "Phone 1 - Value": the label or the number decides
	KindMobile                    // Mobile, Cell, Portable, Móvil, موبایل…
	KindLandline                  // Home, Business, Bureau, Fixe, Trabajo…
	KindNever                     // fax, pager, telex, an assistant's number: never sent
)

func (k PhoneKind) String() string {
	switch k {
	case KindMobile:
		return "mobile"
	case KindLandline:
		return "landline"
	case KindNever:
		return "never sent"
	}
	return "any"
}

// match is what a header names.
type match struct {
	field Field
	label bool      // a type or label column of a phone or an e-mail ("Phone 1 - Type")
	kind  PhoneKind // phones
	rank  int       // lower wins among the columns of one field
	key   string    // pairs a label column with its value column ("phone 1")
}

// neutral concepts may appear in any header without changing what it names.
func neutral(c concept) bool {
	return c == cStop || c == cAnd || c == cValue || c == cDigit || c == cHint
}

// classify says which field a header names, if any. See vocab.go.
func classify(header string) (match, bool) {
	toks := headerTokens(header)
	if len(toks) == 0 {
		return match{}, false
	}
	cs := make([]concept, len(toks))
	var has [cNot + 1]int
	order := 0 // "Phone 2", "Apellido 2": after the first
	for i, t := range toks {
		cs[i] = conceptOf(t)
		has[cs[i]]++
		if cs[i] == cDigit && order == 0 {
			if n, err := strconv.Atoi(t); err == nil && n > 1 && n < 100 {
				order = n - 1
			}
		}
	}
	if has[cNot] > 0 {
		return match{}, false
	}
	// only reports whether every token is neutral or of the allowed concepts.
	only := func(allowed ...concept) bool {
		for _, c := range cs {
			if !neutral(c) && !slices.Contains(allowed, c) {
				return false
			}
		}
		return true
	}
	names := has[cFirst] + has[cLast] + has[cName] + has[cNom] + has[cNombre] + has[cFull]
	civility := has[cCivility] + has[cTitle]
	if has[cNamePrefix] > 0 && names > 0 {
		civility, names = civility+1, 0 // Google's "Name Prefix": Mr., Dr.
	}
	phone := has[cPhone]+has[cMobile]+has[cFax]+has[cPager]+has[cTelex]+has[cLineAlone] > 0 ||
		has[cNumber] > 0 && only(cNumber, cNumAbbr, cContact, cPrimary, cSecondary, cLandline, cElsewhere, cType, cLabel)
	families := 0
	for _, n := range []bool{phone, has[cEmail] > 0, names > 0, has[cBirth] > 0, civility > 0, has[cCountry] > 0,
		has[cID] > 0, has[cTag] > 0 || has[cLabel] > 0 && !phone && has[cEmail] == 0} {
		if n {
			families++
		}
	}
	if families != 1 {
		return match{}, false // nothing, or two things at once ("E-mail Display Name")
	}
	label := has[cType]+has[cLabel] > 0
	switch {
	case phone:
		if has[cUnknown] > 0 && has[cPhone] == 0 || has[cDate]+has[cDatePart]+has[cPlace]+has[cCode]+has[cRegion]+has[cAddress] > 0 {
			return match{}, false
		}
		m := match{field: FieldPhone, label: label, key: pairKey(toks, cs)}
		switch {
		case has[cFax]+has[cPager]+has[cTelex]+has[cElsewhere] > 0:
			m.kind = KindNever
		case has[cMobile] > 0:
			m.kind = KindMobile
		case has[cLandline]+has[cLineAlone] > 0:
			m.kind, m.rank = KindLandline, 400
		case has[cPrimary] > 0:
			m.rank = 100
		case has[cSecondary] > 0:
			m.rank = 300
		default:
			m.rank = 200
		}
		m.rank += order
		return m, true
	case has[cEmail] > 0:
		if has[cDate]+has[cDatePart] > 0 {
			return match{}, false
		}
		m := match{field: FieldEmail, label: label, key: pairKey(toks, cs), rank: 100 + order}
		switch {
		case has[cPrimary] > 0:
			m.rank = 0
		case has[cSecondary] > 0:
			m.rank = 200 + order
		}
		return m, true
	case label && has[cTag]+has[cLabel] == 0:
		return match{}, false
	case names > 0:
		if !only(cFirst, cLast, cName, cNom, cNombre, cFull, cContact, cSubject, cPrimary) {
			return match{}, false
		}
		return match{field: nameField(cs), rank: order}, true
	case has[cBirth] > 0:
		return match{field: FieldBirthday, rank: order}, only(cBirth, cDate, cSubject, cContact)
	case civility > 0:
		rank := order // "Gender", "Civilité" say it better than a title or a name prefix
		if has[cCivility] == 0 {
			rank += 100
		}
		return match{field: FieldCivility, rank: rank}, only(cCivility, cTitle, cNamePrefix, cName, cNom, cNombre, cSubject, cContact)
	case has[cCountry] > 0:
		return match{field: FieldCountry, rank: order}, only(cCountry, cCode, cRegion, cSubject, cContact, cPrimary)
	case has[cID] > 0:
		return match{field: FieldID, rank: order}, only(cID, cContact, cSubject)
	default:
		return match{field: FieldTag, rank: order}, only(cTag, cLabel, cSubject, cContact)
	}
}

// nameField reads the name words of a header. A name word alone means what
// its language means by it: "Name" the full name, "Nom" the last name,
// "Nombre" and "نام" the first name. Next to a word that qualifies it, it
// takes that word's meaning ("Nom de famille", "Nombre completo", "First
// Name", "Customer Name"); a first and a last name together are the full
// name ("Nom et prénom", "Nombre y apellidos", "نام و نام خانوادگی").
func nameField(cs []concept) Field {
	var first, last, full bool
	next := func(i, step int) concept {
		for j := i + step; j >= 0 && j < len(cs); j += step {
			if cs[j] != cStop && cs[j] != cDigit {
				return cs[j]
			}
		}
		return cUnknown
	}
	for i, c := range cs {
		switch c {
		case cFirst:
			first = true
		case cLast:
			last = true
		case cFull:
			full = true
		case cName, cNom, cNombre:
			prev, nxt := next(i, -1), next(i, 1)
			near := func(cc ...concept) bool { return slices.Contains(cc, prev) || slices.Contains(cc, nxt) }
			switch {
			case near(cLast, cFull):
				// "Nom de famille", "Nom complet": the other word says it
			case c == cName && near(cFirst):
				// "First Name", "Given Name"
			case near(cSubject, cContact):
				full = true // "Customer Name", "Nom du client"
			case c == cName:
				full = true
			case c == cNom:
				last = true
			default:
				first = true
			}
		}
	}
	switch {
	case full || first && last:
		return FieldFullName
	case last:
		return FieldLastName
	}
	return FieldFirstName
}

// pairKey is a header without the words that tell a label column from its
// value column: "Phone 1 - Type" and "Phone 1 - Value" both give "phone 1".
func pairKey(toks []string, cs []concept) string {
	var kept []string
	for i, t := range toks {
		switch cs[i] {
		case cType, cLabel, cValue, cStop, cAddress:
			continue
		}
		kept = append(kept, t)
	}
	return strings.Join(kept, " ")
}

// matchKey reduces a header to what matching looks at: case, accents,
// punctuation and spacing are ignored ("Téléphone_Portable" and "telephone
// portable" match).
func matchKey(h string) string {
	h = cleanHeader(h)
	var b strings.Builder
	space := false
	for _, r := range norm.NFD.String(h) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue // accents, and Persian vowel marks
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(unicode.ToLower(r))
		case r == '\u200C': // Persian zero-width non-joiner inside words
			space = true
		default:
			space = true
		}
	}
	return normalisePersianLetters(b.String())
}

// normalisePersianLetters folds the Arabic forms of ye and kaf that Persian
// keyboards and Arabic ones disagree on.
func normalisePersianLetters(s string) string { return persianLetters.Replace(s) }

var persianLetters = strings.NewReplacer("ي", "ی", "ك", "ک")

// squash is matchKey without spaces: "First name" and "firstname" are one
// name to a provider's field list.
func squash(h string) string { return strings.ReplaceAll(matchKey(h), " ", "") }

// DetectOptions says what Detect knows of the provider the file is for.
type DetectOptions struct {
	// Custom lists the provider's free fields (param1, extra2…); a column
	// named like one becomes that field.
	Custom []string
	// ProviderFields lists the provider's own field names. A file whose
	// other columns are all named so is the provider's own export: only
	// then is its ID column the provider's contact ID.
	ProviderFields []string
	// Provider names the provider, for the notes.
	Provider string
}

// Detect maps a header to fields by the words of its column names. Every
// phone column is kept, best first (mobile, then unnamed, then landline),
// for the per-row choice; every e-mail column too, the primary first, and
// every civility column (a gender, then a title). Other fields go to their
// best-ranked column, the first among equals.
func Detect(header []string, o DetectOptions) *Spec {
	spec := &Spec{Fields: map[Field]*FieldSpec{}}
	type found struct {
		col int
		m   match
	}
	var all []found
	for i, h := range header {
		if m, ok := classify(h); ok {
			all = append(all, found{i, m})
		}
	}
	slices.SortStableFunc(all, func(a, b found) int { return a.m.rank - b.m.rank })
	idCol := -1
	for _, f := range all {
		h := header[f.col]
		switch {
		case f.m.label:
			continue // paired with its value column by Resolve
		case f.m.field == FieldPhone && f.m.kind == KindNever:
			spec.Notes = append(spec.Notes, fmt.Sprintf("column %q is not used: a %s number is never sent", h, neverWhat(h)))
			continue
		case f.m.field == FieldID:
			if idCol < 0 {
				idCol = f.col
			}
			continue
		}
		fs := spec.Fields[f.m.field]
		switch {
		case fs == nil:
			spec.Fields[f.m.field] = &FieldSpec{Column: h}
		case f.m.field == FieldPhone || f.m.field == FieldEmail || f.m.field == FieldCivility:
			if len(fs.Columns) == 0 {
				fs.Columns = []string{fs.Column}
			}
			fs.Columns = append(fs.Columns, h)
		}
	}
	if idCol >= 0 {
		if why, ok := providerExport(header, idCol, spec, o); ok {
			spec.Fields[FieldID] = &FieldSpec{Column: header[idCol]}
			spec.Notes = append(spec.Notes, why)
		} else {
			spec.Notes = append(spec.Notes, why)
		}
	}
	for _, h := range header {
		for _, c := range o.Custom {
			if squash(h) == squash(c) {
				if spec.Custom == nil {
					spec.Custom = map[string]*FieldSpec{}
				}
				spec.Custom[c] = &FieldSpec{Column: h}
			}
		}
	}
	return spec
}

// neverWhat names what a never-sent phone column holds, for the notes.
func neverWhat(h string) string {
	for _, t := range headerTokens(h) {
		switch conceptOf(t) {
		case cFax:
			return "fax"
		case cPager:
			return "pager"
		case cTelex:
			return "telex"
		case cElsewhere:
			return "third party's"
		}
	}
	return "non-SMS"
}

// providerExport decides whether the ID column is the provider's contact ID:
// only when every other column but the phone is one of the provider's own
// field names, as in a file exported from the provider. A CRM's "ID" or
// "Record ID" is the CRM's, and sending it as the provider's would update
// somebody else's contact.
func providerExport(header []string, idCol int, spec *Spec, o DetectOptions) (string, bool) {
	h := header[idCol]
	if len(o.ProviderFields) == 0 {
		return fmt.Sprintf("column %q is not used as a contact ID: no provider takes one (pass --provider, or name it in a mapping file: id: %s)", h, h), false
	}
	own := map[string]bool{}
	for _, f := range append(slices.Clone(o.ProviderFields), o.Custom...) {
		own[squash(f)] = true
	}
	phones := spec.Fields[FieldPhone].all()
	for i, c := range header {
		if i == idCol || strings.TrimSpace(c) == "" || slices.Contains(phones, c) || own[squash(c)] {
			continue
		}
		return fmt.Sprintf("column %q is not used as %s's contact ID: the file is not a %s export (its column %q is not a %s field); to update contacts by ID, name it in a mapping file (id: %s)",
			h, o.Provider, o.Provider, c, o.Provider, h), false
	}
	return fmt.Sprintf("column %q is %s's contact ID: the other columns are %s's own fields", h, o.Provider, o.Provider), true
}

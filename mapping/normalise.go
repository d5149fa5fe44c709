package mapping

import (
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/unicode/norm"
)

// Warning is something about a row worth a look that does not reject it: a
// value dropped (an unreadable date or e-mail), a value read with a doubt
// (an ambiguous date, a short row), a number that may not receive SMS.
type Warning struct {
	Field  Field
	Reason string // the report's key: invalid_date, landline…
	Detail string
}

// Warning reasons.
const (
	WarnInvalidDate   = "invalid_date"
	WarnAmbiguousDate = "ambiguous_date"
	WarnInvalidEmail  = "invalid_email"
	WarnLandline      = "landline"
	WarnShortRow      = "short_row"
	WarnTrailingCell  = "trailing_delimiter"
)

// ReasonLandline rejects, with --require-mobile, a row whose only number
// cannot receive SMS as far as libphonenumber can tell.
const ReasonLandline = "landline"

// Normaliser turns decoded records into contacts. It is safe for concurrent
// use: the importer runs one per CPU over the same Normaliser.
type Normaliser struct {
	cols          *Columns
	region        string
	onlyRegion    string
	requireMobile bool
	birthday      dateFormat
	values        map[Field]map[string]string // value maps of the spec, keys folded
	splitName     bool
	slots         [customSlots]string
	// emailStars says an e-mail label column exists, whose "* " marks
	// Google's primary address.
	emailStars bool
}

// NormaliserOptions configures a Normaliser.
type NormaliserOptions struct {
	// Region is the country of numbers without an international prefix;
	// a per-row country column wins over it.
	Region string
	// OnlyRegion, when set, rejects numbers of any other country (a list
	// tied to one country).
	OnlyRegion string
	// RequireMobile rejects rows whose best number is a landline, instead
	// of sending it with a warning.
	RequireMobile bool
	// Sample is the first records of the file (the sniffing window): the
	// order of a birthday column (day or month first) is read from them.
	Sample []Record
}

// NewNormaliser prepares the normalisation of rows mapped by c.
func NewNormaliser(c *Columns, opts NormaliserOptions) (*Normaliser, error) {
	n := &Normaliser{cols: c, slots: c.slots, values: map[Field]map[string]string{}, requireMobile: opts.RequireMobile}
	for _, r := range []*string{&opts.Region, &opts.OnlyRegion} {
		*r = strings.ToUpper(strings.TrimSpace(*r))
		if *r != "" && phonenumbers.GetCountryCodeForRegion(*r) == 0 {
			return nil, fmt.Errorf("unknown region %q: use an ISO 3166 alpha-2 country code such as FR, ES, US or IR", *r)
		}
	}
	n.region, n.onlyRegion = opts.Region, opts.OnlyRegion
	if n.region == "" {
		n.region = n.onlyRegion
	}
	spec := c.spec
	if fs := spec.Fields[FieldBirthday]; fs != nil {
		f, err := parseDateFormat(fs.Format)
		if err != nil {
			return nil, err
		}
		n.birthday = f
	}
	for f, fs := range spec.Fields {
		if len(fs.Values) == 0 {
			continue
		}
		m := map[string]string{}
		for k, v := range fs.Values {
			m[foldValue(k)] = v
		}
		n.values[f] = m
	}
	if n.birthday.layout == "" {
		dates := make([]string, len(opts.Sample))
		for i := range opts.Sample {
			dates[i] = opts.Sample[i].Birthday
		}
		n.birthday = decideDateOrder(dates, n.region)
	}
	has := func(f Field) bool {
		for _, g := range c.Field {
			if g == f {
				return true
			}
		}
		return false
	}
	n.splitName = has(FieldFullName) && !has(FieldFirstName) && !has(FieldLastName)
	for _, e := range c.Emails {
		n.emailStars = n.emailStars || e.Label >= 0
	}
	return n, nil
}

// Region returns the default region in use.
func (n *Normaliser) Region() string { return n.region }

// DateOrder says how day-first or month-first dates are read, and why.
func (n *Normaliser) DateOrder() string { return n.birthday.describe() }

// Normalise turns one record into a contact. A problem rejects the row;
// warnings name values that were dropped or that deserve a look.
func (n *Normaliser) Normalise(line int, r *Record) (*Contact, []Warning, *Problem) {
	if len(n.values) > 0 {
		n.mapValues(r)
	}
	region := n.region
	if c := strings.TrimSpace(r.Country); c != "" {
		if rc := countryOf(c); rc != "" {
			region = rc
		}
	}
	choice, problem := n.choosePhone(r, region)
	if problem != nil {
		return nil, nil, problem
	}
	phone := choice.phone
	var warnings []Warning
	if choice.tier >= tierLandline {
		detail := fmt.Sprintf("%s (column %q) %s: SMS rarely reaches one", phone.E164, n.cols.Phones[choice.slot].Name, landlineWhy(choice))
		if n.requireMobile {
			return nil, nil, &Problem{Reason: ReasonLandline, Detail: detail + "; the row has no mobile number (--require-mobile)"}
		}
		warnings = append(warnings, Warning{Field: FieldPhone, Reason: WarnLandline, Detail: detail})
	}
	c := &Contact{
		Line:      line,
		Phone:     phone.E164,
		Key:       KeyOf(phone.E164),
		PhoneFrom: n.cols.Phones[choice.slot].Name,
		FirstName: CleanName(r.FirstName),
		LastName:  CleanName(r.LastName),
		Tag:       CleanTags(r.Tag),
		ID:        strings.TrimSpace(r.ID),
	}
	if n.splitName {
		c.FirstName, c.LastName = SplitFullName(CleanName(r.FullName))
	}
	if email, bad := n.chooseEmail(r); email != "" {
		c.Email = email
	} else if bad != "" {
		warnings = append(warnings, Warning{Field: FieldEmail, Reason: WarnInvalidEmail, Detail: fmt.Sprintf("%q is not an e-mail address", bad)})
	}
	if b := strings.TrimSpace(r.Birthday); b != "" && !zeroDate(b) {
		if d, ambiguous, ok := n.birthday.parse(b); !ok {
			warnings = append(warnings, Warning{Field: FieldBirthday, Reason: WarnInvalidDate, Detail: fmt.Sprintf("%q is not a date in %s", b, n.birthday)})
		} else {
			c.Birthday = d
			if ambiguous {
				warnings = append(warnings, Warning{Field: FieldBirthday, Reason: WarnAmbiguousDate,
					Detail: fmt.Sprintf("%q could be day-first or month-first; read as %s (%s)", b, d, n.birthday.describe())})
			}
		}
	}
	for _, v := range r.Civilities {
		if c.Civility = n.civilityOf(v); c.Civility != CivilityUnknown {
			break
		}
	}
	for i, name := range n.slots {
		if name == "" {
			break
		}
		if v := CleanName(r.Custom[i]); v != "" {
			if c.Custom == nil {
				c.Custom = map[string]string{}
			}
			c.Custom[name] = v
		}
	}
	return c, warnings, nil
}

// countryOf reads a per-row country: an ISO code, or a calling code such as
// "33" or "+33".
func countryOf(v string) string {
	v = strings.TrimPrefix(strings.TrimSpace(v), "+")
	if len(v) == 2 && phonenumbers.GetCountryCodeForRegion(strings.ToUpper(v)) != 0 {
		return strings.ToUpper(v)
	}
	if allDigits(v) && len(v) <= 3 {
		var cc int
		fmt.Sscan(v, &cc)
		if r := phonenumbers.GetRegionCodeForCountryCode(cc); r != "ZZ" {
			return r
		}
	}
	return ""
}

// CleanName trims a name, collapses inner runs of spaces and normalises it
// to NFC, so that the same name typed on two systems compares equal.
func CleanName(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return s
	}
	return norm.NFC.String(s)
}

// SplitFullName splits "Jean Dupont" into first and last name, and reads
// "Dupont, Jean" the other way round.
func SplitFullName(full string) (first, last string) {
	if l, f, ok := strings.Cut(full, ","); ok {
		return strings.TrimSpace(f), strings.TrimSpace(l)
	}
	first, last, _ = strings.Cut(full, " ")
	return first, last
}

// CleanEmail trims an address and lower-cases its domain; ok is false when
// it is not an address.
func CleanEmail(s string) (string, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "mailto:")
	local, domain, found := strings.Cut(s, "@")
	if !found || local == "" || len(local) > 64 || strings.ContainsAny(domain, "@ ") ||
		strings.ContainsAny(local, " ,;<>()[]\\\"") || !strings.Contains(domain, ".") {
		return "", false
	}
	domain = strings.ToLower(domain)
	for _, label := range strings.Split(domain, ".") {
		if label == "" || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return "", false
		}
		for _, r := range label {
			if !(r == '-' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 0x7f) {
				return "", false
			}
		}
	}
	return local + "@" + domain, true
}

// civility words of English, French, Spanish and Persian, folded.
var civilityWords = func() map[string]Civility {
	m := map[string]Civility{}
	for _, w := range []string{"m", "mr", "mister", "monsieur", "male", "man", "h", "homme", "masculin",
		"sr", "senor", "don", "masculino", "hombre", "varon", "آقا", "مرد", "مذکر", "true"} {
		m[foldValue(w)] = CivilityMale
	}
	for _, w := range []string{"f", "mrs", "ms", "miss", "mme", "mlle", "madame", "mademoiselle", "female",
		"woman", "femme", "feminin", "sra", "srta", "senora", "senorita", "dona", "femenino", "mujer",
		"خانم", "زن", "مونث", "false"} {
		m[foldValue(w)] = CivilityFemale
	}
	return m
}()

func (n *Normaliser) civilityOf(v string) Civility { return civilityWords[foldValue(v)] }

// mapValues rewrites cells through the spec's value maps ("France" → "FR",
// "Mr" → "male"), before they are read.
func (n *Normaliser) mapValues(r *Record) {
	for f, m := range n.values {
		r.eachCell(f, func(cell *string) {
			if v, ok := m[foldValue(*cell)]; ok {
				*cell = v
			}
		})
	}
}

// CleanTags reads a tag or labels cell: several tags separated by commas,
// semicolons or Google Contacts' ":::", whose system groups ("* myContacts",
// "* starred") are dropped, or written as CSV inside the cell as Mailchimp
// does ("VIP","Blog"). It returns them comma-separated, without duplicates.
func CleanTags(s string) string {
	if s == "" {
		return ""
	}
	if strings.Contains(s, `"`) {
		cr := csv.NewReader(strings.NewReader(s))
		cr.LazyQuotes, cr.TrimLeadingSpace, cr.FieldsPerRecord = true, true, -1
		if rec, err := cr.Read(); err == nil {
			s = strings.Join(rec, ",")
		}
		s = strings.ReplaceAll(s, `"`, "")
	}
	parts := strings.FieldsFunc(strings.ReplaceAll(s, ":::", ","), func(r rune) bool { return r == ',' || r == ';' })
	out := parts[:0]
	for _, p := range parts {
		p = CleanName(p)
		if p == "" || strings.HasPrefix(p, "*") || slices.Contains(out, p) {
			continue
		}
		out = append(out, p)
	}
	return strings.Join(out, ",")
}

// zeroDate recognises the "0/0/00" Outlook writes for no birthday.
func zeroDate(s string) bool {
	return strings.Trim(s, "0/.- ") == ""
}

// foldValue reduces a cell to what value matching looks at: case, accents,
// dots and spaces ignored ("Mme." = "mme"). ASCII cells, nearly all of them,
// skip the Unicode decomposition.
func foldValue(v string) string {
	ascii := true
	for i := 0; i < len(v); i++ {
		if v[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if !ascii {
		return strings.ReplaceAll(matchKey(v), " ", "")
	}
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b = append(b, c)
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		}
	}
	return string(b)
}

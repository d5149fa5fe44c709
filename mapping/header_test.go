package mapping

import (
	"slices"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// Headers of real exports and of what users type, in the four languages:
// what each names. "" means the column is not used.
func TestClassify(t *testing.T) {
	type want struct {
		field Field
		kind  PhoneKind
		label bool
	}
	phone := func(k PhoneKind) want { return want{field: FieldPhone, kind: k} }
	tests := map[string]want{
		// Google Contacts (2024 and older exports)
		"Phone 1 - Value": phone(KindUnknown), "Phone 1 - Label": {FieldPhone, KindUnknown, true},
		"Phone 2 - Type": {FieldPhone, KindUnknown, true}, "E-mail 1 - Value": {field: FieldEmail},
		"E-mail 1 - Label": {FieldEmail, 0, true}, "Labels": {field: FieldTag}, "Group Membership": {field: FieldTag},
		"Given Name": {field: FieldFirstName}, "Family Name": {field: FieldLastName}, "Additional Name": {},
		"Name Prefix": {field: FieldCivility}, "Name Suffix": {}, "Phonetic First Name": {}, "Given Name Yomi": {},
		"Organization Name": {}, "Organization Title": {}, "Address 1 - Label": {}, "Relation 1 - Label": {},
		"Nickname": {}, "File As": {}, "Birthday": {field: FieldBirthday},
		// Outlook, English
		"Mobile Phone": phone(KindMobile), "Business Phone": phone(KindLandline), "Business Phone 2": phone(KindLandline),
		"Home Phone": phone(KindLandline), "Other Phone": phone(KindUnknown), "Primary Phone": phone(KindUnknown),
		"Company Main Phone": phone(KindLandline), "Business Fax": phone(KindNever), "Pager": phone(KindNever),
		"Assistant's Phone": phone(KindNever), "Callback": phone(KindLandline), "Telex": phone(KindNever),
		"E-mail Address": {field: FieldEmail}, "E-mail Type": {FieldEmail, 0, true}, "E-mail Display Name": {},
		"E-mail 2 Address": {field: FieldEmail}, "Title": {field: FieldCivility}, "Job Title": {}, "Gender": {field: FieldCivility},
		"Categories": {field: FieldTag}, "Business Country/Region": {}, "Anniversary": {}, "Manager's Name": {},
		// Outlook, French
		"Tél. mobile": phone(KindMobile), "Téléphone (bureau)": phone(KindLandline), "Téléphone 2 (domicile)": phone(KindLandline),
		"Téléphone principal": phone(KindUnknown), "Télécopie (bureau)": phone(KindNever), "Récepteur de radiomessagerie": phone(KindNever),
		"Téléphone de l'assistant(e)": phone(KindNever), "Rappel": phone(KindLandline), "Télex": phone(KindNever),
		"Adresse de messagerie": {field: FieldEmail}, "Type de messagerie": {FieldEmail, 0, true},
		"Nom complet de l'adresse de messagerie": {}, "Anniversaire": {field: FieldBirthday},
		"Anniversaire de mariage ou fête": {}, "Deuxième prénom": {}, "Nom de l'assistant(e)": {}, "Pays (bureau)": {},
		"Code postal (bureau)": {}, "Catégories": {field: FieldTag}, "Sexe": {field: FieldCivility}, "Titre": {field: FieldCivility},
		// Outlook, Spanish
		"Teléfono móvil": phone(KindMobile), "Teléfono del trabajo": phone(KindLandline), "Fax particular": phone(KindNever),
		"Localizador": phone(KindNever), "Devolución de llamada": phone(KindLandline), "Otro teléfono": phone(KindUnknown),
		"Dirección de correo electrónico principal": {field: FieldEmail}, "Tipo de correo electrónico": {FieldEmail, 0, true},
		"Nombre para mostrar del correo electrónico": {}, "Cumpleaños": {field: FieldBirthday}, "Segundo nombre": {},
		"Tratamiento": {field: FieldCivility}, "Puesto": {},
		// short forms
		"Tél mobile": phone(KindMobile), "Tel.": phone(KindUnknown), "N° de portable": phone(KindMobile), "Nº": {},
		"Numéro": phone(KindUnknown), "No. de téléphone": phone(KindUnknown), "GSM": phone(KindMobile), "Fixe": phone(KindLandline),
		"Tél. perso": phone(KindUnknown), "Phone #": phone(KindUnknown), "Portable": phone(KindMobile), "Móvil": phone(KindMobile),
		"Celular": phone(KindMobile), "Tfno.": phone(KindUnknown),
		// CamelCase, snake_case, compounds
		"MobilePhone": phone(KindMobile), "GivenName": {field: FieldFirstName}, "EmailAddress": {field: FieldEmail},
		"phone_number": phone(KindUnknown), "FIRSTNAME": {field: FieldFirstName}, "LASTNAME": {field: FieldLastName},
		"Contact Phone Number": phone(KindUnknown), "Primary Email": {field: FieldEmail}, "WhatsApp Number": phone(KindMobile),
		"SMS": phone(KindMobile), "LANDLINE_NUMBER": phone(KindLandline), "iPhone": phone(KindMobile), "Customer Mobile": phone(KindMobile),
		"cellPhone": phone(KindMobile), "DOB": {field: FieldBirthday}, "dateOfBirth": {field: FieldBirthday},
		// Persian
		"شماره تماس": phone(KindUnknown), "تلفن همراه": phone(KindMobile), "شماره موبایل": phone(KindMobile),
		"تلفن ثابت": phone(KindLandline), "فکس": phone(KindNever), "تاریخ تولد": {field: FieldBirthday}, "ایمیل": {field: FieldEmail},
		"نام": {field: FieldFirstName}, "نام خانوادگی": {field: FieldLastName}, "نام و نام خانوادگی": {field: FieldFullName},
		"نام کامل": {field: FieldFullName}, "برچسب ها": {field: FieldTag}, "ردیف": {},
		// names in each language
		"Nom": {field: FieldLastName}, "Nom de famille": {field: FieldLastName}, "Nom et prénom": {field: FieldFullName},
		"Prénom Nom": {field: FieldFullName}, "Nombre": {field: FieldFirstName}, "Nombre y apellidos": {field: FieldFullName},
		"Nombre completo": {field: FieldFullName}, "Name": {field: FieldFullName}, "Full Name": {field: FieldFullName},
		"Customer Name": {field: FieldFullName}, "Company Name": {}, "User Name": {}, "Display Name": {field: FieldFullName},
		// birthdays
		"Date Anniversaire": {field: FieldBirthday}, "Date de naissance": {field: FieldBirthday}, "Birth Day": {}, "Birth Year": {},
		"Lieu de naissance": {}, "Fecha de nacimiento": {field: FieldBirthday},
		// CRM exports seen since: Salesforce's API names, Pipedrive's, Mexican and Spanish surnames
		"MobilePhone ": phone(KindMobile), "HomePhone": phone(KindLandline), "AssistantPhone": phone(KindNever),
		"Person - Phone - Mobile": phone(KindMobile), "Person - Email - Work": {field: FieldEmail},
		"Apellido paterno": {field: FieldLastName}, "Apellido materno": {field: FieldLastName},
		"Primer apellido": {field: FieldLastName}, "Segundo apellido": {},
		// what must not be taken for a phone, an e-mail or a name
		"Account Number": {}, "Numéro client": {}, "N° adhérent": {}, "Phone Type": {FieldPhone, KindUnknown, true},
		"Mobile Carrier": {}, "Phone verified": {}, "SMS opt-in": {}, "Email Opt Out": {}, "Email Domain": {},
		"Contact owner": {}, "Lead Status": {}, "Mailing Address": {}, "Address": {}, "REGION": {}, "LAST_CHANGED": {},
		"MEMBER_RATING": {}, "Create Date": {}, "Record ID": {field: FieldID}, "CONTACT ID": {field: FieldID}, "groupid": {},
		"Country": {field: FieldCountry}, "Country/Region": {field: FieldCountry}, "Code pays": {field: FieldCountry},
	}
	for h, w := range tests {
		m, ok := classify(h)
		got := want{}
		if ok {
			got = want{field: m.field, kind: m.kind, label: m.label}
		}
		if got != w {
			t.Errorf("classify(%q) = %+v, want %+v (tokens %q)", h, got, w, headerTokens(h))
		}
	}
}

// Every word of the vocabulary means one thing, whatever its language.
func TestVocabularyHasNoConflicts(t *testing.T) {
	seen := map[string]concept{}
	for _, lang := range vocabulary {
		for c, list := range lang.words {
			for _, w := range strings.Fields(list) {
				if prev, ok := seen[w]; ok && prev != c {
					t.Errorf("%q (%s) means two things", w, lang.lang)
				}
				seen[w] = c
				if matchKey(w) != normalisePersianLetters(w) {
					t.Errorf("%q (%s) is not written as matchKey writes it", w, lang.lang)
				}
			}
		}
	}
}

// Label columns pair with the value column of the same name.
func TestLabelColumnsPair(t *testing.T) {
	header := []string{"Phone 1 - Label", "Phone 1 - Value", "Phone 2 - Value", "Phone 2 - Label", "E-mail Type", "E-mail Address"}
	cols, err := Resolve(Detect(header, DetectOptions{}), header, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := [][2]int{}
	for _, s := range append(cols.Phones, cols.Emails...) {
		got = append(got, [2]int{s.Column, s.Label})
	}
	if want := [][2]int{{1, 0}, {2, 3}, {5, 4}}; !slices.Equal(got, want) {
		t.Fatalf("sources %v, want %v", got, want)
	}
}

// A generic ID column is the provider's contact ID only in the provider's
// own export.
func TestDetectID(t *testing.T) {
	smstools := DetectOptions{ProviderFields: []string{"phone", "groupid", "firstname", "lastname", "birthday"},
		Custom: []string{"extra1"}, Provider: "smstools"}
	for _, tt := range []struct {
		header []string
		o      DetectOptions
		id     bool
	}{
		{[]string{"ID", "First name", "Last name", "Mobile", "Birthday"}, smstools, true},
		{[]string{"ID", "firstname", "phone", "extra1"}, smstools, true},
		{[]string{"ID", "First name", "Mobile", "Email"}, smstools, false},
		{[]string{"Record ID", "First Name", "Last Name", "Email", "Phone Number"}, smstools, false},
		{[]string{"ID", "Mobile"}, DetectOptions{}, false},
	} {
		spec := Detect(tt.header, tt.o)
		if got := spec.Fields[FieldID] != nil; got != tt.id || len(spec.Notes) == 0 {
			t.Errorf("%q: ID used %v, want %v; notes %q", tt.header, got, tt.id, spec.Notes)
		}
	}
}

func TestNumbersIn(t *testing.T) {
	for in, want := range map[string][]string{
		"06 12 34 56 78":                    {"06 12 34 56 78"},
		"+33 6 12 34 56 78 ::: +33 7 58 13": {"+33 6 12 34 56 78 ", " +33 7 58 13"},
		"0612345678; 0758131313":            {"0612345678", " 0758131313"},
		"06 12 34 56 78 / 07 58 13 13 13":   {"06 12 34 56 78 ", " 07 58 13 13 13"},
		"0612345678\n0758131313":            {"0612345678", "0758131313"},
		"06/12/34/56/78":                    {"06/12/34/56/78"}, // one number written with slashes
		"3,3612345670E+10":                  {"3,3612345670E+10"},
		"06 12 34 56 78, poste 12":          {"06 12 34 56 78, poste 12"},
	} {
		var got []string
		numbersIn(in, func(s string) bool { got = append(got, s); return true })
		if !slices.Equal(got, want) {
			t.Errorf("numbersIn(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLabelKind(t *testing.T) {
	for in, want := range map[string]PhoneKind{"Mobile": KindMobile, "* Mobile": KindMobile, "iPhone": KindMobile, "Work": KindLandline,
		"Work Fax": KindNever, "Home Fax": KindNever, "Pager": KindNever, "Main": KindUnknown, "Portable": KindMobile, "Móvil": KindMobile,
		"موبایل": KindMobile, "Google Voice": KindUnknown, "": KindUnknown, "Bureau": KindLandline} {
		if got := labelKind(in); got != want {
			t.Errorf("labelKind(%q) = %v, want %v", in, got, want)
		}
	}
}

// The chosen number: labelled mobile first, then a number the plan says is
// a mobile, never a fax; a landline only when nothing else.
func TestChoosePhone(t *testing.T) {
	header := []string{"Phone 1 - Label", "Phone 1 - Value", "Phone 2 - Label", "Phone 2 - Value", "Home Phone", "Fax"}
	cols, err := Resolve(Detect(header, DetectOptions{}), header, nil)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := NewNormaliser(cols, NormaliserOptions{Region: "FR"})
	for _, tt := range []struct {
		labels [2]string
		cells  [3]string // Phone 1, Phone 2, Home
		want   string
		warn   bool
		reason string
	}{
		{[2]string{"Work", "Mobile"}, [3]string{"01 42 34 56 78", "06 12 34 56 78", ""}, "+33612345678", false, ""},
		{[2]string{"Mobile", "Home"}, [3]string{"+44 7911 123456", "06 12 34 56 78", ""}, "+447911123456", false, ""},
		{[2]string{"", ""}, [3]string{"01 42 34 56 78", "", "06 98 76 54 32"}, "+33698765432", false, ""},
		{[2]string{"Work Fax", ""}, [3]string{"06 12 34 56 78", "", "01 42 34 56 78"}, "+33142345678", true, ""},
		{[2]string{"Work Fax", ""}, [3]string{"06 12 34 56 78", "", ""}, "", false, ReasonMissingPhone},
		{[2]string{"Mobile", ""}, [3]string{"not a number", "06 12 34 56 78", ""}, "+33612345678", false, ""},
		{[2]string{"Mobile", ""}, [3]string{"not a number", "", ""}, "", false, ReasonInvalidPhone},
		{[2]string{"Mobile", ""}, [3]string{"01 42 34 56 78 ::: 06 12 34 56 78", "", ""}, "+33612345678", false, ""},
		{[2]string{"", ""}, [3]string{"", "", ""}, "", false, ReasonMissingPhone},
	} {
		r := &Record{Phones: phones(tt.cells[0], tt.cells[1], tt.cells[2]), PhoneLabels: [labelSlots]string{tt.labels[0], tt.labels[1]}}
		c, warnings, p := n.Normalise(2, r)
		switch {
		case tt.reason != "":
			if p == nil || p.Reason != tt.reason {
				t.Errorf("%q %q: problem %v, want %s", tt.labels, tt.cells, p, tt.reason)
			}
		case p != nil || c.Phone != tt.want || (len(warnings) == 1) != tt.warn:
			t.Errorf("%q %q: %v %v %v, want %s (landline warning %v)", tt.labels, tt.cells, c, warnings, p, tt.want, tt.warn)
		}
	}
	strict, _ := NewNormaliser(cols, NormaliserOptions{Region: "FR", RequireMobile: true})
	if _, _, p := strict.Normalise(2, &Record{Phones: phones("01 42 34 56 78")}); p == nil || p.Reason != ReasonLandline {
		t.Errorf("--require-mobile: %v", p)
	}
}

func TestDateOrder(t *testing.T) {
	for _, tt := range []struct {
		sample []string
		region string
		in     string
		want   string
		ambig  bool
	}{
		{[]string{"7/23/1980", "1/2/1990"}, "FR", "1/2/1990", "1990-01-02", false},
		{[]string{"23/07/1980"}, "US", "1/2/1990", "1990-02-01", false},
		{[]string{"0/0/00", ""}, "US", "1/2/1990", "1990-01-02", true},
		{nil, "FR", "1/2/1990", "1990-02-01", true},
		{nil, "FR", "05/05/1990", "1990-05-05", false},
		{nil, "IR", "1365/04/12", "1986-07-03", false},
		{[]string{"1980-05-23"}, "US", "13/01/1990", "", false},
	} {
		f := decideDateOrder(tt.sample, tt.region)
		got, ambig, _ := f.parse(tt.in)
		if got != tt.want || ambig != tt.ambig {
			t.Errorf("%q, %s: parse(%q) = %q ambiguous %v; want %q %v", tt.sample, tt.region, tt.in, got, ambig, tt.want, tt.ambig)
		}
	}
}

func TestQuoteBareCells(t *testing.T) {
	for in, want := range map[string]string{
		"a,Jean \"Jeannot\",1\n":    "a,\"Jean \"\"Jeannot\"\"\",1\n",
		"\"q\",x\"y\r\n":            "\"q\",\"x\"\"y\"\r\n",
		"\"a,b\",c\"d,\"e\"\"f\"\n": "\"a,b\",\"c\"\"d\",\"e\"\"f\"\n",
	} {
		if got := string(quoteBareCells([]byte(in), ',')); got != want {
			t.Errorf("quoteBareCells(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzChoosePhone: whatever the cells and labels, the number sent is one
// that a cell of the row holds, and a number libphonenumber types as a
// mobile beats one it types as a fixed line.
func FuzzChoosePhone(f *testing.F) {
	f.Add("Mobile", "06 12 34 56 78", "Work", "01 42 34 56 78", "07 58 13 13 13")
	f.Add("Fax", "06 12 34 56 78 ::: +33 1 42 34 56 78", "", "", "")
	f.Add("", "+44 7911 123456; 0612345678", "* Home", "+1 202-555-0143", "x")
	header := []string{"Phone 1 - Label", "Phone 1 - Value", "Phone 2 - Label", "Phone 2 - Value", "Home Phone"}
	cols, err := Resolve(Detect(header, DetectOptions{}), header, nil)
	if err != nil {
		f.Fatal(err)
	}
	n, _ := NewNormaliser(cols, NormaliserOptions{Region: "FR"})
	f.Fuzz(func(t *testing.T, l1, p1, l2, p2, home string) {
		r := &Record{Phones: phones(p1, p2, home), PhoneLabels: [labelSlots]string{l1, l2}}
		c, _, p := n.Normalise(2, r)
		if p != nil {
			if p.Reason == "" || p.Detail == "" {
				t.Fatalf("problem without reason: %+v", p)
			}
			return
		}
		held, fixedOnly := false, true
		for _, cell := range []string{p1, p2, home} {
			numbersIn(cell, func(s string) bool {
				if q, prob := ParsePhone(s, "FR"); prob == nil {
					held = held || q.E164 == c.Phone
				}
				return true
			})
		}
		if !held {
			t.Fatalf("sent %s, which no cell holds", c.Phone)
		}
		chosen, _ := ParsePhone(c.Phone, "")
		for _, cell := range []string{p1, p2, home} {
			numbersIn(cell, func(s string) bool {
				if q, prob := ParsePhone(s, "FR"); prob == nil && q.Type == phonenumbers.MOBILE {
					fixedOnly = false
				}
				return true
			})
		}
		if !fixedOnly && chosen.Type == phonenumbers.FIXED_LINE && labelKind(l1) != KindNever && labelKind(l2) != KindNever {
			t.Fatalf("sent the fixed line %s although the row holds a mobile", c.Phone)
		}
	})
}

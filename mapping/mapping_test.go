package mapping

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		name   string
		header []string
		want   map[Field]string
	}{
		{"english", []string{"First Name", "Last Name", "Phone", "Email"},
			map[Field]string{FieldFirstName: "First Name", FieldLastName: "Last Name", FieldPhone: "Phone", FieldEmail: "Email"}},
		{"french with accents and case", []string{"PRÉNOM", "nom", "Téléphone portable", "Courriel", "Date de naissance", "Civilité"},
			map[Field]string{FieldFirstName: "PRÉNOM", FieldLastName: "nom", FieldPhone: "Téléphone portable", FieldEmail: "Courriel", FieldBirthday: "Date de naissance", FieldCivility: "Civilité"}},
		{"mobile wins over landline", []string{"Téléphone", "Portable"},
			map[Field]string{FieldPhone: "Portable"}},
		{"first of equals wins", []string{"Phone", "Tel"},
			map[Field]string{FieldPhone: "Phone"}},
		{"spanish", []string{"Nombre", "Apellidos", "Teléfono móvil", "Correo electrónico", "Fecha de nacimiento"},
			map[Field]string{FieldFirstName: "Nombre", FieldLastName: "Apellidos", FieldPhone: "Teléfono móvil", FieldEmail: "Correo electrónico", FieldBirthday: "Fecha de nacimiento"}},
		{"persian", []string{"نام", "نام خانوادگی", "شماره موبایل", "تاریخ تولد", "جنسیت"},
			map[Field]string{FieldFirstName: "نام", FieldLastName: "نام خانوادگی", FieldPhone: "شماره موبایل", FieldBirthday: "تاریخ تولد", FieldCivility: "جنسیت"}},
		{"persian with arabic yeh and zwnj", []string{"شماره\u200cموبايل"},
			map[Field]string{FieldPhone: "شماره\u200cموبايل"}},
		{"underscores and hyphens", []string{"first_name", "last-name", "e-mail", "mobile_phone"},
			map[Field]string{FieldFirstName: "first_name", FieldLastName: "last-name", FieldEmail: "e-mail", FieldPhone: "mobile_phone"}},
		{"google contacts", []string{"Name", "Given Name", "Additional Name", "Family Name", "Birthday", "E-mail 1 - Type", "E-mail 1 - Value", "Phone 1 - Type", "Phone 1 - Value"},
			map[Field]string{FieldFullName: "Name", FieldFirstName: "Given Name", FieldLastName: "Family Name", FieldBirthday: "Birthday", FieldEmail: "E-mail 1 - Value", FieldPhone: "Phone 1 - Value"}},
		{"outlook", []string{"Title", "First Name", "Middle Name", "Last Name", "Business Phone", "Home Phone", "Mobile Phone", "E-mail Address", "Birthday"},
			map[Field]string{FieldCivility: "Title", FieldFirstName: "First Name", FieldLastName: "Last Name", FieldPhone: "Mobile Phone", FieldEmail: "E-mail Address", FieldBirthday: "Birthday"}},
		{"full name only", []string{"Nom complet", "GSM"},
			map[Field]string{FieldFullName: "Nom complet", FieldPhone: "GSM"}},
		{"unknown columns ignored", []string{"Loyalty", "Phone"},
			map[Field]string{FieldPhone: "Phone"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := Detect(tt.header, DetectOptions{})
			got := map[Field]string{}
			for f, fs := range spec.Fields {
				got[f] = fs.Column
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Detect(%q)\n got  %v\n want %v", tt.header, got, tt.want)
			}
		})
	}
}

func TestDetectCustomFields(t *testing.T) {
	spec := Detect([]string{"Phone", "PARAM1", "extra2"}, DetectOptions{Custom: []string{"param1", "param2"}})
	if spec.Custom["param1"] == nil || spec.Custom["param1"].Column != "PARAM1" || spec.Custom["extra2"] != nil {
		t.Fatalf("custom fields: %+v", spec.Custom)
	}
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name   string
		spec   *Spec
		header []string
		custom []string
		want   string
	}{
		{"no phone column", &Spec{Fields: map[Field]*FieldSpec{FieldFirstName: {Column: "a"}}}, []string{"a", "b"}, nil, "no phone column"},
		{"missing column", &Spec{Fields: map[Field]*FieldSpec{FieldPhone: {Column: "Mobile"}}}, []string{"a"}, nil, `column "Mobile"`},
		{"custom field of another provider", &Spec{Fields: map[Field]*FieldSpec{FieldPhone: {Column: "a"}}, Custom: map[string]*FieldSpec{"extra1": {Column: "b"}}},
			[]string{"a", "b"}, []string{"param1"}, "param1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Resolve(tt.spec, tt.header, tt.custom)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Resolve: %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

func TestSpecRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.yaml")
	spec := &Spec{Region: "FR", Fields: map[Field]*FieldSpec{
		FieldPhone:    {Column: "Mobile"},
		FieldBirthday: {Column: "Né le", Format: "dd/mm/yyyy"},
		FieldCivility: {Column: "Titre", Values: map[string]string{"Mr": "male"}},
	}, Custom: map[string]*FieldSpec{"param1": {Column: "Fidélité"}}}
	if err := spec.Write(path); err != nil {
		t.Fatal(err)
	}
	got, err := LoadSpec(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, spec) {
		data, _ := os.ReadFile(path)
		t.Fatalf("round trip changed the spec:\n%s", data)
	}
}

// A detected spec with several phone columns, written by inspect
// --write-mapping, reads back with the same columns in the same order.
func TestSpecRoundTripColumnLists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.yaml")
	header := []string{"Home Phone", "Mobile Phone", "E-mail Address", "E-mail 2 Address"}
	spec := Detect(header, DetectOptions{})
	if err := spec.Write(path); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	got, err := LoadSpec(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []Field{FieldPhone, FieldEmail} {
		if !reflect.DeepEqual(got.Fields[f].all(), spec.Fields[f].all()) || len(got.Fields[f].all()) != 2 {
			t.Fatalf("%s: %q, want %q\n%s", f, got.Fields[f].all(), spec.Fields[f].all(), data)
		}
	}
	if !strings.Contains(string(data), "phone:\n    - Mobile Phone\n    - Home Phone") {
		t.Fatalf("the phone columns are not a list, best first:\n%s", data)
	}
}

func TestLoadSpecShortForm(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.yaml")
	os.WriteFile(path, []byte("fields:\n  phone: Mobile\n  birthday: {column: DOB, format: mm/dd/yyyy}\n"), 0o644)
	spec, err := LoadSpec(path)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Fields[FieldPhone].Column != "Mobile" || spec.Fields[FieldBirthday].Format != "mm/dd/yyyy" {
		t.Fatalf("got %+v", spec.Fields)
	}
	os.WriteFile(path, []byte("fields:\n  telephone: Mobile\n"), 0o644)
	if _, err := LoadSpec(path); err == nil || !strings.Contains(err.Error(), `unknown field "telephone"`) {
		t.Fatalf("unknown field: %v", err)
	}
}

func TestDates(t *testing.T) {
	tests := []struct {
		format, in, want string
	}{
		{"", "1980-05-23", "1980-05-23"},
		{"", "1980-05-23 00:00:00", "1980-05-23"},
		{"", "1980-05-23T00:00:00Z", "1980-05-23"},
		{"", "23/05/1980", "1980-05-23"},
		{"", "23.05.1980", "1980-05-23"},
		{"", "23-05-1980", "1980-05-23"},
		{"", "5/3/1980", "1980-03-05"},
		{"", "05/23/1980", ""}, // month-first only when the mapping says so
		{"mm/dd/yyyy", "05/23/1980", "1980-05-23"},
		{"", "29/02/2001", ""},
		{"", "31/04/1990", ""},
		{"", "29375", "1980-06-03"}, // Excel serial
		{"", "1", "1900-01-01"},
		{"", "61", "1900-03-01"},
		{"", "60", ""}, // Lotus's 1900-02-29 does not exist
		{"excel", "29375.0", "1980-06-03"},
		{"excel", "23/05/1980", ""},
		{"", "1359/03/02", "1980-05-23"}, // Jalali
		{"", "۱۳۵۹/۰۳/۰۲", "1980-05-23"},
		{"", "1403/01/01", "2024-03-20"},
		{"", "1403/07/31", ""},
		{"yyyy-mm-dd", "23/05/1980", ""},
		{"", "not a date", ""},
		{"", "12/12/1850", ""},
	}
	for _, tt := range tests {
		f, err := parseDateFormat(tt.format)
		if err != nil {
			t.Fatal(err)
		}
		got, _, ok := f.parse(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("parse(%q) with format %q = %q, %v; want %q", tt.in, tt.format, got, ok, tt.want)
		}
	}
	if _, err := parseDateFormat("yy.mm"); err == nil {
		t.Error("an unknown format was accepted")
	}
}

func TestCleanEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{" Jean.Dupont@Example.COM ", "Jean.Dupont@example.com"},
		{"mailto:a@b.fr", "a@b.fr"},
		{"a@b", ""},
		{"a b@c.fr", ""},
		{"@c.fr", ""},
		{"a@@c.fr", ""},
		{"a@c..fr", ""},
		{"a@-c.fr", ""},
		{"josé@café.fr", "josé@café.fr"},
	}
	for _, tt := range tests {
		got, ok := CleanEmail(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("CleanEmail(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

func TestCleanAndSplitNames(t *testing.T) {
	if got := CleanName("  Jean   \t Pierre  "); got != "Jean Pierre" {
		t.Errorf("CleanName = %q", got)
	}
	if got := CleanName("Ze\u0301lie"); got != "Zélie" { // NFD → NFC
		t.Errorf("CleanName did not normalise to NFC: %q", got)
	}
	for _, tt := range []struct{ in, first, last string }{
		{"Jean Dupont", "Jean", "Dupont"},
		{"Dupont, Jean", "Jean", "Dupont"},
		{"Jean-Pierre de la Tour", "Jean-Pierre", "de la Tour"},
		{"Cher", "Cher", ""},
	} {
		if f, l := SplitFullName(tt.in); f != tt.first || l != tt.last {
			t.Errorf("SplitFullName(%q) = %q, %q", tt.in, f, l)
		}
	}
}

func TestNormalise(t *testing.T) {
	header := []string{"Nom complet", "Mobile", "Pays", "Courriel", "Naissance", "Civilité", "Fidélité"}
	spec := Detect(header, DetectOptions{})
	spec.Custom = map[string]*FieldSpec{"param1": {Column: "Fidélité"}}
	spec.Fields[FieldCivility].Values = map[string]string{"Dr": "male"}
	cols, err := Resolve(spec, header, []string{"param1"})
	if err != nil {
		t.Fatal(err)
	}
	n, err := NewNormaliser(cols, NormaliserOptions{Region: "FR", Sample: []Record{{Birthday: "23/05/1980"}}})
	if err != nil {
		t.Fatal(err)
	}
	rec := Record{FullName: "  Marie   Curie ", Phones: phones("0470 12 34 56"), Country: "BE", Emails: emails("M@X.BE"), Birthday: "07/11/1967", Civilities: [2]string{"Mme."}}
	rec.Custom[0] = "gold"
	c, warnings, problem := n.Normalise(3, &rec)
	if problem != nil || len(warnings) != 0 {
		t.Fatal(problem, warnings)
	}
	want := &Contact{Line: 3, Phone: "+32470123456", Key: 32470123456, PhoneFrom: "Mobile", FirstName: "Marie", LastName: "Curie",
		Email: "M@x.be", Birthday: "1967-11-07", Civility: CivilityFemale, Custom: map[string]string{"param1": "gold"}}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got  %+v\nwant %+v", c, want)
	}
	c, warnings, _ = n.Normalise(4, &Record{Phones: phones("0612345678"), Emails: emails("nope"), Birthday: "31/02/1990", Civilities: [2]string{"Dr"}})
	if c.Email != "" || c.Birthday != "" || len(warnings) != 2 || c.Civility != CivilityMale {
		t.Fatalf("invalid values must be dropped with warnings: %+v %v", c, warnings)
	}

	only, _ := NewNormaliser(cols, NormaliserOptions{OnlyRegion: "FR"})
	if _, _, p := only.Normalise(5, &Record{Phones: phones("+32470123456")}); p == nil || p.Reason != ReasonCountryMismatch {
		t.Fatalf("a Belgian number in a French list: %v", p)
	}
	if _, err := NewNormaliser(cols, NormaliserOptions{Region: "XX"}); err == nil {
		t.Fatal("an unknown region was accepted")
	}
}

func TestCivility(t *testing.T) {
	n := &Normaliser{}
	for in, want := range map[string]Civility{"M": CivilityMale, "M.": CivilityMale, "Monsieur": CivilityMale, "Mr": CivilityMale,
		"Mme": CivilityFemale, "Mlle": CivilityFemale, "Madame": CivilityFemale, "Mrs.": CivilityFemale, "F": CivilityFemale,
		"Sra.": CivilityFemale, "Señor": CivilityMale, "آقا": CivilityMale, "خانم": CivilityFemale, "": CivilityUnknown, "Dr": CivilityUnknown} {
		if got := n.civilityOf(in); got != want {
			t.Errorf("civilityOf(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestCleanTags(t *testing.T) {
	for in, want := range map[string]string{
		"":                                    "",
		"vip":                                 "vip",
		" vip , gold ;vip":                    "vip,gold",
		"* myContacts ::: Friends ::: Family": "Friends,Family",
		"* starred":                           "",
		"Clients  fidèles":                    "Clients fidèles",
	} {
		if got := CleanTags(in); got != want {
			t.Errorf("CleanTags(%q) = %q, want %q", in, got, want)
		}
	}
}

// Value maps of a mapping file apply to any field, before it is read.
func TestValueMaps(t *testing.T) {
	header := []string{"Tel", "Pays", "Titre", "Né le"}
	spec := &Spec{Fields: map[Field]*FieldSpec{
		FieldPhone:    {Column: "Tel"},
		FieldCountry:  {Column: "Pays", Values: map[string]string{"Belgique": "BE", "France": "FR"}},
		FieldCivility: {Column: "Titre", Values: map[string]string{"Docteur": "male"}},
		FieldBirthday: {Column: "Né le", Values: map[string]string{"inconnu": ""}},
	}}
	cols, err := Resolve(spec, header, nil)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := NewNormaliser(cols, NormaliserOptions{Region: "FR"})
	c, warnings, p := n.Normalise(2, &Record{Phones: phones("0470 12 34 56"), Country: "belgique", Civilities: [2]string{"DOCTEUR"}, Birthday: "Inconnu"})
	if p != nil || len(warnings) != 0 || c.Phone != "+32470123456" || c.Civility != CivilityMale || c.Birthday != "" {
		t.Fatalf("%+v %v %v", c, warnings, p)
	}
}

// Outlook writes "0/0/00" for no birthday: that is an empty cell, not a
// wrong date.
func TestOutlookEmptyBirthday(t *testing.T) {
	cols, _ := Resolve(Detect([]string{"Mobile Phone", "Birthday"}, DetectOptions{}), []string{"Mobile Phone", "Birthday"}, nil)
	n, _ := NewNormaliser(cols, NormaliserOptions{Region: "US"})
	for _, b := range []string{"0/0/00", "0/0/0000", "00/00/0000"} {
		c, warnings, p := n.Normalise(2, &Record{Phones: phones("(202) 555-0143"), Birthday: b})
		if p != nil || len(warnings) != 0 || c.Birthday != "" {
			t.Errorf("%q: %+v %v %v", b, c, warnings, p)
		}
	}
}

// phones fills a record's phone slots, best first.
func phones(p ...string) (out [phoneSlots]string) {
	copy(out[:], p)
	return out
}

// emails fills a record's e-mail slots, best first.
func emails(e ...string) (out [emailSlots]string) {
	copy(out[:], e)
	return out
}

package main

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"contactsync/importer"
	"contactsync/mapping"
)

// sent is what a contact must be sent with.
type sent struct {
	first, last, email, birthday string
	from                         string // the column the number was chosen from
	tag                          string
}

// The export families of samples/exports: real header sets of address books,
// CRMs and spreadsheets, with invented rows. Each test says exactly which
// number, names, e-mail and birthday each contact is sent with, and which
// numbers must never be sent.
var exportCases = []struct {
	file, region string
	extra        []string
	rows         int
	rejected     map[string]int
	warnings     map[string]int
	contacts     map[string]sent // by E.164 number
	never        []string        // numbers of the file that must not be sent
	headerLine   int
}{
	{ // per-row choice among Phone N - Label/Value, ":::" lists, Google's "* " primary e-mail
		file: "google-contacts.csv", region: "GB", rows: 7,
		rejected: map[string]int{"missing_phone": 1}, warnings: map[string]int{"invalid_date": 1, "landline": 1},
		contacts: map[string]sent{
			"+447911123456": {"Ada", "Lovelace", "ada@home.example", "1985-12-10", "Phone 2 - Value", "Clients"},
			"+447911123457": {"Alan", "Turing", "alan@bletchley.example", "", "Phone 2 - Value", ""},
			"+12025550143":  {"Grace", "Hopper", "grace@navy.example", "1906-12-09", "Phone 1 - Value", "Navy,Clients"},
			"+33612345678":  {"Marie", "Curie", "marie@radium.example", "1967-11-07", "Phone 2 - Value", ""},
			"+493012345678": {"Emmy", "Noether", "emmy@goettingen.example", "1982-03-23", "Phone 1 - Value", ""},
			"+14155550132":  {"Hedy", "Lamarr", "", "1914-11-09", "Phone 3 - Value", ""},
		},
		never: []string{"+442079460958", "+442079460000", "+12025550199", "+33142345678", "+33140000000", "+12025550111", "+12025550112"},
	},
	{ // French Outlook: Windows-1252, "Tél. mobile" empty on some rows, fax never sent
		file: "outlook-fr.csv", region: "FR", rows: 5,
		rejected: map[string]int{"missing_phone": 1}, warnings: map[string]int{"landline": 1},
		contacts: map[string]sent{
			"+33612345678": {"Jean", "Dupont", "jean.dupont@exemple.fr", "1980-05-23", "Tél. mobile", "Clients,Fidèles"},
			"+33698765432": {"Claire", "Martin", "claire.martin@exemple.fr", "", "Téléphone (domicile)", ""},
			"+33472000000": {"Paul", "Bernard", "", "1975-06-05", "Téléphone (bureau)", ""},
			"+33781223344": {"Luc", "Moreau", "luc.moreau@exemple.fr", "1990-11-12", "Tél. mobile", ""},
		},
		never: []string{"+33142345678", "+33142345679", "+33145000000", "+33145678910"},
	},
	{ // Spanish Outlook headers; dates that read both ways follow the region, with a warning each
		file: "outlook-es.csv", region: "ES", rows: 3,
		rejected: map[string]int{"missing_phone": 1}, warnings: map[string]int{"ambiguous_date": 2},
		contacts: map[string]sent{
			"+34612345678": {"José", "García Núñez", "jose.garcia@ejemplo.es", "1985-04-03", "Teléfono móvil", ""},
			"+34699111222": {"María", "Fernández", "mluisa@ejemplo.es", "1982-10-12", "Teléfono particular", ""},
		},
		never: []string{"+34912345678", "+34912345679", "+34600123456", "+34600123457"},
	},
	{ // HubSpot: the mobile column wins, "Record ID" is HubSpot's
		file: "hubspot.csv", region: "US", rows: 3, warnings: map[string]int{},
		contacts: map[string]sent{
			"+16175550177": {"Ann", "Lee", "ann.lee@example.com", "", "Mobile Phone Number", ""},
			"+12125550187": {"Bob", "Stone", "BOB@example.com", "", "Phone Number", ""},
			"+19175550134": {"Cara", "Diaz", "", "", "Mobile Phone Number", ""},
		},
		never: []string{"+16175550100"},
	},
	{ // Mailchimp: TAGS written as CSV in the cell; a birthday without a year is dropped
		file: "mailchimp.csv", region: "US", rows: 2, warnings: map[string]int{"invalid_date": 1},
		contacts: map[string]sent{
			"+12025550167": {"Dana", "Okafor", "dana@example.com", "", "Phone Number", "VIP,Blog"},
			"+14155550132": {"Eli", "Park", "eli@example.com", "", "Phone Number", "Blog"},
		},
	},
	{ // Brevo: SMS, WHATSAPP, LANDLINE_NUMBER, numbers without "+"
		file: "brevo.csv", region: "FR", rows: 3, warnings: map[string]int{"landline": 1},
		contacts: map[string]sent{
			"+33612345678": {"Emma", "Dubois", "emma@example.com", "", "SMS", ""},
			"+33698765432": {"Mickael", "Parker", "mickael@example.com", "", "WHATSAPP", ""},
			"+33145000001": {"Jakob", "Müller", "jakob@example.com", "", "LANDLINE_NUMBER", ""},
		},
		never: []string{"+33142345678", "+33142345679"},
	},
	{ // Thunderbird: a trailing comma on every line; the secondary e-mail when the primary is empty
		file: "thunderbird.csv", region: "GB", rows: 2, warnings: map[string]int{},
		contacts: map[string]sent{
			"+447911123458": {"Rory", "Williams", "rory@example.co.uk", "", "Mobile Number", ""},
			"+447911123459": {"Amy", "Pond", "amy@example.co.uk", "", "Home Phone", ""},
		},
		never: []string{"+442079460018", "+442079460019"},
	},
	{ // membership software saved by Excel: title line, bare quotes, short and long rows, two numbers in a cell
		file: "adherents-fr.csv", region: "FR", rows: 6, headerLine: 3,
		rejected: map[string]int{"missing_phone": 1},
		warnings: map[string]int{"invalid_email": 1, "landline": 1, "short_row": 1, "trailing_delimiter": 1},
		contacts: map[string]sent{
			"+33611223344": {"Marie", "Dupont", "marie.dupont@exemple.fr", "1979-07-14", "Portable", ""},
			"+33655443322": {`Jean "Jeannot"`, "Durand", "jean.durand@exemple.fr", "1985-02-01", "Portable", ""},
			"+33612121212": {"Anne", "Leroy", "", "1990-12-25", "Tél", ""},
			"+33658131313": {"Julie", "Blanc", "julie.blanc@exemple.fr", "", "Portable", ""},
			"+33472000001": {"Hugo", "Faure", "", "1992-04-03", "Tél", ""},
		},
		never: []string{"+33145678910", "+33758131313"},
	},
	{ // classic Mac OS line ends and Excel's "sep=" line
		file: "classic-mac-cr.csv", region: "FR", rows: 2, headerLine: 2, warnings: map[string]int{},
		contacts: map[string]sent{
			"+33621436587": {"Léa", "Garnier", "", "1995-10-09", "Portable", ""},
			"+33758131314": {"Tom", "Chevalier", "", "1988-01-31", "Portable", ""},
		},
	},
	{ // a Persian customer list: full name split, Persian digits, Jalali dates, two numbers on two lines
		file: "moshtarian-fa.csv", region: "IR", rows: 4, warnings: map[string]int{"landline": 1},
		contacts: map[string]sent{
			"+989123456789": {"علی", "رضایی", "ali@example.ir", "1986-07-03", "تلفن همراه", ""},
			"+989351112233": {"زهرا", "احمدی", "", "1992-02-11", "شماره تماس", ""},
			"+982122334455": {"محمد", "کریمی", "", "", "تلفن ثابت", ""},
			"+989121112233": {"مریم", "حسینی", "maryam@example.ir", "", "شماره تماس", ""},
		},
		never: []string{"+982188887777", "+982634567890", "+989129998877"},
	},
	{ // CamelCase, snake_case and compound English headers
		file: "webshop-customers.csv", region: "US", rows: 3, warnings: map[string]int{},
		contacts: map[string]sent{
			"+12025550167":   {"Nina", "Holm", "nina@shop.example", "1990-02-03", "Contact Phone Number", ""},
			"+33612345679":   {"Omar", "Said", "omar@mail.example", "1984-11-30", "WhatsApp Number", ""},
			"+4915123456789": {"Pia", "Berg", "pia@shop.example", "1979-07-01", "MobilePhone", ""},
		},
		never: []string{"+33142345678"},
	},
}

func TestRealWorldExports(t *testing.T) {
	for _, tt := range exportCases {
		t.Run(tt.file, func(t *testing.T) {
			file := filepath.Join("samples", "exports", tt.file)
			em, url := startOctopush(t)
			reportPath := filepath.Join(t.TempDir(), "report.json")
			args := append([]string{"import", file, "--provider", "octopush", "--list", "l", "--endpoint", url,
				"--region", tt.region, "--report", reportPath, "--quiet"}, tt.extra...)
			code, stdout, stderr := cli(t, em.Credentials(), args...)
			wantCode := exitOK
			if len(tt.rejected) > 0 {
				wantCode = exitRowsFailed
			}
			if code != wantCode {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, wantCode, stdout, stderr)
			}
			var rep struct {
				Rows, Added int
				Rejected    map[string]int `json:"rejected_by_reason"`
				Warnings    map[string]int `json:"warnings"`
			}
			data, _ := os.ReadFile(reportPath)
			if err := json.Unmarshal(data, &rep); err != nil {
				t.Fatal(err)
			}
			if tt.rejected == nil {
				tt.rejected = map[string]int{}
			}
			if rep.Rows != tt.rows || rep.Added != len(tt.contacts) || !maps.Equal(rep.Rejected, tt.rejected) || !maps.Equal(rep.Warnings, tt.warnings) {
				t.Fatalf("report %s", data)
			}

			// What the provider holds: these numbers, with these names, and nothing else.
			stored := map[string]bool{}
			for _, c := range em.Contacts("l") {
				stored[c.Phone] = true
				want, ok := tt.contacts[c.Phone]
				if !ok {
					t.Errorf("%s was sent, and should not have been (%+v)", c.Phone, c)
					continue
				}
				if c.FirstName != want.first || c.LastName != want.last {
					t.Errorf("%s sent as %q %q, want %q %q", c.Phone, c.FirstName, c.LastName, want.first, want.last)
				}
			}
			for p := range tt.contacts {
				if !stored[p] {
					t.Errorf("%s was not sent", p)
				}
			}
			for _, p := range tt.never {
				if stored[p] {
					t.Errorf("%s must never be sent", p)
				}
			}

			// What Octopush does not store (e-mail, birthday, the column
			// chosen, tags), from the same pipeline in a dry run.
			in, err := importer.Inspect(context.Background(), importer.InspectOptions{File: file, Region: tt.region, Rows: 100})
			if err != nil {
				t.Fatal(err)
			}
			if in.HeaderLine != max(tt.headerLine, 1) {
				t.Errorf("header found on line %d, want %d", in.HeaderLine, max(tt.headerLine, 1))
			}
			for _, c := range in.Contacts {
				want := tt.contacts[c.Phone]
				if c.Email != want.email || c.Birthday != want.birthday || c.PhoneFrom != want.from || c.Tag != want.tag {
					t.Errorf("%s: e-mail %q birthday %q from %q tag %q; want %q %q from %q tag %q", c.Phone, c.Email, c.Birthday,
						c.PhoneFrom, c.Tag, want.email, want.birthday, want.from, want.tag)
				}
			}
		})
	}
}

// LinkedIn's export opens with a note, and has no phone column: the error
// names the columns of the real header, not the note.
func TestLinkedInExport(t *testing.T) {
	code, _, stderr := cli(t, nil, "import", "samples/exports/linkedin-connections.csv", "--provider", "octopush",
		"--list", "l", "--sandbox", "--quiet")
	if code != exitUsage || !strings.Contains(stderr, "no phone column") || !strings.Contains(stderr, "First Name, Last Name, URL, Email Address") ||
		strings.Contains(stderr, "Notes") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
}

// A CRM's ID column is not the provider's contact ID: the rows are created,
// not sent as updates of whatever contact has that ID. The provider's own
// export (samples/smstools-updates.csv) is.
func TestGenericIDColumnIsNotTheProviderID(t *testing.T) {
	for _, tt := range []struct {
		file, note string
		usesID     bool
	}{
		{"samples/exports/hubspot.csv", `column "Record ID" is not used as smstools's contact ID`, false},
		{"samples/exports/brevo.csv", `column "CONTACT ID" is not used as smstools's contact ID`, false},
		{"samples/exports/webshop-customers.csv", `column "customer_id" is not used as smstools's contact ID`, false},
		{"samples/smstools-updates.csv", `column "ID" is smstools's contact ID`, true},
	} {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			code, stdout, stderr := cli(t, nil, "inspect", tt.file, "--provider", "smstools", "--region", "US")
			if code == exitUsage || !strings.Contains(stdout, tt.note) {
				t.Fatalf("exit %d: inspect does not say %q\n%s%s", code, tt.note, stdout, stderr)
			}
			in, err := importer.Inspect(context.Background(), importer.InspectOptions{File: tt.file, Provider: "smstools", Region: "BE", Rows: 10})
			if err != nil {
				t.Fatal(err)
			}
			ids := slices.ContainsFunc(in.Contacts, func(c *mapping.Contact) bool { return c.ID != "" })
			if ids != tt.usesID {
				t.Fatalf("contacts carry an ID: %v, want %v", ids, tt.usesID)
			}
		})
	}
}

// --require-mobile rejects the rows whose only number is a landline.
func TestRequireMobile(t *testing.T) {
	em, url := startOctopush(t)
	reportPath := filepath.Join(t.TempDir(), "report.json")
	code, _, stderr := cli(t, em.Credentials(), "import", "samples/exports/brevo.csv", "--provider", "octopush", "--list", "l",
		"--endpoint", url, "--region", "FR", "--require-mobile", "--report", reportPath, "--quiet")
	var rep struct {
		Rejected map[string]int `json:"rejected_by_reason"`
	}
	data, _ := os.ReadFile(reportPath)
	json.Unmarshal(data, &rep)
	if code != exitRowsFailed || !reflect.DeepEqual(rep.Rejected, map[string]int{"landline": 1}) || len(em.Contacts("l")) != 2 {
		t.Fatalf("exit %d, %d stored\n%s\n%s", code, len(em.Contacts("l")), data, stderr)
	}
}

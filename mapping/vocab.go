package mapping

import (
	"strings"
	"unicode"
)

// Column names are matched word by word, not as whole names: a header is cut
// into normalised tokens (case, accents, punctuation and spacing ignored,
// CamelCase and snake_case split, "e-mail" joined, compounds such as
// "firstname" cut), each token is looked up in a small vocabulary per
// language, and the field follows from the concepts the header holds (see
// classify). A new header in a known language — "Numéro de portable",
// "Customer Mobile", "Teléfono del trabajo" — is then understood without a
// new line of code.

// concept is what a word of a header means to contactsync.
type concept uint8

const (
	cUnknown   concept = iota
	cStop              // carries nothing: of, de, the…
	cAnd               // and, et, y, و: "nom et prénom"
	cValue             // value, valeur: Google's "Phone 1 - Value"
	cDigit             // a number in a header: "Phone 2", "Adresse de messagerie 3"
	cHint              // a date layout in a header: dd, mm, yyyy, jj, aaaa
	cContact           // contact, تماس: "Contact Number", "Contact Name"
	cSubject           // customer, client, member: whose value it is
	cPrimary           // primary, principal, main
	cSecondary         // secondary, other, autre, alternate
	cType              // type, kind, tipo: a label column ("Phone 1 - Type")
	cLabel             // label(s): a label column next to a phone or e-mail, else tags

	cPhone     // phone, téléphone, tel, تلفن
	cNumber    // number, numéro, شماره (said alone, a phone number)
	cNumAbbr   // n°, no, num, nr, #: a number only beside a phone word
	cMobile    // mobile, cell, portable, móvil, celular, موبایل, همراه, sms, whatsapp
	cLandline  // home, work, bureau, domicile, fixe, trabajo, company…: a fixed line
	cLineAlone // isdn, callback, landline, fixe: a phone column by itself, fixed
	cFax       // fax, télécopie: never sent
	cPager     // pager, radiomessagerie, localizador: never sent
	cTelex     // telex: never sent
	cElsewhere // assistant, spouse, manager: someone else's number or name

	cEmail   // email, mail, courriel, correo, messagerie, ایمیل
	cAddress // address, adresse, dirección: "Email Address"

	cFirst      // first, given, prénom
	cLast       // last, family, surname, apellido, famille, خانوادگی
	cName       // name: alone, the full name
	cNom        // nom (French): alone, the last name
	cNombre     // nombre (Spanish), نام (Persian): alone, the first name
	cFull       // full, complete, display, complet, completo, کامل
	cNameOther  // middle, maiden, nick, phonetic, suffix: another name
	cNamePrefix // prefix: "Name Prefix" is Google's civility (Mr., Dr.)

	cBirth    // birthday, birth, naissance, anniversaire, cumpleaños, تولد
	cDate     // date, fecha, تاریخ
	cDatePart // year, month, day: one part of a date, not a date
	cPlace    // place, city, lieu, ville: "Lieu de naissance"
	cWedding  // mariage, wedding: "Anniversaire de mariage"

	cCivility // civility, gender, salutation, sexe, tratamiento, جنسیت
	cTitle    // title, titre: the civility unless it is a job title
	cJob      // job, position, fonction, puesto

	cCountry // country, pays, país, کشور
	cCode    // code, iso: "Country Code"
	cRegion  // region: "Country/Region"

	cTag // tag(s), group(s), categories, étiquette(s), segment, برچسب, گروه

	cID // id, identifier, identifiant, شناسه

	cNot // a word that makes a header something else: opt-in, status, verified…
)

// vocabulary lists the words of each concept, per language, as matchKey
// writes them (lower case, no accents; Persian with ye and kaf folded).
// A word belongs to one concept.
var vocabulary = []struct {
	lang  string
	words map[concept]string
}{
	{"en", map[concept]string{
		cStop:       "of the a an for to in on at by s",
		cAnd:        "and",
		cValue:      "value",
		cHint:       "dd mm yyyy yy",
		cContact:    "contact",
		cSubject:    "customer client member subscriber person lead people personal private record",
		cPrimary:    "primary main preferred default",
		cSecondary:  "secondary other alternate alternative alt additional second",
		cType:       "type kind",
		cLabel:      "label labels",
		cPhone:      "phone telephone tel tele msisdn",
		cNumber:     "number",
		cNumAbbr:    "no num nr nbr",
		cMobile:     "mobile mob cell cellular sms whatsapp gsm iphone",
		cLandline:   "home work business office company car radio tty tdd direct",
		cLineAlone:  "landline isdn callback",
		cFax:        "fax facsimile telefax",
		cPager:      "pager beeper",
		cTelex:      "telex",
		cElsewhere:  "assistant spouse partner manager child children referred",
		cEmail:      "email mail",
		cAddress:    "address",
		cFirst:      "first given forename",
		cLast:       "last family surname",
		cName:       "name",
		cFull:       "full complete display",
		cNameOther:  "middle maiden nick phonetic yomi suffix initials user login",
		cNamePrefix: "prefix",
		cBirth:      "birthday birth dob",
		cDate:       "date",
		cDatePart:   "year month day",
		cPlace:      "place city town state zip postal street",
		cWedding:    "wedding anniversary",
		cCivility:   "civility gender sex salutation",
		cTitle:      "title",
		cJob:        "job position occupation profession organization organisation role",
		cCountry:    "country",
		cCode:       "code iso",
		cRegion:     "region",
		cTag:        "tag tags group groups category categories segment segments membership",
		cID:         "id identifier",
		cNot: "verified verification valid validated consent optin opt out unsubscribed unsubscribe " +
			"subscribed subscription status carrier operator provider extension ext domain marketing bounce " +
			"bounced opened clicked sent count score rating quality preference preferences format owner " +
			"created updated modified source confirmed confirmation",
	}},
	{"fr", map[concept]string{
		cStop:       "de du des la le les l d en au aux par pour",
		cAnd:        "et",
		cValue:      "valeur",
		cHint:       "jj aaaa aa",
		cSubject:    "adherent adherente membre abonne personnel perso prive",
		cSecondary:  "autre secondaire deuxieme",
		cPhone:      "telephone tel",
		cNumber:     "numero",
		cNumAbbr:    "n",
		cMobile:     "portable port",
		cLandline:   "domicile bureau travail pro professionnel societe voiture",
		cLineAlone:  "fixe rnis rappel",
		cFax:        "telecopie telecopieur",
		cPager:      "radiomessagerie recepteur",
		cElsewhere:  "assistante conjoint conjointe enfants responsable recommande",
		cEmail:      "courriel messagerie electronique",
		cAddress:    "adresse",
		cFirst:      "prenom prenoms",
		cLast:       "famille",
		cNom:        "nom",
		cFull:       "complet affichage",
		cNameOther:  "surnom suffixe initiales utilisateur",
		cNamePrefix: "prefixe",
		cBirth:      "naissance anniversaire",
		cDatePart:   "annee mois jour",
		cPlace:      "lieu ville cp departement",
		cWedding:    "mariage fete",
		cCivility:   "civilite sexe genre",
		cTitle:      "titre",
		cJob:        "fonction poste service entreprise",
		cCountry:    "pays",
		cTag:        "etiquette etiquettes groupe groupes categorie",
		cID:         "identifiant",
		cNot:        "verifie consentement statut",
	}},
	{"es", map[concept]string{
		cStop:       "del el los las para por al",
		cAnd:        "y e",
		cValue:      "valor",
		cContact:    "contacto",
		cSubject:    "cliente socio",
		cPrimary:    "principal predeterminado preferido primer",
		cSecondary:  "otro otra secundario alternativo segundo",
		cType:       "tipo",
		cPhone:      "telefono tfno tlf tlfn telf",
		cNumber:     "numero",
		cNumAbbr:    "nro",
		cMobile:     "movil celular cel",
		cLandline:   "casa trabajo oficina compania automovil particular",
		cLineAlone:  "fijo rdsi devolucion llamada",
		cPager:      "localizador buscapersonas",
		cTelex:      "teletipo",
		cElsewhere:  "asistente conyuge hijos",
		cEmail:      "correo electronico",
		cAddress:    "direccion",
		cLast:       "apellido apellidos paterno materno",
		cNombre:     "nombre",
		cFull:       "completo mostrar",
		cNameOther:  "apodo sufijo usuario",
		cNamePrefix: "prefijo",
		cBirth:      "nacimiento cumpleanos natalicio",
		cDate:       "fecha",
		cDatePart:   "ano mes dia",
		cPlace:      "lugar ciudad",
		cCivility:   "genero sexo tratamiento",
		cTitle:      "titulo",
		cJob:        "puesto cargo empresa organizacion",
		cCountry:    "pais",
		cCode:       "codigo",
		cTag:        "etiqueta etiquetas grupo grupos categoria categorias",
		cID:         "identificador",
		cNot:        "verificado consentimiento estado",
	}},
	{"fa", map[concept]string{
		cStop:      "ها",
		cAnd:       "و",
		cContact:   "تماس مخاطب",
		cSubject:   "مشتری",
		cPrimary:   "اصلی",
		cSecondary: "دیگر دوم",
		cPhone:     "تلفن",
		cNumber:    "شماره",
		cMobile:    "موبایل همراه",
		cLandline:  "منزل کار محل",
		cLineAlone: "ثابت",
		cFax:       "فکس نمابر",
		cPager:     "پیجر",
		cEmail:     "ایمیل الکترونیک الکترونیکی",
		cAddress:   "ادرس نشانی پست",
		cLast:      "خانوادگی فامیل فامیلی",
		cNombre:    "نام اسم",
		cFull:      "کامل",
		cBirth:     "تولد",
		cDate:      "تاریخ",
		cCivility:  "جنسیت جنس",
		cTitle:     "عنوان",
		cCountry:   "کشور",
		cCode:      "کد",
		cTag:       "برچسب گروه",
		cID:        "شناسه",
	}},
}

// compounds cuts the words that exports write without a space.
var compounds = map[string][]string{
	"firstname": {"first", "name"}, "lastname": {"last", "name"}, "fullname": {"full", "name"},
	"givenname": {"given", "name"}, "familyname": {"family", "name"}, "middlename": {"middle", "name"},
	"displayname": {"display", "name"}, "contactname": {"contact", "name"}, "username": {"user", "name"},
	"nickname": {"nick", "name"}, "fname": {"first", "name"}, "lname": {"last", "name"},
	"birthdate": {"birth", "date"}, "dateofbirth": {"birth", "date"},
	"cellphone": {"cell", "phone"}, "mobilephone": {"mobile", "phone"}, "mobileno": {"mobile", "no"},
	"mobilenumber": {"mobile", "number"}, "phonenumber": {"phone", "number"}, "phoneno": {"phone", "no"},
	"telno": {"tel", "no"}, "emailaddress": {"email", "address"}, "contactid": {"contact", "id"},
	"groupid": {"group", "id"}, "listid": {"list", "id"}, "zipcode": {"zip", "code"},
	"postalcode": {"postal", "code"}, "countrycode": {"country", "code"}, "homephone": {"home", "phone"},
	"workphone": {"work", "phone"}, "businessphone": {"business", "phone"}, "optin": {"opt", "in"},
	"optout": {"opt", "out"}, "jobtitle": {"job", "title"},
}

// words maps each vocabulary word to its concept.
var words = func() map[string]concept {
	m := map[string]concept{}
	for _, lang := range vocabulary {
		for c, list := range lang.words {
			for _, w := range strings.Fields(list) {
				m[normalisePersianLetters(w)] = c
			}
		}
	}
	return m
}()

// headerTokens cuts a header into the words classify looks at.
func headerTokens(h string) []string {
	h = cleanHeader(h)
	var b strings.Builder
	rs := []rune(h)
	for i, r := range rs {
		if r == 'º' || r == '°' || r == 'ª' {
			b.WriteByte(' ') // "Nº", "N°": the ordinal sign is no letter
			continue
		}
		if r == '#' {
			b.WriteString(" no ") // "Phone #"
			continue
		}
		if i > 0 {
			p := rs[i-1]
			switch {
			case unicode.IsLower(p) && unicode.IsUpper(r), // MobilePhone
				unicode.IsUpper(p) && unicode.IsUpper(r) && i+1 < len(rs) && unicode.IsLower(rs[i+1]), // SMSNumber
				unicode.IsLetter(p) && unicode.IsDigit(r), unicode.IsDigit(p) && unicode.IsLetter(r):  // Phone1
				b.WriteByte(' ')
			}
		}
		b.WriteRune(r)
	}
	fields := strings.Fields(matchKey(b.String()))
	out := make([]string, 0, len(fields)+2)
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if i+1 < len(fields) && (piece(f) || piece(fields[i+1])) {
			// "E-mail", "WhatsApp", "iPhone": the pieces a hyphen or the
			// CamelCase split made of one known word. Two words that mean
			// something each stay apart: Thunderbird's "Birth Day" is a
			// day of the month, not a birthday.
			joined := f + fields[i+1]
			_, word := words[joined]
			_, compound := compounds[joined]
			if word || compound {
				f = joined
				i++
			}
		}
		if parts, ok := compounds[f]; ok {
			out = append(out, parts...)
			continue
		}
		out = append(out, f)
	}
	return out
}

// piece reports whether a token means nothing alone: a single letter, or
// a word of no vocabulary.
func piece(tok string) bool {
	_, known := words[tok]
	return len([]rune(tok)) == 1 || !known
}

// conceptOf returns the concept of a header token.
func conceptOf(tok string) concept {
	if c, ok := words[tok]; ok {
		return c
	}
	if allDigits(tok) {
		return cDigit
	}
	return cUnknown
}

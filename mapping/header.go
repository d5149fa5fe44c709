package mapping

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// synonym is a header name, as matchKey writes it, that means a field; rank
// orders candidates for the same field (lower wins: a mobile column beats a
// landline one).
type synonym struct {
	field Field
	rank  int
}

// synonyms maps header names of English, French, Spanish and Persian files
// and of the Google Contacts and Outlook CSV exports to fields.
var synonyms = buildSynonyms(map[Field][][]string{
	FieldPhone: {
		{"mobile", "mobile phone", "mobile number", "mobile phone number", "cell", "cell phone", "cellphone",
			"cell number", "portable", "telephone portable", "tel portable", "numero de portable",
			"numero portable", "no portable", "n portable", "gsm", "movil", "telefono movil", "numero de movil",
			"numero movil", "celular", "telefono celular", "موبایل", "شماره موبایل", "تلفن همراه", "شماره همراه",
			"همراه", "شماره تلفن همراه"},
		{"phone", "phone number", "telephone", "telephone number", "tel", "tel.", "numero", "numero de telephone",
			"n telephone", "no telephone", "numero telephone", "msisdn", "number", "telefono", "numero de telefono",
			"tlf", "تلفن", "شماره تلفن", "شماره", "phone 1 value", "primary phone", "sms", "whatsapp"},
		{"business phone", "home phone", "other phone", "phone 2 value", "company main phone",
			"business phone 2", "home phone 2", "telephone fixe", "fixe", "telefono fijo"},
	},
	FieldCountry: {{"country", "country code", "pays", "code pays", "pais", "codigo de pais", "کشور"}},
	FieldFirstName: {{"first name", "firstname", "first", "given name", "prenom", "nombre", "fname",
		"first names", "نام", "اسم"}},
	FieldLastName: {{"last name", "lastname", "last", "surname", "family name", "nom", "nom de famille",
		"apellido", "apellidos", "lname", "نام خانوادگی", "فامیل", "فامیلی"}},
	FieldFullName: {{"name", "full name", "fullname", "display name", "nom complet", "nom et prenom",
		"prenom et nom", "nombre completo", "contact", "contact name", "نام کامل", "نام و نام خانوادگی"}},
	FieldEmail: {{"email", "e mail", "mail", "courriel", "adresse e mail", "adresse email", "adresse mail",
		"correo", "correo electronico", "email address", "e mail address", "e mail 1 value",
		"ایمیل", "پست الکترونیک", "پست الکترونیکی"}},
	FieldBirthday: {{"birthday", "birth date", "birthdate", "date of birth", "dob", "date de naissance",
		"naissance", "anniversaire", "fecha de nacimiento", "cumpleanos", "nacimiento", "تاریخ تولد", "تولد"}},
	FieldCivility: {{"civility", "title", "salutation", "gender", "sex", "civilite", "genre", "sexe",
		"tratamiento", "genero", "sexo", "جنسیت", "جنس"}},
	FieldTag: {{"tag", "tags", "label", "labels", "group", "groups", "group membership", "categories",
		"etiquette", "etiquettes", "groupe", "etiqueta", "etiquetas", "grupo", "برچسب", "برچسب ها", "گروه"}},
	FieldID: {{"id", "contact id", "contactid", "identifiant", "identificador", "شناسه"}},
})

func buildSynonyms(m map[Field][][]string) map[string]synonym {
	out := map[string]synonym{}
	for f, ranks := range m {
		for rank, names := range ranks {
			for _, n := range names {
				out[matchKey(n)] = synonym{field: f, rank: rank}
			}
		}
	}
	return out
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

// Detect maps a header to fields by name. Each field goes to the best-ranked
// column that names it (the first among equals); a column named like one of
// allowedCustom (a provider's free field, e.g. "param1") becomes that field.
func Detect(header []string, allowedCustom []string) *Spec {
	spec := &Spec{Fields: map[Field]*FieldSpec{}}
	best := map[Field]int{}
	for _, h := range header {
		syn, ok := synonyms[matchKey(h)]
		if !ok {
			continue
		}
		if r, seen := best[syn.field]; seen && r <= syn.rank {
			continue
		}
		best[syn.field] = syn.rank
		spec.Fields[syn.field] = &FieldSpec{Column: h}
	}
	for _, h := range header {
		for _, c := range allowedCustom {
			if strings.EqualFold(matchKey(h), matchKey(c)) {
				if spec.Custom == nil {
					spec.Custom = map[string]*FieldSpec{}
				}
				spec.Custom[c] = &FieldSpec{Column: h}
			}
		}
	}
	return spec
}

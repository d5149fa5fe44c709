package mapping

import "fmt"

// Field is a contact field a column can map to. Its value is also the csv
// tag gocsv decodes the column into.
type Field string

// The fields of a row.
const (
	FieldPhone     Field = "phone"
	FieldCountry   Field = "country"
	FieldFirstName Field = "first_name"
	FieldLastName  Field = "last_name"
	FieldFullName  Field = "full_name"
	FieldEmail     Field = "email"
	FieldBirthday  Field = "birthday"
	FieldCivility  Field = "civility"
	FieldTag       Field = "tag"
	FieldID        Field = "id"
)

// Fields lists the named fields in the order inspect shows them.
var Fields = []Field{FieldPhone, FieldCountry, FieldFirstName, FieldLastName, FieldFullName,
	FieldEmail, FieldBirthday, FieldCivility, FieldTag, FieldID}

const (
	// customSlots is how many provider free fields a row can carry
	// (Smstools has the most: extra1..extra8).
	customSlots = 8
	// phoneSlots is how many phone columns a row is chosen from, the best
	// named first: Outlook writes about fifteen besides its fax and pager
	// columns, of which the last are ISDN, radio, TTY lines.
	phoneSlots = 12
	// labelSlots is how many of those may have a label column beside them
	// (Google's "Phone N - Label"; more than six numbers a contact is rare).
	labelSlots = 6
	// emailSlots is how many e-mail columns a row is chosen from (and may
	// have labels).
	emailSlots = 3
	// civilitySlots is how many civility columns a row is read from.
	civilitySlots = 2
)

// The csv tags of the slot arrays; gocsv names slot i "tag[i]".
const (
	tagPhone      = "phone"
	tagPhoneLabel = "phone_label"
	tagEmail      = "email"
	tagEmailLabel = "email_label"
	tagCivility   = "civility"
	tagCustom     = "custom"
)

func slotTag(tag string, i int) string { return fmt.Sprintf("%s[%d]", tag, i) }

// Record is one row as gocsv decodes it, after the mapping renamed the
// file's columns to these tags. Values are raw text; Normalise interprets
// them.
type Record struct {
	// Phones holds the row's phone cells, best column first, and
	// PhoneLabels the type or label cell beside each (Google's "Phone 1 -
	// Label"); Normalise chooses the number to send among them.
	Phones      [phoneSlots]string `csv:"phone" csv[]:"12"`
	PhoneLabels [labelSlots]string `csv:"phone_label" csv[]:"6"`
	// Emails and EmailLabels are the same for e-mail addresses.
	Emails      [emailSlots]string `csv:"email" csv[]:"3"`
	EmailLabels [emailSlots]string `csv:"email_label" csv[]:"3"`
	Country     string             `csv:"country"`
	FirstName   string             `csv:"first_name"`
	LastName    string             `csv:"last_name"`
	FullName    string             `csv:"full_name"`
	Birthday    string             `csv:"birthday"`
	// Civilities holds the civility cells, best column first: Outlook
	// writes both a title and a gender, either may be empty.
	Civilities [civilitySlots]string `csv:"civility" csv[]:"2"`
	Tag        string                `csv:"tag"`
	ID         string                `csv:"id"`
	// Custom holds the provider free fields the mapping assigned to slots.
	Custom [customSlots]string `csv:"custom" csv[]:"8"`
}

// eachCell calls fn with each cell of the record that holds field f.
func (r *Record) eachCell(f Field, fn func(*string)) {
	var one *string
	switch f {
	case FieldPhone:
		for i := range r.Phones {
			fn(&r.Phones[i])
		}
	case FieldEmail:
		for i := range r.Emails {
			fn(&r.Emails[i])
		}
	case FieldCountry:
		one = &r.Country
	case FieldFirstName:
		one = &r.FirstName
	case FieldLastName:
		one = &r.LastName
	case FieldFullName:
		one = &r.FullName
	case FieldBirthday:
		one = &r.Birthday
	case FieldCivility:
		for i := range r.Civilities {
			fn(&r.Civilities[i])
		}
	case FieldTag:
		one = &r.Tag
	case FieldID:
		one = &r.ID
	}
	if one != nil {
		fn(one)
	}
}

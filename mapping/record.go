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

// customSlots is how many provider free fields a row can carry (Smstools
// has the most: extra1..extra8).
const customSlots = 8

// slotField names the csv tag gocsv gives custom slot i (0-based).
func slotField(i int) Field { return Field(fmt.Sprintf("custom[%d]", i)) }

// Record is one row as gocsv decodes it, after the mapping renamed the
// file's columns to these tags. Values are raw text; Normalise interprets
// them.
type Record struct {
	Phone     string `csv:"phone"`
	Country   string `csv:"country"`
	FirstName string `csv:"first_name"`
	LastName  string `csv:"last_name"`
	FullName  string `csv:"full_name"`
	Email     string `csv:"email"`
	Birthday  string `csv:"birthday"`
	Civility  string `csv:"civility"`
	Tag       string `csv:"tag"`
	ID        string `csv:"id"`
	// Custom holds the provider free fields the mapping assigned to slots.
	Custom [customSlots]string `csv:"custom" csv[]:"8"`
}

// cell returns the field's cell of the record, nil for a field it lacks.
func (r *Record) cell(f Field) *string {
	switch f {
	case FieldPhone:
		return &r.Phone
	case FieldCountry:
		return &r.Country
	case FieldFirstName:
		return &r.FirstName
	case FieldLastName:
		return &r.LastName
	case FieldFullName:
		return &r.FullName
	case FieldEmail:
		return &r.Email
	case FieldBirthday:
		return &r.Birthday
	case FieldCivility:
		return &r.Civility
	case FieldTag:
		return &r.Tag
	case FieldID:
		return &r.ID
	}
	return nil
}

package mapping

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Spec is a column mapping: which column holds each field, and how to read
// it. It comes from a YAML mapping file (--mapping) or from Detect.
type Spec struct {
	// Region is the country of numbers written without an international
	// prefix, unless --region says otherwise.
	Region string `yaml:"region,omitempty"`
	// Fields maps a field to its column.
	Fields map[Field]*FieldSpec `yaml:"fields"`
	// Custom maps a provider free field (param1, extra2, CustomText3,
	// contactOther) to its column.
	Custom map[string]*FieldSpec `yaml:"custom,omitempty"`
}

// FieldSpec says where a field is and how to read it. In YAML it is either a
// column name or a mapping with column, format and values.
type FieldSpec struct {
	Column string `yaml:"column"`
	// Format is a date layout for birthday: yyyy-mm-dd, dd/mm/yyyy,
	// mm/dd/yyyy, or excel (serial day numbers).
	Format string `yaml:"format,omitempty"`
	// Values rewrites cell values before they are read, e.g. for civility
	// {"M": "male", "Mme": "female"}.
	Values map[string]string `yaml:"values,omitempty"`
}

// UnmarshalYAML accepts "phone: Mobile" as well as the long form.
func (f *FieldSpec) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		f.Column = n.Value
		return nil
	}
	type plain FieldSpec
	return n.Decode((*plain)(f))
}

// MarshalYAML writes the short form when nothing but the column is set.
func (f *FieldSpec) MarshalYAML() (any, error) {
	if f.Format == "" && len(f.Values) == 0 {
		return f.Column, nil
	}
	type plain FieldSpec
	return (*plain)(f), nil
}

// LoadSpec reads a YAML mapping file.
func LoadSpec(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s Spec
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("mapping file %s: %w", path, err)
	}
	for f := range s.Fields {
		if !slices.Contains(Fields, f) {
			return nil, fmt.Errorf("mapping file %s: unknown field %q; the fields are %s", path, f, fieldList())
		}
	}
	return &s, nil
}

// Write saves the spec as YAML with a comment on how to use it.
func (s *Spec) Write(path string) error {
	var b bytes.Buffer
	b.WriteString("# contactsync column mapping: edit, then pass it back with --mapping.\n")
	b.WriteString("# fields: " + fieldList() + "\n")
	b.WriteString("# birthday formats: yyyy-mm-dd, dd/mm/yyyy, mm/dd/yyyy, excel\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(s); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

func fieldList() string {
	names := make([]string, len(Fields))
	for i, f := range Fields {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

// Columns is a Spec applied to one file's header: what each column becomes.
type Columns struct {
	Header []string
	// Field holds, per column, the field it maps to ("" when ignored).
	Field []Field
	// Custom holds, per column, the provider free field it maps to.
	Custom []string
	spec   *Spec
	slots  [customSlots]string // free field name of each Record.Custom slot
}

// Resolve applies spec to header. allowedCustom lists the provider's free
// fields; a spec naming another one is refused, as is a spec naming a column
// the file does not have, or a file without a phone column.
func Resolve(spec *Spec, header []string, allowedCustom []string) (*Columns, error) {
	c := &Columns{Header: header, Field: make([]Field, len(header)), Custom: make([]string, len(header)), spec: spec}
	index := func(name string) (int, error) {
		for i, h := range header {
			if h == name {
				return i, nil
			}
		}
		for i, h := range header {
			if matchKey(h) == matchKey(name) {
				return i, nil
			}
		}
		return -1, fmt.Errorf("the mapping names column %q, which the file does not have (its columns: %s)", name, strings.Join(header, ", "))
	}
	for _, f := range Fields {
		fs := spec.Fields[f]
		if fs == nil || fs.Column == "" {
			continue
		}
		i, err := index(fs.Column)
		if err != nil {
			return nil, err
		}
		c.Field[i] = f
	}
	names := make([]string, 0, len(spec.Custom))
	for n := range spec.Custom {
		names = append(names, n)
	}
	sort.Strings(names)
	slot := 0
	for _, n := range names {
		fs := spec.Custom[n]
		if !slices.Contains(allowedCustom, n) {
			if len(allowedCustom) == 0 {
				return nil, fmt.Errorf("custom field %q: this provider has no custom fields", n)
			}
			return nil, fmt.Errorf("custom field %q: this provider's custom fields are %s", n, strings.Join(allowedCustom, ", "))
		}
		i, err := index(fs.Column)
		if err != nil {
			return nil, err
		}
		if c.Field[i] != "" {
			continue // a column feeds one field; the named field wins
		}
		c.Custom[i] = n
		c.slots[slot] = n
		slot++
	}
	if !slices.Contains(c.Field, FieldPhone) {
		return nil, fmt.Errorf("no phone column: none of the columns (%s) is named like a phone number; name one with a mapping file (--mapping, see `contactsync inspect --write-mapping`)", strings.Join(header, ", "))
	}
	if spec.Fields[FieldFullName] != nil && (spec.Fields[FieldFirstName] != nil || spec.Fields[FieldLastName] != nil) {
		// Separate columns are better than splitting a full name.
		for i, f := range c.Field {
			if f == FieldFullName {
				c.Field[i] = ""
			}
		}
	}
	return c, nil
}

// Spec returns the spec the columns were resolved from.
func (c *Columns) Spec() *Spec { return c.spec }

// tags names each column for gocsv: the field's csv tag, the custom slot's,
// or a name no field has.
func (c *Columns) tags() []string {
	tags := make([]string, len(c.Header))
	for i := range c.Header {
		switch {
		case c.Field[i] != "":
			tags[i] = string(c.Field[i])
		case c.Custom[i] != "":
			tags[i] = string(slotField(slices.Index(c.slots[:], c.Custom[i])))
		default:
			tags[i] = fmt.Sprintf("-ignored-%d", i)
		}
	}
	return tags
}

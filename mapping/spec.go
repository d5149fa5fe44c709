package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
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
	// Notes says what detection decided that a user may want to know
	// (a column not used, and why).
	Notes []string `yaml:"-"`
}

// FieldSpec says where a field is and how to read it. In YAML it is a
// column name, a list of them (phone and email: each row takes the best of
// them), or a mapping with column (or columns), format and values.
type FieldSpec struct {
	Column string `yaml:"column,omitempty"`
	// Columns lists the columns of a phone or e-mail, best first, when
	// there are several.
	Columns []string `yaml:"columns,omitempty"`
	// Format is a date layout for birthday: yyyy-mm-dd, dd/mm/yyyy,
	// mm/dd/yyyy, or excel (serial day numbers).
	Format string `yaml:"format,omitempty"`
	// Values rewrites cell values before they are read, e.g. for civility
	// {"M": "male", "Mme": "female"}.
	Values map[string]string `yaml:"values,omitempty"`
}

// UnmarshalYAML accepts "phone: Mobile" and "phone: [Mobile, Home]" as
// well as the long form.
func (f *FieldSpec) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		f.Column = n.Value
		return nil
	case yaml.SequenceNode:
		return n.Decode(&f.Columns)
	}
	type plain FieldSpec
	return n.Decode((*plain)(f))
}

// MarshalYAML writes the short forms when nothing but the columns is set.
func (f *FieldSpec) MarshalYAML() (any, error) {
	if f.Format == "" && len(f.Values) == 0 {
		if cols := f.all(); len(cols) > 1 {
			return cols, nil
		}
		return f.Column, nil
	}
	type plain FieldSpec
	return (*plain)(f), nil
}

// all lists the field's columns, best first; none for a nil spec.
func (f *FieldSpec) all() []string {
	if f == nil {
		return nil
	}
	var out []string
	for _, c := range append([]string{f.Column}, f.Columns...) {
		if c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// LoadSpec reads a YAML mapping file.
func LoadSpec(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("mapping file %s (--mapping) does not exist: check the path, or write one with contactsync inspect FILE --write-mapping %s", path, path)
	case err != nil && isDir(path):
		return nil, fmt.Errorf("mapping file %s (--mapping) is a directory: name the YAML file in it", path)
	case err != nil:
		return nil, fmt.Errorf("mapping file %s (--mapping) cannot be read: %w", path, err)
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
	if fs, ok := s.Fields[FieldPhone]; ok && len(fs.all()) == 0 {
		return nil, fmt.Errorf("mapping file %s: phone names no column: write the name of the file's phone column after \"phone:\"", path)
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
	// Phone and e-mail columns all say so; Phones and Emails order them.
	Field []Field
	// Custom holds, per column, the provider free field it maps to.
	Custom []string
	// Phones and Emails are the columns each row's phone and e-mail are
	// chosen from, best first.
	Phones []Source
	Emails []Source
	spec   *Spec
	slots  [customSlots]string // free field name of each Record.Custom slot
	labels map[int]int         // label column → the value column it describes
	// civilities are the civility columns, best first.
	civilities []int
}

// Source is one column a row's phone or e-mail may come from.
type Source struct {
	Column int
	Name   string
	// Kind is what the column's name says of its numbers (phones).
	Kind PhoneKind
	// Label is the column holding each row's type or label of this one
	// ("Phone 1 - Label"), or -1.
	Label int
}

// Resolve applies spec to header. allowedCustom lists the provider's free
// fields; a spec naming another one is refused, as is a spec naming a column
// the file does not have, or a file without a phone column.
func Resolve(spec *Spec, header []string, allowedCustom []string) (*Columns, error) {
	c := &Columns{Header: header, Field: make([]Field, len(header)), Custom: make([]string, len(header)), spec: spec,
		labels: map[int]int{}}
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
		for _, name := range spec.Fields[f].all() {
			i, err := index(name)
			if err != nil {
				return nil, err
			}
			if c.Field[i] != "" {
				continue // a column feeds one field
			}
			c.Field[i] = f
			switch {
			case f == FieldPhone && len(c.Phones) < phoneSlots:
				c.Phones = append(c.Phones, c.source(i, len(c.Phones) < labelSlots))
			case f == FieldEmail && len(c.Emails) < emailSlots:
				c.Emails = append(c.Emails, c.source(i, true))
			case f == FieldCivility && len(c.civilities) < civilitySlots:
				c.civilities = append(c.civilities, i)
			case f == FieldPhone || f == FieldEmail || f == FieldCivility:
				c.Field[i] = "" // more columns than a row is read from: the worst go
			}
			if f != FieldPhone && f != FieldEmail && f != FieldCivility {
				break // one column per other field
			}
		}
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
	if len(c.Phones) == 0 {
		return nil, &NoPhoneColumnError{Header: header}
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

// source describes value column i: the kind its name says, and the label
// column beside it, found by name ("Phone 1 - Type" for "Phone 1 - Value")
// when the record has a slot for it.
func (c *Columns) source(i int, labelled bool) Source {
	s := Source{Column: i, Name: c.Header[i], Label: -1}
	m, ok := classify(c.Header[i])
	if !ok || !labelled {
		s.Kind = m.kind
		return s
	}
	s.Kind = m.kind
	for j, h := range c.Header {
		if j == i || c.Field[j] != "" {
			continue
		}
		if lm, ok := classify(h); ok && lm.label && lm.field == m.field && lm.key == m.key {
			if _, taken := c.labels[j]; !taken {
				s.Label = j
				c.labels[j] = i
				break
			}
		}
	}
	return s
}

// Spec returns the spec the columns were resolved from.
func (c *Columns) Spec() *Spec { return c.spec }

// Describe says what column i becomes, for inspect.
func (c *Columns) Describe(i int) string {
	for _, s := range c.Phones {
		if s.Column == i {
			if s.Kind == KindUnknown {
				return "phone"
			}
			return "phone (" + s.Kind.String() + ")"
		}
	}
	if v, ok := c.labels[i]; ok {
		return fmt.Sprintf("label of %q", c.Header[v])
	}
	switch {
	case c.Field[i] != "":
		return string(c.Field[i])
	case c.Custom[i] != "":
		return c.Custom[i]
	}
	return ""
}

// tags names each column for gocsv: the field's csv tag, its slot's, or a
// name no field has.
func (c *Columns) tags() []string {
	tags := make([]string, len(c.Header))
	for i := range c.Header {
		tags[i] = fmt.Sprintf("-ignored-%d", i)
		switch {
		case c.Field[i] != "" && c.Field[i] != FieldPhone && c.Field[i] != FieldEmail && c.Field[i] != FieldCivility:
			tags[i] = string(c.Field[i])
		case c.Custom[i] != "":
			tags[i] = slotTag(tagCustom, slices.Index(c.slots[:], c.Custom[i]))
		}
	}
	for k, s := range c.Phones {
		tags[s.Column] = slotTag(tagPhone, k)
		if s.Label >= 0 {
			tags[s.Label] = slotTag(tagPhoneLabel, k)
		}
	}
	for k, col := range c.civilities {
		tags[col] = slotTag(tagCivility, k)
	}
	for k, s := range c.Emails {
		tags[s.Column] = slotTag(tagEmail, k)
		if s.Label >= 0 {
			tags[s.Label] = slotTag(tagEmailLabel, k)
		}
	}
	return tags
}

func isDir(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.IsDir()
}

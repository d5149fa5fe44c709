package mapping

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// dateFormat is how a date column is written. The zero layout reads ISO
// dates, Jalali dates (yyyy/mm/dd with a year below 1500), Excel serial
// numbers, and dates with the day and month in the order the column shows
// (monthFirst): a value such as 7/23/1980 in the sniffing window makes the
// whole column month-first, 23/07/1980 day-first; with no such value the
// region's habit decides (guessed), and each value that reads both ways is
// counted as ambiguous.
type dateFormat struct {
	layout     string // "", "yyyy-mm-dd", "dd/mm/yyyy", "mm/dd/yyyy", "excel"
	monthFirst bool
	guessed    bool   // no value of the window showed the order
	evidence   string // the value that showed it
}

// monthFirstRegions write dates month first: the United States and the
// countries that follow its habit.
var monthFirstRegions = map[string]bool{"US": true, "AS": true, "GU": true, "MP": true, "PR": true, "UM": true,
	"VI": true, "PH": true, "FM": true, "MH": true, "PW": true, "BZ": true}

// decideDateOrder reads the order of a date column from its first values.
func decideDateOrder(values []string, region string) dateFormat {
	var dayFirst, monthFirst int
	var dayEvidence, monthEvidence string
	for _, v := range values {
		n, parts, ok := dateParts(asciiDigits(strings.TrimSpace(v)))
		if !ok || len(parts[0]) == 4 {
			continue
		}
		switch {
		case n[0] > 12 && n[0] <= 31 && n[1] >= 1 && n[1] <= 12:
			if dayFirst == 0 {
				dayEvidence = v
			}
			dayFirst++
		case n[1] > 12 && n[1] <= 31 && n[0] >= 1 && n[0] <= 12:
			if monthFirst == 0 {
				monthEvidence = v
			}
			monthFirst++
		}
	}
	switch {
	case monthFirst > dayFirst:
		return dateFormat{monthFirst: true, evidence: strings.TrimSpace(monthEvidence)}
	case dayFirst > 0:
		return dateFormat{evidence: strings.TrimSpace(dayEvidence)}
	}
	return dateFormat{monthFirst: monthFirstRegions[strings.ToUpper(region)], guessed: true}
}

// describe says how the column's dates are read, and why.
func (f dateFormat) describe() string {
	order := "day first"
	if f.monthFirst || f.layout == "mm/dd/yyyy" {
		order = "month first"
	}
	switch {
	case f.layout != "":
		return order + ", as the mapping says"
	case f.guessed:
		return order + ", the region's habit: no date of the first rows shows the order"
	}
	return fmt.Sprintf("%s, as %q shows", order, f.evidence)
}

func parseDateFormat(s string) (dateFormat, error) {
	switch l := strings.ToLower(strings.TrimSpace(s)); l {
	case "", "yyyy-mm-dd", "dd/mm/yyyy", "mm/dd/yyyy", "excel":
		return dateFormat{layout: l}, nil
	}
	return dateFormat{}, fmt.Errorf("unknown date format %q: use yyyy-mm-dd, dd/mm/yyyy, mm/dd/yyyy or excel", s)
}

func (f dateFormat) String() string {
	switch {
	case f.layout != "":
		return f.layout + " form"
	case f.monthFirst:
		return "yyyy-mm-dd, mm/dd/yyyy or Excel form (the column is read month first)"
	}
	return "yyyy-mm-dd, dd/mm/yyyy or Excel form (the column is read day first)"
}

// dateParts cuts a date into its three numbers, dropping a time of day
// ("1980-05-23 00:00:00", "1980-05-23T00:00:00Z").
func dateParts(s string) (n [3]int, parts []string, ok bool) {
	if i := strings.IndexAny(s, " T"); i > 0 {
		s = s[:i]
	}
	parts = strings.FieldsFunc(s, func(r rune) bool { return r == '/' || r == '-' || r == '.' })
	if len(parts) != 3 {
		return n, nil, false
	}
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return n, nil, false
		}
		n[i] = v
	}
	return n, parts, true
}

// parse reads a date and returns it as yyyy-mm-dd; ambiguous says the
// order was guessed and the value reads both ways.
func (f dateFormat) parse(s string) (date string, ambiguous, ok bool) {
	s = asciiDigits(strings.TrimSpace(s))
	if f.layout == "excel" || f.layout == "" {
		if d, ok := excelSerial(s); ok {
			return d, false, true
		}
		if f.layout == "excel" {
			return "", false, false
		}
	}
	n, parts, ok := dateParts(s)
	if !ok {
		return "", false, false
	}
	var y, m, d int
	switch {
	case len(parts[0]) == 4: // year first: ISO, or Jalali
		if f.layout == "dd/mm/yyyy" || f.layout == "mm/dd/yyyy" {
			return "", false, false
		}
		y, m, d = n[0], n[1], n[2]
		if y >= 1300 && y < 1500 {
			y, m, d = jalaliToGregorian(y, m, d, n[1] >= 1 && n[1] <= 12 && n[2] >= 1 && n[2] <= 31)
		}
	case f.layout == "yyyy-mm-dd":
		return "", false, false
	case f.layout == "mm/dd/yyyy" || f.layout == "" && f.monthFirst:
		m, d, y = n[0], n[1], fullYear(parts[2], n[2])
	default:
		d, m, y = n[0], n[1], fullYear(parts[2], n[2])
	}
	date, ok = isoDate(y, m, d)
	ambiguous = ok && f.layout == "" && f.guessed && len(parts[0]) != 4 && n[0] != n[1] && n[0] <= 12 && n[1] <= 12
	return date, ambiguous, ok
}

// fullYear reads a two-digit year as the most recent such year that is not
// in the future: a birthday is in the past.
func fullYear(text string, y int) int {
	if len(text) != 2 {
		return y
	}
	now := time.Now().Year()
	y += now / 100 * 100
	if y > now {
		y -= 100
	}
	return y
}

func isoDate(y, m, d int) (string, bool) {
	if y < 1900 || y > 2100 || m < 1 || m > 12 || d < 1 || d > 31 {
		return "", false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d { // 31/02
		return "", false
	}
	return t.Format("2006-01-02"), true
}

// excelSerial reads an Excel date serial number (1900 date system): day 1
// is 1900-01-01 and day 60 the 1900-02-29 that Lotus 1-2-3 invented.
func excelSerial(s string) (string, bool) {
	s = strings.TrimSuffix(s, ".0")
	if !allDigits(s) || len(s) == 0 || len(s) > 6 {
		return "", false
	}
	n, _ := strconv.Atoi(s)
	if n < 1 || n == 60 || n > 73050 { // 73050 is 2099-12-31
		return "", false
	}
	base := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	if n < 60 {
		base = base.AddDate(0, 0, 1)
	}
	return base.AddDate(0, 0, n).Format("2006-01-02"), true
}

// jalaliToGregorian converts a date of the Persian (Solar Hijri) calendar.
// valid is false for impossible month or day numbers, which are then
// returned unchanged for isoDate to refuse.
func jalaliToGregorian(jy, jm, jd int, valid bool) (int, int, int) {
	if !valid || jm > 6 && jd > 30 {
		return jy, 0, 0
	}
	jy += 1595
	days := -355668 + 365*jy + (jy/33)*8 + ((jy%33)+3)/4 + jd
	if jm < 7 {
		days += (jm - 1) * 31
	} else {
		days += (jm-7)*30 + 186
	}
	gy := 400 * (days / 146097)
	days %= 146097
	if days > 36524 {
		days--
		gy += 100 * (days / 36524)
		days %= 36524
		if days >= 365 {
			days++
		}
	}
	gy += 4 * (days / 1461)
	days %= 1461
	if days > 365 {
		gy += (days - 1) / 365
		days = (days - 1) % 365
	}
	gd := days + 1
	monthDays := []int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
	if gy%4 == 0 && gy%100 != 0 || gy%400 == 0 {
		monthDays[2] = 29
	}
	gm := 1
	for gm <= 12 && gd > monthDays[gm] {
		gd -= monthDays[gm]
		gm++
	}
	return gy, gm, gd
}

// asciiDigits rewrites Persian, Arabic-Indic and full-width digits as ASCII.
func asciiDigits(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r > 0x7f }) {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '۰' && r <= '۹':
			return '0' + r - '۰'
		case r >= '٠' && r <= '٩':
			return '0' + r - '٠'
		case r >= '０' && r <= '９':
			return '0' + r - '０'
		}
		return r
	}, s)
}

package businessday

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"
)

// Date is a civil date, a day on the calendar with no time and no zone.
// Its zero value is not a valid date.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the date t falls on in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// ParseDate reads an ISO date such as "2026-12-25": four-digit year,
// two-digit month and day, and a day that exists in that month.
func ParseDate(s string) (Date, error) {
	d, err := parseDate(s)
	if err != nil {
		return Date{}, fmt.Errorf("businessday: %w", err)
	}
	return d, nil
}

// parseDate is ParseDate without the package prefix on its error.
func parseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q: want YYYY-MM-DD: %w", s, err)
	}
	return DateOf(t), nil
}

// String returns the date in ISO form, "2026-12-25".
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// AddDays returns the date n days after d (before it for negative n).
// Out-of-range fields in d are normalized the way time.Date does.
func (d Date) AddDays(n int) Date {
	return DateOf(d.noonUTC().AddDate(0, 0, n))
}

// Weekday returns the day of the week d falls on.
func (d Date) Weekday() time.Weekday {
	return d.noonUTC().Weekday()
}

// Compare returns -1 when d is before e, +1 when after and 0 when equal.
func (d Date) Compare(e Date) int {
	return d.noonUTC().Compare(e.noonUTC())
}

// noonUTC anchors d at noon UTC, where day arithmetic meets no clock change.
func (d Date) noonUTC() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC)
}

// ParseHolidays reads a holiday file: one ISO date a line, blanks around it
// allowed, optionally followed by a comment after " #" ("2026-12-25 # Christmas
// Day"). Blank lines and lines starting with # are ignored. An error names the
// line number of the first bad line.
func ParseHolidays(r io.Reader) ([]Date, error) {
	var days []Date
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if date, _, ok := strings.Cut(text, "#"); ok {
			if !strings.HasSuffix(date, " ") && !strings.HasSuffix(date, "\t") {
				return nil, fmt.Errorf("businessday: holidays line %d: want a blank before #", line)
			}
			text = strings.TrimSpace(date)
		}
		d, err := parseDate(text)
		if err != nil {
			return nil, fmt.Errorf("businessday: holidays line %d: %w", line, err)
		}
		days = append(days, d)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("businessday: holidays line %d: %w", line+1, err)
	}
	return days, nil
}

// Package businessday counts business days in one time zone and gives
// recovery tickets their due dates.
//
// A business day is a Monday to Friday that is not a holiday. A ticket filed
// on a business day before 17:00 local time starts that day, otherwise on the
// next business day; it is due at the end of the third business day after its
// start day.
//
// The package never loads time zones itself; the caller passes a
// *time.Location (the command that reads -tz is the place to import
// time/tzdata, so a host without zoneinfo files still finds the zone).
package businessday

import "time"

// CutoffHour is the local hour from which a ticket filed on a business day
// starts on the next business day instead; 17 means "before 17:00" counts.
const CutoffHour = 17

// DueAfter is the number of business days after its start day that a ticket
// has until it is due.
const DueAfter = 3

// Calendar knows which days are business days in one time zone. It is
// immutable and safe for concurrent use.
type Calendar struct {
	loc      *time.Location
	holidays map[Date]struct{}
}

// New returns a Calendar for loc with the given holidays. A nil loc means
// UTC. The holiday list is copied; duplicates and weekend dates are harmless.
func New(loc *time.Location, holidays []Date) *Calendar {
	if loc == nil {
		loc = time.UTC
	}
	set := make(map[Date]struct{}, len(holidays))
	for _, d := range holidays {
		set[d.AddDays(0)] = struct{}{}
	}
	return &Calendar{loc: loc, holidays: set}
}

// Location returns the calendar's time zone.
func (c *Calendar) Location() *time.Location {
	return c.loc
}

// DateOf returns the date t falls on in the calendar's zone.
func (c *Calendar) DateOf(t time.Time) Date {
	return DateOf(t.In(c.loc))
}

// IsBusinessDay reports whether d is a Monday to Friday that is not a holiday.
func (c *Calendar) IsBusinessDay(d Date) bool {
	switch d.Weekday() {
	case time.Saturday, time.Sunday:
		return false
	}
	_, holiday := c.holidays[d.AddDays(0)]
	return !holiday
}

// NextBusinessDay returns the first business day after d.
func (c *Calendar) NextBusinessDay(d Date) Date {
	// The holidays are finite, so the loop ends.
	for d = d.AddDays(1); !c.IsBusinessDay(d); d = d.AddDays(1) {
	}
	return d
}

// AddBusinessDays returns the n-th business day after d, d itself for n <= 0.
func (c *Calendar) AddBusinessDays(d Date, n int) Date {
	for range n {
		d = c.NextBusinessDay(d)
	}
	return d
}

// StartDay returns the business day a ticket filed at filed starts on: the
// filing day when it is a business day and the local time is before 17:00,
// else the next business day.
func (c *Calendar) StartDay(filed time.Time) Date {
	local := filed.In(c.loc)
	d := DateOf(local)
	if c.IsBusinessDay(d) && local.Hour() < CutoffHour {
		return d
	}
	return c.NextBusinessDay(d)
}

// DueDate returns the business day by whose end a ticket filed at filed is
// due, for display: the third business day after its start day.
func (c *Calendar) DueDate(filed time.Time) Date {
	return c.AddBusinessDays(c.StartDay(filed), DueAfter)
}

// Due returns the instant a ticket filed at filed is due: the end of its
// DueDate, which is the instant the following day begins in the calendar's
// zone.
func (c *Calendar) Due(filed time.Time) time.Time {
	return c.StartOf(c.DueDate(filed).AddDays(1))
}

// StartOf returns the first instant of day d in the calendar's zone. That is
// local midnight, except where a clock change skips or repeats midnight: then
// it is the instant the clocks jump into d, or the first of the two midnights.
func (c *Calendar) StartOf(d Date) time.Time {
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, c.loc)
	if c.DateOf(t).Compare(d) < 0 {
		// Midnight was skipped and time.Date answered with the clock before
		// the jump: the day begins when the clocks jump.
		if _, jump := t.ZoneBounds(); !jump.IsZero() {
			t = jump
		}
	}
	zoneStart, _ := t.ZoneBounds()
	if zoneStart.IsZero() {
		return t
	}
	before := zoneStart.Add(-time.Nanosecond)
	if c.DateOf(before) != d {
		return t
	}
	// The clocks went back after d had begun: d began at midnight under the
	// offset in force before the change.
	_, offset := before.Zone()
	first := time.Unix(d.noonUTC().Unix()-12*3600-int64(offset), 0).In(c.loc)
	if c.DateOf(first) != d || c.DateOf(first.Add(-time.Nanosecond)) == d {
		return t
	}
	return first
}

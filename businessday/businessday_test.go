package businessday

import (
	"testing"
	"time"

	// The tests load named zones. Embedding Go's copy of the tz database makes
	// them pass on hosts without /usr/share/zoneinfo (LoadLocation still
	// prefers the host's files where they exist). Only the tests need it: the
	// package itself never loads a zone, so its importers decide.
	_ "time/tzdata"
)

func loadLocation(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("LoadLocation(%q): %v", name, err)
	}
	return loc
}

func date(t *testing.T, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func dates(t *testing.T, list ...string) []Date {
	t.Helper()
	out := make([]Date, 0, len(list))
	for _, s := range list {
		out = append(out, date(t, s))
	}
	return out
}

// berlin returns a calendar for Germany in 2026 with the holidays that fall
// on weekdays around the cases: Good Friday, Easter Monday, Christmas Day and
// New Year's Day, plus Boxing Day, which is a Saturday.
func berlin(t *testing.T) *Calendar {
	t.Helper()
	holidays := dates(t, "2026-04-03", "2026-04-06", "2026-12-25", "2026-12-26", "2027-01-01")
	return New(loadLocation(t, "Europe/Berlin"), holidays)
}

func TestIsBusinessDay(t *testing.T) {
	c := berlin(t)
	tests := []struct {
		giveDate string
		want     bool
	}{
		{"2026-03-23", true},  // Monday
		{"2026-03-27", true},  // Friday
		{"2026-03-28", false}, // Saturday
		{"2026-03-29", false}, // Sunday
		{"2026-04-03", false}, // Good Friday
		{"2026-04-06", false}, // Easter Monday
		{"2026-04-07", true},  // Tuesday after Easter
		{"2026-12-26", false}, // holiday on a Saturday
		{"2027-01-01", false}, // New Year's Day
		{"2027-01-04", true},  // first Monday of 2027
	}
	for _, tt := range tests {
		if got := c.IsBusinessDay(date(t, tt.giveDate)); got != tt.want {
			t.Errorf("IsBusinessDay(%s) = %v, want %v", tt.giveDate, got, tt.want)
		}
	}
}

func TestDue(t *testing.T) {
	c := berlin(t)
	local := func(s string) time.Time {
		ts, err := time.ParseInLocation(time.DateTime, s, c.Location())
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	utc := func(s string) time.Time {
		ts, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	tests := []struct {
		name      string
		giveFiled time.Time
		wantStart string
		wantDate  string
		wantDueAt string // RFC 3339, Berlin offset
	}{
		{
			name: "Monday morning is due Thursday", giveFiled: local("2026-03-23 10:00:00"),
			wantStart: "2026-03-23", wantDate: "2026-03-26", wantDueAt: "2026-03-27T00:00:00+01:00",
		},
		{
			name:      "Friday evening is due the next Thursday",
			giveFiled: local("2026-03-20 17:30:00"),
			wantStart: "2026-03-23", wantDate: "2026-03-26", wantDueAt: "2026-03-27T00:00:00+01:00",
		},
		{
			name: "Saturday starts Monday", giveFiled: local("2026-03-21 09:00:00"),
			wantStart: "2026-03-23", wantDate: "2026-03-26", wantDueAt: "2026-03-27T00:00:00+01:00",
		},
		{
			name: "Sunday night starts Monday", giveFiled: local("2026-03-22 23:59:59"),
			wantStart: "2026-03-23", wantDate: "2026-03-26", wantDueAt: "2026-03-27T00:00:00+01:00",
		},
		{
			name: "just before 17:00 starts that day", giveFiled: utc("2026-03-23T15:59:59.999Z"),
			wantStart: "2026-03-23", wantDate: "2026-03-26", wantDueAt: "2026-03-27T00:00:00+01:00",
		},
		{
			name: "exactly 17:00 starts the next day", giveFiled: local("2026-03-23 17:00:00"),
			wantStart: "2026-03-24", wantDate: "2026-03-27", wantDueAt: "2026-03-28T00:00:00+01:00",
		},
		{
			name: "Friday morning is due mid-week", giveFiled: local("2026-03-20 08:00:00"),
			wantStart: "2026-03-20", wantDate: "2026-03-25", wantDueAt: "2026-03-26T00:00:00+01:00",
		},
		{
			name:      "due day after the spring change ends in summer time",
			giveFiled: local("2026-03-25 12:00:00"),
			wantStart: "2026-03-25", wantDate: "2026-03-30", wantDueAt: "2026-03-31T00:00:00+02:00",
		},
		{
			name:      "on the day clocks go forward",
			giveFiled: local("2026-03-29 02:30:00"), // does not exist; read as 03:30 CEST
			wantStart: "2026-03-30", wantDate: "2026-04-02", wantDueAt: "2026-04-03T00:00:00+02:00",
		},
		{
			name: "17:30 summer time is after the cutoff", giveFiled: utc("2026-03-30T15:30:00Z"),
			wantStart: "2026-03-31", wantDate: "2026-04-07", wantDueAt: "2026-04-08T00:00:00+02:00",
		},
		{
			name: "16:30 winter time is before the cutoff", giveFiled: utc("2026-10-26T15:30:00Z"),
			wantStart: "2026-10-26", wantDate: "2026-10-29", wantDueAt: "2026-10-30T00:00:00+01:00",
		},
		{
			name:      "due day after the autumn change ends in winter time",
			giveFiled: local("2026-10-23 10:00:00"),
			wantStart: "2026-10-23", wantDate: "2026-10-28", wantDueAt: "2026-10-29T00:00:00+01:00",
		},
		{
			name: "holiday as the filing day", giveFiled: local("2026-04-03 10:00:00"),
			wantStart: "2026-04-07", wantDate: "2026-04-10", wantDueAt: "2026-04-11T00:00:00+02:00",
		},
		{
			name: "holidays are not counted", giveFiled: local("2026-04-02 10:00:00"),
			wantStart: "2026-04-02", wantDate: "2026-04-09", wantDueAt: "2026-04-10T00:00:00+02:00",
		},
		{
			name: "Christmas Eve evening", giveFiled: local("2026-12-24 18:00:00"),
			wantStart: "2026-12-28", wantDate: "2026-12-31", wantDueAt: "2027-01-01T00:00:00+01:00",
		},
		{
			name: "year end morning", giveFiled: local("2026-12-31 10:00:00"),
			wantStart: "2026-12-31", wantDate: "2027-01-06", wantDueAt: "2027-01-07T00:00:00+01:00",
		},
		{
			name: "year end evening", giveFiled: local("2026-12-31 17:30:00"),
			wantStart: "2027-01-04", wantDate: "2027-01-07", wantDueAt: "2027-01-08T00:00:00+01:00",
		},
		{
			name: "New Year's Day", giveFiled: local("2027-01-01 09:00:00"),
			wantStart: "2027-01-04", wantDate: "2027-01-07", wantDueAt: "2027-01-08T00:00:00+01:00",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.StartDay(tt.giveFiled).String(); got != tt.wantStart {
				t.Errorf("StartDay(%v) = %s, want %s", tt.giveFiled, got, tt.wantStart)
			}
			if got := c.DueDate(tt.giveFiled).String(); got != tt.wantDate {
				t.Errorf("DueDate(%v) = %s, want %s", tt.giveFiled, got, tt.wantDate)
			}
			want := utc(tt.wantDueAt)
			if got := c.Due(tt.giveFiled); !got.Equal(want) {
				t.Errorf("Due(%v) = %v, want %v", tt.giveFiled, got, want)
			}
		})
	}
}

func TestDueUsesCalendarZone(t *testing.T) {
	filed := time.Date(2026, 3, 23, 14, 0, 0, 0, time.UTC) // Monday 23:00 in Tokyo
	tests := []struct {
		name     string
		giveLoc  *time.Location
		wantDate string
		wantDue  time.Time
	}{
		{
			name: "Tokyo: after the cutoff", giveLoc: loadLocation(t, "Asia/Tokyo"),
			wantDate: "2026-03-27", wantDue: time.Date(2026, 3, 27, 15, 0, 0, 0, time.UTC),
		},
		{
			name: "nil is UTC: before the cutoff", giveLoc: nil,
			wantDate: "2026-03-26", wantDue: time.Date(2026, 3, 27, 0, 0, 0, 0, time.UTC),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(tt.giveLoc, nil)
			if got := c.DueDate(filed).String(); got != tt.wantDate {
				t.Errorf("DueDate = %s, want %s", got, tt.wantDate)
			}
			if got := c.Due(filed); !got.Equal(tt.wantDue) {
				t.Errorf("Due = %v, want %v", got, tt.wantDue)
			}
		})
	}
}

func TestNewCopiesHolidays(t *testing.T) {
	holidays := dates(t, "2026-03-24")
	c := New(time.UTC, holidays)
	holidays[0] = date(t, "2026-03-25")
	if c.IsBusinessDay(date(t, "2026-03-24")) || !c.IsBusinessDay(date(t, "2026-03-25")) {
		t.Error("the calendar follows a change to the caller's slice")
	}
}

func TestNewNormalizesHolidays(t *testing.T) {
	// March 32nd is April 1st, as time.Date would read it.
	c := New(time.UTC, []Date{{Year: 2026, Month: time.March, Day: 32}})
	if c.IsBusinessDay(date(t, "2026-04-01")) {
		t.Error("2026-04-01 given as March 32nd is still a business day")
	}
}

func TestAddBusinessDays(t *testing.T) {
	c := berlin(t)
	tests := []struct {
		giveDate string
		giveN    int
		want     string
	}{
		{"2026-03-23", 0, "2026-03-23"},
		{"2026-03-28", 0, "2026-03-28"},
		{"2026-03-23", -2, "2026-03-23"},
		{"2026-03-27", 1, "2026-03-30"},
		{"2026-03-28", 1, "2026-03-30"},
		{"2026-04-02", 1, "2026-04-07"},
		{"2026-12-23", 5, "2026-12-31"},
		{"2026-12-23", 6, "2027-01-04"},
		{"2026-03-23", 10, "2026-04-08"},
	}
	for _, tt := range tests {
		got := c.AddBusinessDays(date(t, tt.giveDate), tt.giveN).String()
		if got != tt.want {
			t.Errorf("AddBusinessDays(%s, %d) = %s, want %s", tt.giveDate, tt.giveN, got, tt.want)
		}
	}
}

func TestStartOf(t *testing.T) {
	tests := []struct {
		name     string
		giveZone string
		giveDate string
		want     string // RFC 3339 in UTC
	}{
		{name: "plain midnight", giveZone: "Europe/Berlin", giveDate: "2026-03-30",
			want: "2026-03-29T22:00:00Z"},
		{name: "day of the spring change", giveZone: "Europe/Berlin", giveDate: "2026-03-29",
			want: "2026-03-28T23:00:00Z"},
		{name: "day after the autumn change", giveZone: "Europe/Berlin", giveDate: "2026-10-26",
			want: "2026-10-25T23:00:00Z"},
		// Jordan, 2021: Thursday 24:00 jumped to Friday 01:00 in March, and
		// Friday 01:00 went back to 00:00 in October, so Friday's midnight
		// was skipped in one and repeated in the other.
		{name: "skipped midnight", giveZone: "Asia/Amman", giveDate: "2021-03-26",
			want: "2021-03-25T22:00:00Z"},
		{name: "repeated midnight: the first", giveZone: "Asia/Amman", giveDate: "2021-10-29",
			want: "2021-10-28T21:00:00Z"},
		// Cuba, 2024: time.Date answers 23:00 the day before for the skipped
		// midnight, and the first of the two for the repeated one.
		{name: "skipped midnight, earlier answer", giveZone: "America/Havana",
			giveDate: "2024-03-10", want: "2024-03-10T05:00:00Z"},
		{name: "repeated midnight, first answer", giveZone: "America/Havana",
			giveDate: "2024-11-03", want: "2024-11-03T04:00:00Z"},
		// Lebanon, 2024: Sunday 00:00 went back to Saturday 23:00, so Sunday
		// began only at the second midnight.
		{name: "midnight going back a day", giveZone: "Asia/Beirut", giveDate: "2024-10-27",
			want: "2024-10-26T22:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(loadLocation(t, tt.giveZone), nil)
			got := c.StartOf(date(t, tt.giveDate))
			if got.UTC().Format(time.RFC3339) != tt.want {
				t.Errorf("StartOf(%s) = %v (%v), want %s", tt.giveDate, got, got.UTC(), tt.want)
			}
			if got.Location() != c.Location() {
				t.Errorf("StartOf gave a time in %v, want %v", got.Location(), c.Location())
			}
		})
	}
}

// TestStartOfEveryDay checks over decades of real clock changes, including
// zones that change at midnight, that StartOf(d) falls on d and the instant
// before it does not.
func TestStartOfEveryDay(t *testing.T) {
	zones := []string{
		"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Amman",
		"Asia/Beirut", "America/Havana", "America/Santiago", "Africa/Cairo", "Asia/Tehran",
		"America/Sao_Paulo", "Asia/Gaza", "Africa/Casablanca",
	}
	for _, zone := range zones {
		c := New(loadLocation(t, zone), nil)
		for d := (Date{2000, time.January, 1}); d.Year < 2031; d = d.AddDays(1) {
			start := c.StartOf(d)
			if c.DateOf(start) != d || c.DateOf(start.Add(-time.Nanosecond)) == d {
				t.Errorf("%s: StartOf(%s) = %v is not where the day begins", zone, d, start)
			}
		}
	}
}

// TestDueInvariants files a ticket every 37 minutes over two years and
// checks the rules directly: the due day is the third business day after a
// business start day, and Due is the first instant after that day.
func TestDueInvariants(t *testing.T) {
	c := berlin(t)
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, c.Location())
	for filed := from; filed.Year() < 2028; filed = filed.Add(37 * time.Minute) {
		start, dueDate, due := c.StartDay(filed), c.DueDate(filed), c.Due(filed)
		if !c.IsBusinessDay(start) || start.Compare(c.DateOf(filed)) < 0 {
			t.Fatalf("filed %v: start day %s", filed, start)
		}
		if c.DateOf(filed) == start && filed.In(c.Location()).Hour() >= CutoffHour {
			t.Fatalf("filed %v after the cutoff but starts the same day", filed)
		}
		counted := 0
		for d := start.AddDays(1); d.Compare(dueDate) <= 0; d = d.AddDays(1) {
			if c.IsBusinessDay(d) {
				counted++
			}
		}
		if counted != DueAfter || !c.IsBusinessDay(dueDate) {
			t.Fatalf("filed %v: due %s is %d business days after %s",
				filed, dueDate, counted, start)
		}
		if c.DateOf(due) != dueDate.AddDays(1) || c.DateOf(due.Add(-time.Nanosecond)) != dueDate {
			t.Fatalf("filed %v: Due = %v is not the end of %s", filed, due, dueDate)
		}
	}
}

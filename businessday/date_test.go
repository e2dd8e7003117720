package businessday

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		give    string
		want    Date
		wantErr bool
	}{
		{give: "2026-12-25", want: Date{2026, time.December, 25}},
		{give: "2028-02-29", want: Date{2028, time.February, 29}},
		{give: "0999-01-01", want: Date{999, time.January, 1}},
		{give: "2026-02-29", wantErr: true},
		{give: "2026-04-31", wantErr: true},
		{give: "2026-13-01", wantErr: true},
		{give: "2026-1-5", wantErr: true},
		{give: "26-01-05", wantErr: true},
		{give: "2026/01/05", wantErr: true},
		{give: "2026-01-05x", wantErr: true},
		{give: "2026-01-05T00:00:00Z", wantErr: true},
		{give: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseDate(tt.give)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseDate(%q) error = %v, want error %v", tt.give, err, tt.wantErr)
			continue
		}
		if err != nil && !strings.Contains(err.Error(), `"`+tt.give+`"`) {
			t.Errorf("ParseDate(%q) error %q does not quote the input", tt.give, err)
		}
		if got != tt.want {
			t.Errorf("ParseDate(%q) = %v, want %v", tt.give, got, tt.want)
		}
	}
}

func TestDateArithmetic(t *testing.T) {
	tests := []struct {
		giveDate    Date
		giveDays    int
		wantDate    string
		wantWeekday time.Weekday
	}{
		{Date{2026, time.December, 31}, 1, "2027-01-01", time.Friday},
		{Date{2027, time.January, 1}, -1, "2026-12-31", time.Thursday},
		{Date{2028, time.February, 28}, 1, "2028-02-29", time.Tuesday},
		{Date{2026, time.March, 28}, 2, "2026-03-30", time.Monday},
		{Date{2026, time.October, 24}, 2, "2026-10-26", time.Monday},
		{Date{2026, time.March, 1}, 365, "2027-03-01", time.Monday},
		{Date{2026, time.March, 32}, 0, "2026-04-01", time.Wednesday},
	}
	for _, tt := range tests {
		got := tt.giveDate.AddDays(tt.giveDays)
		if got.String() != tt.wantDate || got.Weekday() != tt.wantWeekday {
			t.Errorf("%v.AddDays(%d) = %s, %v; want %s, %v",
				tt.giveDate, tt.giveDays, got, got.Weekday(), tt.wantDate, tt.wantWeekday)
		}
	}
}

func TestDateCompare(t *testing.T) {
	a, b := Date{2026, time.December, 31}, Date{2027, time.January, 1}
	if a.Compare(b) != -1 || b.Compare(a) != 1 || a.Compare(a) != 0 {
		t.Errorf("Compare: %d %d %d, want -1 1 0", a.Compare(b), b.Compare(a), a.Compare(a))
	}
}

func TestDateOf(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	ts := time.Date(2026, 12, 31, 20, 0, 0, 0, time.UTC)
	if got := DateOf(ts).String(); got != "2026-12-31" {
		t.Errorf("DateOf in UTC = %s", got)
	}
	if got := DateOf(ts.In(tokyo)).String(); got != "2027-01-01" {
		t.Errorf("DateOf in Tokyo = %s", got)
	}
	if got := New(tokyo, nil).DateOf(ts).String(); got != "2027-01-01" {
		t.Errorf("Calendar.DateOf = %s, want the calendar's zone", got)
	}
}

func TestParseHolidays(t *testing.T) {
	tests := []struct {
		name  string
		give  string
		want  []string
		wantN int // the line an error names; 0 for none
	}{
		{name: "empty", give: ""},
		{name: "only comments", give: "# Germany\n\n   \n#2026-01-01\n"},
		{
			name: "dates, comments and blanks",
			give: "# 2026\n2026-12-25\n\n  2026-12-26  \r\n2027-01-01 # New Year\n2027-01-01",
			want: []string{"2026-12-25", "2026-12-26", "2027-01-01", "2027-01-01"},
		},
		{name: "no final newline", give: "2026-12-25", want: []string{"2026-12-25"}},
		{
			name: "CRLF", give: "2026-12-25\r\n2026-12-26\r\n",
			want: []string{"2026-12-25", "2026-12-26"},
		},
		{name: "bad date", give: "2026-12-25\n\n2026-12-32\n", wantN: 3},
		{name: "US order", give: "# ok\n12/25/2026\n", wantN: 2},
		{name: "two dates on a line", give: "2026-12-25 2026-12-26\n", wantN: 1},
		{name: "comment glued to the date", give: "2026-12-25#Christmas\n", wantN: 1},
		{name: "comment with no date", give: "2026-12-25\n # fine\n x # not fine\n", wantN: 3},
		{name: "line too long", give: "2026-12-25\n" + strings.Repeat("x", 70000), wantN: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHolidays(strings.NewReader(tt.give))
			if tt.wantN != 0 {
				wantLine := "line " + strconv.Itoa(tt.wantN) + ":"
				if err == nil || !strings.Contains(err.Error(), wantLine) {
					t.Fatalf("ParseHolidays error = %v, want one naming %q", err, wantLine)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var gotText []string
			for _, d := range got {
				gotText = append(gotText, d.String())
			}
			if diff := cmp.Diff(tt.want, gotText); diff != "" {
				t.Errorf("ParseHolidays mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

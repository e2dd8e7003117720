package throttle

import (
	"testing"
	"time"
)

// TestLimiterIsASlidingWindow: ten failures within 15 minutes refuse the
// eleventh until the oldest of them is 15 minutes old; the window slides, so
// no stretch of 15 minutes ever holds more than ten.
func TestLimiterIsASlidingWindow(t *testing.T) {
	l := New(10, 15*time.Minute)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10 {
		at := start.Add(time.Duration(i) * time.Minute)
		if _, ok := l.Check("k", at); !ok {
			t.Fatalf("failure %d refused", i+1)
		}
		l.Hit("k", at)
	}
	at := start.Add(10 * time.Minute)
	wait, ok := l.Check("k", at)
	if ok {
		t.Fatal("an eleventh try within the window allowed")
	}
	if want := 5 * time.Minute; wait != want {
		t.Errorf("wait = %v, want %v (until the first failure is 15 minutes old)", wait, want)
	}
	if _, ok := l.Check("k", at.Add(wait-time.Second)); ok {
		t.Error("allowed before the wait it named")
	}
	if _, ok := l.Check("k", at.Add(wait)); !ok {
		t.Error("still refused after the wait it named")
	}
	// One more failure then refuses again until the second one ages out.
	l.Hit("k", at.Add(wait))
	if wait2, ok := l.Check("k", at.Add(wait)); ok || wait2 != time.Minute {
		t.Errorf("after the window slid: ok %v wait %v, want refused for 1m", ok, wait2)
	}
	if _, ok := l.Check("other", at); !ok {
		t.Error("another key is limited too")
	}
	l.Reset("k")
	if _, ok := l.Check("k", at); !ok {
		t.Error("refused after Reset")
	}
}

func TestSweepForgetsRefilledKeys(t *testing.T) {
	l := New(2, time.Minute)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.Hit("old", now)
	later := now.Add(time.Hour)
	for range 1024 {
		l.Hit("new", later)
	}
	if got := l.Len(); got != 1 {
		t.Errorf("Len after sweep = %d, want 1", got)
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	for _, tt := range []struct {
		give time.Duration
		want int
	}{{0, 1}, {1500 * time.Millisecond, 2}, {90 * time.Second, 90}} {
		if got := RetryAfterSeconds(tt.give); got != tt.want {
			t.Errorf("RetryAfterSeconds(%v) = %d, want %d", tt.give, got, tt.want)
		}
	}
}

func TestBeginHoldsRoomUntilEnd(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name     string
		giveHit  bool
		wantRoom bool // room for an eleventh attempt once the ten ended
	}{
		{name: "failures count", giveHit: true, wantRoom: false},
		{name: "successes give the room back", giveHit: false, wantRoom: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := New(10, 15*time.Minute)
			for i := range 10 {
				if _, _, ok := l.Begin("k", now); !ok {
					t.Fatalf("attempt %d refused", i+1)
				}
			}
			if _, busy, ok := l.Begin("k", now); ok || !busy {
				t.Fatalf("an eleventh attempt while ten were under way: ok %v busy %v, want busy", ok, busy)
			}
			if _, ok := l.Check("k", now); !ok {
				t.Error("Check refuses for attempts under way, which are no failures yet")
			}
			for range 10 {
				l.End("k", now, tt.giveHit)
			}
			if _, ok := l.Check("k", now); ok != tt.wantRoom {
				t.Errorf("room after the ten ended: %v, want %v", ok, tt.wantRoom)
			}
			if !tt.wantRoom {
				if _, busy, ok := l.Begin("k", now); ok || busy {
					t.Errorf("after ten failures: ok %v busy %v, want a refusal that is not busy", ok, busy)
				}
			}
		})
	}
}

func TestSweepKeepsKeysWithAttemptsUnderWay(t *testing.T) {
	l := New(2, time.Minute)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.Begin("busy", now)
	l.Begin("busy", now)
	for range 1024 {
		l.Hit("new", now.Add(time.Hour))
	}
	if _, busy, ok := l.Begin("busy", now.Add(time.Hour)); ok || !busy {
		t.Error("the sweep forgot a key with two attempts under way")
	}
}

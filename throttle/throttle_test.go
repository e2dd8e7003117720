package throttle

import (
	"testing"
	"time"
)

func TestLimiterBlocksAfterNAndRefills(t *testing.T) {
	l := New(10, 15*time.Minute)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10 {
		if _, ok := l.Check("k", now); !ok {
			t.Fatalf("hit %d refused", i)
		}
		l.Hit("k", now)
	}
	wait, ok := l.Check("k", now)
	if ok {
		t.Fatal("11th try allowed")
	}
	if wait < 80*time.Second || wait > 100*time.Second {
		t.Errorf("wait = %v, want about 90s (one of ten refills in 15 minutes)", wait)
	}
	if _, ok := l.Check("other", now); !ok {
		t.Error("another key is limited too")
	}
	if _, ok := l.Check("k", now.Add(wait)); !ok {
		t.Error("still refused after the wait it named")
	}
	l.Reset("k")
	if _, ok := l.Check("k", now); !ok {
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
				if _, ok := l.Begin("k", now); !ok {
					t.Fatalf("attempt %d refused", i+1)
				}
			}
			if _, ok := l.Begin("k", now); ok {
				t.Fatal("an eleventh attempt began while ten were under way")
			}
			if _, ok := l.Check("k", now); ok {
				t.Error("Check allows while ten attempts are under way")
			}
			for range 10 {
				l.End("k", now, tt.giveHit)
			}
			if _, ok := l.Check("k", now); ok != tt.wantRoom {
				t.Errorf("room after the ten ended: %v, want %v", ok, tt.wantRoom)
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
	if _, ok := l.Check("busy", now.Add(time.Hour)); ok {
		t.Error("the sweep forgot a key with two attempts under way")
	}
}

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

package ratio

import (
	"net/http"
	"testing"
	"time"
)

func TestBackoff_ExponentialWithJitterWithinBounds(t *testing.T) {
	const low, high = 100 * time.Millisecond, time.Second
	tests := []struct {
		n        int
		low, top time.Duration
	}{
		{1, 50 * time.Millisecond, 100 * time.Millisecond},
		{2, 100 * time.Millisecond, 200 * time.Millisecond},
		{4, 400 * time.Millisecond, 800 * time.Millisecond},
		{5, 500 * time.Millisecond, time.Second},  // capped at max
		{80, 500 * time.Millisecond, time.Second}, // no overflow
	}
	for _, tt := range tests {
		seen := map[time.Duration]bool{}
		for range 200 {
			got := backoff(low, high, tt.n)
			if got < tt.low || got > tt.top {
				t.Fatalf("backoff(%v, %v, %d) = %v, want within [%v, %v]", low, high, tt.n, got, tt.low, tt.top)
			}
			seen[got] = true
		}
		if len(seen) < 2 {
			t.Errorf("backoff(%v, %v, %d) always %v, want jitter", low, high, tt.n, seen)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2023, 7, 13, 19, 6, 20, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{" 5 ", 5 * time.Second, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{"99999999999999999", time.Duration(1<<63 - 1), true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{"Thursday, 13-Jul-23 19:07:20 GMT", time.Minute, true}, // RFC 850
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.header, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parseRetryAfter(%q) = %v, %v, want %v, %v", tt.header, got, ok, tt.want, tt.wantOK)
		}
	}
}

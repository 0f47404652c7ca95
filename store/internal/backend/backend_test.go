package backend_test

import (
	"errors"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/internal/backend"
)

func TestMicro(t *testing.T) {
	zone := time.FixedZone("UTC-7", -7*3600)
	tests := []struct {
		name string
		in   time.Time
		want time.Time
	}{
		{"zero stays zero", time.Time{}, time.Time{}},
		{"truncates and converts", time.Date(2025, 1, 2, 3, 4, 5, 123_456_789, zone), time.Date(2025, 1, 2, 10, 4, 5, 123_456_000, time.UTC)},
		{"before 1970", time.Date(1960, 1, 1, 0, 0, 0, 999, time.UTC), time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := backend.Micro(tt.in); got != tt.want { // == compares the location too
				t.Errorf("Micro(%v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
	// time.Now carries a monotonic clock reading, which == would see.
	if now := time.Now(); backend.Micro(now) != now.Truncate(time.Microsecond).UTC() {
		t.Errorf("Micro(time.Now()) differs from Truncate(time.Microsecond).UTC()")
	}
}

func TestToken_RoundTrip(t *testing.T) {
	for _, desc := range []bool{false, true} {
		c := backend.Cursor{CreatedAt: time.Date(2025, 3, 14, 15, 9, 26, 535_897_000, time.UTC), ID: "9f86d081884c7d65", Descending: desc}
		got, ok, err := backend.ParseToken(c.Token())
		if err != nil || !ok || got != c {
			t.Errorf("ParseToken(Token()) = %v, %v, %v; want %v", got, ok, err, c)
		}
		if _, _, err := backend.ListToken(store.Query{PageToken: c.Token(), Descending: !desc}); !errors.Is(err, store.ErrInvalidPageToken) {
			t.Errorf("ListToken(a token of Descending %v, Descending %v) = %v, want ErrInvalidPageToken", desc, !desc, err)
		}
	}
	if _, ok, err := backend.ParseToken(""); ok || err != nil {
		t.Errorf(`ParseToken("") = %v, %v; want false, nil`, ok, err)
	}
	for _, tok := range []string{"!!", "AQ", "AwAAAAAAAAAAYQ"} {
		if _, _, err := backend.ParseToken(tok); !errors.Is(err, store.ErrInvalidPageToken) {
			t.Errorf("ParseToken(%q) = %v, want ErrInvalidPageToken", tok, err)
		}
	}
}

func TestMigrations(t *testing.T) {
	good := fstest.MapFS{
		"m/0002_b.sql": {Data: []byte("B")},
		"m/0001_a.sql": {Data: []byte("A")},
		"m/README":     {Data: []byte("not sql")},
	}
	ms, err := backend.Migrations(good, "m")
	if err != nil || len(ms) != 2 || ms[0].Name != "0001_a" || ms[1].SQL != "B" || ms[1].Version != 2 {
		t.Errorf("Migrations(good) = %+v, %v", ms, err)
	}
	bad := map[string]fstest.MapFS{
		"gap":       {"m/0001_a.sql": {}, "m/0003_c.sql": {}},
		"duplicate": {"m/0001_a.sql": {}, "m/0001_b.sql": {}},
		"no number": {"m/init.sql": {}},
		"empty":     {},
	}
	for name, fsys := range bad {
		if _, err := backend.Migrations(fsys, "m"); err == nil {
			t.Errorf("Migrations(%s) succeeded, want an error", name)
		}
	}
}

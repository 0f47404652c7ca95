package storetest

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/internal/backend"
)

// badIDs and badSubjects are strings no store keeps (see store.CheckID):
// databases differ on them, so every store refuses them before asking.
var (
	badIDs = map[string]string{
		"NUL":            "abc\x00def",
		"InvalidUTF8":    "\xff\xfe",
		"TruncatedUTF8":  "f-\xc3",
		"Surrogate":      "f-\xed\xa0\x80",
		"TooLong":        strings.Repeat("a", store.MaxIDLen+1),
		"TooLongUnicode": strings.Repeat("é", store.MaxIDLen/2) + "x",
	}
	badSubjects = map[string]string{
		"NUL":         "alice\x00bob",
		"InvalidUTF8": "alice\xff",
		"TooLong":     strings.Repeat("s", store.MaxSubjectLen+1),
	}
)

// Create refuses an ID or Subject no store keeps with an *InvalidError
// matching ErrInvalid, and writes nothing; the longest ID and subject a
// store keeps round-trip.
func testBadStringsCreate(t *testing.T, s store.Store) {
	ctx := t.Context()
	for name, id := range badIDs {
		rec := newRecord(id, 0)
		before := rec.Clone()
		checkInvalid(t, "Create(id "+name+")", s.Create(ctx, rec), "id")
		if diff := cmp.Diff(before, rec); diff != "" {
			t.Errorf("failed Create(id %s) changed rec (-want +got):\n%s", name, diff)
		}
	}
	for name, subject := range badSubjects {
		rec := newRecord("f-subject-"+name, 0)
		rec.Subject = subject
		checkInvalid(t, "Create(subject "+name+")", s.Create(ctx, rec), "subject")
		if _, err := s.Get(ctx, rec.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get after Create(subject %s) = %v, want ErrNotFound", name, err)
		}
	}
	if p, err := s.List(ctx, store.Query{}); err != nil || len(p.Records) != 0 {
		t.Errorf("List after refused Creates = %d records, %v; want none", len(p.Records), err)
	}
	longest := newRecord(strings.Repeat("é", store.MaxIDLen/2), 0)
	longest.Subject = strings.Repeat("ü", store.MaxSubjectLen/2)
	mustCreate(t, s, longest)
	checkRecord(t, "Get(longest ID)", mustGet(t, s, longest.ID), want(longest, 1))
}

// checkInvalid fails unless err is an *InvalidError naming field.
func checkInvalid(tb testing.TB, what string, err error, field string) {
	tb.Helper()
	var ie *store.InvalidError
	if !errors.As(err, &ie) || !errors.Is(err, store.ErrInvalid) || ie.Field != field {
		tb.Errorf("%s = %v, want an *InvalidError on %s matching ErrInvalid", what, err, field)
	}
}

// Get, Update and History return ErrNotFound for an ID no store keeps; List
// returns an empty page for such a subject and ErrInvalidPageToken for a
// page token naming such an ID. Never a database's error.
func testBadStringsLookups(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, newRecord("f-present", 0))
	for name, id := range badIDs {
		if _, err := s.Get(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get(id %s) = %v, want ErrNotFound", name, err)
		}
		if _, err := s.History(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("History(id %s) = %v, want ErrNotFound", name, err)
		}
		rec := newRecord(id, 0)
		rec.Version = 1
		if err := s.Update(ctx, rec, entry(1)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Update(id %s) = %v, want ErrNotFound", name, err)
		}
		tok := backend.Cursor{CreatedAt: t0, ID: id}.Token()
		if _, err := s.List(ctx, store.Query{PageToken: tok}); !errors.Is(err, store.ErrInvalidPageToken) {
			t.Errorf("List(page token naming id %s) = %v, want ErrInvalidPageToken", name, err)
		}
	}
	for name, subject := range badSubjects {
		p, err := s.List(ctx, store.Query{Subject: subject})
		if err != nil || len(p.Records) != 0 || p.NextPageToken != "" {
			t.Errorf("List(subject %s) = %d records, token %q, %v; want an empty page", name, len(p.Records), p.NextPageToken, err)
		}
	}
	checkRecord(t, "Get(f-present)", mustGet(t, s, "f-present"), want(newRecord("f-present", 0), 1))
}

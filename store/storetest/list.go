package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
)

// List filters by kind, state, subject and creation time (exclusive bounds,
// compared at microsecond precision) and returns whole records without
// history.
func testListFilters(t *testing.T, s store.Store) {
	mk := func(id, kind string, st states.State, subject string, n int) *store.Record {
		r := newRecord(id, n)
		r.Kind, r.State, r.Subject = kind, st, subject
		return r
	}
	a := mk("a", "link", states.ChallengeIssued, "alice", 1)
	b := mk("b", "link", states.SmsSent, "bob", 2)
	c := mk("c", "signin", states.ChallengeIssued, "alice", 3)
	d := mk("d", "signup", states.Linked, "carol", 4)
	d.EndedAt = d.UpdatedAt
	for _, r := range []*store.Record{d, b, c, a} {
		mustCreate(t, s, r, entry(1))
	}
	// A bound 400ns after a stored time truncates to that time.
	at := func(r *store.Record) time.Time { return micro(r.CreatedAt).Add(400 * time.Nanosecond) }

	tests := []struct {
		name string
		q    store.Query
		want []*store.Record
	}{
		{"all", store.Query{}, []*store.Record{a, b, c, d}},
		{"kind", store.Query{Kind: "link"}, []*store.Record{a, b}},
		{"state", store.Query{State: states.ChallengeIssued}, []*store.Record{a, c}},
		{"subject", store.Query{Subject: "alice"}, []*store.Record{a, c}},
		{"kind and subject", store.Query{Kind: "link", Subject: "alice"}, []*store.Record{a}},
		{"created after (exclusive)", store.Query{CreatedAfter: at(b)}, []*store.Record{c, d}},
		{"created before (exclusive)", store.Query{CreatedBefore: at(c)}, []*store.Record{a, b}},
		{"created between", store.Query{CreatedAfter: at(a), CreatedBefore: at(d)}, []*store.Record{b, c}},
		{"running", store.Query{Running: true}, []*store.Record{a, b, c}},
		{"running and subject", store.Query{Running: true, Subject: "carol"}, nil},
		{"no match", store.Query{Kind: "nothing"}, nil},
		{"all, newest first", store.Query{Descending: true}, []*store.Record{d, c, b, a}},
		{"kind, newest first", store.Query{Kind: "link", Descending: true}, []*store.Record{b, a}},
		{"state, newest first", store.Query{State: states.ChallengeIssued, Descending: true}, []*store.Record{c, a}},
		{"created between, newest first", store.Query{CreatedAfter: at(a), CreatedBefore: at(d), Descending: true}, []*store.Record{c, b}},
		{"running, newest first", store.Query{Running: true, Descending: true}, []*store.Record{c, b, a}},
	}
	for _, tt := range tests {
		page, err := s.List(t.Context(), tt.q)
		if err != nil {
			t.Errorf("List(%s) = %v", tt.name, err)
			continue
		}
		if page.NextPageToken != "" {
			t.Errorf("List(%s).NextPageToken = %q, want empty on the last page", tt.name, page.NextPageToken)
		}
		var wantRecs []*store.Record
		for _, r := range tt.want {
			wantRecs = append(wantRecs, want(r, 1))
		}
		if len(page.Records) != len(wantRecs) {
			t.Errorf("List(%s) = %s, want %s", tt.name, ids(page.Records), ids(wantRecs))
			continue
		}
		for i := range wantRecs {
			checkRecord(t, fmt.Sprintf("List(%s)[%d]", tt.name, i), page.Records[i], wantRecs[i])
		}
	}
}

// ids lists the IDs of recs, for messages.
func ids(recs []*store.Record) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, r := range recs {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(r.ID)
	}
	b.WriteByte(']')
	return b.String()
}

// List pages through the matching records ordered by creation time then ID
// (both descending with Descending), with no duplicate and no miss, and
// returns an empty NextPageToken on the last page.
func testListPaging(t *testing.T, s store.Store) {
	rng := rand.New(rand.NewPCG(1, 2))
	var all []*store.Record
	for i := range 48 {
		// Triples share a creation time, so the ID decides their order.
		r := newRecord(fmt.Sprintf("%016x", rng.Uint64()), i/3)
		if i%2 == 1 {
			r.Kind = "signin"
		}
		all = append(all, r)
	}
	for _, i := range rng.Perm(len(all)) {
		mustCreate(t, s, all[i])
	}
	slices.SortFunc(all, func(x, y *store.Record) int {
		if c := x.CreatedAt.Compare(y.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	links := slices.DeleteFunc(slices.Clone(all), func(r *store.Record) bool { return r.Kind != "link" })
	reversed := func(recs []*store.Record) []*store.Record {
		out := slices.Clone(recs)
		slices.Reverse(out)
		return out
	}

	tests := []struct {
		name string
		q    store.Query
		want []*store.Record
	}{
		{"all, pages of 5", store.Query{Limit: 5}, all},
		{"all, exact pages of 4", store.Query{Limit: 4}, all},
		{"kind, pages of 5", store.Query{Kind: "link", Limit: 5}, links},
		{"kind, one page", store.Query{Kind: "link"}, links},
		{"all, newest first, pages of 5", store.Query{Limit: 5, Descending: true}, reversed(all)},
		{"all, newest first, exact pages of 4", store.Query{Limit: 4, Descending: true}, reversed(all)},
		{"kind, newest first, pages of 5", store.Query{Kind: "link", Limit: 5, Descending: true}, reversed(links)},
	}
	for _, tt := range tests {
		var got []*store.Record
		q := tt.q
		for pages := 0; ; pages++ {
			if pages > len(tt.want) {
				t.Fatalf("List(%s): more pages than records", tt.name)
			}
			page, err := s.List(t.Context(), q)
			if err != nil {
				t.Fatalf("List(%s) page %d = %v", tt.name, pages, err)
			}
			if len(page.Records) > q.PageSize() {
				t.Errorf("List(%s) page %d has %d records, more than %d", tt.name, pages, len(page.Records), q.PageSize())
			}
			if len(page.Records) == 0 && pages > 0 {
				t.Errorf("List(%s) page %d is empty: the page before it should have had no NextPageToken", tt.name, pages)
			}
			got = append(got, page.Records...)
			if page.NextPageToken == "" {
				break
			}
			if len(page.Records) == 0 {
				t.Fatalf("List(%s) page %d is empty but has a NextPageToken", tt.name, pages)
			}
			q.PageToken = page.NextPageToken
		}
		if ids(got) != ids(tt.want) {
			t.Errorf("List(%s) pages =\n%s\nwant\n%s", tt.name, ids(got), ids(tt.want))
		}
	}
}

// Limit zero means 100 and backends cap it at 1000.
func testListPageSizes(t *testing.T, s store.Store) {
	const n = store.MaxPageSize + 1
	for i := range n {
		r := newRecord(fmt.Sprintf("f-%04d", i), 0)
		r.Data, r.Pending = nil, nil
		mustCreate(t, s, r)
	}
	tests := []struct {
		limit, want int
	}{
		{0, store.DefaultPageSize},
		{-1, store.DefaultPageSize},
		{7, 7},
		{5000, store.MaxPageSize},
	}
	for _, tt := range tests {
		page, err := s.List(t.Context(), store.Query{Limit: tt.limit})
		if err != nil {
			t.Fatalf("List(Limit %d) = %v", tt.limit, err)
		}
		if len(page.Records) != tt.want || page.NextPageToken == "" {
			t.Errorf("List(Limit %d) = %d records, token %q; want %d and a token", tt.limit, len(page.Records), page.NextPageToken, tt.want)
		}
		if tt.limit != 5000 {
			continue
		}
		rest, err := s.List(t.Context(), store.Query{Limit: tt.limit, PageToken: page.NextPageToken})
		if err != nil {
			t.Fatalf("List(next page) = %v", err)
		}
		if len(rest.Records) != n-store.MaxPageSize || rest.NextPageToken != "" {
			t.Errorf("List(next page) = %d records, token %q; want %d and none", len(rest.Records), rest.NextPageToken, n-store.MaxPageSize)
		}
	}
}

// List returns ErrInvalidPageToken if q.PageToken is not a token List
// returned, or one of a list in the other order.
func testListInvalidToken(t *testing.T, s store.Store) {
	mustCreate(t, s, newRecord("f-1", 0))
	mustCreate(t, s, newRecord("f-2", 1))
	for _, tok := range []string{"garbage!", "AAAA", "bm90IGEgdG9rZW4"} {
		_, err := s.List(t.Context(), store.Query{PageToken: tok})
		if !errors.Is(err, store.ErrInvalidPageToken) {
			t.Errorf("List(PageToken %q) = %v, want ErrInvalidPageToken", tok, err)
		}
	}
	for _, desc := range []bool{false, true} {
		page, err := s.List(t.Context(), store.Query{Limit: 1, Descending: desc})
		if err != nil || page.NextPageToken == "" {
			t.Fatalf("List(Limit 1, Descending %v) = %v, token %q; want a token", desc, err, page.NextPageToken)
		}
		_, err = s.List(t.Context(), store.Query{Limit: 1, Descending: !desc, PageToken: page.NextPageToken})
		if !errors.Is(err, store.ErrInvalidPageToken) {
			t.Errorf("List(Descending %v) with the token of a list with Descending %v = %v, want ErrInvalidPageToken", !desc, desc, err)
		}
	}
}

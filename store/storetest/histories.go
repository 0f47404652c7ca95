package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
)

// historyLister is a Store that also implements store.HistoryLister.
type historyLister interface {
	store.Store
	store.HistoryLister
}

// histories adapts a HistoryLister test to Run's table: stores that do not
// implement store.HistoryLister skip it.
func histories(fn func(t *testing.T, s historyLister)) func(t *testing.T, s store.Store) {
	return func(t *testing.T, s store.Store) {
		hl, ok := s.(historyLister)
		if !ok {
			t.Skipf("%T does not implement store.HistoryLister", s)
		}
		fn(t, hl)
	}
}

// seedHistories stores flows of two kinds with histories written in
// interleaved updates, one flow without history and one ended flow, and
// returns their records in List order.
func seedHistories(t *testing.T, s store.Store) []*store.Record {
	var recs []*store.Record
	for i := range 7 {
		r := newRecord(fmt.Sprintf("flow-%d", i), i/2) // pairs share a creation time
		if i%3 == 1 {
			r.Kind = "signin"
		}
		var hs []store.HistoryEntry
		if i != 4 { // flow-4 has no history
			hs = append(hs, entry(i))
		}
		mustCreate(t, s, r, hs...)
		recs = append(recs, r)
	}
	// Updates in turns, so that no flow's entries are stored together.
	for round := range 3 {
		for i, r := range recs {
			if i == 4 || i+round == 7 {
				continue
			}
			r.State = states.SmsSent
			if i == 6 && round == 2 {
				r.State, r.EndedAt = states.Canceled, r.UpdatedAt
			}
			h := entry(10*round + i)
			h.From, h.To, h.Event = states.ChallengeIssued, r.State, fmt.Sprintf("step-%d", round)
			if err := s.Update(t.Context(), r, h); err != nil {
				t.Fatalf("Update(%s) = %v", r.ID, err)
			}
		}
	}
	return recs
}

// ListHistories returns the records and page tokens of List, without Data
// and Pending, each with the history History returns.
func testListHistories(t *testing.T, s historyLister) {
	recs := seedHistories(t, s)
	tests := []struct {
		name string
		q    store.Query
		want int // records
	}{
		{"all, one page", store.Query{}, 7},
		{"all, pages of 2", store.Query{Limit: 2}, 7},
		{"all, newest first, pages of 2", store.Query{Limit: 2, Descending: true}, 7},
		{"kind, pages of 1", store.Query{Kind: "signin", Limit: 1}, 2},
		{"running, pages of 3", store.Query{Running: true, Limit: 3}, 6},
		{"created after", store.Query{CreatedAfter: recs[3].CreatedAt}, 3},
		{"no match", store.Query{Kind: "nothing"}, 0},
	}
	for _, tt := range tests {
		q, n := tt.q, 0
		for pages := 0; ; pages++ {
			if pages > len(recs) {
				t.Fatalf("ListHistories(%s): more pages than records", tt.name)
			}
			page, err := s.ListHistories(t.Context(), q)
			if err != nil {
				t.Fatalf("ListHistories(%s) page %d = %v", tt.name, pages, err)
			}
			list, err := s.List(t.Context(), q)
			if err != nil {
				t.Fatalf("List(%s) page %d = %v", tt.name, pages, err)
			}
			checkHistoryPage(t, fmt.Sprintf("ListHistories(%s) page %d", tt.name, pages), s, page, list)
			n += len(page.Flows)
			if page.NextPageToken == "" {
				break
			}
			q.PageToken = page.NextPageToken
		}
		if n != tt.want {
			t.Errorf("ListHistories(%s) returned %d flows, want %d", tt.name, n, tt.want)
		}
	}
}

// checkHistoryPage checks page against the List page list of the same query.
func checkHistoryPage(t *testing.T, what string, s store.Store, page store.HistoryPage, list store.Page) {
	t.Helper()
	if page.NextPageToken != list.NextPageToken {
		t.Errorf("%s: NextPageToken = %q, want List's %q", what, page.NextPageToken, list.NextPageToken)
	}
	if len(page.Flows) != len(list.Records) {
		t.Fatalf("%s: %d flows, want List's %d", what, len(page.Flows), len(list.Records))
	}
	for i, f := range page.Flows {
		w := list.Records[i].Clone()
		w.Data, w.Pending = nil, nil
		checkRecord(t, fmt.Sprintf("%s flow %d", what, i), f.Record, w)
		checkHistory(t, fmt.Sprintf("%s history of %s", what, w.ID), f.History, mustHistory(t, s, w.ID))
		if w.ID == "flow-4" && len(f.History) != 0 {
			t.Errorf("%s: flow-4 has %d entries, want none", what, len(f.History))
		}
	}
}

// A List token continues ListHistories and the other way round; a token
// neither made is ErrInvalidPageToken; a done context is its error; a
// closed store is ErrClosed.
func testListHistoriesTokens(t *testing.T, s historyLister) {
	seedHistories(t, s)
	list, err := s.List(t.Context(), store.Query{Limit: 3})
	if err != nil {
		t.Fatalf("List() = %v", err)
	}
	q := store.Query{Limit: 3, PageToken: list.NextPageToken}
	page, err := s.ListHistories(t.Context(), q)
	if err != nil {
		t.Fatalf("ListHistories(List's token) = %v", err)
	}
	next, err := s.List(t.Context(), store.Query{Limit: 3, PageToken: page.NextPageToken})
	if err != nil {
		t.Fatalf("List(ListHistories' token) = %v", err)
	}
	if len(page.Flows) != 3 || len(next.Records) != 1 || page.Flows[0].Record.ID != "flow-3" || next.Records[0].ID != "flow-6" {
		t.Errorf("pages after List's first page: %d flows, then %d records; want 3 from flow-3, then flow-6", len(page.Flows), len(next.Records))
	}
	for _, tok := range []string{"x", "AAAA", "not a token at all"} {
		if _, err := s.ListHistories(t.Context(), store.Query{PageToken: tok}); !errors.Is(err, store.ErrInvalidPageToken) {
			t.Errorf("ListHistories(PageToken %q) = %v, want ErrInvalidPageToken", tok, err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.ListHistories(ctx, store.Query{}); !errors.Is(err, context.Canceled) {
		t.Errorf("ListHistories(done context) = %v, want context.Canceled", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if _, err := s.ListHistories(t.Context(), store.Query{}); !errors.Is(err, store.ErrClosed) {
		t.Errorf("ListHistories() after Close = %v, want ErrClosed", err)
	}
}

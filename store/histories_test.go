package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/memstore"
)

// plainStore hides every method but those of store.Store.
type plainStore struct{ store.Store }

// ListHistories reads a store that is no HistoryLister with List and
// History, with the same pages as the store's own ListHistories.
func TestListHistories_Fallback(t *testing.T) {
	s := memstore.New()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range 5 {
		rec := &store.Record{ID: fmt.Sprintf("f%d", i), Kind: "link", State: states.New, Data: []byte("sealed"),
			CreatedAt: at.Add(time.Duration(i) * time.Second), UpdatedAt: at}
		var hs []store.HistoryEntry
		for j := range i {
			hs = append(hs, store.HistoryEntry{At: at.Add(time.Duration(j) * time.Minute), From: states.New,
				To: states.ChallengeIssued, Event: "start", Outcome: "ok"})
		}
		if err := s.Create(t.Context(), rec, hs...); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []store.Query{{}, {Limit: 2}, {Limit: 2, PageToken: "x"}} {
		for {
			want, wantErr := s.ListHistories(t.Context(), q)
			got, err := store.ListHistories(t.Context(), plainStore{s}, q)
			if fmt.Sprint(err) != fmt.Sprint(wantErr) {
				t.Fatalf("ListHistories(%+v) error = %v, want %v", q, err, wantErr)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("ListHistories(%+v) mismatch (-store's own +fallback):\n%s", q, diff)
			}
			if got.NextPageToken == "" {
				break
			}
			q.PageToken = got.NextPageToken
		}
	}
}

package store

import (
	"context"
	"errors"
	"fmt"
)

// FlowHistory is one flow's record with its audit history, as
// HistoryLister returns them.
type FlowHistory struct {
	// Record is the flow's record without its Data and Pending call: the
	// sealed secrets, which a reader of histories never needs.
	Record *Record
	// History is the flow's audit history, ordered by Seq from 1; empty
	// for a flow with none.
	History []HistoryEntry
}

// HistoryPage is one page of ListHistories results.
type HistoryPage struct {
	Flows []FlowHistory
	// NextPageToken continues the listing; empty on the last page.
	NextPageToken string
}

// HistoryLister is implemented by stores that read the histories of many
// flows in one pass: memstore, sqlitestore and pgstore do. It is what
// reports over a whole store use (package flow/flowstats), and is separate
// from Store so that a backend may leave it out; ListHistories reads any
// Store, through this interface when the store has it.
type HistoryLister interface {
	// ListHistories returns the records List returns for q, in the same
	// order and with the same page tokens (a token of one is valid for the
	// other), each with its whole history, reading each history entry
	// once. Records come without Data and Pending. ListHistories returns
	// ErrInvalidPageToken if q.PageToken is not a token List or
	// ListHistories returned.
	ListHistories(ctx context.Context, q Query) (HistoryPage, error)
}

// ListHistories returns one page of the records s holds for q with their
// histories, as HistoryLister describes: through s's own ListHistories if s
// is a HistoryLister, else with List and then History for each record of
// the page (a record deleted in between is left out).
func ListHistories(ctx context.Context, s Store, q Query) (HistoryPage, error) {
	if hl, ok := s.(HistoryLister); ok {
		return hl.ListHistories(ctx, q)
	}
	page, err := s.List(ctx, q)
	if err != nil {
		return HistoryPage{}, err
	}
	out := HistoryPage{NextPageToken: page.NextPageToken, Flows: make([]FlowHistory, 0, len(page.Records))}
	for _, r := range page.Records {
		hs, err := s.History(ctx, r.ID)
		switch {
		case errors.Is(err, ErrNotFound):
			continue
		case err != nil:
			return HistoryPage{}, fmt.Errorf("history of flow %s: %w", r.ID, err)
		}
		r.Data, r.Pending = nil, nil
		out.Flows = append(out.Flows, FlowHistory{Record: r, History: hs})
	}
	return out, nil
}

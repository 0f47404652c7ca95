package flowstats

import (
	"context"
	"fmt"

	"github.com/ratioflow/ratioflow/store"
)

// Read returns the figures of the flows of s that q selects, per kind,
// sorted by kind. It reads the flows a page of store.MaxPageSize at a time
// with store.ListHistories, so each history entry once, through the
// store's indexes; q's Limit and PageToken are ignored.
func Read(ctx context.Context, s store.Store, q store.Query, opts Options) ([]*Stats, error) {
	c := NewCollector(opts)
	q.Limit, q.PageToken = store.MaxPageSize, ""
	for {
		page, err := store.ListHistories(ctx, s, q)
		if err != nil {
			return nil, fmt.Errorf("read histories: %w", err)
		}
		for _, f := range page.Flows {
			c.Add(f.Record, f.History)
		}
		if page.NextPageToken == "" {
			return c.Stats(), nil
		}
		q.PageToken = page.NextPageToken
	}
}

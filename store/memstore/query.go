package memstore

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/internal/backend"
)

// List implements store.Store. It scans every record: the memory store is
// for tests and demos, not for millions of flows.
func (s *Store) List(ctx context.Context, q store.Query) (store.Page, error) {
	after, hasAfter, err := backend.ListToken(q)
	if err != nil {
		return store.Page{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.begin(ctx); err != nil {
		return store.Page{}, err
	}
	if backend.MatchesNothing(q) {
		return store.Page{}, nil
	}
	page := s.list(q, after, hasAfter)
	for i, r := range page.Records {
		page.Records[i] = r.Clone()
	}
	return page, nil
}

// list returns the page of List, with the stored records themselves. The
// caller holds s.mu and copies the records before handing them out.
func (s *Store) list(q store.Query, after backend.Cursor, hasAfter bool) store.Page {
	before, since := backend.Micro(q.CreatedBefore), backend.Micro(q.CreatedAfter)
	dir := 1
	if q.Descending {
		dir = -1
	}
	var recs []*store.Record
	for _, f := range s.flows {
		r := f.rec
		switch {
		case q.Kind != "" && r.Kind != q.Kind,
			q.State != "" && r.State != q.State,
			q.Subject != "" && r.Subject != q.Subject,
			q.Running && r.Terminal(),
			!before.IsZero() && !r.CreatedAt.Before(before),
			!since.IsZero() && !r.CreatedAt.After(since),
			hasAfter && dir*compareAt(r, after.CreatedAt, after.ID) <= 0:
			continue
		}
		recs = append(recs, r)
	}
	slices.SortFunc(recs, func(a, b *store.Record) int { return dir * compareAt(a, b.CreatedAt, b.ID) })
	return backend.Page(q, recs)
}

// compareAt orders r against the position (createdAt, id).
func compareAt(r *store.Record, createdAt time.Time, id string) int {
	if c := r.CreatedAt.Compare(createdAt); c != 0 {
		return c
	}
	return cmp.Compare(r.ID, id)
}

// ClaimExpired implements store.Store.
func (s *Store) ClaimExpired(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]*store.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if limit < 1 {
		return nil, nil
	}
	now = backend.Micro(now)
	var due []*flow
	for _, f := range s.flows {
		r := f.rec
		if r.Terminal() || r.ExpiresAt.IsZero() || r.ExpiresAt.After(now) ||
			(!f.claimedUntil.IsZero() && f.claimedUntil.After(now)) {
			continue
		}
		due = append(due, f)
	}
	slices.SortFunc(due, func(a, b *flow) int { return backend.ByExpiry(a.rec, b.rec) })
	if len(due) > limit {
		due = due[:limit]
	}
	until := backend.Micro(now.Add(lease))
	out := make([]*store.Record, len(due))
	for i, f := range due {
		f.claimedUntil = until
		out[i] = f.rec.Clone()
	}
	return out, nil
}

// Purge implements store.Store.
func (s *Store) Purge(ctx context.Context, now time.Time, policy store.Retention) (store.PurgeResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var res store.PurgeResult
	if err := s.begin(ctx); err != nil {
		return res, err
	}
	dataCutoff, historyCutoff := backend.Cutoffs(now, policy)
	for id, f := range s.flows {
		r := f.rec
		if !r.Terminal() {
			continue
		}
		if !historyCutoff.IsZero() && r.EndedAt.Before(historyCutoff) {
			delete(s.flows, id)
			res.Deleted++
			continue
		}
		if !dataCutoff.IsZero() && r.EndedAt.Before(dataCutoff) &&
			(r.Data != nil || r.Pending != nil) {
			c := r.Clone()
			c.Data, c.Pending = nil, nil
			c.Version++
			f.rec = c
			res.Scrubbed++
		}
	}
	res.Keys = s.purgeKeys(now)
	return res, nil
}

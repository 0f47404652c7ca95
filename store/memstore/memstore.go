// Package memstore is an in-memory store.Store and store.KeyStore: maps
// behind a mutex.
//
// It is for tests and for the demo's quickest mode: nothing survives the
// process, and several processes cannot share it. It behaves like the
// durable backends in every other way (store/storetest proves it), including
// the microsecond precision of times. Records are deep-copied on the way in
// and out, so callers never share memory with the store or with each other.
package memstore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/internal/backend"
)

var _ store.Store = (*Store)(nil)

// Store keeps flows in memory. The zero value is not usable; call New.
type Store struct {
	mu     sync.RWMutex // guards flows, keys and closed
	flows  map[string]*flow
	keys   map[string]*backend.StoredKey // the idempotency keys (see keys.go)
	closed bool
}

// flow is one stored record with what only the store sees.
type flow struct {
	rec          *store.Record // normalised, never handed out
	history      []store.HistoryEntry
	claimedUntil time.Time // zero: not claimed
}

// New returns an empty store.
func New() *Store {
	return &Store{flows: make(map[string]*flow), keys: make(map[string]*backend.StoredKey)}
}

// begin checks ctx and the closed flag. The caller holds s.mu.
func (s *Store) begin(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed {
		return store.ErrClosed
	}
	return nil
}

// Create implements store.Store.
func (s *Store) Create(ctx context.Context, rec *store.Record, history ...store.HistoryEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return err
	}
	if err := backend.CheckCreate(rec); err != nil {
		return err
	}
	if _, ok := s.flows[rec.ID]; ok {
		return fmt.Errorf("create flow %s: %w", rec.ID, store.ErrAlreadyExists)
	}
	c := backend.Record(rec)
	c.Version = 1
	s.flows[c.ID] = &flow{rec: c, history: backend.Entries(history, 0)}
	rec.Version = 1
	return nil
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, id string) (*store.Record, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := backend.NoSuchID("get flow", id); err != nil {
		return nil, err
	}
	f, ok := s.flows[id]
	if !ok {
		return nil, fmt.Errorf("get flow %s: %w", id, store.ErrNotFound)
	}
	return f.rec.Clone(), nil
}

// Update implements store.Store.
func (s *Store) Update(ctx context.Context, rec *store.Record, history ...store.HistoryEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return err
	}
	if err := backend.NoSuchID("update flow", rec.ID); err != nil {
		return err
	}
	f, ok := s.flows[rec.ID]
	if !ok {
		return fmt.Errorf("update flow %s: %w", rec.ID, store.ErrNotFound)
	}
	if f.rec.Version != rec.Version {
		return fmt.Errorf("update flow %s: %w", rec.ID, store.ErrConflict)
	}
	f.rec = replace(f.rec, rec)
	f.history = append(f.history, backend.Entries(history, int64(len(f.history)))...)
	f.claimedUntil = time.Time{}
	rec.Version++
	return nil
}

// History implements store.Store.
func (s *Store) History(ctx context.Context, id string) ([]store.HistoryEntry, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := backend.NoSuchID("history of flow", id); err != nil {
		return nil, err
	}
	f, ok := s.flows[id]
	if !ok {
		return nil, fmt.Errorf("history of flow %s: %w", id, store.ErrNotFound)
	}
	return slices.Clone(f.history), nil
}

// Close implements store.Store.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrClosed
	}
	s.closed = true
	s.flows, s.keys = nil, nil
	return nil
}

// replace returns old updated in place with the fields Update may change
// from rec, normalised, and the version incremented. The stored record is
// never handed out (Get and List return copies), so its Data buffer and
// Pending call can be reused: Update allocates nothing on its own.
func replace(old, rec *store.Record) *store.Record {
	data := append(old.Data[:0], rec.Data...)
	if len(data) == 0 {
		data = nil
	}
	pending := old.Pending
	switch {
	case rec.Pending == nil:
		pending = nil
	case pending == nil:
		pending = new(store.PendingCall)
		fallthrough
	default:
		*pending = *rec.Pending
		pending.StartedAt = backend.Micro(pending.StartedAt)
		pending.RenewedAt = backend.Micro(pending.RenewedAt)
	}
	*old = store.Record{
		ID:           old.ID,
		Kind:         old.Kind,
		GraphVersion: rec.GraphVersion,
		State:        rec.State,
		Version:      old.Version + 1,
		Subject:      old.Subject,
		Data:         data,
		Pending:      pending,
		CreatedAt:    old.CreatedAt,
		UpdatedAt:    backend.Micro(rec.UpdatedAt),
		ExpiresAt:    backend.Micro(rec.ExpiresAt),
		EndedAt:      backend.Micro(rec.EndedAt),
	}
	return old
}

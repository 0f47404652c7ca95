package memstore

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/internal/backend"
)

var _ store.KeyStore = (*Store)(nil)

// BeginKey implements store.KeyStore.
func (s *Store) BeginKey(ctx context.Context, key, fingerprint string, now time.Time, lease, ttl time.Duration) (store.KeyClaim, error) {
	at, leaseUntil, expiresAt, err := backend.KeyTimes(now, lease, ttl)
	if err != nil {
		return store.KeyClaim{}, fmt.Errorf("begin idempotency key %s: %w", key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx); err != nil {
		return store.KeyClaim{}, err
	}
	if k, ok := s.keys[key]; ok {
		if c, found := k.Found(at); found {
			c.Answer = bytes.Clone(c.Answer) // stays non-nil
			return c, nil
		}
	}
	token := backend.NewKeyToken()
	s.keys[key] = &backend.StoredKey{Fingerprint: fingerprint, Token: token, LeaseUntil: leaseUntil, ExpiresAt: expiresAt}
	return store.KeyClaim{Token: token, Fingerprint: fingerprint}, nil
}

// FinishKey implements store.KeyStore.
func (s *Store) FinishKey(ctx context.Context, key, token string, answer []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, err := s.claimed(ctx, "finish", key, token)
	if err != nil {
		return err
	}
	k.Token, k.LeaseUntil = "", time.Time{}
	k.Answer = append([]byte{}, answer...) // non-nil: finished
	return nil
}

// AbandonKey implements store.KeyStore.
func (s *Store) AbandonKey(ctx context.Context, key, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.claimed(ctx, "abandon", key, token); err != nil {
		return err
	}
	delete(s.keys, key)
	return nil
}

// RenewKey implements store.KeyStore.
func (s *Store) RenewKey(ctx context.Context, key, token string, now time.Time, lease time.Duration) error {
	leaseUntil, err := backend.LeaseUntil(now, lease)
	if err != nil {
		return fmt.Errorf("renew idempotency key %s: %w", key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, err := s.claimed(ctx, "renew", key, token)
	if err != nil {
		return err
	}
	k.LeaseUntil = leaseUntil
	return nil
}

// claimed returns key if token holds its claim, for FinishKey, AbandonKey
// and RenewKey (what names which); store.ErrKeyLost if not. The caller
// holds s.mu.
func (s *Store) claimed(ctx context.Context, what, key, token string) (*backend.StoredKey, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	k, ok := s.keys[key]
	if !ok || token == "" || k.Token != token {
		return nil, fmt.Errorf("%s idempotency key %s: %w", what, key, store.ErrKeyLost)
	}
	return k, nil
}

// purgeKeys deletes the keys expired at now and returns how many. The
// caller holds s.mu.
func (s *Store) purgeKeys(now time.Time) int {
	now = backend.Micro(now)
	n := 0
	for key, k := range s.keys {
		if !now.Before(k.ExpiresAt) {
			delete(s.keys, key)
			n++
		}
	}
	return n
}

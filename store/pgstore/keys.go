package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/internal/backend"
)

var _ store.KeyStore = (*Store)(nil)

// BeginKey implements store.KeyStore. It reads the key; unless that
// answers, it tries to claim it with one upsert (INSERT ... ON CONFLICT DO
// UPDATE ... WHERE), which PostgreSQL runs on the latest version of the
// row, waiting for a concurrent writer of the same key, so that exactly one
// of concurrent claims succeeds; if another caller changed the key
// meanwhile, BeginKey reads it again. So replaying an answer, or waiting
// for one, writes nothing.
func (s *Store) BeginKey(ctx context.Context, key, fingerprint string, now time.Time, lease, ttl time.Duration) (store.KeyClaim, error) {
	op := "begin idempotency key " + key
	at, leaseUntil, expiresAt, err := backend.KeyTimes(now, lease, ttl)
	if err != nil {
		return store.KeyClaim{}, fmt.Errorf("%s: %w", op, err)
	}
	if err := s.begin(ctx); err != nil {
		return store.KeyClaim{}, err
	}
	token := backend.NewKeyToken()
	c, err := backend.ClaimKey(at, token, fingerprint, func() (backend.StoredKey, bool, error) {
		return s.readKey(ctx, key)
	}, func() (bool, error) {
		tag, err := s.pool.Exec(ctx, backend.ClaimKeySQL, key, fingerprint, token, leaseUntil, expiresAt, at)
		return err == nil && tag.RowsAffected() == 1, err
	})
	if err != nil {
		return store.KeyClaim{}, s.fail(ctx, op, err)
	}
	return c, nil
}

// readKey reads key; false if no row has it.
func (s *Store) readKey(ctx context.Context, key string) (backend.StoredKey, bool, error) {
	var (
		k          backend.StoredKey
		token      *string
		leaseUntil *time.Time
	)
	err := s.pool.QueryRow(ctx, backend.SelectKeySQL, key).Scan(&k.Fingerprint, &token, &leaseUntil, &k.Answer, &k.ExpiresAt)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return backend.StoredKey{}, false, nil
	case err != nil:
		return backend.StoredKey{}, false, err
	}
	if token != nil {
		k.Token = *token
	}
	if leaseUntil != nil {
		k.LeaseUntil = leaseUntil.UTC()
	}
	k.ExpiresAt = k.ExpiresAt.UTC()
	return k, true, nil
}

// FinishKey implements store.KeyStore in one statement.
func (s *Store) FinishKey(ctx context.Context, key, token string, answer []byte) error {
	if answer == nil {
		answer = []byte{} // a finished key's token is NULL; its answer need not be set
	}
	return s.ownKey(ctx, "finish idempotency key "+key, backend.FinishKeySQL, key, token, answer)
}

// AbandonKey implements store.KeyStore in one statement.
func (s *Store) AbandonKey(ctx context.Context, key, token string) error {
	return s.ownKey(ctx, "abandon idempotency key "+key, backend.AbandonKeySQL, key, token)
}

// RenewKey implements store.KeyStore with one UPDATE.
func (s *Store) RenewKey(ctx context.Context, key, token string, now time.Time, lease time.Duration) error {
	op := "renew idempotency key " + key
	leaseUntil, err := backend.LeaseUntil(now, lease)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return s.ownKey(ctx, op, backend.RenewKeySQL, key, token, leaseUntil)
}

// ownKey runs query, FinishKeySQL, AbandonKeySQL or RenewKeySQL, with args
// (the key and token first), and returns store.ErrKeyLost if it hit no
// row: the token does not hold the key's claim.
func (s *Store) ownKey(ctx context.Context, op, query string, args ...any) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, query, args...)
	switch {
	case err != nil:
		return s.fail(ctx, op, err)
	case tag.RowsAffected() == 0:
		return fmt.Errorf("%s: %w", op, store.ErrKeyLost)
	}
	return nil
}

package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/internal/backend"
)

var _ store.KeyStore = (*Store)(nil)

// BeginKey implements store.KeyStore. It reads the key; unless that
// answers, the writer tries to claim it with one upsert, whose condition
// the write lock serialises with every other process's; if another caller
// changed the key meanwhile, BeginKey reads it again. So replaying an
// answer, or waiting for one, writes nothing.
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
	args := []any{key, fingerprint, token, micros(leaseUntil), micros(expiresAt), micros(at)}
	c, err := backend.ClaimKey(at, token, fingerprint, func() (backend.StoredKey, bool, error) {
		return s.readKey(ctx, key)
	}, func() (bool, error) {
		err := s.w.do(newRequest(ctx, false, func(ctx context.Context, c *writeConn) error {
			return hitOne(c.execResult(ctx, backend.ClaimKeySQL, args...))
		}).refusesFirst())
		if errors.Is(err, errNoRow) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		return store.KeyClaim{}, s.fail(ctx, op, err)
	}
	return c, nil
}

// readKey reads key; false if no row has it.
func (s *Store) readKey(ctx context.Context, key string) (backend.StoredKey, bool, error) {
	st, err := s.prepare(ctx, backend.SelectKeySQL)
	if err != nil {
		return backend.StoredKey{}, false, err
	}
	var (
		k          backend.StoredKey
		token      sql.NullString
		leaseUntil sql.NullInt64
		expiresAt  int64
	)
	switch err := st.QueryRowContext(ctx, key).Scan(&k.Fingerprint, &token, &leaseUntil, &k.Answer, &expiresAt); {
	case errors.Is(err, sql.ErrNoRows):
		return backend.StoredKey{}, false, nil
	case err != nil:
		return backend.StoredKey{}, false, err
	}
	k.Token, k.LeaseUntil, k.ExpiresAt = token.String, fromMicros(leaseUntil), time.UnixMicro(expiresAt).UTC()
	return k, true, nil
}

// FinishKey implements store.KeyStore with one UPDATE, which the writer
// runs in the transaction of its batch.
func (s *Store) FinishKey(ctx context.Context, key, token string, answer []byte) error {
	if answer == nil {
		answer = []byte{} // a finished key's token is NULL; its answer need not be set
	}
	return s.ownKey(ctx, "finish idempotency key "+key, backend.FinishKeySQL, key, token, answer)
}

// AbandonKey implements store.KeyStore with one DELETE, which the writer
// runs in the transaction of its batch.
func (s *Store) AbandonKey(ctx context.Context, key, token string) error {
	return s.ownKey(ctx, "abandon idempotency key "+key, backend.AbandonKeySQL, key, token)
}

// RenewKey implements store.KeyStore with one UPDATE, which the writer
// runs in the transaction of its batch.
func (s *Store) RenewKey(ctx context.Context, key, token string, now time.Time, lease time.Duration) error {
	op := "renew idempotency key " + key
	leaseUntil, err := backend.LeaseUntil(now, lease)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return s.ownKey(ctx, op, backend.RenewKeySQL, key, token, micros(leaseUntil))
}

// ownKey runs query, FinishKeySQL, AbandonKeySQL or RenewKeySQL, with args
// (the key and token first), and returns store.ErrKeyLost if it hit no
// row: the token does not hold the key's claim.
func (s *Store) ownKey(ctx context.Context, op, query string, args ...any) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	err := s.w.do(newRequest(ctx, false, func(ctx context.Context, c *writeConn) error {
		return hitOne(c.execResult(ctx, query, args...))
	}).refusesFirst())
	switch {
	case errors.Is(err, errNoRow):
		return fmt.Errorf("%s: %w", op, store.ErrKeyLost)
	case err != nil:
		return s.fail(ctx, op, err)
	}
	return nil
}

package backend

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/ratioflow/ratioflow/store"
)

// NewKeyToken returns a new claim token of an idempotency key: 128 random
// bits, hex encoded.
func NewKeyToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand crashes the program instead)
	return hex.EncodeToString(b[:])
}

// KeyTimes returns the times of a claim that BeginKey makes at now:
// now itself, the end of the claim's lease and the key's expiry, each
// truncated to the microsecond in UTC. It fails unless lease and ttl are
// positive.
func KeyTimes(now time.Time, lease, ttl time.Duration) (at, leaseUntil, expiresAt time.Time, err error) {
	if lease <= 0 || ttl <= 0 {
		return time.Time{}, time.Time{}, time.Time{}, fmt.Errorf("lease %v and ttl %v must be positive", lease, ttl)
	}
	at = Micro(now)
	return at, Micro(at.Add(lease)), Micro(at.Add(ttl)), nil
}

// LeaseUntil returns the end of a lease renewed at now, truncated to the
// microsecond in UTC. It fails unless lease is positive.
func LeaseUntil(now time.Time, lease time.Duration) (time.Time, error) {
	if lease <= 0 {
		return time.Time{}, fmt.Errorf("lease %v must be positive", lease)
	}
	return Micro(Micro(now).Add(lease)), nil
}

// StoredKey is an idempotency key as a backend keeps it.
type StoredKey struct {
	Fingerprint string
	// Token is the claim's token while the key's request runs, and empty
	// once it finished.
	Token string
	// LeaseUntil is when the claim's lease passes; meaningless once
	// finished.
	LeaseUntil time.Time
	// Answer is the final answer once finished.
	Answer []byte
	// ExpiresAt is when the key expires: the time of its claim plus the
	// ttl.
	ExpiresAt time.Time
}

// Found returns what BeginKey answers at now, truncated to the
// microsecond, for a stored key: its answer or Running. It returns false
// if the caller may claim the key instead: the key expired, or its claim's
// lease passed without an answer. The claim's Answer is k.Answer itself,
// made non-nil.
func (k StoredKey) Found(now time.Time) (store.KeyClaim, bool) {
	switch {
	case !now.Before(k.ExpiresAt):
		return store.KeyClaim{}, false
	case k.Token == "":
		answer := k.Answer
		if answer == nil {
			answer = []byte{}
		}
		return store.KeyClaim{Fingerprint: k.Fingerprint, Answer: answer}, true
	case now.Before(k.LeaseUntil):
		return store.KeyClaim{Fingerprint: k.Fingerprint, Running: true}, true
	}
	return store.KeyClaim{}, false
}

// The statements of the SQL stores' idempotency keys, with $N placeholders
// (which both PostgreSQL and SQLite accept), on the table of their
// migration 0003.
const (
	// SelectKeySQL reads key $1: fingerprint, token, lease_until, answer,
	// expires_at.
	SelectKeySQL = `SELECT fingerprint, token, lease_until, answer, expires_at FROM idempotency_keys WHERE key = $1`

	// ClaimKeySQL claims key $1 for fingerprint $2 with token $3, lease
	// until $4 and expiry $5, if no row has the key or if, at $6, the
	// row's key expired or its claim's lease passed without an answer. It
	// affects one row if it claimed the key, none if not.
	ClaimKeySQL = `INSERT INTO idempotency_keys AS k (key, fingerprint, token, lease_until, answer, expires_at)
		VALUES ($1, $2, $3, $4, NULL, $5)
		ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, token = excluded.token,
			lease_until = excluded.lease_until, answer = NULL, expires_at = excluded.expires_at
		WHERE k.expires_at <= $6 OR (k.token IS NOT NULL AND k.lease_until <= $6)`

	// FinishKeySQL keeps answer $3 for key $1 if token $2 claims it, and
	// ends the claim.
	FinishKeySQL = `UPDATE idempotency_keys SET token = NULL, lease_until = NULL, answer = $3
		WHERE key = $1 AND token = $2`

	// AbandonKeySQL deletes key $1 if token $2 claims it.
	AbandonKeySQL = `DELETE FROM idempotency_keys WHERE key = $1 AND token = $2`

	// RenewKeySQL sets the lease of key $1 to end at $3 if token $2
	// claims it.
	RenewKeySQL = `UPDATE idempotency_keys SET lease_until = $3 WHERE key = $1 AND token = $2`
)

// MaxClaimAttempts bounds the rounds of reading a key and trying to claim
// it that the SQL stores' BeginKey makes. A round ends without an answer
// only if another caller changed the key between the read and the claim
// (claimed, finished or abandoned it), so the next round usually answers.
const MaxClaimAttempts = 8

// ClaimKey runs the SQL stores' BeginKey at at (truncated) for fingerprint,
// in rounds: read the key, and answer from it if it says so (Found);
// otherwise try to claim it with token (ClaimKeySQL, run by claim, which
// reports whether it hit the row). A claim that hits no row means another
// caller changed the key since the read, and the next round reads it
// again. Errors of read and claim are returned as they are.
func ClaimKey(at time.Time, token, fingerprint string, read func() (StoredKey, bool, error), claim func() (bool, error)) (store.KeyClaim, error) {
	for range MaxClaimAttempts {
		k, ok, err := read()
		if err != nil {
			return store.KeyClaim{}, err
		}
		if ok {
			if c, found := k.Found(at); found {
				return c, nil
			}
		}
		switch claimed, err := claim(); {
		case err != nil:
			return store.KeyClaim{}, err
		case claimed:
			return store.KeyClaim{Token: token, Fingerprint: fingerprint}, nil
		}
	}
	return store.KeyClaim{}, fmt.Errorf("changed by other callers %d times in a row", MaxClaimAttempts)
}

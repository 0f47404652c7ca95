package store

import (
	"context"
	"errors"
	"time"
)

// ErrKeyLost means FinishKey, AbandonKey or RenewKey was given a token that
// no longer holds its key's claim: the claim was finished or abandoned already, its
// lease passed and another caller took the key over, or the key expired
// and was deleted.
var ErrKeyLost = errors.New("idempotency key claim lost")

// KeyStore is implemented by stores that also keep the answers of
// idempotent requests (HTTP requests with an Idempotency-Key header, see
// flow/flowhttp), shared by every process using the store: with
// store/sqlitestore or store/pgstore, a retry that reaches another process
// or replica finds the first request's answer instead of running again. It
// is separate from Store, which a backend may implement alone; callers
// check for it with a type assertion.
//
// A key goes through three states: claimed (a request holds it and runs),
// finished (its answer is kept) and gone (never claimed, abandoned, or
// expired). The caller chooses the keys and the fingerprints; a store keeps
// them as given and never looks inside an answer. Keys appear in the
// errors of these methods: give a hash if a key holds anything private
// (flowhttp does).
//
// As for Store, every method takes a context first, returns ctx.Err()
// (possibly wrapped) when the context is done before the work is, and
// writes nothing when called with a context already done; the methods are
// safe for concurrent use by many goroutines and, for the durable backends,
// by many processes on the same database; times are kept at microsecond
// precision, and come from the caller: a store never reads the clock. After
// Close every method returns ErrClosed.
//
// A key whose ttl passed stays stored, unused, until Purge deletes it (it
// does whatever the retention policy, and counts it in PurgeResult.Keys) or
// a BeginKey of the same key replaces it.
type KeyStore interface {
	// BeginKey claims key at time now for a request whose body hashes to
	// fingerprint, or tells why it cannot:
	//
	//   - a key not stored, or stored but expired (its ttl passed: now is at
	//     or after the time of its claim plus ttl), or claimed by a request
	//     whose lease passed without an answer (its process died) gives the
	//     caller a new claim, which holds the key for lease and keeps it for
	//     ttl from now: Token is set, and Fingerprint is fingerprint;
	//   - a finished key gives its Answer;
	//   - a key claimed by a request whose lease has not passed gives
	//     Running;
	//
	// and in the last two cases Fingerprint is the fingerprint the key was
	// claimed with, for the caller to detect a key reused with another
	// request. Of several callers beginning a key that none holds, in this
	// process or another, exactly one gets the claim. lease and ttl must be
	// positive, or BeginKey returns an error.
	BeginKey(ctx context.Context, key, fingerprint string, now time.Time, lease, ttl time.Duration) (KeyClaim, error)

	// FinishKey keeps answer as the final answer of key if token holds its
	// claim, which ends the claim; later BeginKey calls return the answer
	// until the key expires. The lease does not matter: a claim whose lease
	// passed but that no other caller took over is still held. FinishKey
	// returns ErrKeyLost if token no longer holds the claim.
	FinishKey(ctx context.Context, key, token string, answer []byte) error

	// AbandonKey drops key, which token claims, without keeping anything,
	// so that the next BeginKey claims it again, whatever its fingerprint.
	// AbandonKey returns ErrKeyLost if token no longer holds the claim.
	AbandonKey(ctx context.Context, key, token string) error

	// RenewKey extends the lease of the claim token holds on key to now
	// plus lease. A request that may run longer than its lease renews it
	// while it runs, well before it passes, so that no other caller takes
	// the key over and does the request again; a process that dies stops
	// renewing, and the key can be taken over once the lease passes. As
	// for FinishKey, a claim whose lease passed but that no other caller
	// took over is still held, and renews. The ttl is unchanged. RenewKey
	// returns ErrKeyLost if token no longer holds the claim (or the claim
	// finished); lease must be positive, or RenewKey returns an error.
	RenewKey(ctx context.Context, key, token string, now time.Time, lease time.Duration) error
}

// KeyClaim is what BeginKey found: exactly one of Token, Answer and Running
// is set.
type KeyClaim struct {
	// Token is set when the caller now holds the key's claim: it must
	// finish the claim with FinishKey or drop it with AbandonKey. It is 128
	// random bits, hex encoded.
	Token string
	// Fingerprint is the fingerprint the key was claimed with.
	Fingerprint string
	// Answer is set (non-nil, even if empty) when the key's request
	// finished with this answer.
	Answer []byte
	// Running means that another caller holds the key and its lease has
	// not passed: its request is still running. Call BeginKey again later.
	Running bool
}

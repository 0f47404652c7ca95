// Package store is the persistence contract of ratioflow's engine.
//
// A flow spans many requests of one person over minutes, so the engine saves
// it after every transition and any process may load it again. Store is the
// small interface every backend implements: store/memstore for tests,
// store/sqlitestore (the embedded default) for one machine and
// store/pgstore for several replicas on one PostgreSQL. store/storetest is
// the conformance suite all three pass, so they behave the same.
//
// Records are opaque to a store beyond the fields it indexes: Data holds the
// engine's flow data with every secret already sealed, so nothing a store
// writes needs protecting beyond ordinary database hygiene.
package store

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/ratioflow/ratioflow/states"
)

// Sentinel errors. Backends wrap them with context; callers match them with
// errors.Is.
var (
	// ErrNotFound means no flow has the requested ID.
	ErrNotFound = errors.New("flow not found")
	// ErrConflict means the flow's version is not the expected one: another
	// writer updated it first. The caller reloads and retries.
	ErrConflict = errors.New("flow version conflict")
	// ErrAlreadyExists means Create was given an ID that is already stored.
	ErrAlreadyExists = errors.New("flow already exists")
	// ErrClosed means the store was used after Close.
	ErrClosed = errors.New("store closed")
	// ErrInvalidPageToken means List was given a page token that no List
	// returned.
	ErrInvalidPageToken = errors.New("invalid page token")
)

// Store persists flows. Every method takes a context first and returns
// ctx.Err() (possibly wrapped) when the context is done before the work is;
// a method called with a context that is already done writes nothing.
// Implementations are safe for concurrent use by many goroutines, and, for
// the durable backends, by many processes on the same database.
//
// Stores keep times at microsecond precision: they truncate every time they
// are given (in records, history entries, pending calls and arguments) to the
// microsecond, compare times at that precision, and return times in UTC.
// They never read the clock: every time comes from the caller.
type Store interface {
	// Create stores a new record with Version 1, together with the given
	// history entries, numbered from 1 (the Seq given is ignored). It sets
	// rec.Version to 1. Create returns ErrAlreadyExists if a record with
	// rec.ID is already stored, and an *InvalidError (ErrInvalid) if rec.ID
	// or rec.Subject is a string no store keeps (see CheckID); on error
	// nothing is written and rec is unchanged.
	Create(ctx context.Context, rec *Record, history ...HistoryEntry) error

	// Get returns the record with the given ID, without its history (see
	// History). Get returns ErrNotFound if no record has that ID, such as
	// an ID no store keeps (see CheckID).
	Get(ctx context.Context, id string) (*Record, error)

	// Update replaces the stored record rec.ID with rec if the stored version
	// equals rec.Version, and appends the given history entries in the same
	// atomic write. Kind, Subject and CreatedAt are fixed by Create: Update
	// keeps the stored values. On success it increments rec.Version. The
	// store numbers the entries itself, continuing the flow's sequence (the
	// Seq given is ignored), and never rewrites an entry. Update ends any
	// claim on the record (see ClaimExpired). Update returns ErrConflict if
	// the stored version differs and ErrNotFound if no record has that ID; on
	// error nothing is written and rec is unchanged.
	Update(ctx context.Context, rec *Record, history ...HistoryEntry) error

	// History returns the audit history of a flow, ordered by Seq from 1.
	// History returns ErrNotFound if no record has that ID.
	History(ctx context.Context, id string) ([]HistoryEntry, error)

	// List returns records matching q, ordered by creation time then ID
	// (both descending if q.Descending), without history, one page at a
	// time. List returns ErrInvalidPageToken
	// if q.PageToken is not a token List returned.
	List(ctx context.Context, q Query) (Page, error)

	// ClaimExpired claims up to limit records that are not terminal and
	// whose ExpiresAt is at or before now, and that no other claim holds,
	// for lease. Concurrent callers never receive the same record while its
	// lease runs; a claim ends when the lease passes or the record is
	// updated. The records come oldest ExpiresAt first, without history; a
	// record with a zero ExpiresAt never expires, and a limit below 1 claims
	// nothing. The caller moves each claimed record to a terminal state with
	// Update.
	ClaimExpired(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]*Record, error)

	// Purge applies a retention policy at time now: terminal records that
	// ended before now-policy.KeepData lose their Data and Pending call (the
	// sealed secrets) but keep their history; terminal records that ended
	// before now-policy.KeepHistory are deleted with their history. A zero
	// duration keeps forever. Scrubbing increments the record's Version, so a
	// writer holding an older copy gets ErrConflict instead of restoring the
	// data. Records that have not ended are never touched. A store that
	// implements KeyStore also deletes, whatever the policy, the idempotency
	// keys whose ttl passed at now.
	Purge(ctx context.Context, now time.Time, policy Retention) (PurgeResult, error)

	// Close releases the store's resources. Every later call, Close
	// included, returns ErrClosed.
	io.Closer
}

// Record is one persisted flow.
type Record struct {
	// ID is the flow's identifier: 128 bits, hex encoded, unguessable. The
	// engine's begin with the creation time, so that flows started together
	// sit together in a store's indexes (see package flow).
	ID string
	// Kind names the flow's declared graph ("link", "signin", ...).
	Kind string
	// GraphVersion is the content hash of the graph the flow started on.
	GraphVersion string
	// State is the flow's current state.
	State states.State
	// Version counts the writes of the record: 1 after Create, incremented by
	// every Update. It is the compare-and-swap token.
	Version int64
	// Subject is the identity that started the flow; only it may see it.
	Subject string
	// Data is the engine's flow data, opaque to the store, secrets sealed.
	// An empty Data is stored and returned as nil.
	Data []byte
	// Pending is the Ratio call in flight, recorded before it is made, or nil.
	Pending *PendingCall
	// CreatedAt and UpdatedAt are the times of the first and the latest write.
	CreatedAt, UpdatedAt time.Time
	// ExpiresAt is when the flow (or its current state) passes its deadline;
	// zero means never.
	ExpiresAt time.Time
	// EndedAt is when the flow reached a terminal state; zero while it runs.
	EndedAt time.Time
}

// Terminal reports whether the record's flow has ended.
func (r *Record) Terminal() bool { return !r.EndedAt.IsZero() }

// Clone returns a deep copy of r.
func (r *Record) Clone() *Record {
	c := *r
	if r.Data != nil {
		c.Data = append([]byte(nil), r.Data...)
	}
	if r.Pending != nil {
		p := *r.Pending
		c.Pending = &p
	}
	return &c
}

// PendingCall records a Ratio call that the engine is about to make, so that
// a process that dies during the call leaves a trace the next step can
// reconcile instead of repeating the side effect blindly.
type PendingCall struct {
	// Call names the Ratio operation, e.g. "cryptoWallet:addToUser".
	Call string `json:"call"`
	// Event is the flow event whose transition makes the call.
	Event string `json:"event"`
	// Key is an idempotency key unique to this attempt.
	Key string `json:"key"`
	// StartedAt is when the call was recorded.
	StartedAt time.Time `json:"startedAt"`
	// RenewedAt is when the step making the call last renewed its lease,
	// or zero: the engine renews it while the call is in flight, so that
	// only a process that died lets it run out.
	RenewedAt time.Time `json:"renewedAt,omitzero"`
}

// HistoryEntry is one line of a flow's audit history: a transition taken or
// an attempt that left the state unchanged. It never holds a secret: no JWT,
// no OTP, no signature.
type HistoryEntry struct {
	// Seq numbers the entries of one flow from 1, without gaps; set by the store.
	Seq int64 `json:"seq"`
	// At is when the step finished.
	At time.Time `json:"at"`
	// From and To are the states before and after the step.
	From states.State `json:"from"`
	To   states.State `json:"to"`
	// Event is the event that was fired.
	Event string `json:"event"`
	// Outcome classifies the result: "ok", "conflict", "rate_limited", ...
	Outcome string `json:"outcome"`
	// Call is the Ratio operation made, if any.
	Call string `json:"call,omitempty"`
	// Status and Code are Ratio's HTTP status and error code, when the call
	// made was answered with an error; a success records neither.
	Status int    `json:"status,omitempty"`
	Code   string `json:"code,omitempty"`
	// Duration is how long the Ratio call took.
	Duration time.Duration `json:"duration,omitempty"`
}

// Query selects records for List. Zero fields do not filter.
type Query struct {
	Kind    string
	State   states.State
	Subject string
	// Running keeps only the records whose flow has not ended (EndedAt
	// zero): the flows a user may still step, or a sweeper may expire.
	Running bool
	// CreatedBefore and CreatedAfter bound the records' creation time
	// (exclusive), to filter by age.
	CreatedBefore, CreatedAfter time.Time
	// Descending lists the newest first: by creation time then ID, both
	// descending, instead of the oldest first.
	Descending bool
	// Limit is the page size; zero means 100. Backends cap it at 1000.
	Limit int
	// PageToken continues a previous List; empty starts at the beginning.
	// A token continues a listing in its own order only: List returns
	// ErrInvalidPageToken for a token of the other order.
	PageToken string
}

// Page is one page of List results.
type Page struct {
	Records []*Record
	// NextPageToken continues the listing; empty on the last page.
	NextPageToken string
}

// Retention is how long ended flows are kept. Zero durations mean "forever".
type Retention struct {
	// KeepData is how long a terminal flow keeps its Data and Pending call.
	KeepData time.Duration
	// KeepHistory is how long a terminal flow and its history are kept.
	KeepHistory time.Duration
}

// PurgeResult counts what Purge did.
type PurgeResult struct {
	// Scrubbed counts records whose Data or Pending call this call dropped.
	Scrubbed int
	// Deleted counts records deleted with their history.
	Deleted int
	// Keys counts the expired idempotency keys deleted (see KeyStore).
	Keys int
}

// DefaultPageSize and MaxPageSize bound List pages.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// PageSize returns the effective page size of q.
func (q Query) PageSize() int {
	switch {
	case q.Limit <= 0:
		return DefaultPageSize
	case q.Limit > MaxPageSize:
		return MaxPageSize
	}
	return q.Limit
}

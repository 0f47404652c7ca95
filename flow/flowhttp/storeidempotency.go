package flowhttp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/ratioflow/ratioflow/store"
)

// Defaults of NewStoreIdempotency.
const (
	// DefaultIdempotencyTTL is how long answers are kept.
	DefaultIdempotencyTTL = 24 * time.Hour
	// DefaultIdempotencyLease is how long a request holds its key before
	// another request with the key may take it over.
	DefaultIdempotencyLease = time.Minute
)

// How StoreIdempotency waits for a request with the same key to finish:
// it asks the store again after pollMin, then twice as long each time, up
// to pollMax.
const (
	pollMin = 10 * time.Millisecond
	pollMax = 250 * time.Millisecond
)

// finishTimeout bounds the write that keeps (or drops) an answer. The
// write does not end with the request's context: the request was answered,
// and its answer must be kept even if the client has gone.
const finishTimeout = 10 * time.Second

// StoreIdempotency is an IdempotencyStore that keeps its keys in a
// store.KeyStore, such as the flow store itself: with store/sqlitestore or
// store/pgstore, every process or replica using the database shares them,
// so a retry that reaches another replica replays the first answer instead
// of doing the step again. Create it with NewStoreIdempotency and change
// its fields, if need be, before first use.
//
// Keys reach the store as SHA-256 hashes (a key names the caller), and
// answers as a JSON head (status and header) followed by a newline and the
// body. While another request holds a key, Begin asks the store again
// after 10 ms, then twice as long each time up to 250 ms, until that
// request finishes, its lease passes or ctx is done. While a request runs,
// its claim's lease is renewed every third of the Lease, so a request may
// take longer than its Lease; if its process dies, the renewals stop and
// a retry takes the key over once the Lease passes. A failure to keep or
// drop an answer, or a claim lost while its request ran, is logged with
// the Logger of the Handler that called Begin, if it has one: the request
// was answered, but a retry may do it again.
//
// The store deletes the expired keys when its Purge runs.
type StoreIdempotency struct {
	keys store.KeyStore
	// TTL is how long an answer is kept, counted from when its request
	// began. It must be positive, as must Lease.
	TTL time.Duration
	// Lease is how long a request's claim on its key outlives the last
	// renewal: a request with the same key that comes later waits for the
	// answer, and takes the key over (and does the step) only once the
	// lease passed with no renewal, its process having died. The claim is
	// renewed every Lease/3 while its request runs, so the Lease bounds
	// how long a retry waits after a crash, not how long a request may
	// take; it should exceed a few round trips to the store.
	Lease time.Duration
	// Now returns the current time, which the store's leases and expiries
	// count from.
	Now func() time.Time
}

var _ IdempotencyStore = (*StoreIdempotency)(nil)

// NewStoreIdempotency returns an IdempotencyStore that keeps its keys in
// keys, answers for ttl (DefaultIdempotencyTTL if not positive), with a
// Lease of DefaultIdempotencyLease and the Now of time.Now.
func NewStoreIdempotency(keys store.KeyStore, ttl time.Duration) *StoreIdempotency {
	if ttl <= 0 {
		ttl = DefaultIdempotencyTTL
	}
	return &StoreIdempotency{keys: keys, TTL: ttl, Lease: DefaultIdempotencyLease, Now: time.Now}
}

// Begin implements IdempotencyStore.
func (s *StoreIdempotency) Begin(ctx context.Context, key, fingerprint string) (*Response, func(*Response), error) {
	sum := sha256.Sum256([]byte(key))
	hashed := hex.EncodeToString(sum[:])
	for delay := pollMin; ; delay = min(2*delay, pollMax) {
		c, err := s.keys.BeginKey(ctx, hashed, fingerprint, s.Now(), s.Lease, s.TTL)
		switch {
		case err != nil:
			return nil, nil, fmt.Errorf("begin idempotency key: %w", err)
		case c.Token != "":
			return nil, s.hold(ctx, hashed, c.Token), nil
		case c.Fingerprint != fingerprint:
			return nil, nil, ErrKeyReused
		case c.Answer != nil:
			resp, err := decodeResponse(c.Answer)
			if err != nil {
				return nil, nil, fmt.Errorf("read the answer kept for an idempotency key: %w", err)
			}
			return resp, nil, nil
		}
		t := time.NewTimer(delay) // c.Running: wait for the answer
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil, ctx.Err()
		case <-t.C:
		}
	}
}

// hold keeps the claim token holds on key while its request runs,
// renewing its lease, and returns the request's finish function: it stops
// the renewals, then keeps the answer, or drops the claim for nil, once.
func (s *StoreIdempotency) hold(ctx context.Context, key, token string) func(*Response) {
	log := loggerFrom(ctx)
	ctx = context.WithoutCancel(ctx)
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		s.renew(ctx, log, key, token, stop)
	}()
	var once sync.Once
	return func(r *Response) {
		once.Do(func() {
			close(stop)
			<-stopped
			ctx, cancel := context.WithTimeout(ctx, finishTimeout)
			defer cancel()
			if r == nil {
				// ErrKeyLost: another request took the key over; nothing to drop.
				if err := s.keys.AbandonKey(ctx, key, token); err != nil && !errors.Is(err, store.ErrKeyLost) {
					logKeyFailure(ctx, log, "drop", err)
				}
				return
			}
			err := s.keys.FinishKey(ctx, key, token, encodeResponse(r))
			if err == nil {
				return
			}
			logKeyFailure(ctx, log, "keep", err)
			if !errors.Is(err, store.ErrKeyLost) {
				// Let a retry do the step rather than wait for the lease.
				_ = s.keys.AbandonKey(ctx, key, token)
			}
		})
	}
}

// renew renews the lease of the claim token holds on key every Lease/3
// until stop is closed, the claim is lost (another request took the key
// over: nothing is left to renew) or the key expired (its ttl passed: the
// next request with the key claims it anyway). A renewal that fails
// otherwise is logged and tried again at the next one, with two thirds of
// the lease left.
func (s *StoreIdempotency) renew(ctx context.Context, log *slog.Logger, key, token string, stop <-chan struct{}) {
	every := max(s.Lease/3, time.Millisecond)
	expires := s.Now().Add(s.TTL)
	t := time.NewTimer(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		now := s.Now()
		if !now.Before(expires) {
			return
		}
		rctx, cancel := context.WithTimeout(ctx, every)
		err := s.keys.RenewKey(rctx, key, token, now, s.Lease)
		cancel()
		if err != nil {
			logKeyFailure(ctx, log, "renew", err)
			if errors.Is(err, store.ErrKeyLost) {
				return
			}
		}
		t.Reset(every)
	}
}

// logFinish logs a failure to keep, drop or renew (what) a claim, if log
// is set.
func logKeyFailure(ctx context.Context, log *slog.Logger, what string, err error) {
	if log == nil {
		return
	}
	msg := "idempotency: cannot " + what + " the answer: a retry may do the request again"
	switch {
	case errors.Is(err, store.ErrKeyLost):
		msg = "idempotency: the request lost its key's claim (its lease passed): a retry may have done it again"
	case what == "renew":
		msg = "idempotency: cannot renew the lease of a running request's key: a retry may do it again if the lease passes"
	}
	log.LogAttrs(ctx, slog.LevelError, msg, slog.String("err", err.Error()))
}

// loggerKey is the context key under which the Handler passes its Logger
// to Begin, for StoreIdempotency's finish functions.
type loggerKey struct{}

// withLogger returns ctx carrying log, if it is set.
func withLogger(ctx context.Context, log *slog.Logger) context.Context {
	if log == nil {
		return ctx
	}
	return context.WithValue(ctx, loggerKey{}, log)
}

// loggerFrom returns the logger ctx carries, or nil.
func loggerFrom(ctx context.Context) *slog.Logger {
	log, _ := ctx.Value(loggerKey{}).(*slog.Logger)
	return log
}

// responseHead is what a kept answer holds before its body.
type responseHead struct {
	Status int         `json:"status"`
	Header http.Header `json:"header,omitempty"`
}

// encodeResponse encodes r as StoreIdempotency keeps it: the JSON of its
// head, a newline (which JSON encodes nowhere else) and the body.
func encodeResponse(r *Response) []byte {
	head, _ := json.Marshal(responseHead{Status: r.Status, Header: r.Header}) // cannot fail
	return append(append(head, '\n'), r.Body...)
}

// decodeResponse reads an answer written by encodeResponse.
func decodeResponse(b []byte) (*Response, error) {
	head, body, ok := bytes.Cut(b, []byte{'\n'})
	var h responseHead
	if !ok {
		return nil, errors.New("no head")
	}
	if err := json.Unmarshal(head, &h); err != nil {
		return nil, fmt.Errorf("head: %w", err)
	}
	if h.Status < 100 || h.Status > 999 {
		return nil, fmt.Errorf("status %d", h.Status)
	}
	return &Response{Status: h.Status, Header: h.Header, Body: body}, nil
}

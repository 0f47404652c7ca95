package flowhttp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Response is an answer kept for an Idempotency-Key.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// ErrKeyReused: an Idempotency-Key came back with another request body.
var ErrKeyReused = errors.New("idempotency key reused with a different request")

// IdempotencyStore keeps the first answer to each idempotency key.
type IdempotencyStore interface {
	// Begin claims key for a request whose body hashes to fingerprint. For
	// a new key it returns a nil Response and a finish function the caller
	// must call exactly once with the answer to keep (or nil to keep
	// nothing, so a retry runs again). For a key whose request finished it
	// returns the kept Response. For a key whose request is still running
	// it waits for it, until ctx is done. A key seen with another
	// fingerprint returns ErrKeyReused.
	Begin(ctx context.Context, key, fingerprint string) (*Response, func(*Response), error)
}

// memoryIdempotency is an in-memory IdempotencyStore for one process.
type memoryIdempotency struct {
	ttl time.Duration
	max int
	mu  sync.Mutex // guards keys
	// keys holds every key not yet expired.
	keys map[string]*idemEntry
}

type idemEntry struct {
	fingerprint string
	done        chan struct{} // closed when resp is set
	resp        *Response
	expires     time.Time
}

// NewMemoryIdempotency returns an in-memory IdempotencyStore that keeps
// answers for ttl (default 24 hours) and at most max keys (default 100000;
// the oldest are dropped first). It suits one replica; several replicas
// behind a load balancer need a shared store, such as NewStoreIdempotency
// on their flow store.
func NewMemoryIdempotency(ttl time.Duration, max int) IdempotencyStore {
	if ttl <= 0 {
		ttl = 24 * time.Hour
	}
	if max <= 0 {
		max = 100000
	}
	return &memoryIdempotency{ttl: ttl, max: max, keys: map[string]*idemEntry{}}
}

// Begin implements IdempotencyStore.
func (m *memoryIdempotency) Begin(ctx context.Context, key, fingerprint string) (*Response, func(*Response), error) {
	m.mu.Lock()
	e, ok := m.keys[key]
	if ok && time.Now().After(e.expires) {
		delete(m.keys, key)
		ok = false
	}
	if !ok {
		m.evict()
		e = &idemEntry{fingerprint: fingerprint, done: make(chan struct{}), expires: time.Now().Add(m.ttl)}
		m.keys[key] = e
		m.mu.Unlock()
		var once sync.Once
		return nil, func(r *Response) {
			once.Do(func() {
				m.mu.Lock()
				if r == nil {
					delete(m.keys, key)
				} else {
					e.resp = r
				}
				m.mu.Unlock()
				close(e.done)
			})
		}, nil
	}
	m.mu.Unlock()
	if e.fingerprint != fingerprint {
		return nil, nil, ErrKeyReused
	}
	select {
	case <-e.done:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	m.mu.Lock()
	resp := e.resp
	m.mu.Unlock()
	if resp == nil { // the first request kept nothing: run this one
		return m.Begin(ctx, key, fingerprint)
	}
	return resp, nil, nil
}

// evict drops expired keys, and the oldest ones beyond max. Called with mu held.
func (m *memoryIdempotency) evict() {
	if len(m.keys) < m.max {
		return
	}
	now := time.Now()
	var oldestKey string
	var oldest time.Time
	for k, e := range m.keys {
		if now.After(e.expires) {
			delete(m.keys, k)
			continue
		}
		if oldestKey == "" || e.expires.Before(oldest) {
			oldestKey, oldest = k, e.expires
		}
	}
	if len(m.keys) >= m.max && oldestKey != "" {
		delete(m.keys, oldestKey)
	}
}

// idempotent wraps a POST handler: a request with an Idempotency-Key header
// returns the first answer given to that key (for the same caller, path and
// body) without running the step again.
func (h *Handler) idempotent(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if key == "" || h.Idempotency == nil {
			next(w, r)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			h.problem(w, r, &problem{Code: "body_too_large", Detail: "the body is too large"})
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.Sum256(body)
		scoped := h.who(r) + "\x00" + r.Method + " " + r.URL.Path + "\x00" + key
		kept, finish, err := h.Idempotency.Begin(withLogger(r.Context(), h.Logger), scoped, hex.EncodeToString(sum[:]))
		switch {
		case errors.Is(err, ErrKeyReused):
			h.problem(w, r, &problem{Code: "idempotency_key_reused",
				Detail: "this Idempotency-Key was used with a different request"})
			return
		case err != nil: // logged at ERROR with its cause, as every 5xx
			h.problem(w, r, &problem{Code: "idempotency_unavailable", RetryAfter: 1,
				Detail: "the store of Idempotency-Keys failed; retry", cause: fmt.Errorf("idempotency store: %w", err)})
			return
		case kept != nil:
			for k, vs := range kept.Header {
				w.Header()[k] = vs
			}
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(kept.Status)
			_, _ = w.Write(kept.Body)
			return
		}
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if p := recover(); p != nil {
				finish(nil) // the answer is whatever was written before the panic: never keep it
				panic(p)
			}
			if keep(rec) {
				finish(&Response{Status: rec.status, Header: w.Header().Clone(), Body: rec.body.Bytes()})
			} else {
				finish(nil)
			}
		}()
		next(rec, r)
	}
}

// keep reports whether an answer is final for its key. Answers that mean
// "nothing happened, try again" are not kept: a concurrent step, a wait,
// and server-side failures.
func keep(rec *recorder) bool {
	return rec.status < 500 && rec.status != http.StatusConflict && rec.status != http.StatusTooManyRequests
}

// recorder copies what a handler writes.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

// WriteHeader records the status and writes it through.
func (r *recorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// Write records the bytes and writes them through.
func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

package flowhttp_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/flow/flowhttp"
	"github.com/ratioflow/ratioflow/flow/flowtest"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/memstore"
	"github.com/ratioflow/ratioflow/store/sqlitestore"
)

// replicas returns two frontends of one flow API served by two replicas:
// two engines, each with its own store on one SQLite file, as two
// processes would open it, and each handler keeping its Idempotency-Keys
// in its store. They share the harness's sandbox and clock.
func replicas(t *testing.T) (a, b *api) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "flows.db")
	open := func() *sqlitestore.Store {
		s, err := sqlitestore.Open(t.Context(), path)
		if err != nil {
			t.Fatalf("sqlitestore.Open() = %v", err)
		}
		return s
	}
	h := flowtest.New(t, flowtest.Options{Store: open()})
	second := open()
	t.Cleanup(func() { second.Close() })
	engineB, err := flow.New(second, h.Ratio, flowtest.SealKey, flow.Options{Now: h.Clock.Now})
	if err != nil {
		t.Fatalf("flow.New() = %v", err)
	}
	serve := func(e *flow.Engine, ks store.KeyStore) string {
		handler := flowhttp.New(e, flowhttp.HeaderSubject(subjectHeader))
		idem := flowhttp.NewStoreIdempotency(ks, 0)
		idem.Now = h.Clock.Now
		handler.Idempotency = idem
		srv := httptest.NewServer(handler)
		t.Cleanup(srv.Close)
		return srv.URL
	}
	a = &api{t: t, h: h, url: serve(h.Engine, h.Store.(store.KeyStore)), subject: "user-1"}
	b = &api{t: t, h: h, url: serve(engineB, second), subject: "user-1"}
	return a, b
}

// A POST retried on another replica with the same Idempotency-Key replays
// the first answer: one Ratio call for both. The key with another body is
// refused there too.
func TestStoreIdempotency_RetryOnAnotherReplica(t *testing.T) {
	a, b := replicas(t)
	path, _, _ := toConflict(a)
	sends := func() int { return a.h.Sandbox.Stats().Calls[ratio.OpSendSMS.Route()] }
	before := sends()

	first := a.do("POST", path+"/events/confirm_phone", `{}`, "Idempotency-Key", "k1")
	a.want(first, http.StatusOK, "")
	if first.view.State != states.SmsFirstSent {
		t.Fatalf("first answer: %s", first.raw)
	}
	again := b.do("POST", path+"/events/confirm_phone", `{}`, "Idempotency-Key", "k1")
	b.want(again, http.StatusOK, "")
	if again.raw != first.raw || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry on replica B = %s (replayed %q), want the first answer %s",
			again.raw, again.header.Get("Idempotent-Replayed"), first.raw)
	}
	for _, h := range []string{"Content-Type", "Cache-Control"} {
		if again.header.Get(h) != first.header.Get(h) {
			t.Errorf("replayed %s = %q, want %q", h, again.header.Get(h), first.header.Get(h))
		}
	}
	if got := sends() - before; got != 1 {
		t.Errorf("sms:send calls for two requests with one key on two replicas = %d, want 1", got)
	}
	b.want(b.do("POST", path+"/events/confirm_phone", `{"otp":"123456"}`, "Idempotency-Key", "k1"),
		http.StatusUnprocessableEntity, "idempotency_key_reused")
	// Without the key, replica B does the request: the flow moved on.
	b.want(b.do("POST", path+"/events/confirm_phone", `{}`), http.StatusConflict, "not_permitted")
}

// Two replicas given the same request at once: one does it, the other
// waits for its answer and replays it.
func TestStoreIdempotency_ConcurrentOnTwoReplicas(t *testing.T) {
	a, b := replicas(t)
	path, _, _ := toConflict(a)
	sends := func() int { return a.h.Sandbox.Stats().Calls[ratio.OpSendSMS.Route()] }
	before := sends()
	a.h.Sandbox.SetLatency(ratio.OpSendSMS, 100*time.Millisecond)
	answers := make([]answer, 2)
	var wg sync.WaitGroup
	for i, r := range []*api{a, b} {
		wg.Go(func() { answers[i] = r.do("POST", path+"/events/confirm_phone", `{}`, "Idempotency-Key", "k-both") })
	}
	wg.Wait()
	replayed := 0
	for i, ans := range answers {
		if ans.status != http.StatusOK {
			t.Errorf("replica %d: status %d: %s", i, ans.status, ans.raw)
		}
		if ans.header.Get("Idempotent-Replayed") == "true" {
			replayed++
		}
	}
	if answers[0].raw != answers[1].raw || replayed != 1 {
		t.Errorf("answers %s and %s, %d replayed; want one answer, replayed once", answers[0].raw, answers[1].raw, replayed)
	}
	if got := sends() - before; got != 1 {
		t.Errorf("sms:send calls = %d, want 1", got)
	}
}

func newIdem(t *testing.T) (*flowhttp.StoreIdempotency, *memstore.Store, *sandbox.Clock) {
	t.Helper()
	ms := memstore.New()
	t.Cleanup(func() { ms.Close() })
	clock := sandbox.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	idem := flowhttp.NewStoreIdempotency(ms, time.Hour)
	idem.Now = clock.Now
	return idem, ms, clock
}

// begin calls Begin and fails the test on error.
func begin(tb testing.TB, idem flowhttp.IdempotencyStore, key, fingerprint string) (*flowhttp.Response, func(*flowhttp.Response)) {
	tb.Helper()
	resp, finish, err := idem.Begin(tb.Context(), key, fingerprint)
	if err != nil {
		tb.Fatalf("Begin(%q) = %v", key, err)
	}
	if (resp == nil) == (finish == nil) {
		tb.Fatalf("Begin(%q) = %v and finish %v: want exactly one", key, resp, finish != nil)
	}
	return resp, finish
}

func TestStoreIdempotency_KeepsTheFirstAnswer(t *testing.T) {
	idem, _, _ := newIdem(t)
	_, finish := begin(t, idem, "k", "fp")
	first := &flowhttp.Response{Status: http.StatusCreated,
		Header: http.Header{"Content-Type": {"application/json"}, "Vary": {"A", "B"}}, Body: []byte("{\"id\":1}\n")}
	finish(first)
	finish(&flowhttp.Response{Status: http.StatusTeapot}) // once only
	got, _ := begin(t, idem, "k", "fp")
	if diff := cmp.Diff(first, got); diff != "" {
		t.Errorf("kept answer mismatch (-want +got):\n%s", diff)
	}
	if _, _, err := idem.Begin(t.Context(), "k", "another fingerprint"); !errors.Is(err, flowhttp.ErrKeyReused) {
		t.Errorf("Begin(finished key, another fingerprint) = %v, want ErrKeyReused", err)
	}
}

func TestStoreIdempotency_FinishNilLetsARetryRun(t *testing.T) {
	idem, _, _ := newIdem(t)
	_, finish := begin(t, idem, "k", "fp")
	finish(nil)
	finish(&flowhttp.Response{Status: http.StatusOK}) // once only: ignored
	if _, again := begin(t, idem, "k", "another fingerprint"); again == nil {
		t.Fatal("Begin after finish(nil) replayed an answer, want a new claim")
	}
}

// The store sees a SHA-256 of the key, never the key, which names the
// caller.
func TestStoreIdempotency_HashesKeys(t *testing.T) {
	idem, ms, clock := newIdem(t)
	_, finish := begin(t, idem, "user-1\x00POST /v1/flows\x00k", "fp")
	finish(&flowhttp.Response{Status: http.StatusOK})
	sum := sha256.Sum256([]byte("user-1\x00POST /v1/flows\x00k"))
	c, err := ms.BeginKey(t.Context(), hex.EncodeToString(sum[:]), "fp", clock.Now(), time.Minute, time.Hour)
	if err != nil || c.Answer == nil {
		t.Errorf("BeginKey(SHA-256 of the key) = %+v, %v; want the kept answer", c, err)
	}
}

// Begin waits while another request holds the key: for its answer, for
// its claim dropped, or until ctx is done. A key reused with another body
// is refused without waiting.
func TestStoreIdempotency_WaitsForTheRunningRequest(t *testing.T) {
	idem, _, _ := newIdem(t)
	want := &flowhttp.Response{Status: http.StatusOK, Body: []byte("answer")}
	tests := []struct {
		name   string
		finish *flowhttp.Response // what the running request keeps
		claim  bool               // whether the waiter gets the claim
	}{
		{"answered", want, false},
		{"dropped", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, finish := begin(t, idem, "k-"+tt.name, "fp")
			if _, _, err := idem.Begin(t.Context(), "k-"+tt.name, "other"); !errors.Is(err, flowhttp.ErrKeyReused) {
				t.Errorf("Begin(running key, another fingerprint) = %v, want ErrKeyReused", err)
			}
			time.AfterFunc(50*time.Millisecond, func() { finish(tt.finish) })
			start := time.Now()
			got, again := begin(t, idem, "k-"+tt.name, "fp")
			if waited := time.Since(start); waited < 40*time.Millisecond {
				t.Errorf("Begin returned after %v, before the running request finished", waited)
			}
			if tt.claim {
				if again == nil {
					t.Errorf("Begin after the running request dropped its claim = %+v, want a claim", got)
				}
				return
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("answer waited for mismatch (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("ctx done", func(t *testing.T) {
		begin(t, idem, "k-ctx", "fp")
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
		defer cancel()
		if _, _, err := idem.Begin(ctx, "k-ctx", "fp"); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Begin(running key) until ctx is done = %v, want context.DeadlineExceeded", err)
		}
	})
}

// A request whose process died holds its key until the lease passes; then
// a retry takes it over, and the first request can no longer keep its
// answer.
func TestStoreIdempotency_LeaseTakeover(t *testing.T) {
	idem, _, clock := newIdem(t)
	_, stale := begin(t, idem, "k", "fp")
	clock.Advance(idem.Lease)
	_, finish := begin(t, idem, "k", "fp")
	stale(&flowhttp.Response{Status: http.StatusOK, Body: []byte("stale")})
	finish(&flowhttp.Response{Status: http.StatusOK, Body: []byte("fresh")})
	if got, _ := begin(t, idem, "k", "fp"); string(got.Body) != "fresh" {
		t.Errorf("kept answer %q, want the takeover's", got.Body)
	}
}

func TestStoreIdempotency_StoreFailure(t *testing.T) {
	idem, ms, _ := newIdem(t)
	ms.Close()
	if _, _, err := idem.Begin(t.Context(), "k", "fp"); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Begin(closed store) = %v, want ErrClosed", err)
	}
}

// failingKeys is a KeyStore whose FinishKey fails, and which counts the
// AbandonKey calls.
type failingKeys struct {
	store.KeyStore
	mu        sync.Mutex
	abandoned int
}

func (f *failingKeys) FinishKey(context.Context, string, string, []byte) error {
	return errors.New("disk full")
}

func (f *failingKeys) AbandonKey(ctx context.Context, key, token string) error {
	f.mu.Lock()
	f.abandoned++
	f.mu.Unlock()
	return f.KeyStore.AbandonKey(ctx, key, token)
}

// When the answer cannot be kept, the request is still answered, the
// handler's Logger says so, and the claim is dropped so that a retry need
// not wait for the lease.
func TestStoreIdempotency_FinishFailureIsLogged(t *testing.T) {
	h := flowtest.New(t)
	keys := &failingKeys{KeyStore: h.Store.(store.KeyStore)}
	var logs flowhttp.SyncBuffer
	handler := flowhttp.New(h.Engine, flowhttp.HeaderSubject(subjectHeader))
	handler.Idempotency = flowhttp.NewStoreIdempotency(keys, 0)
	handler.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	a := &api{t: t, h: h, url: srv.URL, subject: "user-1"}
	path, w, _ := toConflict(a)
	ans := a.do("POST", path+"/events/confirm_phone", `{}`, "Idempotency-Key", "k1")
	a.want(ans, http.StatusOK, "")
	srv.Close() // waits for the handler to return, and so for finish
	if !strings.Contains(logs.String(), "cannot keep the answer") || !strings.Contains(logs.String(), "disk full") {
		t.Errorf("logs = %q, want the failure to keep the answer", logs.String())
	}
	if strings.Contains(logs.String(), "k1") || strings.Contains(logs.String(), w.Address) {
		t.Errorf("logs = %q, want neither the key nor the request", logs.String())
	}
	keys.mu.Lock()
	defer keys.mu.Unlock()
	if keys.abandoned != 1 {
		t.Errorf("AbandonKey calls after the failure = %d, want 1", keys.abandoned)
	}
}

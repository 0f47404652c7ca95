package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ratioflow/ratioflow/store"
)

// keyStore is a store under test that implements store.KeyStore.
type keyStore interface {
	store.Store
	store.KeyStore
}

// keys adapts a test of store.KeyStore to the suite's table: the test is
// skipped for a store that does not implement it.
func keys(fn func(t *testing.T, s keyStore)) func(t *testing.T, s store.Store) {
	return func(t *testing.T, s store.Store) {
		ks, ok := s.(keyStore)
		if !ok {
			t.Skipf("%T does not implement store.KeyStore", s)
		}
		fn(t, ks)
	}
}

// The lease and ttl of the key tests' claims.
const (
	keyLease = time.Minute
	keyTTL   = time.Hour
)

// tokenPattern is what a claim's token looks like: 128 bits, hex encoded.
var tokenPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// beginKey calls BeginKey with keyLease and keyTTL and fails the test on
// error.
func beginKey(tb testing.TB, s store.KeyStore, key, fingerprint string, now time.Time) store.KeyClaim {
	tb.Helper()
	c, err := s.BeginKey(tb.Context(), key, fingerprint, now, keyLease, keyTTL)
	if err != nil {
		tb.Fatalf("BeginKey(%s, %s, %v) = %v", key, fingerprint, now, err)
	}
	return c
}

// claimKey begins key, which must be free, and returns its token.
func claimKey(tb testing.TB, s store.KeyStore, key, fingerprint string, now time.Time) string {
	tb.Helper()
	c := beginKey(tb, s, key, fingerprint, now)
	checkClaim(tb, fmt.Sprintf("BeginKey(%s) of a free key", key), c, claimed(fingerprint))
	return c.Token
}

// finishKey finishes key or fails the test.
func finishKey(tb testing.TB, s store.KeyStore, key, token string, answer []byte) {
	tb.Helper()
	if err := s.FinishKey(tb.Context(), key, token, answer); err != nil {
		tb.Fatalf("FinishKey(%s) = %v", key, err)
	}
}

// anyToken stands for the token of a new claim in the claims tests expect.
const anyToken = "<token>"

// claimed is the claim BeginKey returns for a key the caller now holds.
func claimed(fingerprint string) store.KeyClaim {
	return store.KeyClaim{Token: anyToken, Fingerprint: fingerprint}
}

// running is the claim BeginKey returns for a key another caller holds.
func running(fingerprint string) store.KeyClaim {
	return store.KeyClaim{Fingerprint: fingerprint, Running: true}
}

// answered is the claim BeginKey returns for a finished key.
func answered(fingerprint string, answer []byte) store.KeyClaim {
	return store.KeyClaim{Fingerprint: fingerprint, Answer: answer}
}

// checkClaim compares got with want, where a Token of anyToken in want
// stands for any well-formed token.
func checkClaim(tb testing.TB, what string, got, want store.KeyClaim) {
	tb.Helper()
	if want.Token == anyToken && tokenPattern.MatchString(got.Token) {
		got.Token = anyToken
	}
	if diff := cmp.Diff(want, got, bytesEqual); diff != "" {
		tb.Errorf("%s mismatch (-want +got):\n%s", what, diff)
	}
}

// checkLost checks that a FinishKey or AbandonKey was refused with
// ErrKeyLost.
func checkLost(tb testing.TB, what string, err error) {
	tb.Helper()
	if !errors.Is(err, store.ErrKeyLost) {
		tb.Errorf("%s = %v, want ErrKeyLost", what, err)
	}
}

// BeginKey of a new key gives a claim; FinishKey keeps the answer and ends
// the claim; BeginKey then returns the answer, also after the lease,
// non-nil even when empty. Answers are copied in and out.
func testKeysClaimFinishReplay(t *testing.T, s keyStore) {
	ctx := t.Context()
	binary := make([]byte, 64<<10)
	_, _ = rand.NewChaCha8([32]byte{2}).Read(binary)
	tests := []struct {
		name   string
		answer []byte
		want   []byte
	}{
		{"json", []byte(`{"status":200,"body":"ok"}`), []byte(`{"status":200,"body":"ok"}`)},
		{"binary", binary, bytes.Clone(binary)},
		{"empty", []byte{}, []byte{}},
		{"nil", nil, []byte{}},
	}
	for _, tt := range tests {
		key := "k-" + tt.name
		token := claimKey(t, s, key, "fp-1", t0)
		finishKey(t, s, key, token, tt.answer)
		if len(tt.answer) > 0 {
			tt.answer[0] ^= 0xff // the store kept a copy
		}
		for _, at := range []time.Time{t0, t0.Add(keyLease), t0.Add(keyTTL - time.Microsecond)} {
			got := beginKey(t, s, key, "fp-1", at)
			checkClaim(t, fmt.Sprintf("BeginKey(%s) at +%v", key, at.Sub(t0)), got, answered("fp-1", tt.want))
			if len(got.Answer) > 0 {
				got.Answer[0] ^= 0xff // the store returned a copy
			}
		}
		checkLost(t, "FinishKey(finished key) again", s.FinishKey(ctx, key, token, []byte("other")))
		checkLost(t, "AbandonKey(finished key)", s.AbandonKey(ctx, key, token))
		checkClaim(t, "BeginKey after refused writes", beginKey(t, s, key, "fp-1", t0), answered("fp-1", tt.want))
	}
	checkLost(t, "FinishKey(unknown key)", s.FinishKey(ctx, "k-unknown", "00112233445566778899aabbccddeeff", []byte("a")))
	checkLost(t, "AbandonKey(unknown key)", s.AbandonKey(ctx, "k-unknown", "00112233445566778899aabbccddeeff"))
	token := claimKey(t, s, "k-empty-token", "fp-1", t0)
	checkLost(t, "FinishKey(empty token)", s.FinishKey(ctx, "k-empty-token", "", []byte("a")))
	checkLost(t, "AbandonKey(empty token)", s.AbandonKey(ctx, "k-empty-token", ""))
	checkLost(t, "FinishKey(another key's token)", s.FinishKey(ctx, "k-json", token, []byte("a")))
}

// BeginKey returns the fingerprint the key was claimed with, while it runs
// and once it finished, so that the caller sees a key reused with another
// request; keys are independent.
func testKeysFingerprint(t *testing.T, s keyStore) {
	token := claimKey(t, s, "k-fp", "fp-1", t0)
	checkClaim(t, "BeginKey(running key, another fingerprint)", beginKey(t, s, "k-fp", "fp-2", t0), running("fp-1"))
	checkClaim(t, "BeginKey(running key, same fingerprint)", beginKey(t, s, "k-fp", "fp-1", t0), running("fp-1"))
	claimKey(t, s, "k-fp-other", "fp-2", t0)
	finishKey(t, s, "k-fp", token, []byte("first"))
	checkClaim(t, "BeginKey(finished key, another fingerprint)", beginKey(t, s, "k-fp", "fp-2", t0),
		answered("fp-1", []byte("first")))
}

// Of many callers beginning a free key at once, exactly one gets the claim;
// the others see it running, with the winner's fingerprint.
func testKeysConcurrentBegin(t *testing.T, s keyStore) {
	const keys, callers = 8, 16
	type result struct {
		fingerprint string
		claim       store.KeyClaim
	}
	results := make([][]result, keys)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for k := range keys {
		results[k] = make([]result, callers)
		for c := range callers {
			wg.Go(func() {
				<-start
				fp := fmt.Sprintf("fp-%d", c)
				got, err := s.BeginKey(t.Context(), fmt.Sprintf("k-%d", k), fp, t0, keyLease, keyTTL)
				if err != nil {
					t.Errorf("caller %d: BeginKey(k-%d) = %v", c, k, err)
				}
				results[k][c] = result{fp, got}
			})
		}
	}
	close(start)
	wg.Wait()
	for k, rs := range results {
		var winners []string
		for _, r := range rs {
			if r.claim.Token != "" {
				winners = append(winners, r.fingerprint)
			}
		}
		if len(winners) != 1 {
			t.Errorf("k-%d: %d callers got the claim (%v), want 1", k, len(winners), winners)
			continue
		}
		for c, r := range rs {
			if r.fingerprint != winners[0] {
				checkClaim(t, fmt.Sprintf("k-%d: caller %d", k, c), r.claim, running(winners[0]))
			}
		}
	}
}

// A key is running while its claim's lease has not passed, at microsecond
// precision; then the next BeginKey takes it over with a new claim (of its
// own fingerprint and lease), and the stale token can neither finish nor
// abandon it. A claim whose lease passed that nobody took over still
// finishes.
func testKeysLease(t *testing.T, s keyStore) {
	ctx := t.Context()
	stale := claimKey(t, s, "k-lease", "fp-1", t0)
	for _, at := range []time.Time{t0, t0.Add(keyLease - time.Microsecond)} {
		checkClaim(t, fmt.Sprintf("BeginKey at +%v", at.Sub(t0)), beginKey(t, s, "k-lease", "fp-1", at), running("fp-1"))
	}
	takeover := t0.Add(keyLease - time.Nanosecond) // truncates to the lease's end
	token := claimKey(t, s, "k-lease", "fp-2", takeover)
	if token == stale {
		t.Fatalf("the takeover's token is the stale claim's")
	}
	checkLost(t, "FinishKey(stale token)", s.FinishKey(ctx, "k-lease", stale, []byte("stale")))
	checkLost(t, "AbandonKey(stale token)", s.AbandonKey(ctx, "k-lease", stale))
	checkClaim(t, "BeginKey during the takeover's lease", beginKey(t, s, "k-lease", "fp-1", t0.Add(keyLease+keyLease/2)),
		running("fp-2"))
	finishKey(t, s, "k-lease", token, []byte("second"))
	checkClaim(t, "BeginKey after the takeover finished", beginKey(t, s, "k-lease", "fp-2", t0), answered("fp-2", []byte("second")))

	late := claimKey(t, s, "k-late", "fp-1", t0)
	finishKey(t, s, "k-late", late, []byte("late")) // the lease passed, but no one took over
	checkClaim(t, "BeginKey after a late finish", beginKey(t, s, "k-late", "fp-1", t0.Add(2*keyLease)), answered("fp-1", []byte("late")))
}

// RenewKey moves the end of a claim's lease to now plus lease, even after
// the lease passed if nobody took the key over: BeginKey sees the key
// running until then, and takes it over from then on. A token that no
// longer holds the claim (taken over, finished, abandoned) cannot renew
// it, and a lease must be positive. Renewing changes neither the
// fingerprint nor the ttl.
func testKeysRenew(t *testing.T, s keyStore) {
	ctx := t.Context()
	renew := func(key, token string, at time.Time) {
		t.Helper()
		if err := s.RenewKey(ctx, key, token, at, keyLease); err != nil {
			t.Fatalf("RenewKey(%s) at +%v = %v", key, at.Sub(t0), err)
		}
	}
	token := claimKey(t, s, "k-renew", "fp-1", t0)
	renew("k-renew", token, t0.Add(keyLease/2))
	renewed := t0.Add(keyLease / 2).Add(keyLease) // the renewed lease's end
	for _, at := range []time.Time{t0.Add(keyLease), renewed.Add(-time.Microsecond)} {
		checkClaim(t, fmt.Sprintf("BeginKey at +%v, within the renewed lease", at.Sub(t0)),
			beginKey(t, s, "k-renew", "fp-1", at), running("fp-1"))
	}
	renew("k-renew", token, renewed.Add(keyLease)) // passed, but nobody took it over
	checkClaim(t, "BeginKey after a late renewal", beginKey(t, s, "k-renew", "fp-2", renewed.Add(keyLease+keyLease/2)),
		running("fp-1"))
	takeover := claimKey(t, s, "k-renew", "fp-2", renewed.Add(2*keyLease))
	checkLost(t, "RenewKey(token taken over)", s.RenewKey(ctx, "k-renew", token, renewed.Add(2*keyLease), keyLease))
	finishKey(t, s, "k-renew", takeover, []byte("answer"))
	checkLost(t, "RenewKey(finished)", s.RenewKey(ctx, "k-renew", takeover, renewed.Add(2*keyLease), keyLease))
	checkClaim(t, "BeginKey after RenewKey of a finished key", beginKey(t, s, "k-renew", "fp-2", renewed.Add(2*keyLease)),
		answered("fp-2", []byte("answer")))

	abandoned := claimKey(t, s, "k-renew-abandoned", "fp-1", t0)
	if err := s.AbandonKey(ctx, "k-renew-abandoned", abandoned); err != nil {
		t.Fatalf("AbandonKey() = %v", err)
	}
	checkLost(t, "RenewKey(abandoned)", s.RenewKey(ctx, "k-renew-abandoned", abandoned, t0, keyLease))
	checkLost(t, "RenewKey(never claimed)", s.RenewKey(ctx, "k-renew-none", abandoned, t0, keyLease))

	held := claimKey(t, s, "k-renew-lease", "fp-1", t0)
	for _, lease := range []time.Duration{0, -time.Second} {
		err := s.RenewKey(ctx, "k-renew-lease", held, t0.Add(keyLease/2), lease)
		if err == nil || errors.Is(err, store.ErrKeyLost) {
			t.Errorf("RenewKey(lease %v) = %v, want an error about the lease", lease, err)
		}
	}
	checkClaim(t, "BeginKey after refused renewals", beginKey(t, s, "k-renew-lease", "fp-2", t0.Add(keyLease)),
		claimed("fp-2"))

	ttl := claimKey(t, s, "k-renew-ttl", "fp-1", t0)
	renew("k-renew-ttl", ttl, t0.Add(keyTTL-time.Second)) // the lease now ends after the ttl
	checkClaim(t, "BeginKey once the ttl passed, within a renewed lease", beginKey(t, s, "k-renew-ttl", "fp-2", t0.Add(keyTTL)),
		claimed("fp-2"))
}

// AbandonKey drops the key: the next BeginKey claims it, whatever its
// fingerprint, and the abandoned token is lost.
func testKeysAbandon(t *testing.T, s keyStore) {
	ctx := t.Context()
	token := claimKey(t, s, "k-abandon", "fp-1", t0)
	if err := s.AbandonKey(ctx, "k-abandon", token); err != nil {
		t.Fatalf("AbandonKey() = %v", err)
	}
	checkLost(t, "AbandonKey() again", s.AbandonKey(ctx, "k-abandon", token))
	again := claimKey(t, s, "k-abandon", "fp-2", t0)
	if again == token {
		t.Errorf("the new claim's token is the abandoned one")
	}
	checkLost(t, "FinishKey(abandoned token)", s.FinishKey(ctx, "k-abandon", token, []byte("a")))
	checkClaim(t, "BeginKey after the new claim", beginKey(t, s, "k-abandon", "fp-1", t0), running("fp-2"))
}

// A key expires when its ttl, counted from its claim, passes: the next
// BeginKey claims it again, even while its lease runs. lease and ttl must
// be positive.
func testKeysTTL(t *testing.T, s keyStore) {
	ctx := t.Context()
	token := claimKey(t, s, "k-ttl", "fp-1", t0)
	finishKey(t, s, "k-ttl", token, []byte("answer"))
	checkClaim(t, "BeginKey just before the ttl", beginKey(t, s, "k-ttl", "fp-1", t0.Add(keyTTL-time.Microsecond)),
		answered("fp-1", []byte("answer")))
	renewed := t0.Add(keyTTL)
	token = claimKey(t, s, "k-ttl", "fp-2", renewed)
	finishKey(t, s, "k-ttl", token, []byte("renewed"))
	checkClaim(t, "BeginKey just before the new claim's ttl", beginKey(t, s, "k-ttl", "fp-2", renewed.Add(keyTTL-time.Microsecond)),
		answered("fp-2", []byte("renewed")))
	// A ttl shorter than the lease ends the claim first.
	short, err := s.BeginKey(ctx, "k-short", "fp-1", t0, time.Hour, time.Minute)
	if err != nil || short.Token == "" {
		t.Fatalf("BeginKey(k-short) = %+v, %v; want a claim", short, err)
	}
	checkClaim(t, "BeginKey(k-short) after its ttl", beginKey(t, s, "k-short", "fp-2", t0.Add(time.Minute)), claimed("fp-2"))
	checkLost(t, "FinishKey(expired claim)", s.FinishKey(ctx, "k-short", short.Token, []byte("a")))

	for _, d := range [][2]time.Duration{{0, time.Hour}, {time.Minute, 0}, {-time.Minute, time.Hour}, {time.Minute, -1}} {
		if c, err := s.BeginKey(ctx, "k-invalid", "fp-1", t0, d[0], d[1]); err == nil {
			t.Errorf("BeginKey(lease %v, ttl %v) = %+v, want an error", d[0], d[1], c)
		}
	}
	claimKey(t, s, "k-invalid", "fp-1", t0)
}

// Purge deletes the keys whose ttl passed, whatever the retention policy,
// and counts them; it keeps the others.
func testKeysPurge(t *testing.T, s keyStore) {
	ctx := t.Context()
	finished := claimKey(t, s, "k-finished", "fp-1", t0)
	finishKey(t, s, "k-finished", finished, []byte("answer"))
	staleToken := claimKey(t, s, "k-stale", "fp-1", t0) // its lease passes, nobody finishes it
	if c, err := s.BeginKey(ctx, "k-long", "fp-1", t0, keyLease, 2*keyTTL); err != nil || c.Token == "" {
		t.Fatalf("BeginKey(k-long) = %+v, %v; want a claim", c, err)
	}
	mustCreate(t, s, newRecord("f-running", 0))

	purge := func(now time.Time, policy store.Retention, want store.PurgeResult) {
		t.Helper()
		got, err := s.Purge(ctx, now, policy)
		if err != nil {
			t.Fatalf("Purge(+%v, %+v) = %v", now.Sub(t0), policy, err)
		}
		if got != want {
			t.Errorf("Purge(+%v, %+v) = %+v, want %+v", now.Sub(t0), policy, got, want)
		}
	}
	purge(t0.Add(keyTTL-time.Microsecond), store.Retention{}, store.PurgeResult{})
	purge(t0.Add(keyTTL), store.Retention{KeepData: time.Hour, KeepHistory: time.Hour}, store.PurgeResult{Keys: 2})
	purge(t0.Add(keyTTL), store.Retention{}, store.PurgeResult{})

	// Looked up before their expiry, the deleted keys are free and the
	// kept one still runs.
	mid := t0.Add(keyLease / 2)
	checkClaim(t, "BeginKey(purged finished key)", beginKey(t, s, "k-finished", "fp-1", mid), claimed("fp-1"))
	checkLost(t, "FinishKey(purged key)", s.FinishKey(ctx, "k-stale", staleToken, []byte("a")))
	checkClaim(t, "BeginKey(kept key)", beginKey(t, s, "k-long", "fp-2", mid), running("fp-1"))
	mustGet(t, s, "f-running")
}

// Purge deletes any number of expired keys (the SQL stores do it in
// batches).
func testKeysPurgeMany(t *testing.T, s keyStore) {
	const n = 1001
	for i := range n {
		beginKey(t, s, fmt.Sprintf("k-%04d", i), "fp", t0)
	}
	got, err := s.Purge(t.Context(), t0.Add(keyTTL), store.Retention{})
	if err != nil || got != (store.PurgeResult{Keys: n}) {
		t.Errorf("Purge() = %+v, %v; want %d keys", got, err, n)
	}
}

// A method called with a context that is already done returns an error
// matching ctx.Err() and writes nothing.
func testKeysCancelledContext(t *testing.T, s keyStore) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	check := func(method string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s(cancelled ctx) = %v, want an error matching context.Canceled", method, err)
		}
	}
	_, err := s.BeginKey(ctx, "k-cancel", "fp-1", t0, keyLease, keyTTL)
	check("BeginKey", err)
	token := claimKey(t, s, "k-cancel", "fp-2", t0) // the cancelled call claimed nothing

	check("FinishKey", s.FinishKey(ctx, "k-cancel", token, []byte("a")))
	check("AbandonKey", s.AbandonKey(ctx, "k-cancel", token))
	checkClaim(t, "BeginKey after cancelled FinishKey and AbandonKey", beginKey(t, s, "k-cancel", "fp-2", t0), running("fp-2"))
	renewed := claimKey(t, s, "k-cancel-renew", "fp-1", t0)
	check("RenewKey", s.RenewKey(ctx, "k-cancel-renew", renewed, t0.Add(keyLease/2), keyLease))
	checkClaim(t, "BeginKey once the lease a cancelled RenewKey would have extended passed",
		beginKey(t, s, "k-cancel-renew", "fp-2", t0.Add(keyLease)), claimed("fp-2"))

	finishKey(t, s, "k-cancel", token, []byte("answer"))
	_, err = s.Purge(ctx, t0.Add(2*keyTTL), store.Retention{})
	check("Purge", err)
	checkClaim(t, "BeginKey after cancelled Purge", beginKey(t, s, "k-cancel", "fp-2", t0), answered("fp-2", []byte("answer")))
}

// After Close, every method returns ErrClosed.
func testKeysClosed(t *testing.T, s keyStore) {
	token := claimKey(t, s, "k-closed", "fp-1", t0)
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	ctx := t.Context()
	_, beginErr := s.BeginKey(ctx, "k-closed", "fp-1", t0, keyLease, keyTTL)
	for _, e := range []struct {
		method string
		err    error
	}{
		{"BeginKey", beginErr},
		{"FinishKey", s.FinishKey(ctx, "k-closed", token, []byte("a"))},
		{"AbandonKey", s.AbandonKey(ctx, "k-closed", token)},
		{"RenewKey", s.RenewKey(ctx, "k-closed", token, t0, keyLease)},
	} {
		if !errors.Is(e.err, store.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", e.method, e.err)
		}
	}
}

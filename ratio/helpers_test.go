package ratio_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/ratio"
)

// Values the tests send. The secrets are distinctive so that a leak into a
// log or an error string is found by a substring search.
const (
	testClientID = "client-id-7f3a"
	testSecret   = ratio.Secret("client-secret-Qz8vN2")
	testJWT      = ratio.Secret("eyJhbGciOiJSUzI1NiJ9.session-jwt-Wq4xLm")
	testRefresh  = ratio.Secret("eyJhbGciOiJSUzI1NiJ9.refreshed-jwt-Ty7uPk")
	testOTP      = ratio.Secret("730215")

	// testAddress is the address of testKey, the private key of web3.js's
	// documentation.
	testKey     = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
	testAddress = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"
	// testChallenge is the challenge of Ratio's documentation and
	// testSignature its personal_sign signature by testKey, made with
	// ethers v6.17.0 (new ethers.Wallet(key).signMessage(challenge)).
	testChallenge = "Signing in with Ratio: pUQikKqqBq1brTwt1oHhUJwlOTfshzfMEAsJaH7x1MOdN7QMOooFfj-Aujmi7sb0wJnvYqtmZtlszKdH"
	testSignature = "0x0d0586e7342d63766a1912dc6ddce2221cbfe61381755bf3c1ec7a69b036dba2" +
		"480393069547c1f311de30def6202cabd26db1d60e8d89d2e61844b9909d51381c"

	testPhone   = "+12025550123"
	testEmail   = "ratiouser@example.com"
	testUserID  = "b6fb3c76-dac7-490f-9a60-0ece43c681bb"
	testPhoneID = "phone-number-test-01234abc-0000-0000-0000-0123456789"
	testEmailID = "email-test-01234abc-0000-0000-0000-0123456789"
)

// recorded is one request the fake Ratio received.
type recorded struct {
	Method      string
	EscapedPath string
	Header      http.Header
	Body        []byte
}

// fakeRatio is an httptest server that records requests and answers with
// a test's handler, which gets the 1-based number of the request.
type fakeRatio struct {
	*httptest.Server
	mu   sync.Mutex // guards reqs
	reqs []recorded
}

func newFake(tb testing.TB, h func(w http.ResponseWriter, r *http.Request, n int)) *fakeRatio {
	tb.Helper()
	f := &fakeRatio{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("ratio-client-id") != testClientID {
			// Not this test's client: another process on the machine
			// dialing a port it thought closed. Do not count it.
			w.WriteHeader(http.StatusMisdirectedRequest)
			return
		}
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, recorded{r.Method, r.URL.EscapedPath(), r.Header.Clone(), body})
		n := len(f.reqs)
		f.mu.Unlock()
		h(w, r, n)
	}))
	tb.Cleanup(f.Close)
	return f
}

func (f *fakeRatio) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

// reply writes a JSON answer.
func reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// always answers every request the same way.
func always(status int, body string) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, _ *http.Request, _ int) { reply(w, status, body) }
}

// logRecorder is a slog.Handler that keeps every record.
type logRecorder struct {
	mu      sync.Mutex // guards records
	records []slog.Record
	onWrite func(slog.Record) // called outside the lock, if set
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.records = append(l.records, r.Clone())
	l.mu.Unlock()
	if l.onWrite != nil {
		l.onWrite(r)
	}
	return nil
}

// text renders every record as slog's text and JSON handlers would.
func (l *logRecorder) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var buf bytes.Buffer
	th := slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	jh := slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	for _, r := range l.records {
		_ = th.Handle(context.Background(), r)
		_ = jh.Handle(context.Background(), r)
	}
	return buf.String()
}

// waits returns the wait of every "retrying" record.
func (l *logRecorder) waits() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ws []time.Duration
	for _, r := range l.records {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "wait" {
				ws = append(ws, a.Value.Duration())
			}
			return true
		})
	}
	return ws
}

// newTestClient returns a client of url with millisecond back-off, logging
// at Debug into the returned recorder.
func newTestClient(url string) (*ratio.Client, *logRecorder) {
	c := ratio.NewClient(url, testClientID, testSecret)
	c.RetryWaitMin = time.Millisecond
	c.RetryWaitMax = 2 * time.Millisecond
	rec := &logRecorder{}
	c.Logger = slog.New(rec)
	return c, rec
}

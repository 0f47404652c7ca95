package ratio_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/ratio"
)

// Failures without an answer: refused and lost connections, timeouts and
// cancellation. A side effect is retried only when its request provably
// never left.

// deadSocket returns the path of a Unix socket nobody listens on any
// more: dialing it is refused. (A closed TCP port is not safe for this:
// another test process on the machine may bind it meanwhile.)
func deadSocket(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ratio.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
	return path
}

// refusingDialer returns a DialContext whose first n dials are refused;
// later ones (if n >= 0) open the address asked for.
func refusingDialer(t *testing.T, n int32) func(context.Context, string, string) (net.Conn, error) {
	dead := deadSocket(t)
	var dials atomic.Int32
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if n < 0 || dials.Add(1) <= n {
			return (&net.Dialer{}).DialContext(ctx, "unix", dead)
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
}

// A refused connection never carried the request: retrying it cannot
// send a second SMS, so the client retries it and the error is not
// ambiguous.
func TestClient_SendSMS_ConnectionRefusedIsNotAmbiguous(t *testing.T) {
	c, _ := newTestClient("http://ratio.invalid")
	c.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: refusingDialer(t, -1)}}
	c.RetryMax = 2
	err := sendSMS(context.Background(), c)
	var te *ratio.TransportError
	if !errors.As(err, &te) || te.Attempts != 3 || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("SendSMS() = %v, want a refused *TransportError after 3 attempts", err)
	}
	if !errors.Is(err, ratio.ErrTransient) || errors.Is(err, ratio.ErrAmbiguous) {
		t.Errorf("SendSMS() = %v, want ErrTransient and not ErrAmbiguous", err)
	}
}

func TestClient_SendSMS_RetriesRefusedConnectionThenSucceeds(t *testing.T) {
	f := newFake(t, always(200, `{"phoneId":"`+testPhoneID+`"}`))
	c, _ := newTestClient(f.URL)
	c.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: refusingDialer(t, 2)}}
	got, err := c.SendSMS(context.Background(), "", ratio.SendSMSRequest{PhoneNumber: testPhone})
	if err != nil || got.Attempts != 3 {
		t.Fatalf("SendSMS() = %+v, %v, want success after 3 attempts", got, err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("Ratio got %d requests, want 1", n)
	}
}

// hangUp is a handler that reads the request and closes the connection
// without answering: the request was written, its fate unknown.
func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		conn.Close()
	}
}

func TestClient_SideEffects_ConnectionLostIsAmbiguous(t *testing.T) {
	for _, tt := range sideEffectCalls {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) { hangUp(w) })
			c, _ := newTestClient(f.URL)
			err := tt.call(context.Background(), c)
			var te *ratio.TransportError
			if !errors.As(err, &te) || te.Attempts != 1 {
				t.Fatalf("%s() = %v, want a *TransportError after 1 attempt", tt.name, err)
			}
			if !errors.Is(err, ratio.ErrAmbiguous) || !errors.Is(err, ratio.ErrTransient) {
				t.Errorf("%s() = %v, want ErrAmbiguous and ErrTransient", tt.name, err)
			}
			if n := len(f.requests()); n != 1 {
				t.Errorf("%s() made %d requests, want 1", tt.name, n)
			}
		})
	}
}

// A read whose connection was lost is made again; an authentication is
// not: its one-time code may be spent, and the same code sent again would
// be refused as wrong.
func TestClient_LostConnection(t *testing.T) {
	for _, tt := range []struct {
		name         string
		call         func(context.Context, ratio.API) error
		answer       string
		wantRequests int
	}{
		{"GetUser retried", getUser, userJSON, 2},
		{"AuthenticateSMS not retried", authSMS, `{"sessionJwt":"jwt"}`, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, _ *http.Request, n int) {
				if n == 1 {
					hangUp(w)
					return
				}
				reply(w, 200, tt.answer)
			})
			c, _ := newTestClient(f.URL)
			err := tt.call(context.Background(), c)
			if tt.wantRequests == 2 && err != nil {
				t.Fatalf("%s = %v, want success on the second attempt", tt.name, err)
			}
			if tt.wantRequests == 1 && !errors.Is(err, ratio.ErrAmbiguous) {
				t.Fatalf("%s = %v, want ErrAmbiguous: the code may be spent", tt.name, err)
			}
			if n := len(f.requests()); n != tt.wantRequests {
				t.Errorf("%s made %d requests, want %d", tt.name, n, tt.wantRequests)
			}
		})
	}
}

// A persistent 429 whose Retry-After overruns the retry budget ends the
// call at once, with Ratio's Retry-After for the caller.
func TestClient_RetryBudget(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Retry-After", "20")
		reply(w, 429, errorBody(ratio.CodeTooManyRequests, ""))
	})
	c, logs := newTestClient(f.URL)
	var reason string
	logs.onWrite = func(r slog.Record) {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "reason" {
				reason = a.Value.String()
			}
			return true
		})
	}
	err := sendSMS(context.Background(), c)
	var ae *ratio.APIError
	if !errors.As(err, &ae) || ae.Status != 429 || ae.RetryAfter != 20*time.Second {
		t.Fatalf("SendSMS() = %v, want the 429 with Retry-After 20s", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("SendSMS() made %d requests, want 1", n)
	}
	if reason != "retry budget spent" {
		t.Errorf("not retrying because %q, want the budget", reason)
	}
}

func TestClient_SendSMS_CancelledDuringBackoff(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Retry-After", "20") // under MaxRetryAfter: the client would sleep it
		reply(w, 429, errorBody(ratio.CodeTooManyRequests, ""))
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, logs := newTestClient(f.URL)
	c.RetryBudget = time.Minute
	logs.onWrite = func(r slog.Record) {
		if r.Message == "ratio: retrying" {
			cancel() // the client is about to sleep 20 s
		}
	}
	err := sendSMS(ctx, c)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("SendSMS() = %v, want context.Canceled", err)
	}
	if errors.Is(err, ratio.ErrAmbiguous) {
		t.Errorf("SendSMS() = %v, want not ErrAmbiguous: Ratio refused the only request", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("SendSMS() made %d requests, want 1", n)
	}
}

func TestClient_SendSMS_CancelledInFlightIsAmbiguous(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		cancel() // Ratio has the request; the caller gives up before the answer
		<-r.Context().Done()
	})
	c, _ := newTestClient(f.URL)
	err := sendSMS(ctx, c)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, ratio.ErrAmbiguous) {
		t.Errorf("SendSMS() = %v, want context.Canceled and ErrAmbiguous", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("SendSMS() made %d requests, want 1", n)
	}
}

func TestClient_CancelledBeforeCall_SendsNothing(t *testing.T) {
	f := newFake(t, always(200, userJSON))
	c, _ := newTestClient(f.URL)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := getUser(ctx, c); !errors.Is(err, context.Canceled) {
		t.Errorf("GetUser() = %v, want context.Canceled", err)
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("GetUser() made %d requests, want 0", n)
	}
}

func TestClient_DeadlineDuringBackoff(t *testing.T) {
	f := newFake(t, always(503, errorBody(ratio.CodeInternal, "")))
	c, _ := newTestClient(f.URL)
	c.RetryWaitMin, c.RetryWaitMax, c.RetryBudget = time.Minute, time.Minute, time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := getUser(ctx, c); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("GetUser() = %v, want context.DeadlineExceeded", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("GetUser() made %d requests, want 1", n)
	}
}

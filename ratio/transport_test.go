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

func TestClient_AuthenticateSMS_RetriesLostConnection(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 1 {
			hangUp(w)
			return
		}
		reply(w, 200, `{"sessionJwt":"jwt"}`)
	})
	c, _ := newTestClient(f.URL)
	if err := authSMS(context.Background(), c); err != nil {
		t.Fatalf("AuthenticateSMS() = %v, want success on the second attempt", err)
	}
	if n := len(f.requests()); n != 2 {
		t.Errorf("AuthenticateSMS() made %d requests, want 2", n)
	}
}

// stall answers the first request only when the client has given up on it.
func stall(answer string) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			<-r.Context().Done()
			return
		}
		reply(w, 200, answer)
	}
}

func TestClient_Timeouts(t *testing.T) {
	tests := []struct {
		name          string
		call          func(context.Context, ratio.API) error
		answer        string
		wantRequests  int
		wantAmbiguous bool
	}{
		{"SendSMS gives up", sendSMS, `{"phoneId":"p"}`, 1, true},
		{"GetUser retries", getUser, userJSON, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, stall(tt.answer))
			c, _ := newTestClient(f.URL)
			c.HTTPClient = &http.Client{Timeout: 400 * time.Millisecond} // per attempt
			err := tt.call(context.Background(), c)
			if got := errors.Is(err, ratio.ErrAmbiguous); got != tt.wantAmbiguous {
				t.Errorf("call = %v, ErrAmbiguous %v, want %v", err, got, tt.wantAmbiguous)
			}
			if tt.wantAmbiguous == (err == nil) {
				t.Errorf("call = %v, want error %v", err, tt.wantAmbiguous)
			}
			if n := len(f.requests()); n != tt.wantRequests {
				t.Errorf("call made %d requests, want %d", n, tt.wantRequests)
			}
		})
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
	c.RetryWaitMin, c.RetryWaitMax = time.Minute, time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := getUser(ctx, c); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("GetUser() = %v, want context.DeadlineExceeded", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("GetUser() made %d requests, want 1", n)
	}
}

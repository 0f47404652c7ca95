package ratio_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ratioflow/ratioflow/ratio"
)

// Calls used by the retry tests: the four side effects and the six
// operations without one.
var (
	sideEffectCalls = []struct {
		name string
		call func(context.Context, ratio.API) error
	}{
		{"SendSMS", func(ctx context.Context, api ratio.API) error {
			_, err := api.SendSMS(ctx, "", ratio.SendSMSRequest{PhoneNumber: testPhone})
			return err
		}},
		{"SendEmail", func(ctx context.Context, api ratio.API) error {
			_, err := api.SendEmail(ctx, testJWT, ratio.SendEmailRequest{EmailAddress: testEmail})
			return err
		}},
		{"AddWalletToUser", func(ctx context.Context, api ratio.API) error {
			_, err := api.AddWalletToUser(ctx, testJWT, ratio.AddWalletRequest{WalletAddress: testAddress})
			return err
		}},
		{"CreateUser", func(ctx context.Context, api ratio.API) error {
			_, err := api.CreateUser(ctx, testJWT, validUser)
			return err
		}},
	}
	sendSMS = sideEffectCalls[0].call
	getUser = func(ctx context.Context, api ratio.API) error {
		_, err := api.GetUser(ctx, testJWT, testUserID)
		return err
	}
	authSMS = func(ctx context.Context, api ratio.API) error {
		_, err := api.AuthenticateSMS(ctx, "", ratio.AuthenticateSMSRequest{PhoneID: testPhoneID, OTP: testOTP})
		return err
	}
)

func TestClient_SendSMS_RetriesRateLimit(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n <= 3 {
			reply(w, 429, errorBody(ratio.CodeTooManyRequests, "slow down"))
			return
		}
		reply(w, 200, `{"phoneId":"`+testPhoneID+`"}`)
	})
	c, logs := newTestClient(f.URL)
	c.RetryWaitMin, c.RetryWaitMax = 4*time.Millisecond, time.Second
	got, err := c.SendSMS(context.Background(), "", ratio.SendSMSRequest{PhoneNumber: testPhone})
	if err != nil || got.PhoneID != testPhoneID || got.Attempts != 4 {
		t.Fatalf("SendSMS() = %+v, %v, want %s after 4 attempts", got, err, testPhoneID)
	}
	reqs := f.requests()
	for i, r := range reqs[1:] {
		if !bytes.Equal(r.Body, reqs[0].Body) {
			t.Errorf("attempt %d sent %s, want the same body as the first, %s", i+2, r.Body, reqs[0].Body)
		}
	}
	// Exponential with equal jitter: retry n waits within (d/2, d], d = 4ms·2^(n-1).
	waits := logs.waits()
	if len(waits) != 3 {
		t.Fatalf("logged waits %v, want 3", waits)
	}
	for i, w := range waits {
		d := 4 * time.Millisecond << i
		if w < d/2 || w > d {
			t.Errorf("wait before retry %d = %v, want within [%v, %v]", i+1, w, d/2, d)
		}
	}
}

func TestClient_SendSMS_HonoursRetryAfter(t *testing.T) {
	t.Parallel() // sleeps the 1 s Ratio asks for
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			reply(w, 429, errorBody(ratio.CodeTooManyRequests, ""))
			return
		}
		reply(w, 200, `{"phoneId":"`+testPhoneID+`"}`)
	})
	c, logs := newTestClient(f.URL)
	got, err := c.SendSMS(context.Background(), "", ratio.SendSMSRequest{PhoneNumber: testPhone})
	if err != nil || got.Attempts != 2 {
		t.Fatalf("SendSMS() = %+v, %v, want success after 2 attempts", got, err)
	}
	if waits := logs.waits(); len(waits) != 1 || waits[0] < time.Second {
		t.Errorf("waits = %v, want one of at least the 1s Retry-After (RetryWaitMax is 2ms)", waits)
	}
}

func TestClient_HugeRetryAfter_ReturnsAtOnce(t *testing.T) {
	tests := []struct {
		name, retryAfter string
		call             func(context.Context, ratio.API) error
	}{
		{"SendSMS seconds", "3600", sendSMS},
		{"GetUser seconds", "3600", getUser},
		{"GetUser HTTP date", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat), getUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.Header().Set("Retry-After", tt.retryAfter)
				reply(w, 429, errorBody(ratio.CodeTooManyRequests, "later"))
			})
			c, _ := newTestClient(f.URL)
			err := tt.call(context.Background(), c)
			var ae *ratio.APIError
			if !errors.As(err, &ae) || !errors.Is(err, ratio.ErrRateLimited) {
				t.Fatalf("call = %v, want a 429 *APIError", err)
			}
			if ae.RetryAfter < 59*time.Minute || ae.RetryAfter > time.Hour || ae.Attempts != 1 || ae.Code != ratio.CodeTooManyRequests {
				t.Errorf("call = %+v, want RetryAfter about 1h, 1 attempt, code %s", ae, ratio.CodeTooManyRequests)
			}
			if n := len(f.requests()); n != 1 {
				t.Errorf("call made %d requests, want 1", n)
			}
		})
	}
}

func TestClient_SideEffects_NeverRetryServerErrors(t *testing.T) {
	for _, tt := range sideEffectCalls {
		for _, status := range []int{500, 502, 503} {
			t.Run(tt.name+"/"+http.StatusText(status), func(t *testing.T) {
				f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
					w.Header().Set("Retry-After", "0")
					reply(w, status, errorBody(ratio.CodeInternal, "oops"))
				})
				c, _ := newTestClient(f.URL)
				c.RetryPolicy = func(context.Context, ratio.Outcome) (bool, error) { return true, nil } // cannot override
				err := tt.call(context.Background(), c)
				var ae *ratio.APIError
				if !errors.As(err, &ae) || ae.Status != status || ae.Attempts != 1 || !ae.SideEffect {
					t.Errorf("%s() = %v, want a %d *APIError after 1 attempt", tt.name, err, status)
				}
				if !errors.Is(err, ratio.ErrAmbiguous) || !errors.Is(err, ratio.ErrTransient) {
					t.Errorf("%s() = %v, want ErrAmbiguous and ErrTransient", tt.name, err)
				}
				if n := len(f.requests()); n != 1 {
					t.Errorf("%s() made %d requests, want exactly 1", tt.name, n)
				}
			})
		}
	}
}

func TestClient_Reads_RetryServerErrors(t *testing.T) {
	for _, ep := range endpointCases() {
		if ep.op.SideEffect() {
			continue
		}
		t.Run(ep.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, _ *http.Request, n int) {
				if n <= 2 {
					reply(w, 501+n, errorBody(ratio.CodeInternal, "")) // 502, 503
					return
				}
				reply(w, ep.status, ep.answer)
			})
			c, _ := newTestClient(f.URL)
			got, err := ep.call(context.Background(), c, testJWT)
			if err != nil {
				t.Fatalf("%s() = %v, want success after two 5xx", ep.name, err)
			}
			want := setMeta(ep.want, ratio.Meta{Attempts: 3})
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s() mismatch (-want +got):\n%s", ep.name, diff)
			}
			reqs := f.requests()
			if len(reqs) != 3 || !bytes.Equal(reqs[2].Body, reqs[0].Body) {
				t.Errorf("%s() made %d requests, want 3 with the same body", ep.name, len(reqs))
			}
		})
	}
}

func TestClient_ExhaustedRetries_KeepLastAnswer(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		reply(w, 503, errorBody(ratio.CodeInternal, "down for maintenance"))
	})
	c, _ := newTestClient(f.URL)
	c.RetryMax = 2
	err := getUser(context.Background(), c)
	var ae *ratio.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("GetUser() = %v, want an *APIError", err)
	}
	if ae.Status != 503 || ae.Code != ratio.CodeInternal || ae.Message != "down for maintenance" || ae.Attempts != 3 {
		t.Errorf("GetUser() = %+v, want 503 %s after 3 attempts", ae, ratio.CodeInternal)
	}
	if !errors.Is(err, ratio.ErrTransient) || errors.Is(err, ratio.ErrAmbiguous) {
		t.Errorf("GetUser() = %v, want ErrTransient and not ErrAmbiguous", err)
	}
	if n := len(f.requests()); n != 3 {
		t.Errorf("GetUser() made %d requests, want 3", n)
	}
	if strings.Contains(err.Error(), "giving up") {
		t.Errorf("GetUser() = %q, want Ratio's answer, not retryablehttp's message", err)
	}
}

func TestClient_ClientErrors_NeverRetried(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 409, 422} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			f := newFake(t, always(status, errorBody("X", "")))
			c, _ := newTestClient(f.URL)
			if err := getUser(context.Background(), c); err == nil {
				t.Fatalf("GetUser() = nil, want an error")
			}
			if n := len(f.requests()); n != 1 {
				t.Errorf("GetUser() made %d requests, want 1", n)
			}
		})
	}
}

func TestClient_RetryMaxZero_MakesOneRequest(t *testing.T) {
	f := newFake(t, always(503, errorBody(ratio.CodeInternal, "")))
	c, _ := newTestClient(f.URL)
	c.RetryMax = 0
	if err := getUser(context.Background(), c); !errors.Is(err, ratio.ErrTransient) {
		t.Errorf("GetUser() = %v, want ErrTransient", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("GetUser() made %d requests, want 1", n)
	}
}

func TestClient_CustomRetryPolicy(t *testing.T) {
	f := newFake(t, always(503, errorBody(ratio.CodeInternal, "")))
	c, _ := newTestClient(f.URL)
	var seen []ratio.Outcome
	c.RetryPolicy = func(ctx context.Context, o ratio.Outcome) (bool, error) {
		seen = append(seen, o)
		return false, nil
	}
	if err := getUser(context.Background(), c); !errors.Is(err, ratio.ErrTransient) {
		t.Errorf("GetUser() = %v, want ErrTransient", err)
	}
	if len(seen) != 1 || seen[0].Op != ratio.OpGetUser || seen[0].Status != 503 || seen[0].Attempt != 1 || !seen[0].Sent {
		t.Errorf("policy saw %+v, want one outcome of GET user, status 503, attempt 1, sent", seen)
	}
}

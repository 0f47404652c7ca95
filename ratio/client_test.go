package ratio_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ratioflow/ratioflow/ratio"
)

// endpointCase is one API method called with valid input.
type endpointCase struct {
	name     string
	op       ratio.Op
	call     func(ctx context.Context, api ratio.API, jwt ratio.Secret) (any, error)
	wantPath string
	wantBody string // JSON as the OpenAPI names it; "" for no body
	status   int
	answer   string
	want     any // the decoded answer, without Meta
}

var validUser = ratio.CreateUserRequest{
	FirstName: "Ada", LastName: "Lovelace", Email: testEmail,
	Country: "US", Phone: testPhone, AcceptedTerms: true,
}

const userJSON = `{"id":"` + testUserID + `","createTime":"2023-07-13T19:06:20.000Z","firstName":"Ada",` +
	`"lastName":"Lovelace","email":"` + testEmail + `","country":"US","phone":"` + testPhone + `",` +
	`"kyc":{"status":"NOT_STARTED"},"flags":["F1000"]}`

var wantUser = &ratio.User{
	ID: testUserID, CreateTime: "2023-07-13T19:06:20.000Z", FirstName: "Ada", LastName: "Lovelace",
	Email: testEmail, Country: "US", Phone: testPhone, KYC: &ratio.KYC{Status: "NOT_STARTED"}, Flags: []string{"F1000"},
}

// endpointCases covers every method of API.
func endpointCases() []endpointCase {
	return []endpointCase{{
		name: "StartWallet", op: ratio.OpStartWallet,
		call: func(ctx context.Context, api ratio.API, jwt ratio.Secret) (any, error) {
			return api.StartWallet(ctx, jwt, ratio.StartWalletRequest{WalletAddress: testAddress})
		},
		wantPath: "/v1/auth/cryptoWallet:start",
		wantBody: `{"walletAddress":"` + testAddress + `","walletType":"EVM"}`,
		status:   200, answer: `{"challenge":"` + testChallenge + `"}`,
		want: &ratio.StartWalletResponse{Challenge: testChallenge},
	}, {
		name: "AuthenticateWallet", op: ratio.OpAuthenticateWallet,
		call: func(ctx context.Context, api ratio.API, jwt ratio.Secret) (any, error) {
			return api.AuthenticateWallet(ctx, jwt, ratio.AuthenticateWalletRequest{
				WalletAddress: testAddress, Signature: testSignature[2:], // sent with 0x
			})
		},
		wantPath: "/v1/auth/cryptoWallet:authenticate",
		wantBody: `{"walletAddress":"` + testAddress + `","walletType":"EVM","signature":"` + testSignature + `"}`,
		status:   200,
		answer: `{"sessionJwt":"jwt-1","userMask":{"id":"` + testUserID + `","createTime":"2022-01-01T00:00:00.000Z",` +
			`"updateTime":"2022-01-01T23:59:59.999Z","phoneMask":"0000","preferredMfaMethod":"OTP_SMS"}}`,
		want: &ratio.AuthResponse{SessionJWT: "jwt-1", UserMask: &ratio.UserMask{
			ID: testUserID, CreateTime: "2022-01-01T00:00:00.000Z", UpdateTime: "2022-01-01T23:59:59.999Z",
			PhoneMask: "0000", PreferredMfaMethod: "OTP_SMS",
		}},
	}, {
		name: "AddWalletToUser", op: ratio.OpAddWalletToUser,
		call: func(ctx context.Context, api ratio.API, jwt ratio.Secret) (any, error) {
			return api.AddWalletToUser(ctx, jwt, ratio.AddWalletRequest{WalletAddress: testAddress})
		},
		wantPath: "/v1/auth/cryptoWallet:addToUser",
		wantBody: `{"walletAddress":"` + testAddress + `","walletType":"EVM"}`,
		status:   200, answer: `{}`,
		want: &ratio.AddWalletResponse{},
	}, {
		name: "SendSMS", op: ratio.OpSendSMS,
		call: func(ctx context.Context, api ratio.API, jwt ratio.Secret) (any, error) {
			return api.SendSMS(ctx, jwt, ratio.SendSMSRequest{PhoneNumber: testPhone})
		},
		wantPath: "/v1/auth/otp/sms:send",
		wantBody: `{"phoneNumber":"` + testPhone + `"}`,
		status:   200, answer: `{"phoneId":"` + testPhoneID + `","phoneMask":"0123"}`,
		want: &ratio.SendSMSResponse{PhoneID: testPhoneID, PhoneMask: "0123"},
	}, {
		name: "AuthenticateSMS", op: ratio.OpAuthenticateSMS,
		call: func(ctx context.Context, api ratio.API, jwt ratio.Secret) (any, error) {
			return api.AuthenticateSMS(ctx, jwt, ratio.AuthenticateSMSRequest{PhoneID: testPhoneID, OTP: testOTP})
		},
		wantPath: "/v1/auth/otp/sms:authenticate",
		wantBody: `{"phoneId":"` + testPhoneID + `","otp":"` + testOTP.Reveal() + `"}`,
		status:   200, answer: `{"sessionJwt":"jwt-2","user":` + userJSON + `}`,
		want: &ratio.AuthResponse{SessionJWT: "jwt-2", User: wantUser},
	}, {
		name: "SendEmail", op: ratio.OpSendEmail,
		call: func(ctx context.Context, api ratio.API, jwt ratio.Secret) (any, error) {
			return api.SendEmail(ctx, jwt, ratio.SendEmailRequest{EmailAddress: testEmail})
		},
		wantPath: "/v1/auth/otp/email:send",
		wantBody: `{"emailAddress":"` + testEmail + `"}`,
		status:   200, answer: `{"emailId":"` + testEmailID + `","emailMask":"rat...@example.com"}`,
		want: &ratio.SendEmailResponse{EmailID: testEmailID, EmailMask: "rat...@example.com"},
	}, {
		name: "AuthenticateEmail", op: ratio.OpAuthenticateEmail,
		call: func(ctx context.Context, api ratio.API, jwt ratio.Secret) (any, error) {
			return api.AuthenticateEmail(ctx, jwt, ratio.AuthenticateEmailRequest{EmailID: testEmailID, OTP: testOTP})
		},
		wantPath: "/v1/auth/otp/email:authenticate",
		wantBody: `{"emailId":"` + testEmailID + `","otp":"` + testOTP.Reveal() + `"}`,
		status:   200, answer: `{"sessionJwt":"jwt-3"}`,
		want: &ratio.AuthResponse{SessionJWT: "jwt-3"},
	}, {
		name: "CreateUser", op: ratio.OpCreateUser,
		call: func(ctx context.Context, api ratio.API, jwt ratio.Secret) (any, error) {
			return api.CreateUser(ctx, jwt, validUser)
		},
		wantPath: "/v1/users",
		wantBody: `{"firstName":"Ada","lastName":"Lovelace","email":"` + testEmail + `","country":"US",` +
			`"phone":"` + testPhone + `","acceptedTerms":true}`,
		status: 201, answer: userJSON,
		want: wantUser,
	}, {
		name: "GetUser", op: ratio.OpGetUser,
		call: func(ctx context.Context, api ratio.API, jwt ratio.Secret) (any, error) {
			return api.GetUser(ctx, jwt, testUserID)
		},
		wantPath: "/v1/users/" + testUserID,
		status:   200, answer: userJSON,
		want: wantUser,
	}, {
		name: "ListWallets", op: ratio.OpListWallets,
		call: func(ctx context.Context, api ratio.API, jwt ratio.Secret) (any, error) {
			return api.ListWallets(ctx, jwt, testUserID)
		},
		wantPath: "/v1/users/" + testUserID + "/wallets",
		status:   200,
		answer: `{"items":[{"id":"w-1","createTime":"2023-07-13T19:06:20.000Z","updateTime":"2023-07-13T19:06:20.000Z",` +
			`"address":"` + testAddress + `","name":"main","type":"EVM"}],"nextPageToken":"p2"}`,
		want: &ratio.Wallets{Items: []ratio.Wallet{{
			ID: "w-1", CreateTime: "2023-07-13T19:06:20.000Z", UpdateTime: "2023-07-13T19:06:20.000Z",
			Address: testAddress, Name: "main", Type: "EVM",
		}}, NextPageToken: "p2"},
	}}
}

// setMeta returns a copy of want, a pointer to a response, with its Meta set.
func setMeta(want any, m ratio.Meta) any {
	v := reflect.New(reflect.TypeOf(want).Elem())
	v.Elem().Set(reflect.ValueOf(want).Elem())
	v.Elem().FieldByName("Meta").Set(reflect.ValueOf(m))
	return v.Interface()
}

func TestClient_Endpoints_Success(t *testing.T) {
	for _, tt := range endpointCases() {
		for _, jwt := range []ratio.Secret{testJWT, ""} {
			name := tt.name + "/with_jwt"
			if jwt == "" {
				name = tt.name + "/without_jwt"
			}
			t.Run(name, func(t *testing.T) {
				f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
					w.Header().Set(ratio.HeaderRefresh, testRefresh.Reveal())
					reply(w, tt.status, tt.answer)
				})
				c, _ := newTestClient(f.URL)
				got, err := tt.call(context.Background(), c, jwt)
				if err != nil {
					t.Fatalf("%s() error = %v, want nil", tt.name, err)
				}
				want := setMeta(tt.want, ratio.Meta{RefreshedJWT: testRefresh, Attempts: 1})
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s() answer mismatch (-want +got):\n%s", tt.name, diff)
				}
				reqs := f.requests()
				if len(reqs) != 1 {
					t.Fatalf("%s() made %d requests, want 1", tt.name, len(reqs))
				}
				checkRequest(t, reqs[0], tt, jwt)
			})
		}
	}
}

func checkRequest(t *testing.T, r recorded, tt endpointCase, jwt ratio.Secret) {
	t.Helper()
	if r.Method != tt.op.Method() || r.EscapedPath != tt.wantPath {
		t.Errorf("request = %s %s, want %s %s", r.Method, r.EscapedPath, tt.op.Method(), tt.wantPath)
	}
	wantHeaders := map[string]string{
		"Ratio-Client-Id":     testClientID,
		"Ratio-Client-Secret": testSecret.Reveal(),
		"Content-Type":        "application/json",
		"Accept":              "application/json",
		"Authorization":       "",
	}
	if jwt != "" {
		wantHeaders["Authorization"] = "Bearer " + jwt.Reveal()
	}
	for k, want := range wantHeaders {
		if got := r.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if _, ok := r.Header["Authorization"]; ok && jwt == "" {
		t.Errorf("Authorization header sent without a JWT")
	}
	if tt.wantBody == "" {
		if len(r.Body) != 0 {
			t.Errorf("body = %s, want none", r.Body)
		}
		return
	}
	var got, want map[string]any
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatalf("body %s is not JSON: %v", r.Body, err)
	}
	if err := json.Unmarshal([]byte(tt.wantBody), &want); err != nil {
		t.Fatalf("bad wantBody: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("body mismatch (-want +got):\n%s", diff)
	}
}

func TestClient_StartWallet_KeepsLegacyWalletNetwork(t *testing.T) {
	f := newFake(t, always(200, `{"challenge":"`+testChallenge+`"}`))
	c, _ := newTestClient(f.URL)
	req := ratio.StartWalletRequest{WalletAddress: testAddress, WalletNetwork: ratio.WalletNetworkPolygon}
	if _, err := c.StartWallet(context.Background(), "", req); err != nil {
		t.Fatalf("StartWallet() = %v, want nil", err)
	}
	want := `{"walletAddress":"` + testAddress + `","walletNetwork":"POLYGON"}`
	if got := string(f.requests()[0].Body); got != want {
		t.Errorf("StartWallet() sent %s, want %s", got, want)
	}
}

func TestClient_AddWalletToUser_AcceptsEmptyAnswers(t *testing.T) {
	for _, body := range []string{"", "{}", " {}\n"} {
		f := newFake(t, always(200, body))
		c, _ := newTestClient(f.URL)
		got, err := c.AddWalletToUser(context.Background(), testJWT, ratio.AddWalletRequest{WalletAddress: testAddress})
		if err != nil || got.Attempts != 1 {
			t.Errorf("AddWalletToUser() with body %q = %+v, %v, want 1 attempt, nil", body, got, err)
		}
	}
}

func TestClient_GetUser_EscapesUserID(t *testing.T) {
	f := newFake(t, always(200, userJSON))
	c, _ := newTestClient(f.URL)
	if _, err := c.GetUser(context.Background(), testJWT, "a/b c?d"); err != nil {
		t.Fatalf("GetUser() = %v, want nil", err)
	}
	if got, want := f.requests()[0].EscapedPath, "/v1/users/a%2Fb%20c%3Fd"; got != want {
		t.Errorf("GetUser() path = %s, want %s", got, want)
	}
}

func TestClient_BaseURL(t *testing.T) {
	f := newFake(t, always(200, userJSON))
	tests := []struct {
		name    string
		base    string
		wantErr bool
	}{
		{"trailing slash", f.URL + "/", false},
		{"no scheme", "api.ratio.me", true},
		{"query", f.URL + "?key=v", true},
		{"fragment", f.URL + "#x", true},
		{"not a URL", "http://[::1", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ratio.NewClient(tt.base, testClientID, testSecret)
			_, err := c.GetUser(context.Background(), testJWT, testUserID)
			if (err != nil) != tt.wantErr {
				t.Errorf("GetUser() with base %q = %v, want error %v", tt.base, err, tt.wantErr)
			}
		})
	}
}

func TestClient_MalformedAnswers(t *testing.T) {
	tests := []struct {
		name          string
		call          func(context.Context, ratio.API) error
		answer        string
		wantAmbiguous bool
	}{
		{"StartWallet without challenge", func(ctx context.Context, api ratio.API) error {
			_, err := api.StartWallet(ctx, "", ratio.StartWalletRequest{WalletAddress: testAddress})
			return err
		}, `{}`, false},
		{"AuthenticateSMS not JSON", func(ctx context.Context, api ratio.API) error {
			_, err := api.AuthenticateSMS(ctx, "", ratio.AuthenticateSMSRequest{PhoneID: testPhoneID, OTP: testOTP})
			return err
		}, `<html>`, true}, // Ratio took the code: it may be spent
		{"SendSMS without phoneId", func(ctx context.Context, api ratio.API) error {
			_, err := api.SendSMS(ctx, "", ratio.SendSMSRequest{PhoneNumber: testPhone})
			return err
		}, `{"phoneMask":"0123"}`, true},
		{"CreateUser without id", func(ctx context.Context, api ratio.API) error {
			_, err := api.CreateUser(ctx, testJWT, validUser)
			return err
		}, `{}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, always(200, tt.answer))
			c, _ := newTestClient(f.URL)
			err := tt.call(context.Background(), c)
			var te *ratio.TransportError
			if !errors.As(err, &te) || !errors.Is(err, ratio.ErrTransient) {
				t.Fatalf("call = %v, want a *TransportError", err)
			}
			if got := errors.Is(err, ratio.ErrAmbiguous); got != tt.wantAmbiguous {
				t.Errorf("errors.Is(%v, ErrAmbiguous) = %v, want %v", err, got, tt.wantAmbiguous)
			}
			if n := len(f.requests()); n != 1 {
				t.Errorf("made %d requests, want 1", n)
			}
		})
	}
}

func TestClient_CapsResponseBody(t *testing.T) {
	big := `{"phoneId":"` + testPhoneID + `","phoneMask":"` + strings.Repeat("a", 2<<20) + `"}`
	f := newFake(t, always(200, big))
	c, _ := newTestClient(f.URL)
	_, err := c.SendSMS(context.Background(), "", ratio.SendSMSRequest{PhoneNumber: testPhone})
	if !errors.Is(err, ratio.ErrAmbiguous) {
		t.Errorf("SendSMS() with a 2 MiB answer = %v, want ErrAmbiguous", err)
	}
}

func TestClient_DoesNotFollowRedirects(t *testing.T) {
	elsewhere := newFake(t, always(200, userJSON))
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
	})
	c, _ := newTestClient(f.URL)
	_, err := c.GetUser(context.Background(), testJWT, testUserID)
	var ae *ratio.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusTemporaryRedirect {
		t.Errorf("GetUser() = %v, want an *APIError with status 307", err)
	}
	if n := len(elsewhere.requests()); n != 0 {
		t.Errorf("the redirect target got %d requests (with the client secret), want 0", n)
	}
}

package sandbox_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/ratioflow/ratioflow/ratio"
)

// signup is a session ready to create a user: a new wallet and a new
// phone, and the request that matches it.
type signup struct {
	jwt    string
	wallet wallet
	req    ratio.CreateUserRequest
}

func (e *env) newSignup(t *testing.T, email string) signup {
	t.Helper()
	w, phone := newWallet(t), newPhone()
	jwt := jwtOf(e.smsAuth(t, phone, jwtOf(e.walletAuth(t, w, ""))))
	return signup{jwt: jwt, wallet: w, req: ratio.CreateUserRequest{
		FirstName: "Paul", MiddleName: "G", LastName: "OReally", Email: email, Country: "US", Phone: phone, AcceptedTerms: true,
	}}
}

// rawBody is the request as JSON with fields replaced (nil deletes one).
func rawBody(t *testing.T, r ratio.CreateUserRequest, set map[string]any) string {
	t.Helper()
	b, _ := json.Marshal(r)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range set {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, _ = json.Marshal(m)
	return string(b)
}

func TestCreateUser_Body(t *testing.T) {
	e := newEnv(t)
	e.seed(t, newPhone(), "taken@example.com")
	tests := []struct {
		name     string
		set      map[string]any
		wantCode string
	}{
		{"missing firstName", map[string]any{"firstName": nil}, ratio.CodeMissingFirstName},
		{"blank firstName", map[string]any{"firstName": "  "}, ratio.CodeMissingFirstName},
		{"firstName without a letter", map[string]any{"firstName": "123"}, ratio.CodeInvalidFirstName},
		{"missing lastName", map[string]any{"lastName": nil}, ratio.CodeMissingLastName},
		{"middleName without a letter", map[string]any{"middleName": "--"}, ratio.CodeInvalidMiddleName},
		{"missing email", map[string]any{"email": nil}, ratio.CodeMissingEmail},
		{"invalid email", map[string]any{"email": "paul@localhost"}, ratio.CodeInvalidEmail},
		{"missing country", map[string]any{"country": nil}, ratio.CodeMissingCountry},
		{"country of 3 letters", map[string]any{"country": "USA"}, ratio.CodeInvalidCountry},
		{"missing phone", map[string]any{"phone": nil}, ratio.CodeMissingPhone},
		{"phone not E.164", map[string]any{"phone": "(202) 555-0123"}, ratio.CodeInvalidPhone},
		{"phone in Toronto", map[string]any{"phone": "+14165551234"}, ratio.CodeInvalidPhoneCountryCode},
		{"terms false", map[string]any{"acceptedTerms": false}, ratio.CodeInvalidAcceptedTerms},
		{"terms as a string", map[string]any{"acceptedTerms": "true"}, ratio.CodeInvalidAcceptedTerms},
		{"terms missing", map[string]any{"acceptedTerms": nil}, ratio.CodeInvalidAcceptedTerms},
		{"another phone than the SMS factor's", map[string]any{"phone": "+12025559999"}, ratio.CodeMismatchPhone},
		{"an email of another user", map[string]any{"email": "taken@example.com"}, ratio.CodeAlreadyExistsEmail},
		{"firstName as a number", map[string]any{"firstName": 7}, ratio.CodeInvalidBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := e.newSignup(t, "body@example.com")
			r := e.postRaw(t, ratio.OpCreateUser, s.jwt, rawBody(t, s.req, tt.set))
			status := http.StatusBadRequest
			if strings.HasPrefix(tt.wantCode, "ALREADY_EXISTS") {
				status = http.StatusConflict
			}
			r.wantError(t, status, tt.wantCode)
		})
	}
}

func TestCreateUser_Session(t *testing.T) {
	e := newEnv(t)
	userPhone, userEmail := newPhone(), "existing@example.com"
	e.seed(t, userPhone, userEmail)
	tests := []struct {
		name string
		// setup returns the JWT and the request to send.
		setup      func(t *testing.T) (string, ratio.CreateUserRequest)
		wantStatus int
		wantCode   string
		wantMsg    string
	}{
		{"SMS and wallet", func(t *testing.T) (string, ratio.CreateUserRequest) {
			s := e.newSignup(t, "sw@example.com")
			return s.jwt, s.req
		}, 201, "", ""},
		{"SMS and email", func(t *testing.T) (string, ratio.CreateUserRequest) {
			s := e.newSignup(t, "se@example.com")
			jwt := jwtOf(e.emailAuth(t, "se@example.com", jwtOf(e.smsAuth(t, s.req.Phone, ""))))
			return jwt, s.req
		}, 201, "", ""},
		{"no JWT", func(t *testing.T) (string, ratio.CreateUserRequest) {
			return "", e.newSignup(t, "nojwt@example.com").req
		}, 401, ratio.CodeMissingAuthorization, ""},
		{"SMS only", func(t *testing.T) (string, ratio.CreateUserRequest) {
			s := e.newSignup(t, "sms@example.com")
			return jwtOf(e.smsAuth(t, s.req.Phone, "")), s.req
		}, 403, ratio.CodeMFARequired, "second authentication factor"},
		{"wallet only", func(t *testing.T) (string, ratio.CreateUserRequest) {
			return jwtOf(e.walletAuth(t, newWallet(t), "")), e.newSignup(t, "w@example.com").req
		}, 403, ratio.CodeMFARequired, "SMS must be one of the two factors"},
		{"email and wallet", func(t *testing.T) (string, ratio.CreateUserRequest) {
			jwt := jwtOf(e.walletAuth(t, newWallet(t), jwtOf(e.emailAuth(t, "ew@example.com", ""))))
			return jwt, e.newSignup(t, "ew@example.com").req
		}, 403, ratio.CodeMFARequired, "email and wallet are not a valid factor pair"},
		{"another email than the email factor's", func(t *testing.T) (string, ratio.CreateUserRequest) {
			s := e.newSignup(t, "factor@example.com")
			jwt := jwtOf(e.emailAuth(t, "factor@example.com", jwtOf(e.smsAuth(t, s.req.Phone, ""))))
			s.req.Email = "other@example.com"
			return jwt, s.req
		}, 400, ratio.CodeMismatchEmail, ""},
		{"a session that already has a user", func(t *testing.T) (string, ratio.CreateUserRequest) {
			jwt := jwtOf(e.emailAuth(t, userEmail, jwtOf(e.smsAuth(t, userPhone, ""))))
			req := e.newSignup(t, userEmail).req
			req.Phone = userPhone
			return jwt, req
		}, 409, ratio.CodeAlreadyExistsUser, ""},
		{"a phone that got a user since the SMS", func(t *testing.T) (string, ratio.CreateUserRequest) {
			s := e.newSignup(t, "late@example.com")
			e.seed(t, s.req.Phone, "first@example.com")
			return s.jwt, s.req
		}, 409, ratio.CodeAlreadyExistsPhone, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jwt, body := tt.setup(t)
			r := e.post(t, ratio.OpCreateUser, jwt, body)
			if tt.wantCode != "" {
				eb := r.wantError(t, tt.wantStatus, tt.wantCode)
				if !strings.Contains(eb.Message, tt.wantMsg) {
					t.Errorf("message %q, want it to say %q", eb.Message, tt.wantMsg)
				}
				return
			}
			if r.status != tt.wantStatus {
				t.Fatalf("status %d %s, want %d", r.status, r.body, tt.wantStatus)
			}
			var u ratio.User
			r.decode(t, &u)
			if !isUUID(u.ID) || u.Phone != body.Phone || u.Email != body.Email || u.FirstName != "Paul" || u.MiddleName != "G" {
				t.Errorf("created %+v, want the request's fields and a UUID", u)
			}
			if u.CreateTime != "2023-07-13T19:06:20.000Z" {
				t.Errorf("createTime %q, want RFC 3339 with millis", u.CreateTime)
			}
			// The session now belongs to the user, and cannot create another.
			if r := e.get(t, "/v1/users/"+u.ID, jwt); r.status != 200 {
				t.Errorf("GET the new user with the session: %d %s", r.status, r.body)
			}
			e.post(t, ratio.OpCreateUser, jwt, body).wantError(t, 409, ratio.CodeAlreadyExistsUser)
		})
	}
}

func TestCreateUser_AttachesTheWallet(t *testing.T) {
	e := newEnv(t)
	s := e.newSignup(t, "attach@example.com")
	var u ratio.User
	e.post(t, ratio.OpCreateUser, s.jwt, s.req).decode(t, &u)
	var ws ratio.Wallets
	e.get(t, "/v1/users/"+u.ID+"/wallets", s.jwt).decode(t, &ws)
	if len(ws.Items) != 1 || ws.Items[0].Address != s.wallet.addr || ws.Items[0].Type != "EVM" || !isUUID(ws.Items[0].ID) {
		t.Fatalf("wallets %+v, want the session's wallet", ws.Items)
	}
	if ar := e.walletAuth(t, s.wallet, ""); ar.UserMask == nil || ar.UserMask.ID != u.ID {
		t.Errorf("signing in with the wallet: userMask %+v, want user %s", ar.UserMask, u.ID)
	}
}

func TestReadUser(t *testing.T) {
	e := newEnv(t)
	phone, other := newPhone(), newPhone()
	u := e.seed(t, phone, "reader@example.com")
	o := e.seed(t, other, "other.reader@example.com")
	jwt := jwtOf(e.smsAuth(t, phone, ""))
	nobody := jwtOf(e.walletAuth(t, newWallet(t), ""))
	tests := []struct {
		name       string
		id         string
		jwt        string
		wantStatus int
		wantCode   string
	}{
		{"own user", u.ID, jwt, 200, ""},
		{"another user", o.ID, jwt, 403, ratio.CodeInvalidAuthorization},
		{"a session of nobody", u.ID, nobody, 403, ratio.CodeInvalidAuthorization},
		{"unknown user", "0b5d8c1e-0000-4000-8000-000000000000", jwt, 404, ratio.CodeNotFoundUser},
		{"malformed id", "not-a-uuid", jwt, 400, ratio.CodeInvalidUserID},
		{"no JWT", u.ID, "", 401, ratio.CodeMissingAuthorization},
	}
	for _, tt := range tests {
		for _, suffix := range []string{"", "/wallets"} {
			t.Run(tt.name+suffix, func(t *testing.T) {
				r := e.get(t, "/v1/users/"+tt.id+suffix, tt.jwt)
				if tt.wantCode != "" {
					r.wantError(t, tt.wantStatus, tt.wantCode)
					return
				}
				if suffix == "" {
					var got ratio.User
					r.decode(t, &got)
					if got.ID != u.ID || got.Phone != phone || got.Email != "reader@example.com" || got.Country != "US" || got.KYC == nil {
						t.Errorf("user %+v, want the seeded user", got)
					}
					return
				}
				var ws ratio.Wallets
				r.decode(t, &ws)
				if ws.Items == nil || len(ws.Items) != 0 {
					t.Errorf("wallets %s, want an empty items array", r.body)
				}
			})
		}
	}
}

func isUUID(s string) bool {
	return len(s) == 36 && strings.Count(s, "-") == 4 && s[14] == '4'
}

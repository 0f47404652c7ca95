package ratiotest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/ratiotest"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
)

// exampleT stands in for the *testing.T a test passes to NewServer.
type exampleT struct {
	testing.TB
	cleanups []func()
}

func (*exampleT) Helper()                          {}
func (t *exampleT) Cleanup(f func())               { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) Fatalf(format string, a ...any) { panic(fmt.Sprintf(format, a...)) }
func (t *exampleT) done() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

// call POSTs body to the sandbox with client credentials and decodes the
// answer into out.
func call(srv *ratiotest.Server, op ratio.Op, body string, out any) int {
	req, _ := http.NewRequest(http.MethodPost, srv.URL+op.Path(), strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("ratio-client-id", "my-client-id")
	req.Header.Set("ratio-client-secret", "my-client-secret")
	res, err := srv.Client().Do(req)
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	_ = json.NewDecoder(res.Body).Decode(out)
	return res.StatusCode
}

// A returning user signs in by SMS: seed the user, send the code, read it
// from the sandbox as from the user's phone, and authenticate.
func Example() {
	t := &exampleT{} // in a test: the test's *testing.T
	defer t.done()

	srv := ratiotest.NewServer(t)
	user, err := srv.SeedUser(sandbox.UserSeed{
		PhoneNumber:  "+12025550123",
		EmailAddress: "ratiouser@example.com",
		FirstName:    "Ada",
		LastName:     "Lovelace",
	})
	if err != nil {
		panic(err)
	}

	var sent ratio.SendSMSResponse
	status := call(srv, ratio.OpSendSMS, `{"phoneNumber":"+12025550123"}`, &sent)
	fmt.Println("sms:send", status, "phoneMask", sent.PhoneMask)

	code, _ := srv.LastOTP("+12025550123")
	fmt.Println("code has", len(code), "digits")

	var auth ratio.AuthResponse
	status = call(srv, ratio.OpAuthenticateSMS, `{"phoneId":"`+sent.PhoneID+`","otp":"`+code+`"}`, &auth)
	fmt.Println("sms:authenticate", status, "as the seeded user:", auth.UserMask.ID == user.ID)
	fmt.Println("emailMask", auth.UserMask.EmailMask)
	fmt.Println("sms:send calls", srv.Stats().Calls["POST /v1/auth/otp/sms:send"])

	// Output:
	// sms:send 200 phoneMask 0123
	// code has 6 digits
	// sms:authenticate 200 as the seeded user: true
	// emailMask rat...@example.com
	// sms:send calls 1
}

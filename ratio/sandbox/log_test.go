package sandbox_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestLogger_NeverLogsASecret(t *testing.T) {
	var buf syncBuffer
	noTime := func(_ []string, a slog.Attr) slog.Attr { // a timestamp's digits could look like a code
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: noTime}))
	e := newEnv(t, sandbox.Config{Logger: logger, ClientSecret: "secret-1"})
	phone := newPhone()
	e.seed(t, phone, "logged@example.com")
	sms := e.smsAuth(t, phone, "")
	final := e.emailAuth(t, "logged@example.com", jwtOf(sms))
	e.post(t, ratio.OpSendSMS, "", ratio.SendSMSRequest{PhoneNumber: "+14165551234"}) // an error answer

	logged := buf.String()
	if !strings.Contains(logged, "POST /v1/auth/otp/sms:authenticate") || !strings.Contains(logged, "INVALID_PHONE_COUNTRY_CODE") {
		t.Errorf("log %q, want the operations and error codes", logged)
	}
	for name, secret := range map[string]string{
		"client secret": "secret-1",
		"SMS JWT":       sms.SessionJWT.Reveal(),
		"final JWT":     final.SessionJWT.Reveal(),
		"SMS code":      e.otp(t, phone).Reveal(),
		"email code":    e.otp(t, "logged@example.com").Reveal(),
	} {
		if strings.Contains(logged, secret) {
			t.Errorf("the log holds the %s", name)
		}
	}
}

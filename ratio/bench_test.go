package ratio_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ratioflow/ratioflow/ratio"
)

// BenchmarkClientCall measures the client's own cost for one call
// (building the request, the retry machinery, reading and decoding the
// answer) against a server that answers at once with a fixed body, and
// the same exchange written by hand with net/http and encoding/json, the
// bench command's raw replay:
//
//	go test ./ratio -run X -bench ClientCall -count 5
func BenchmarkClientCall(b *testing.B) {
	answer := []byte(`{"sessionJwt":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl",` +
		`"userMask":{"id":"user-1","createTime":"2026-01-01T00:00:00Z","updateTime":"2026-01-01T00:00:00Z",` +
		`"phoneMask":"0123","emailMask":"a...@example.com","preferredMfaMethod":"SMS"}}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(answer)
	}))
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	ctx := context.Background()
	in := ratio.AuthenticateSMSRequest{PhoneID: "phone-number-test-1", OTP: "123456"}
	b.Run("client", func(b *testing.B) {
		c := ratio.NewClient(srv.URL, "app", "secret")
		c.HTTPClient = hc
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.AuthenticateSMS(ctx, "jwt", in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			body, _ := json.Marshal(map[string]string{"phoneId": in.PhoneID, "otp": in.OTP.Reveal()})
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+ratio.OpAuthenticateSMS.Path(), bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json")
			req.Header.Set("ratio-client-id", "app")
			req.Header.Set("ratio-client-secret", "secret")
			req.Header.Set("Authorization", "Bearer jwt")
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var a struct {
				SessionJWT string          `json:"sessionJwt"`
				UserMask   *ratio.UserMask `json:"userMask"`
			}
			if err := json.Unmarshal(data, &a); err != nil {
				b.Fatal(err)
			}
		}
	})
}

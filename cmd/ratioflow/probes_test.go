package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ratioflow/ratioflow/store/memstore"
)

// TestProbes: the probes answer without a subject, /readyz follows the
// store, and every other path reaches the flow API.
func TestProbes(t *testing.T) {
	st := memstore.New()
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot) // the flow API, standing in
	})
	var logs bytes.Buffer
	srv := httptest.NewServer(withProbes(api, st, slog.New(slog.NewTextHandler(&logs, nil))))
	defer srv.Close()
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(body))
	}
	for _, tt := range []struct {
		name, path string
		closed     bool
		status     int
		body       string
	}{
		{"live", "/healthz", false, http.StatusOK, `{"status":"ok"}`},
		{"ready", "/readyz", false, http.StatusOK, `{"status":"ok"}`},
		{"the API", "/v1/flows", false, http.StatusTeapot, ""},
		{"a probe's name under the API", "/v1/healthz", false, http.StatusTeapot, ""},
		{"live without a store", "/healthz", true, http.StatusOK, `{"status":"ok"}`},
		{"not ready without a store", "/readyz", true, http.StatusServiceUnavailable,
			`{"status":"unavailable","detail":"the flow store does not answer"}`},
	} {
		if tt.closed {
			_ = st.Close()
		}
		status, body := get(tt.path)
		if status != tt.status || body != tt.body {
			t.Errorf("%s: GET %s = %d %s, want %d %s", tt.name, tt.path, status, body, tt.status, tt.body)
		}
	}
	if !strings.Contains(logs.String(), "not ready") {
		t.Errorf("a failed readiness probe logged nothing: %q", logs.String())
	}
	resp, err := http.Post(srv.URL+"/readyz", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot {
		t.Errorf("POST /readyz = %d, want it left to the flow API", resp.StatusCode)
	}
}

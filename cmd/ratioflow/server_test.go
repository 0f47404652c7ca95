package main

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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
	srv := httptest.NewServer(withOps(api, st, http.NotFoundHandler(), slog.New(slog.NewTextHandler(&logs, nil)), nil))
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

// TestNewServer_SlowClient: a client that sends its body slowly cannot
// hold a connection for ever. The server of serve and sandbox has read
// and idle timeouts; this test shortens the read timeout to see the
// connection cut.
func TestNewServer_SlowClient(t *testing.T) {
	srv := newServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
		}
	}), io.Discard)
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.IdleTimeout <= 0 {
		t.Fatalf("server timeouts: header %s, read %s, idle %s; want all set", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.IdleTimeout)
	}
	srv.ReadTimeout = 100 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Headers, then one byte of a body of ten, then silence.
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{")
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	reply, err := io.ReadAll(conn) // until the server closes the connection
	if err != nil {
		t.Fatalf("the server held a silent client for 10s: %v", err)
	}
	if !strings.HasPrefix(string(reply), "HTTP/1.1 400") {
		t.Errorf("a body that stopped arriving: %q, want 400 and the connection closed", reply)
	}
}

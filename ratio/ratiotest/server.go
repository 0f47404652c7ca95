// Package ratiotest starts the Ratio sandbox (package sandbox) for a test:
// NewServer serves it on a local port, in the manner of
// net/http/httptest, and closes it when the test ends. Everything else
// (Config, Clock, UserSeed, the hooks) is package sandbox's.
package ratiotest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ratioflow/ratioflow/ratio/sandbox"
)

// Server is a sandbox listening on a local address, in the manner of
// httptest.Server. The Handler's hooks (SeedUser, LastOTP, Stats,
// FailNext...) are promoted onto it.
type Server struct {
	*sandbox.Handler
	// URL is the base URL, http://127.0.0.1:port, without a trailing slash.
	URL string

	ts *httptest.Server
}

// NewServer starts a sandbox configured by cfg (at most one; none means
// the zero Config) and closes it when the test ends.
func NewServer(tb testing.TB, cfg ...sandbox.Config) *Server {
	tb.Helper()
	var c sandbox.Config
	switch len(cfg) {
	case 0:
	case 1:
		c = cfg[0]
	default:
		tb.Fatalf("ratiotest.NewServer: %d configs, want at most 1", len(cfg))
	}
	h := sandbox.NewHandler(c)
	ts := httptest.NewServer(h)
	s := &Server{Handler: h, URL: ts.URL, ts: ts}
	tb.Cleanup(s.Close)
	return s
}

// Close shuts the server down, waiting for calls in flight. It may be
// called more than once.
func (s *Server) Close() { s.ts.Close() }

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.ts.Client() }

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/flow/flowtest"
	"github.com/ratioflow/ratioflow/internal/pgtest"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/memstore"
	"github.com/ratioflow/ratioflow/store/pgstore"
	"github.com/ratioflow/ratioflow/store/sqlitestore"
)

// malformed is one request the API must refuse: its answer's status, code
// and the field it names ("" when the request has none to name).
type malformed struct {
	name         string
	method, path string // path may hold {id}, the flow's ID
	header       http.Header
	body         string
	status       int
	code, field  string
}

// TestServe_MalformedRequests sends serve's handler, over HTTP, more than
// a hundred requests that are malformed in their body, headers, path or
// query, on each store. Each gets a typed 4xx problem naming the field at
// fault, none a 500, none a redirect; the flow they aim at and the
// caller's list of flows stay as they were, and Ratio is never called.
func TestServe_MalformedRequests(t *testing.T) {
	t.Parallel()
	stores := map[string]func(t *testing.T) store.Store{
		"memory": func(t *testing.T) store.Store { return memstore.New() },
		"sqlite": func(t *testing.T) store.Store {
			s, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "flows.db"))
			if err != nil {
				t.Fatalf("sqlitestore.Open() = %v", err)
			}
			return s
		},
		"postgres": func(t *testing.T) store.Store {
			s, err := pgstore.Open(t.Context(), pgtest.Schema(t))
			if err != nil {
				t.Fatalf("pgstore.Open() = %v", err)
			}
			return s
		},
	}
	cases := malformedCases()
	if len(cases) < 100 {
		t.Fatalf("%d malformed requests, want at least 100", len(cases))
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			checkMalformed(t, open(t), cases)
		})
	}
}

// checkMalformed serves st as serve does and sends every case to a link
// flow waiting for its phone number.
func checkMalformed(t *testing.T, st store.Store, cases []malformed) {
	h := flowtest.New(t, flowtest.Options{Store: st})
	var logs lockedBuffer
	handler, _, err := serveHandler(st, h.Ratio, flowtest.SealKey, flow.Options{Now: h.Clock.Now},
		slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), nil)
	if err != nil {
		t.Fatalf("serveHandler() = %v", err)
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	w := flowtest.NewWallet(t)
	send := func(c malformed) (int, http.Header, []byte) {
		t.Helper()
		req, err := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		req.Header = c.header.Clone()
		if req.Header == nil {
			req.Header = http.Header{subjectHeader: {"user-1"}}
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, body
	}
	status, _, body := send(malformed{method: "POST", path: "/v1/flows",
		body: fmt.Sprintf(`{"kind":"link","walletAddress":%q}`, w.Address)})
	var v flow.View
	if err := json.Unmarshal(body, &v); status != http.StatusCreated || err != nil {
		t.Fatalf("create: %d %s", status, body)
	}
	status, _, body = send(malformed{method: "POST", path: "/v1/flows/" + v.ID + "/events/sign",
		body: fmt.Sprintf(`{"signature":%q}`, w.Sign(t, v.Challenge))})
	if err := json.Unmarshal(body, &v); status != http.StatusOK || err != nil || v.State != states.WalletAuthed {
		t.Fatalf("sign: %d %s", status, body)
	}
	before := snapshot(t, h, st, v.ID)

	for _, c := range cases {
		c.path = strings.ReplaceAll(c.path, "{id}", v.ID)
		status, header, body := send(c)
		var p struct {
			Status      int
			Code, Field string
		}
		err := json.Unmarshal(body, &p)
		switch {
		case err != nil || header.Get("Content-Type") != "application/problem+json":
			t.Errorf("%s: %d %q %s, want a problem document", c.name, status, header.Get("Content-Type"), body)
		case status != c.status || p.Status != c.status || p.Code != c.code || p.Field != c.field:
			t.Errorf("%s: %d %s field %q, want %d %s field %q: %s", c.name, status, p.Code, p.Field,
				c.status, c.code, c.field, body)
		}
	}
	if after := snapshot(t, h, st, v.ID); after != before {
		t.Errorf("after the malformed requests:\n%s\nwant, as before them:\n%s", after, before)
	}
	if strings.Contains(logs.String(), "level=ERROR") || strings.Contains(logs.String(), "status=5") {
		t.Errorf("a malformed request was answered or logged as a server error:\n%s", logs.String())
	}
}

// snapshot describes the flow id as stored, the subject's flows and the
// calls Ratio received.
func snapshot(t *testing.T, h *flowtest.Harness, st store.Store, id string) string {
	t.Helper()
	ctx := context.Background()
	rec, err := st.Get(ctx, id)
	if err != nil {
		t.Fatalf("Get(%s) = %v", id, err)
	}
	hist, err := st.History(ctx, id)
	if err != nil {
		t.Fatalf("History(%s) = %v", id, err)
	}
	page, err := st.List(ctx, store.Query{})
	if err != nil {
		t.Fatalf("List() = %v", err)
	}
	calls := 0
	for _, n := range h.Sandbox.Stats().Calls {
		calls += n
	}
	return fmt.Sprintf("state %s, version %d, data %x, %d history entries, %d flows stored, %d Ratio calls",
		rec.State, rec.Version, rec.Data, len(hist), len(page.Records), calls)
}

// lockedBuffer is a bytes.Buffer safe for concurrent use: the handler logs
// from its requests' goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

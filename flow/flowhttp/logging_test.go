package flowhttp_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ratioflow/ratioflow/flow/flowhttp"
	"github.com/ratioflow/ratioflow/flow/flowtest"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/memstore"
)

// brokenReads is a store whose reads fail once broken is set.
type brokenReads struct {
	store.Store
	broken atomic.Bool
}

var errDiskOnFire = errors.New("disk on fire")

func (s *brokenReads) Get(ctx context.Context, id string) (*store.Record, error) {
	if s.broken.Load() {
		return nil, errDiskOnFire
	}
	return s.Store.Get(ctx, id)
}

// Every 5xx is logged at ERROR with its cause, which the answer never
// holds; a 4xx stays at INFO.
func TestAPI_ServerErrorsLoggedWithTheirCause(t *testing.T) {
	st := &brokenReads{Store: memstore.New()}
	h := flowtest.New(t, flowtest.Options{Store: st})
	var logs flowhttp.SyncBuffer
	handler := flowhttp.New(h.Engine, flowhttp.HeaderSubject(subjectHeader))
	handler.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	a := &api{t: t, h: h, url: srv.URL, subject: "user-1"}
	v := a.do("POST", "/v1/flows", fmt.Sprintf(`{"kind":"link","walletAddress":%q}`, flowtest.NewWallet(t).Address)).view

	a.want(a.do("GET", "/v1/flows/"+v.ID+"/", ""), 404, "no_route")
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("a 404 was logged at ERROR:\n%s", logs.String())
	}
	st.broken.Store(true)
	ans := a.do("GET", "/v1/flows/"+v.ID, "")
	a.want(ans, 500, "internal")
	if strings.Contains(ans.raw, errDiskOnFire.Error()) {
		t.Errorf("the answer holds the cause: %s", ans.raw)
	}
	var line string
	for l := range strings.Lines(logs.String()) {
		if strings.Contains(l, "status=500") {
			line = l
		}
	}
	if !strings.Contains(line, "level=ERROR") || !strings.Contains(line, errDiskOnFire.Error()) {
		t.Errorf("the 500 was logged as %q, want level=ERROR with its cause %q", line, errDiskOnFire)
	}
}

// downKeys is an IdempotencyStore that always fails.
type downKeys struct{}

var errKeysDown = errors.New("key store down")

func (downKeys) Begin(context.Context, string, string) (*flowhttp.Response, func(*flowhttp.Response), error) {
	return nil, nil, errKeysDown
}

// A failing idempotency store's 503 is logged at ERROR with its cause too.
func TestAPI_IdempotencyUnavailableLoggedWithItsCause(t *testing.T) {
	h := flowtest.New(t)
	var logs flowhttp.SyncBuffer
	handler := flowhttp.New(h.Engine, flowhttp.HeaderSubject(subjectHeader))
	handler.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	handler.Idempotency = downKeys{}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	a := &api{t: t, h: h, url: srv.URL, subject: "user-1"}
	ans := a.do("POST", "/v1/flows", `{"kind":"link"}`, "Idempotency-Key", "k1")
	a.want(ans, 503, "idempotency_unavailable")
	if strings.Contains(ans.raw, errKeysDown.Error()) {
		t.Errorf("the answer holds the cause: %s", ans.raw)
	}
	if l := logs.String(); !strings.Contains(l, "level=ERROR") || !strings.Contains(l, errKeysDown.Error()) {
		t.Errorf("log %q: want the 503 at ERROR with its cause", l)
	}
}

package flowhttp

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/ratioflow/ratioflow/store"
)

// Liveness answers the liveness probe of an orchestrator (GET /healthz):
// 200 {"status":"ok"} while the process serves requests at all.
func Liveness() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProbe(w, http.StatusOK, "")
	})
}

// ReadyTimeout bounds the store read of a readiness probe.
const ReadyTimeout = 2 * time.Second

// readyProbeID is the flow ID a readiness probe reads: not one the engine
// makes (those are hex), so the read finds nothing, which is a success.
const readyProbeID = "readiness-probe"

// Readiness answers the readiness probe of a load balancer (GET /readyz):
// 200 when st answers a read within ReadyTimeout, else 503, so that a
// replica cut off from its store is taken out of rotation. Ratio is not
// probed: a replica can do nothing about Ratio being down, and every
// replica would fail together. A failure is logged to log, if set.
func Readiness(st store.Store, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), ReadyTimeout)
		defer cancel()
		if _, err := st.Get(ctx, readyProbeID); err != nil && !errors.Is(err, store.ErrNotFound) {
			if log != nil {
				log.LogAttrs(r.Context(), slog.LevelWarn, "not ready: the store does not answer", slog.String("err", err.Error()))
			}
			writeProbe(w, http.StatusServiceUnavailable, "the flow store does not answer")
			return
		}
		writeProbe(w, http.StatusOK, "")
	})
}

// writeProbe answers a probe: {"status":"ok"}, or "unavailable" and why.
func writeProbe(w http.ResponseWriter, status int, detail string) {
	body := struct {
		Status string `json:"status"`
		Detail string `json:"detail,omitempty"`
	}{"ok", detail}
	if status != http.StatusOK {
		body.Status = "unavailable"
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

package flowhttp

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A step that panics after writing part of its answer keeps nothing under
// its Idempotency-Key: the retry does the step.
func TestIdempotent_PanicKeepsNothing(t *testing.T) {
	h := &Handler{subject: func(*http.Request) (string, error) { return "user-1", nil }, Idempotency: NewMemoryIdempotency(0, 0)}
	calls := 0
	step := h.idempotent(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			_, _ = w.Write([]byte("partial"))
			panic(http.ErrAbortHandler)
		}
		writeJSON(w, http.StatusOK, "done")
	})
	post := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/v1/flows/f/events/e", strings.NewReader(`{}`))
		req.Header.Set("Idempotency-Key", "k1")
		rec := httptest.NewRecorder()
		step(rec, req)
		return rec
	}
	func() {
		defer func() {
			if p := recover(); p != http.ErrAbortHandler {
				t.Errorf("first request: recovered %v, want the step's panic", p)
			}
		}()
		post()
	}()
	rec := post()
	if calls != 2 || rec.Header().Get("Idempotent-Replayed") != "" || !strings.Contains(rec.Body.String(), "done") {
		t.Errorf("retry after a panic: %d calls, replayed %q, body %q; want the step done again",
			calls, rec.Header().Get("Idempotent-Replayed"), rec.Body.String())
	}
}

package flowconsole_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ratioflow/ratioflow/flow/flowconsole"
	"github.com/ratioflow/ratioflow/visualize"
)

func get(t *testing.T, h http.Handler, method, path string) *http.Response {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, path, nil))
	return w.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestNew_CDN: by default the page loads the pinned mermaid from the CDN,
// which its Content-Security-Policy allows, and nothing else from afar.
func TestNew_CDN(t *testing.T) {
	h, err := flowconsole.New("")
	if err != nil {
		t.Fatal(err)
	}
	r := get(t, h, "GET", flowconsole.Prefix)
	page := body(t, r)
	if r.StatusCode != http.StatusOK || !strings.Contains(page, `<script src="`+visualize.MermaidCDN+`">`) ||
		!strings.Contains(page, `data-api="/admin/"`) {
		t.Fatalf("GET %s = %d:\n%s", flowconsole.Prefix, r.StatusCode, page)
	}
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self' https://cdn.jsdelivr.net;") {
		t.Errorf("CSP = %q, want the CDN's origin in script-src", csp)
	}
	if r := get(t, h, "GET", flowconsole.ScriptPath); r.StatusCode != http.StatusNotFound {
		t.Errorf("GET %s without a local copy = %d, want 404", flowconsole.ScriptPath, r.StatusCode)
	}
	for _, f := range []string{"app.js", "style.css"} {
		if r := get(t, h, "GET", flowconsole.Prefix+f); r.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", f, r.StatusCode)
		}
	}
	if r := get(t, h, "POST", flowconsole.Prefix); r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST = %d, want 405", r.StatusCode)
	}
	if r := get(t, h, "GET", "/console"); r.StatusCode != http.StatusMovedPermanently || r.Header.Get("Location") != flowconsole.Prefix {
		t.Errorf("GET /console = %d %s, want a redirect to %s", r.StatusCode, r.Header.Get("Location"), flowconsole.Prefix)
	}
}

// TestNew_LocalCopy: a local copy of mermaid is served by the handler, and
// the page loads it from there.
func TestNew_LocalCopy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mermaid.min.js")
	if err := os.WriteFile(path, []byte("window.mermaid = {};"), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := flowconsole.New(path)
	if err != nil {
		t.Fatal(err)
	}
	r := get(t, h, "GET", flowconsole.Prefix)
	if page := body(t, r); !strings.Contains(page, `<script src="`+flowconsole.ScriptPath+`">`) {
		t.Errorf("the page does not load the local copy:\n%s", page)
	}
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self';") {
		t.Errorf("CSP = %q, want scripts from the page's origin only", csp)
	}
	if r := get(t, h, "GET", flowconsole.ScriptPath); r.StatusCode != http.StatusOK || body(t, r) != "window.mermaid = {};" {
		t.Errorf("GET %s = %d", flowconsole.ScriptPath, r.StatusCode)
	}
	if _, err := flowconsole.New(filepath.Join(t.TempDir(), "missing.js")); err == nil {
		t.Error("New(a missing file) = nil, want an error")
	}
}

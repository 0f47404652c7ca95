package staticpage_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"

	"github.com/ratioflow/ratioflow/internal/staticpage"
)

func TestPage(t *testing.T) {
	files, err := staticpage.Files(fstest.MapFS{"static/index.html": {Data: []byte("<p>page</p>")}}, "static", "/page/")
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if staticpage.Admit(w, r, "/page/", "default-src 'self'") {
			files.ServeHTTP(w, r)
		}
	})
	for _, tt := range []struct {
		name, method, path string
		status             int
		header, value      string
	}{
		{"page", "GET", "/page/", 200, "Content-Security-Policy", "default-src 'self'"},
		{"HEAD of index.html", "HEAD", "/page/index.html", 301, "Location", "./"}, // the file server sends it to the folder
		{"no sniffing", "GET", "/page/", 200, "X-Content-Type-Options", "nosniff"},
		{"missing file", "GET", "/page/nothing.js", 404, "X-Content-Type-Options", "nosniff"},
		{"without the slash", "GET", "/page", 301, "Location", "/page/"},
		{"outside", "GET", "/other/", 404, "Content-Security-Policy", ""},
		{"post", "POST", "/page/", 405, "Allow", "GET, HEAD"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil))
			if w.Code != tt.status || w.Header().Get(tt.header) != tt.value {
				t.Errorf("%s %s = %d %s %q, want %d %q", tt.method, tt.path, w.Code, tt.header, w.Header().Get(tt.header), tt.status, tt.value)
			}
		})
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/page/", nil))
	if w.Body.String() != "<p>page</p>" {
		t.Errorf("GET /page/ = %q", w.Body)
	}
}

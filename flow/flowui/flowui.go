// Package flowui serves a reference frontend for the flow API: one plain
// HTML page, embedded in the binary, that starts a flow of any kind and
// renders each step from the flow's view and the API's OpenAPI document
// alone (a form per event in next, an input per field, with the field's
// format), so a new flow or event shows up without touching the page.
//
// Mount the Handler at Prefix beside a flowhttp.Handler on the same
// origin. With a Sandbox, the page also offers development hooks under
// Prefix+"dev/": a development wallet that signs the challenge, the codes
// the sandbox "sent", seeding a returning user and forcing a rate limit.
// There the caller's identity is the page's own, kept in a cookie (see
// DevSubject); never give a Sandbox against a real Ratio.
package flowui

import (
	"embed"
	"net/http"
	"strings"

	"github.com/ratioflow/ratioflow/internal/staticpage"
)

// Prefix is the path the handler serves: the page is Prefix itself.
const Prefix = "/ui/"

//go:embed static
var static embed.FS

// Handler serves the page and, in development mode, its hooks.
type Handler struct {
	files http.Handler
	dev   *devHooks
}

// New returns the page's handler. sb, when not nil, is the in-process
// sandbox the development hooks act on; nil serves the page alone, and
// every path under Prefix+"dev/" answers 404.
func New(sb Sandbox) (*Handler, error) {
	files, err := staticpage.Files(static, "static", Prefix)
	if err != nil {
		return nil, err
	}
	h := &Handler{files: files}
	if sb != nil {
		h.dev, err = newDevHooks(sb)
		if err != nil {
			return nil, err
		}
	}
	return h, nil
}

// ServeHTTP serves the page's files under Prefix and the development
// hooks under Prefix+"dev/", and redirects Prefix without its slash.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, Prefix+"dev/"); ok {
		if h.dev == nil {
			http.NotFound(w, r)
			return
		}
		h.dev.serve(w, r, rest)
		return
	}
	if !staticpage.Admit(w, r, Prefix, "default-src 'self'; style-src 'self' 'unsafe-inline'") {
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	h.files.ServeHTTP(w, r)
}

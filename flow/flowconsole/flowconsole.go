// Package flowconsole serves ratioflow's operator console: one plain HTML
// page, embedded in the binary, that lists the stored flows with filters,
// shows one flow's timeline and its audit diagrams (the path taken
// highlighted, and the sequence of its steps), draws the traffic of every
// edge, and cancels or resumes a flow. It calls the admin API of package
// flow/flowadmin, and draws the diagrams in the browser with Mermaid.
//
// Mount the Handler at Prefix on the admin listener that serves the
// flowadmin.Handler at flowadmin.Prefix, never on the origin of the flow
// API. The page itself holds no data: when the admin API asks for a
// token, the page asks the operator for it and keeps it in the tab's
// session storage.
package flowconsole

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"os"

	"github.com/ratioflow/ratioflow/flow/flowadmin"
	"github.com/ratioflow/ratioflow/internal/staticpage"
	"github.com/ratioflow/ratioflow/visualize"
)

// Prefix is the path the handler serves: the page is Prefix itself.
const Prefix = "/console/"

// ScriptPath is where the handler serves a local copy of the mermaid
// script (see New).
const ScriptPath = Prefix + "mermaid.min.js"

//go:embed static
var static embed.FS

// Handler serves the console page.
type Handler struct {
	files  http.Handler
	index  []byte
	script []byte // a local copy of mermaid, or nil
	csp    string
}

var indexTemplate = template.Must(template.ParseFS(static, "static/index.html"))

// New returns the console's handler, whose page loads the mermaid script
// from mermaid: an http or https URL, or the path of a local copy (such
// as node_modules/mermaid/dist/mermaid.min.js), which New reads once and
// the handler serves at ScriptPath, for use offline. Empty means
// visualize.MermaidCDN, the version the project checks its diagrams with.
func New(mermaid string) (*Handler, error) {
	if mermaid == "" {
		mermaid = visualize.MermaidCDN
	}
	files, err := staticpage.Files(static, "static", Prefix)
	if err != nil {
		return nil, err
	}
	h := &Handler{files: files}
	scriptSrc := "'self'"
	if u, err := url.Parse(mermaid); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		scriptSrc += " " + u.Scheme + "://" + u.Host
	} else {
		if h.script, err = os.ReadFile(mermaid); err != nil {
			return nil, fmt.Errorf("flowconsole: the mermaid script %q is neither an http(s) URL nor a readable file: %w", mermaid, err)
		}
		mermaid = ScriptPath
	}
	var b bytes.Buffer
	if err := indexTemplate.Execute(&b, map[string]string{"Mermaid": mermaid, "API": flowadmin.Prefix}); err != nil {
		return nil, err
	}
	h.index = b.Bytes()
	// Mermaid styles its SVG with inline style elements.
	h.csp = "default-src 'self'; script-src " + scriptSrc + "; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
		"connect-src 'self'; frame-ancestors 'none'"
	return h, nil
}

// ServeHTTP serves the page under Prefix, and redirects Prefix without
// its slash.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !staticpage.Admit(w, r, Prefix, h.csp) {
		return
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	switch r.URL.Path {
	case Prefix, Prefix + "index.html":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(h.index)
	case ScriptPath:
		if h.script == nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "max-age=3600")
		_, _ = w.Write(h.script)
	default:
		w.Header().Set("Cache-Control", "no-cache")
		h.files.ServeHTTP(w, r)
	}
}

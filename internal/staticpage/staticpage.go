// Package staticpage holds what ratioflow's embedded pages, the reference
// frontend of flow/flowui and the operator console of flow/flowconsole,
// answer alike: their files under a path prefix, the redirect of the
// prefix without its slash, 404 outside the prefix, 405 to other methods
// than GET and HEAD, and the security headers of every answer.
package staticpage

import (
	"io/fs"
	"net/http"
	"strings"
)

// Files serves the files of fsys's directory dir at the same paths under
// prefix, which ends in a slash.
func Files(fsys fs.FS, dir, prefix string) (http.Handler, error) {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		return nil, err
	}
	return http.StripPrefix(strings.TrimSuffix(prefix, "/"), http.FileServerFS(sub)), nil
}

// Admit answers the requests a page mounted at prefix (which ends in a
// slash) does not serve, and reports false for them: prefix without its
// slash is redirected to prefix, a path outside prefix gets 404, and a
// method other than GET and HEAD gets 405 with an Allow header. For the
// others it sets csp as the Content-Security-Policy, forbids content
// sniffing, and reports true: the caller serves the request.
func Admit(w http.ResponseWriter, r *http.Request, prefix, csp string) bool {
	if r.URL.Path == strings.TrimSuffix(prefix, "/") {
		http.Redirect(w, r, prefix, http.StatusMovedPermanently)
		return false
	}
	if !strings.HasPrefix(r.URL.Path, prefix) {
		http.NotFound(w, r)
		return false
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return false
	}
	w.Header().Set("Content-Security-Policy", csp)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	return true
}

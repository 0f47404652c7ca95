package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ratioflow/ratioflow/visualize"
)

func TestDiagram_HTML(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := mustRun(t, nil, "diagram", "--flow", "all", "--format", "html", "--out", dir)
	if files := strings.Fields(out); len(files) != 4 {
		t.Fatalf("diagram --format html wrote %d files, want 4 (one page per flow):\n%s", len(files), out)
	}
	page, err := os.ReadFile(filepath.Join(dir, "link.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<script src="` + visualize.MermaidCDN + `">`, `<pre class="mermaid">flowchart TD`,
		`<pre class="mermaid">sequenceDiagram`, "ALREADY_EXISTS_PHONE"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("link.html lacks %q", want)
		}
	}

	// A local copy of the script, for offline use, is loaded by its file:// URL.
	local := filepath.Join(t.TempDir(), "mermaid.min.js")
	if err := os.WriteFile(local, []byte("// mermaid"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, nil, "diagram", "--format", "html", "--out", dir, "--mermaid-js", local)
	page, _ = os.ReadFile(filepath.Join(dir, "link.html"))
	if want := `<script src="file://` + filepath.ToSlash(local) + `">`; !strings.Contains(string(page), want) {
		t.Errorf("link.html with --mermaid-js %s lacks %q", local, want)
	}
}

func TestDiagram_HTMLErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no out", []string{"diagram", "--format", "html"}, "give --out DIR"},
		{"missing script", []string{"diagram", "--format", "html", "--out", t.TempDir(), "--mermaid-js", "no/such/mermaid.js"},
			`--mermaid-js "no/such/mermaid.js": neither a URL nor a readable file`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCmd(t, context.Background(), nil, tt.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("%v = exit %d, stderr %q; want exit 2 and %q", tt.args, r.code, r.stderr, tt.want)
			}
		})
	}
}

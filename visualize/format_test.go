package visualize_test

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/ratioflow/ratioflow/transitions"
	"github.com/ratioflow/ratioflow/visualize"
)

func TestParseFormat(t *testing.T) {
	tests := []struct {
		name     string
		want     visualize.Format
		wantFile string
		wantErr  error
	}{
		{"overview", visualize.FormatOverview, "link.overview.mmd", nil},
		{"state", visualize.FormatState, "link.state.mmd", nil},
		{"sequence", visualize.FormatSequence, "link.sequence.mmd", nil},
		{"dot", visualize.FormatDOT, "link.dot", nil},
		{"svg", "", "", visualize.ErrUnsupportedFormat},
		{"", "", "", visualize.ErrUnsupportedFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := visualize.ParseFormat(tt.name)
			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseFormat(%q) = %q, %v, want %q, %v", tt.name, got, err, tt.want, tt.wantErr)
			}
			if err != nil {
				return
			}
			if file := visualize.FileName(transitions.KindLink, got); file != tt.wantFile {
				t.Errorf("FileName(link, %s) = %q, want %q", got, file, tt.wantFile)
			}
			text, err := visualize.Render(transitions.Link, got)
			if err != nil || text == "" {
				t.Errorf("Render(link, %s) = %d bytes, %v, want a diagram", got, len(text), err)
			}
		})
	}
	if _, err := visualize.Render(transitions.Link, "svg"); !errors.Is(err, visualize.ErrUnsupportedFormat) {
		t.Errorf("Render(link, svg) error = %v, want ErrUnsupportedFormat", err)
	}
}

func TestDiagrams_OneFilePerFlowAndFormat(t *testing.T) {
	files, err := visualize.Diagrams(transitions.All(), visualize.Formats())
	if err != nil {
		t.Fatal(err)
	}
	if want := len(transitions.All()) * len(visualize.Formats()); len(files) != want {
		t.Errorf("Diagrams returned %d files, want %d", len(files), want)
	}
	if _, err := visualize.Diagrams(transitions.All(), []visualize.Format{"png"}); !errors.Is(err, visualize.ErrUnsupportedFormat) {
		t.Errorf("Diagrams(png) error = %v, want ErrUnsupportedFormat", err)
	}
}

// TestMermaidVersion keeps the version the HTML pages load from the CDN in
// step with the one the tests check the diagrams with.
func TestMermaidVersion(t *testing.T) {
	lock, err := os.ReadFile("mermaidcheck/package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	var l struct {
		Packages map[string]struct{ Version string } `json:"packages"`
	}
	if err := json.Unmarshal(lock, &l); err != nil {
		t.Fatal(err)
	}
	if got := l.Packages["node_modules/mermaid"].Version; got != visualize.MermaidVersion {
		t.Errorf("package-lock.json pins mermaid %s, MermaidVersion is %s", got, visualize.MermaidVersion)
	}
}

package visualize_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ratioflow/ratioflow/transitions"
	"github.com/ratioflow/ratioflow/visualize"
)

// TestDocsUpToDate fails when the committed docs (docs/flows.md and
// docs/diagrams/) differ from what the tables generate, and says how to
// regenerate them.
func TestDocsUpToDate(t *testing.T) {
	if err := visualize.CheckDocs(filepath.Join("..", "docs")); err != nil {
		t.Fatal(err)
	}
}

func TestCheckDocs_ReportsStaleMissingAndExtraFiles(t *testing.T) {
	dir := t.TempDir()
	if err := visualize.WriteDocs(dir); err != nil {
		t.Fatal(err)
	}
	if err := visualize.CheckDocs(dir); err != nil {
		t.Fatalf("CheckDocs just after WriteDocs = %v, want nil", err)
	}
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("diagrams/link.state.mmd", "stateDiagram-v2\n")
	write("diagrams/old.dot", "digraph {}\n")
	if err := os.Remove(filepath.Join(dir, "flows.md")); err != nil {
		t.Fatal(err)
	}
	err := visualize.CheckDocs(dir)
	if err == nil {
		t.Fatal("CheckDocs = nil, want an error")
	}
	for _, want := range []string{"diagrams/link.state.mmd is stale", "flows.md is missing",
		"diagrams/old.dot is not generated any more", "go run ./visualize/internal/gendocs"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("CheckDocs = %v, want it to say %q", err, want)
		}
	}
	if err := visualize.WriteDocs(dir); err != nil {
		t.Fatal(err)
	}
	if err := visualize.CheckDocs(dir); err != nil {
		t.Errorf("CheckDocs after WriteDocs over stale docs = %v, want nil", err)
	}
}

func TestDocs_FlowsPageEmbedsEveryDiagram(t *testing.T) {
	page := visualize.Docs()["flows.md"]
	for _, f := range transitions.All() {
		for _, d := range []string{visualize.OverviewDiagram(f), visualize.StateDiagram(f), visualize.SequenceDiagram(f)} {
			if !strings.Contains(page, "```mermaid\n"+d+"```\n") {
				t.Errorf("flows.md does not embed this diagram of %s in a mermaid block:\n%s", f.Kind, d)
			}
		}
	}
	// Each flow names the guides of Ratio's it comes from, by their titles.
	if n, want := strings.Count(page, "From Ratio's guide"), len(transitions.All()); n != want {
		t.Errorf("flows.md names Ratio's guides %d times, want once per flow (%d)", n, want)
	}
	if strings.Contains(page, "seed") {
		t.Error("flows.md speaks of seeds, which only the project's authors know")
	}
}

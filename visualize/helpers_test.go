package visualize_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ratioflow/ratioflow/transitions"
	"github.com/ratioflow/ratioflow/visualize"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ with the generated text")

// golden compares got with the file testdata/name, byte for byte, or
// rewrites the file with -update.
func golden(tb testing.TB, name, got string) {
	tb.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (create it with: go test ./visualize -update)", err)
	}
	if got != string(want) {
		tb.Errorf("%s differs from the generated text at line %d (regenerate with: go test ./visualize -update)\n%s",
			path, firstDiffLine(string(want), got), diffContext(string(want), got))
	}
}

// firstDiffLine returns the 1-based number of the first line where a and b differ.
func firstDiffLine(a, b string) int {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return i + 1
		}
	}
	return min(len(al), len(bl)) + 1
}

func diffContext(want, got string) string {
	n := firstDiffLine(want, got) - 1
	line := func(s string) string {
		if l := strings.Split(s, "\n"); n < len(l) {
			return l[n]
		}
		return "(end of text)"
	}
	return "want: " + line(want) + "\ngot:  " + line(got)
}

// allDiagrams returns every diagram the project generates, keyed by a file
// name: every flow in every format.
func allDiagrams(tb testing.TB) map[string]string {
	tb.Helper()
	out, err := visualize.Diagrams(transitions.All(), visualize.Formats())
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

package visualize_test

import (
	"testing"
)

// TestGolden holds every generated diagram against its file under testdata/;
// regenerate them with go test ./visualize -update and review the diff.
func TestGolden(t *testing.T) {
	for name, text := range allDiagrams(t) {
		t.Run(name, func(t *testing.T) {
			golden(t, name, text)
		})
	}
}

package problemcodes_test

import (
	"slices"
	"testing"

	"github.com/ratioflow/ratioflow/internal/problemcodes"
)

func TestTable(t *testing.T) {
	codes := map[string]int{"not_found": 404, "ended": 409, "conflict": 409, "invalid_input": 422}
	if got, want := problemcodes.Statuses(codes), []int{404, 409, 422}; !slices.Equal(got, want) {
		t.Errorf("Statuses = %v, want %v", got, want)
	}
	if got, want := problemcodes.Of(codes, 409), []string{"conflict", "ended"}; !slices.Equal(got, want) {
		t.Errorf("Of(409) = %v, want %v", got, want)
	}
	if got := problemcodes.Of(codes, 500); got != nil {
		t.Errorf("Of(500) = %v, want none", got)
	}
	if got, want := problemcodes.All(codes), []string{"conflict", "ended", "invalid_input", "not_found"}; !slices.Equal(got, want) {
		t.Errorf("All = %v, want %v", got, want)
	}
}

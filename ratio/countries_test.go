package ratio_test

import (
	"slices"
	"testing"

	"github.com/ratioflow/ratioflow/ratio"
)

func TestCountryCodes_AreWhatCheckCountryAccepts(t *testing.T) {
	codes := ratio.CountryCodes()
	if len(codes) != 249 || !slices.IsSorted(codes) {
		t.Fatalf("CountryCodes() = %d codes (sorted: %t), want the 249 ISO 3166-1 codes, sorted", len(codes), slices.IsSorted(codes))
	}
	for _, c := range codes {
		if err := ratio.CheckCountry(c); err != nil {
			t.Errorf("CheckCountry(%q) = %v, want nil", c, err)
		}
	}
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			c := string([]rune{a, b})
			if accepted := ratio.CheckCountry(c) == nil; accepted != slices.Contains(codes, c) {
				t.Errorf("CheckCountry(%q) accepts: %t, but CountryCodes lists it: %t", c, accepted, !accepted)
			}
		}
	}
}

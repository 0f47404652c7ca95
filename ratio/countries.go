package ratio

// CountryCodes returns the ISO 3166-1 alpha-2 codes CheckCountry accepts,
// sorted, for a form's list of countries. The caller owns the slice.
func CountryCodes() []string {
	out := make([]string, 0, len(iso3166)/2)
	for i := 0; i+2 <= len(iso3166); i += 2 {
		out = append(out, iso3166[i:i+2])
	}
	return out
}

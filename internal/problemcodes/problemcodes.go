// Package problemcodes reads an HTTP API's table of problem codes, each
// stable error code and the HTTP status it is answered with, in the sorted
// order the API's OpenAPI document lists them.
package problemcodes

import (
	"maps"
	"slices"
)

// Statuses lists the statuses of the table, sorted, each once.
func Statuses(codes map[string]int) []int {
	return slices.Compact(slices.Sorted(maps.Values(codes)))
}

// Of lists the codes of the table answered with status, sorted.
func Of(codes map[string]int, status int) []string {
	var out []string
	for code, s := range codes {
		if s == status {
			out = append(out, code)
		}
	}
	slices.Sort(out)
	return out
}

// All lists every code of the table, sorted.
func All(codes map[string]int) []string {
	return slices.Sorted(maps.Keys(codes))
}

package visualize

import "strings"

// escape makes free text safe in a Mermaid label, message or note: a
// newline would end the statement, ";" separates statements and "#" starts
// an entity code, so they become a space and Mermaid's entity codes. The
// replacement is one pass, so the ";" of "#35;" is left alone.
var escape = strings.NewReplacer(
	"\r\n", " ", "\n", " ", "\r", " ",
	"#", "#35;", ";", "#59;",
).Replace

// dotEscape escapes a Graphviz quoted string's content.
var dotEscape = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`)

// dotQuote returns s as a Graphviz quoted string.
func dotQuote(s string) string { return `"` + dotEscape.Replace(s) + `"` }

// lines accumulates the statements of a diagram, indented.
type lines struct {
	b strings.Builder
}

// add writes one statement at the given depth of indentation.
func (l *lines) add(depth int, s string) {
	l.b.WriteString(strings.Repeat("    ", depth))
	l.b.WriteString(s)
	l.b.WriteByte('\n')
}

// String returns a readable form.
func (l *lines) String() string { return l.b.String() }

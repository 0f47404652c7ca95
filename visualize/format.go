package visualize

import (
	"errors"
	"fmt"

	"github.com/ratioflow/ratioflow/transitions"
)

// Format is a kind of diagram.
type Format string

// The formats Render draws.
const (
	// FormatOverview is a Mermaid flowchart of the paths a person walks,
	// to read in a documentation column.
	FormatOverview Format = "overview"
	// FormatState is the complete state diagram, a Mermaid flowchart
	// showing every edge.
	FormatState Format = "state"
	// FormatSequence is a Mermaid sequenceDiagram telling the spec's story.
	FormatSequence Format = "sequence"
	// FormatDOT is a Graphviz digraph with the edges of the state diagram.
	FormatDOT Format = "dot"
)

// ErrUnsupportedFormat is returned, wrapped, for a format name that is not
// one of Formats, or one a view cannot be drawn in.
var ErrUnsupportedFormat = errors.New("unsupported diagram format")

// Formats returns every format, in the order the docs show them.
func Formats() []Format { return []Format{FormatOverview, FormatState, FormatSequence, FormatDOT} }

// ParseFormat returns the format named s ("overview", "state", "sequence"
// or "dot").
// It returns an error wrapping ErrUnsupportedFormat for any other name.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats() {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("%w %q (want overview, state, sequence or dot)", ErrUnsupportedFormat, s)
}

// Ext returns the file name extension of the format, with its leading dot:
// ".overview.mmd", ".state.mmd", ".sequence.mmd" or ".dot".
func (f Format) Ext() string {
	if f == FormatDOT {
		return ".dot"
	}
	return "." + string(f) + ".mmd"
}

// FileName returns the name of the file holding the diagram of a flow in a
// format, as docs/diagrams names it: "link.state.mmd", "link.dot".
func FileName(kind transitions.Kind, f Format) string { return string(kind) + f.Ext() }

// Render draws flow f in the given format. It returns an error wrapping
// ErrUnsupportedFormat for an unknown format.
func Render(f *transitions.Flow, format Format) (string, error) {
	switch format {
	case FormatOverview:
		return OverviewDiagram(f), nil
	case FormatState:
		return StateDiagram(f), nil
	case FormatSequence:
		return SequenceDiagram(f), nil
	case FormatDOT:
		return DOT(f), nil
	}
	return "", fmt.Errorf("%w %q (want overview, state, sequence or dot)", ErrUnsupportedFormat, format)
}

// Diagrams draws each flow in each format and returns the texts keyed by
// FileName. It returns an error wrapping ErrUnsupportedFormat for an unknown
// format. The command writes the result with WriteFiles.
func Diagrams(flows []*transitions.Flow, formats []Format) (map[string]string, error) {
	out := make(map[string]string, len(flows)*len(formats))
	for _, f := range flows {
		for _, format := range formats {
			text, err := Render(f, format)
			if err != nil {
				return nil, err
			}
			out[FileName(f.Kind, format)] = text
		}
	}
	return out, nil
}

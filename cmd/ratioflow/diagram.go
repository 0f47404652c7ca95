package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/ratioflow/ratioflow/transitions"
	"github.com/ratioflow/ratioflow/visualize"
)

const diagramAbout = `
Draw the declared flows, from the same tables the engine runs: the overview
of the paths a person walks (overview), the complete state diagram with
every edge (state), both Mermaid flowcharts, the Mermaid sequence diagram of
the spec's story (sequence), or a Graphviz digraph (dot). To stdout, or one
file per flow and format into --out DIR, named as docs/diagrams names them.`

func runDiagram(_ context.Context, e *env, args []string) error {
	fs := flagSet(e, "diagram", "[--flow NAME|all] [--format overview|state|sequence|dot|all] [--out DIR]", diagramAbout)
	flowName := fs.String("flow", string(transitions.KindLink), "the flow to draw: "+kindList()+", or all")
	formatName := fs.String("format", string(visualize.FormatOverview), "the diagram: overview, state, sequence, dot, or all")
	out := fs.String("out", "", "write one file per flow and format into this directory instead of stdout")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	f, err := lookupFlow("diagram", *flowName, true)
	if err != nil {
		return err
	}
	flows := transitions.All()
	if f != nil {
		flows = []*transitions.Flow{f}
	}
	formats := visualize.Formats()
	if *formatName != "all" {
		format, err := visualize.ParseFormat(*formatName)
		if err != nil {
			return usageErrorf("diagram", "--format %q: one of overview, state, sequence, dot, all", *formatName)
		}
		formats = []visualize.Format{format}
	}
	files, err := visualize.Diagrams(flows, formats)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	if *out != "" {
		if err := visualize.WriteFiles(*out, files); err != nil {
			return fmt.Errorf("write the diagrams: %w", err)
		}
		for _, name := range names {
			fmt.Fprintln(e.stdout, filepath.Join(*out, filepath.FromSlash(name)))
		}
		return nil
	}
	for i, name := range names {
		if len(names) > 1 {
			if i > 0 {
				fmt.Fprintln(e.stdout)
			}
			fmt.Fprintf(e.stdout, "%s %s\n", commentMark(name), name)
		}
		fmt.Fprint(e.stdout, files[name])
	}
	return nil
}

// commentMark starts a comment line in the file's language.
func commentMark(name string) string {
	if filepath.Ext(name) == ".dot" {
		return "//"
	}
	return "%%"
}

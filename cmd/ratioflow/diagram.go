package main

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"

	"github.com/ratioflow/ratioflow/transitions"
	"github.com/ratioflow/ratioflow/visualize"
)

const diagramAbout = `
Draw the declared flows, from the same tables the engine runs: the overview
of the paths a person walks (overview), the complete state diagram with
every edge (state), both Mermaid flowcharts, the Mermaid sequence diagram of
the spec's story (sequence), or a Graphviz digraph (dot). To stdout, or one
file per flow and format into --out DIR, named as docs/diagrams names them.

--format html --out DIR writes a page per flow (DIR/link.html, ...) that
draws its overview, complete view and sequence diagram in a browser. The
pages load mermaid from --mermaid-js: by default the CDN address of the
version the project checks its diagrams with; give a local copy's path
(e.g. visualize/mermaidcheck/node_modules/mermaid/dist/mermaid.min.js after
npm ci --prefix visualize/mermaidcheck) to read them offline.`

func runDiagram(_ context.Context, e *env, args []string) error {
	fs := flagSet(e, "diagram", "[--flow NAME|all] [--format overview|state|sequence|dot|all|html] [--out DIR] [--mermaid-js URL|PATH]", diagramAbout)
	flowName := fs.String("flow", string(transitions.KindLink), "the flow to draw: "+kindList()+", or all")
	formatName := fs.String("format", string(visualize.FormatOverview), "the diagram: overview, state, sequence, dot, all, or html (pages that draw them, into --out)")
	out := fs.String("out", "", "write one file per flow and format into this directory instead of stdout")
	script := fs.String("mermaid-js", visualize.MermaidCDN, "with --format html: the mermaid script's URL, or a local copy's path")
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
	if *formatName == "html" {
		return writeHTML(e, flows, *out, *script)
	}
	formats := visualize.Formats()
	if *formatName != "all" {
		format, err := visualize.ParseFormat(*formatName)
		if err != nil {
			return usageErrorf("diagram", "--format %q: one of overview, state, sequence, dot, all, html", *formatName)
		}
		formats = []visualize.Format{format}
	}
	files, err := visualize.Diagrams(flows, formats)
	if err != nil {
		return err
	}
	names := slices.Sorted(maps.Keys(files))
	if *out != "" {
		return writeDiagrams(e, *out, files)
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

// writeDiagrams writes files into dir and prints their paths.
func writeDiagrams(e *env, dir string, files map[string]string) error {
	if err := visualize.WriteFiles(dir, files); err != nil {
		return fmt.Errorf("write the diagrams: %w", err)
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		fmt.Fprintln(e.stdout, filepath.Join(dir, filepath.FromSlash(name)))
	}
	return nil
}

// writeHTML writes a page per flow into dir, loading mermaid from script:
// a URL, or the path of a local copy, which must exist.
func writeHTML(e *env, flows []*transitions.Flow, dir, script string) error {
	if dir == "" {
		return usageErrorf("diagram", "--format html writes files: give --out DIR")
	}
	u, err := url.Parse(script)
	if err != nil || u.Scheme == "" || len(u.Scheme) == 1 { // "C:" is a drive, not a scheme
		path, err := filepath.Abs(script)
		if err == nil {
			_, err = os.Stat(path)
		}
		if err != nil {
			return usageErrorf("diagram", "--mermaid-js %q: neither a URL nor a readable file: %v", script, err)
		}
		script = (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
	}
	return writeDiagrams(e, dir, visualize.HTMLPages(flows, script))
}

// commentMark starts a comment line in the file's language.
func commentMark(name string) string {
	if filepath.Ext(name) == ".dot" {
		return "//"
	}
	return "%%"
}

//go:build !race

package visualize_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/flow/flowstats"
	"github.com/ratioflow/ratioflow/flow/flowtest"
	"github.com/ratioflow/ratioflow/internal/pilot"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
	"github.com/ratioflow/ratioflow/visualize"
)

// columnWidth is the width of a documentation column, and minTextPx the
// smallest text an overview may show in it.
const (
	columnWidth = 880
	minTextPx   = 9
)

// TestRendered renders every Mermaid diagram the project generates (each
// flow's overview, complete view and sequence diagram, the docs, the audit
// views of the fixtures and of a real run) with the pinned mermaid package
// in headless Chromium, and fails when an arrow, a label or a state the
// source declares is not drawn, when two labels or a label and a state
// overlap, when a note's text leaves its box, or when an overview or an
// audit shows text under 9 px in an 880 px column. RATIOFLOW_SCREENSHOTS=DIR
// saves a PNG of each.
func TestRendered(t *testing.T) {
	diagrams := renderedDiagrams(t)
	r := newRenderer(t)
	shots := os.Getenv("RATIOFLOW_SCREENSHOTS")
	if shots != "" {
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(diagrams)) {
		t.Run(name, func(t *testing.T) { checkRendered(t, r, name, diagrams[name], shots) })
	}
	t.Run("html", func(t *testing.T) { checkHTMLPage(t, r) })
}

// checkRendered renders one diagram and reports what is wrong with it.
func checkRendered(t *testing.T, r *renderer, name, text, shots string) {
	width := columnWidth
	if strings.HasSuffix(name, ".state.mmd") || strings.HasPrefix(name, "docs-") {
		width = 0 // the complete view may be wider than a column
	}
	got := r.render(t, strings.TrimSuffix(name, ".mmd"), text, width, shots)
	if got.Error != "" {
		t.Fatalf("Mermaid failed: %s", got.Error)
	}
	var problems []string
	if strings.HasPrefix(text, "sequenceDiagram") {
		problems = checkSequence(text, got)
	} else {
		problems = checkFlowchart(text, got)
		if width == columnWidth && got.MinFont < minTextPx {
			problems = append(problems, fmt.Sprintf("smallest text %.1f px in a %d px column, want %d px or more (natural width %.0f px)",
				got.MinFont, columnWidth, minTextPx, got.Natural))
		}
	}
	for _, p := range problems {
		t.Error(p)
	}
	t.Logf("%d arrows, %d labels, %d states, %d messages, %d notes; natural width %.0f px, smallest text %.1f px at %.0f px",
		len(got.Edges), len(got.Labels), len(got.Nodes), len(got.Messages), len(got.Notes), got.Natural, got.MinFont, got.Width)
}

// renderedDiagrams returns every Mermaid diagram to render, keyed by file
// name: allDiagrams, the docs' mermaid blocks, the stats views of
// statsFixture and the audit of a real run.
func renderedDiagrams(t *testing.T) map[string]string {
	diagrams := allDiagrams(t)
	for name := range diagrams {
		if strings.HasSuffix(name, ".dot") {
			delete(diagrams, name)
		}
	}
	page := visualize.Docs()["flows.md"]
	known := slices.Collect(maps.Values(diagrams))
	for i, block := range strings.Split(page, "```mermaid\n")[1:] {
		block, _, _ = strings.Cut(block, "```\n")
		if !slices.Contains(known, block) {
			diagrams[fmt.Sprintf("docs-flows-%d.mmd", i)] = block
		}
	}
	f, s := statsFixture()
	diagrams["stats-link.overview.mmd"] = visualize.StatsState(f, s, visualize.Overview)
	diagrams["stats-link.state.mmd"] = visualize.StatsState(f, s, visualize.Complete)
	f, s = flyThousand(t)
	diagrams["stats-1000-link.overview.mmd"] = visualize.StatsState(f, s, visualize.Overview)
	diagrams["stats-1000-link.state.mmd"] = visualize.StatsState(f, s, visualize.Complete)
	f, rec, history := flyLink(t)
	diagrams["audit-run.overview.mmd"] = visualize.AuditState(f, rec, history)
	diagrams["audit-run.state.mmd"] = visualize.AuditStateView(f, rec, history, visualize.Complete)
	diagrams["audit-run.sequence.mmd"] = visualize.AuditSequence(f, rec, history)
	return diagrams
}

// flyLink flies a link flow on the sandbox as the demo does: the phone
// belongs to an existing user (409), Ratio answers 429 once after the user
// confirms, and the wallet is linked.
func flyLink(t *testing.T) (*transitions.Flow, *store.Record, []store.HistoryEntry) {
	h := flowtest.New(t)
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	person := flowtest.NewPerson()
	h.SeedUser(person)
	forced := false
	p := &pilot.Pilot{
		Engine: h.Engine, Codes: pilot.SandboxCodes{Sandbox: h.Sandbox.Handler}, Subject: h.Subject,
		Persona: pilot.Persona{Key: key, Phone: person.Phone, Email: person.Email, FirstName: person.FirstName,
			LastName: person.LastName, Country: person.Country},
		Sleep: func(_ context.Context, d time.Duration) error { h.Clock.Advance(d); return nil },
		Observe: func(s pilot.Step) {
			if !forced && s.View != nil && s.View.State == states.PhoneConflict {
				forced = true
				h.Sandbox.Handler.ForceRateLimit(ratio.OpSendSMS, 1, 2*time.Second)
			}
		},
	}
	ctx := context.Background()
	v, err := p.Fly(ctx, transitions.KindLink)
	if err != nil || v.State != states.Linked {
		t.Fatalf("fly the link flow: %v, %v", v, err)
	}
	rec, err := h.Store.Get(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	history, err := h.Store.History(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(history, func(e store.HistoryEntry) bool { return e.Status == 429 }) {
		t.Fatalf("the run has no 429 step: %+v", history)
	}
	return transitions.Link, rec, history
}

// flyThousand flies a thousand link flows as a bench does, on the sandbox,
// and reads their traffic from the store: most people are returning users
// (409, SMS first, email, linked), some are new (Authenticated), some
// cancel after the challenge and some leave the flow waiting for a code.
func flyThousand(t *testing.T) (*transitions.Flow, *flowstats.Stats) {
	h := flowtest.New(t)
	ctx := context.Background()
	for i := range 1000 {
		key, err := crypto.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		person := flowtest.NewPerson()
		p := &pilot.Pilot{Engine: h.Engine, Codes: pilot.SandboxCodes{Sandbox: h.Sandbox.Handler}, Subject: h.Subject,
			Persona: pilot.Persona{Key: key, Phone: person.Phone, Email: person.Email, FirstName: person.FirstName,
				LastName: person.LastName, Country: person.Country},
			Sleep: func(_ context.Context, d time.Duration) error { h.Clock.Advance(d); return nil }}
		switch {
		case i%10 == 9: // leaves after the challenge
			v, err := h.Engine.Start(ctx, transitions.KindLink, h.Subject, flow.Input{WalletAddress: crypto.PubkeyToAddress(key.PublicKey).Hex()})
			if err != nil {
				t.Fatal(err)
			}
			if i%20 == 19 {
				if _, err := h.Engine.Cancel(ctx, v.ID, h.Subject); err != nil {
					t.Fatal(err)
				}
			}
			continue
		case i%10 < 7: // a returning user: the 409 branch
			h.SeedUser(person)
		}
		if _, err := p.Fly(ctx, transitions.KindLink); err != nil {
			t.Fatalf("flight %d: %v", i, err)
		}
	}
	stats, err := flowstats.Read(ctx, h.Store, store.Query{Kind: string(transitions.KindLink)},
		flowstats.Options{Now: h.Clock.Now})
	if err != nil || len(stats) != 1 || stats[0].Flows != 1000 {
		t.Fatalf("the thousand flows' traffic = %v, %v", stats, err)
	}
	return transitions.Link, stats[0]
}

var nodeRE = regexp.MustCompile(`^\s+(\w+)\(?\[?\(?"(.*)"\)?\]?\)?$`)

// squash drops the spaces of a text, as textContent joins the lines of a
// label without one.
func squash(s string) string { return strings.Join(strings.Fields(s), "") }

// checkFlowchart compares what the browser drew with the flowchart's
// source: an arrow for every arrow, every label and every state's text
// drawn, no two labels and no label and state overlapping.
func checkFlowchart(text string, got rendering) []string {
	var problems []string
	arrows := arrowLines(text)
	drawn := map[string]bool{}
	for _, e := range got.Edges {
		if e.Text != "0" {
			drawn[e.ID[strings.Index(e.ID, "-L_")+1:]] = true
		}
	}
	labels := map[string]int{}
	for _, l := range got.Labels {
		labels[squash(l.Text)]++
	}
	for _, a := range arrows {
		if id := "L_" + a.from + "_" + a.to + "_0"; !drawn[id] {
			problems = append(problems, fmt.Sprintf("arrow %s --> %s is not drawn", a.from, a.to))
		}
		if a.label == "" {
			continue
		}
		if labels[squash(a.label)] == 0 {
			problems = append(problems, fmt.Sprintf("label %q is not drawn", a.label))
		}
		labels[squash(a.label)]--
	}
	if len(drawn) != len(arrows) {
		problems = append(problems, fmt.Sprintf("%d arrows drawn, the source declares %d", len(drawn), len(arrows)))
	}
	nodes := map[string]bool{}
	for _, n := range got.Nodes {
		nodes[squash(n.Text)] = true
	}
	for _, line := range strings.Split(text, "\n") {
		if m := nodeRE.FindStringSubmatch(line); m != nil && !nodes[squash(unflow.Replace(m[2]))] {
			problems = append(problems, fmt.Sprintf("state %s (%q) is not drawn", m[1], unflow.Replace(m[2])))
		}
	}
	for i, a := range got.Labels {
		for _, b := range got.Labels[i+1:] {
			if overlap(a, b) {
				problems = append(problems, fmt.Sprintf("labels %q and %q overlap", a.Text, b.Text))
			}
		}
		for _, n := range got.Nodes {
			if overlap(a, n) {
				problems = append(problems, fmt.Sprintf("label %q overlaps state %q", a.Text, n.Text))
			}
		}
	}
	return problems
}

// checkSequence compares a sequence diagram's messages with its source and
// checks each note's text stays in its box.
func checkSequence(text string, got rendering) []string {
	var problems []string
	if want := strings.Count(text, "->>"); len(got.Messages) != want {
		problems = append(problems, fmt.Sprintf("%d messages drawn, the source declares %d", len(got.Messages), want))
	}
	if want := strings.Count(text, "Note over"); len(got.Notes) != want {
		problems = append(problems, fmt.Sprintf("%d notes drawn, the source declares %d", len(got.Notes), want))
	}
	for _, nt := range got.NoteTexts {
		if !slices.ContainsFunc(got.Notes, func(n rect) bool { return inside(nt, n) }) {
			problems = append(problems, fmt.Sprintf("note text %q leaves its box", nt.Text))
		}
	}
	for i, a := range got.Messages {
		for _, b := range got.Messages[i+1:] {
			if overlap(a, b) {
				problems = append(problems, fmt.Sprintf("messages %q and %q overlap", a.Text, b.Text))
			}
		}
	}
	return problems
}

// overlap reports whether two boxes share more than a pixel each way.
func overlap(a, b rect) bool {
	w := min(a.X+a.W, b.X+b.W) - max(a.X, b.X)
	h := min(a.Y+a.H, b.Y+b.H) - max(a.Y, b.Y)
	return w > 1 && h > 1
}

// inside reports whether box a lies within box b, give or take a pixel.
func inside(a, b rect) bool {
	return a.X >= b.X-1 && a.Y >= b.Y-1 && a.X+a.W <= b.X+b.W+1 && a.Y+a.H <= b.Y+b.H+1
}

// checkHTMLPage opens the link flow's page that diagram --format html
// writes, on the local mermaid script, and waits for its three diagrams to
// be drawn (the pages differ only in the diagrams, each checked above). It
// runs last: it navigates away from the renderer's page.
func checkHTMLPage(t *testing.T, r *renderer) {
	dir := t.TempDir()
	if err := visualize.WriteFiles(dir, visualize.HTMLPages(transitions.All(), "file://"+r.script)); err != nil {
		t.Fatal(err)
	}
	for _, f := range []*transitions.Flow{transitions.Link} {
		page := "file://" + dir + "/" + string(f.Kind) + ".html"
		if err := chromedp.Do(r.ctx, chromedp.Navigate(page)); err != nil {
			t.Fatalf("open %s: %v", page, err)
		}
		drawn, errors := 0, 0
		for range 100 {
			counts, err := chromedp.Run(r.ctx, chromedp.Evaluate[[2]int](
				`[document.querySelectorAll('pre.mermaid svg').length, document.querySelectorAll('pre.mermaid svg[aria-roledescription="error"]').length]`))
			if err != nil {
				t.Fatal(err)
			}
			if drawn, errors = counts[0], counts[1]; drawn == 3 {
				break
			}
			time.Sleep(50 * time.Millisecond) // polling the browser, not timing the code
		}
		if drawn != 3 || errors != 0 {
			t.Errorf("%s: %d diagrams drawn (%d errors), want 3 and none", page, drawn, errors)
		}
	}
}

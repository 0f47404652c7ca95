package visualize

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ratioflow/ratioflow/transitions"
)

// DocsCommand is the command, run from the module's root, that regenerates
// the docs (docs/flows.md and docs/diagrams/) with WriteDocs.
const DocsCommand = "go run ./visualize/internal/gendocs"

// ImagesCommand is the command, run from the module's root, that renders
// the PNGs under docs/images in headless Chromium (see TestRendered). They
// are not compared byte for byte: fonts differ between machines.
const ImagesCommand = `RATIOFLOW_SCREENSHOTS=$PWD/docs/images go test ./visualize -count=1 ` +
	`-run 'TestRendered/^(link\.(overview|state)|audit-run\.overview|stats-link\.overview)\.mmd$'`

// seedTitles names the pages of Ratio's guides the flows come from, by
// the numbers the tables' Seeds field uses.
var seedTitles = map[string]string{
	"000": "Link a new Signing Wallet to an Existing User",
	"001": "Link a new Signing Wallet to an Existing User", // a second capture of 000
	"002": "Add a new Auth Method to an Existing User",
	"003": "User Authentication",
	"004": "Create a User",
}

// intros say, for each flow, when an app runs it.
var intros = map[transitions.Kind]string{
	transitions.KindLink: "A returning user opens the app with a new signing wallet. To Ratio the new " +
		"wallet looks like a new user, so when the user submits their phone number Ratio answers " +
		"409 ALREADY_EXISTS_PHONE: the phone belongs to their existing account. The flow then " +
		"authenticates that account with SMS as the first factor (sending the code again without " +
		"the wallet's JWT, backing off on 429) and email as the second, and attaches the new wallet " +
		"with the two-factor JWT. If the phone matches the wallet's own account instead, the SMS " +
		"code completes a two-factor session and nothing needs linking.",
	transitions.KindLinkFactorsFirst: "The app already knows the user has a Ratio account and " +
		"wants to link a new signing wallet. SMS and email authenticate the user first; the wallet " +
		"challenge is then requested and signed with the two-factor JWT, and Ratio links the " +
		"wallet to the account by itself.",
	transitions.KindSignIn: "A user signs in with the wallet Ratio knows as the first factor and " +
		"SMS as the second; the app then reads the user and their wallets. A wallet Ratio does " +
		"not know ends the flow in UnknownWallet: the app runs the link flow instead.",
	transitions.KindSignUp: "A new user gives their name, email, country, US phone number and " +
		"accepts the terms; the data is validated before anything is sent. The wallet is the " +
		"first factor and SMS the second (a sign-up needs SMS), then the user is created with " +
		"POST /v1/users.",
}

// Docs returns the generated documentation, keyed by slash-separated path
// relative to the docs directory: "diagrams/<kind>.state.mmd",
// "diagrams/<kind>.sequence.mmd" and "diagrams/<kind>.dot" for every
// declared flow, and "flows.md", which embeds the Mermaid diagrams so a
// code host renders them, with a walk through each flow.
func Docs() map[string]string {
	files, err := Diagrams(transitions.All(), Formats())
	if err != nil {
		panic(err) // Formats only lists formats Render draws
	}
	out := make(map[string]string, len(files)+1)
	for name, text := range files {
		out["diagrams/"+name] = text
	}
	out["flows.md"] = flowsPage()
	return out
}

// WriteDocs writes Docs under dir (the repository's docs directory) and
// removes the files of dir/diagrams that Docs no longer generates.
func WriteDocs(dir string) error {
	docs := Docs()
	if err := os.MkdirAll(filepath.Join(dir, "diagrams"), 0o755); err != nil {
		return fmt.Errorf("write docs: %w", err)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "diagrams"))
	if err != nil {
		return fmt.Errorf("write docs: %w", err)
	}
	for _, e := range entries {
		if _, keep := docs["diagrams/"+e.Name()]; !keep && !e.IsDir() {
			if err := os.Remove(filepath.Join(dir, "diagrams", e.Name())); err != nil {
				return fmt.Errorf("write docs: remove stale diagram: %w", err)
			}
		}
	}
	return WriteFiles(dir, docs)
}

// WriteFiles writes each file of files (keyed by slash-separated path
// relative to dir, as Diagrams and Docs return them) under dir, creating
// directories as needed.
func WriteFiles(dir string, files map[string]string) error {
	for name, text := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

// CheckDocs compares the docs under dir with Docs and returns an error
// naming every stale, missing or extra file and DocsCommand, or nil.
func CheckDocs(dir string) error {
	docs := Docs()
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(docs)) {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			errs = append(errs, fmt.Errorf("%s is missing", name))
		case err != nil:
			errs = append(errs, err)
		case string(got) != docs[name]:
			errs = append(errs, fmt.Errorf("%s is stale", name))
		}
	}
	entries, err := os.ReadDir(filepath.Join(dir, "diagrams"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	for _, e := range entries {
		if _, ok := docs["diagrams/"+e.Name()]; !ok {
			errs = append(errs, fmt.Errorf("diagrams/%s is not generated any more", e.Name()))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("docs in %s differ from the tables: %w\nregenerate them from the module's root with: %s",
		dir, errors.Join(errs...), DocsCommand)
}

// flowsPage is docs/flows.md.
func flowsPage() string {
	var b strings.Builder
	b.WriteString("# The flows\n\n")
	fmt.Fprintf(&b, "<!-- Generated by `%s` from the declared tables in package transitions. Do not edit. -->\n\n", DocsCommand)
	b.WriteString(pageIntro)
	for _, f := range transitions.All() {
		fmt.Fprintf(&b, "- [`%s`](#%s): %s\n", f.Kind, f.Kind, f.Title)
	}
	for _, f := range transitions.All() {
		flowSection(&b, f)
	}
	return b.String()
}

const pageIntro = "Every diagram here is generated from the tables in package `transitions`, the same\n" +
	"tables the engine runs, so a diagram cannot drift from the code. `docs/diagrams/` holds\n" +
	"each flow's diagrams as files: Mermaid (`.state.mmd`, `.sequence.mmd`) and Graphviz\n" +
	"(`.dot`, render with `dot -Tsvg docs/diagrams/link.dot`). Regenerate them and this page\n" +
	"from the module's root with\n\n    " + DocsCommand + "\n\n" +
	"`go test ./visualize` fails when they are stale, and parses every diagram with the real\n" +
	"Mermaid parser once `npm ci --prefix visualize/mermaidcheck` has installed it.\n\n" +
	"How to read them:\n\n" +
	"- The **overview** shows the paths a person walks and where each branch leads, top to\n" +
	"  bottom from the black start point. Thick arrows are transitions the engine fires by\n" +
	"  itself (`(auto)`, their states dashed). Each state's box sums up its error handling: one\n" +
	"  `⚠ errors: stay` for the errors that keep the flow where it was (a 429, a wrong OTP, a\n" +
	"  5xx: the user retries), `⚠ JWT expired → New` for those that lead elsewhere, and `↻`\n" +
	"  for the events that stay on purpose (`resend_otp`). Green terminal states are successes,\n" +
	"  red ones are Failed, Expired and Canceled. Cancel and expire fire in every running state\n" +
	"  and are drawn once, from \"any running state\".\n" +
	"- The **complete view** draws every edge the engine can take. The edges between the\n" +
	"  same two states share one arrow with a line per event naming each outcome, and the\n" +
	"  legend lists, state by state, the errors that stay. Outcomes a call cannot produce\n" +
	"  (a wrong OTP where no code is checked) are declared in the tables but not drawn.\n" +
	"- A **sequence diagram** tells the story between the User, the Wallet (your app) and\n" +
	"  Ratio, with branches as alt/else blocks. Errors and retries are in the state diagrams.\n\n" +
	"`ratioflow diagram --format html --out DIR` writes a page per flow that renders them\n" +
	"in a browser. For viewers that do not render Mermaid, `docs/images/` holds PNGs drawn by\n" +
	"Mermaid in Chromium: the link flow's [overview](images/link.overview.png), its\n" +
	"[complete view](images/link.state.png), [an audit](images/audit-run.overview.png) of a run\n" +
	"with a 409 and a 429, and [the traffic](images/stats-link.overview.png) of three flows.\n" +
	"Regenerate them with\n\n    " + ImagesCommand + "\n\n" +
	"The flows:\n\n"

// flowSection writes the part of flows.md about one flow.
func flowSection(b *strings.Builder, f *transitions.Flow) {
	fmt.Fprintf(b, "\n## %s\n\n**%s**\n\n", f.Kind, f.Title)
	var guides []string
	for _, s := range f.Seeds {
		if g := fmt.Sprintf("%q", seedTitles[s]); !slices.Contains(guides, g) {
			guides = append(guides, g)
		}
	}
	noun := "guide"
	if len(guides) > 1 {
		noun = "guides"
	}
	fmt.Fprintf(b, "From Ratio's %s %s.\n\n", noun, strings.Join(guides, " and "))
	if intro := intros[f.Kind]; intro != "" {
		b.WriteString(wrap(intro, 96) + "\n\n")
	}
	var start []string
	for _, fd := range f.Start {
		start = append(start, "`"+fd.Name+"`")
	}
	fmt.Fprintf(b, "Started with %s, in state `%s`. Graph version `%s`.\n\n", strings.Join(start, ", "), f.Initial, f.Version())
	b.WriteString("### Walk-through\n\n")
	walkThrough(b, f)
	b.WriteString("\n### Overview\n\n" + overviewIntro + "\n\n```mermaid\n" + OverviewDiagram(f) + "```\n")
	b.WriteString("\n### Every edge\n\n" + completeIntro + "\n\n```mermaid\n" + StateDiagram(f) + "```\n")
	b.WriteString("\n### Sequence diagram\n\n" + sequenceIntro + "\n\n```mermaid\n" + SequenceDiagram(f) + "```\n")
}

// The sentences before each diagram of a flow.
const (
	overviewIntro = "Start at the black point and follow the arrows: the steps a person walks, thick\n" +
		"where the engine moves on by itself. Each state's box says what its errors do: `⚠ errors:\n" +
		"stay` (the user retries) and where the others lead; `↻` names the events that keep the\n" +
		"flow there."
	completeIntro = "Every edge the engine can take: the edges between two states share one arrow\n" +
		"naming each event and outcome, errors dotted and red. The legend lists, state by state,\n" +
		"the errors that keep the flow where it was."
	sequenceIntro = "The story between the person, your app and Ratio, message by message."
)

// wrap breaks text into lines of at most width characters, at spaces.
func wrap(text string, width int) string {
	var b strings.Builder
	n := 0
	for i, w := range strings.Fields(text) {
		if i > 0 && n+1+len(w) > width {
			b.WriteByte('\n')
			n = 0
		} else if i > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}

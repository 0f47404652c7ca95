//go:build !race

// The rendered checks start a browser, which the race detector would only
// slow down: they stay out of go test -race.

package visualize_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ratioflow/ratioflow/internal/browsertest"
)

// chromiumFlags start Debian's Chromium headless, quiet and offline, with
// the pages' scripts allowed to read files.
var chromiumFlags = slices.Concat(browsertest.Flags, []chromedp.ExecAllocatorOption{
	chromedp.Flag("allow-file-access-from-files", true),
	chromedp.WindowSize(2400, 1600),
})

// renderer renders Mermaid diagrams in one page of one headless Chromium,
// with the pinned mermaid package loaded from visualize/mermaidcheck.
type renderer struct {
	ctx context.Context
	n   int
	// script is the path of the mermaid script the page loads.
	script string
}

// newRenderer starts the browser, or skips the test when Chromium or the
// mermaid package is missing, unless CI=true: there that is a failure.
func newRenderer(tb testing.TB) *renderer {
	tb.Helper()
	missing := func(what string) { tb.Helper(); browsertest.Missing(tb, what) }
	browser, err := exec.LookPath("chromium")
	if err != nil {
		missing("chromium is not on PATH; install it with: apt-get install -y chromium")
	}
	script, err := filepath.Abs("mermaidcheck/node_modules/mermaid/dist/mermaid.min.js")
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := os.Stat(script); err != nil {
		missing("the mermaid package is not installed; install it with: " + installCommand)
	}
	dir := tb.TempDir()
	page := filepath.Join(dir, "render.html")
	html := `<!doctype html><html><head><meta charset="utf-8"><script src="file://` + script + `"></script></head>` +
		`<body style="margin:0;background:#fff"><script>` + measureJS + `</script></body></html>`
	if err := os.WriteFile(page, []byte(html), 0o644); err != nil {
		tb.Fatal(err)
	}
	opts := append([]chromedp.ExecAllocatorOption{chromedp.ExecPath(browser), chromedp.UserDataDir(filepath.Join(dir, "profile"))}, chromiumFlags...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 5*time.Minute)
	tb.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+page), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
		tb.Fatalf("start chromium: %v", err)
	}
	return &renderer{ctx: ctx, script: script}
}

// rect is an element's box on the page, in CSS pixels.
type rect struct {
	Text       string  `json:"text"`
	ID         string  `json:"id"`
	X, Y, W, H float64 `json:"-"`
	Box        [4]float64
}

// rendering is what the browser drew for one diagram.
type rendering struct {
	Error   string  `json:"error"`
	Width   float64 `json:"width"`
	Natural float64 `json:"natural"`
	MinFont float64 `json:"minFont"`
	Nodes   []rect  `json:"nodes"`
	Labels  []rect  `json:"labels"`
	Edges   []rect  `json:"edges"`
	// Sequence diagrams: messages, and notes with their text's box.
	Messages  []rect `json:"messages"`
	Notes     []rect `json:"notes"`
	NoteTexts []rect `json:"noteTexts"`
}

// render draws a diagram in a box width CSS pixels wide (0: its natural
// width), measures it, and saves a PNG of it into shots when set.
func (r *renderer) render(tb testing.TB, name, text string, width int, shots string) rendering {
	tb.Helper()
	r.n++
	id := fmt.Sprintf("d%d", r.n)
	src, _ := json.Marshal(text)
	expr := fmt.Sprintf("measure(%q, %s, %d)", id, src, width)
	raw, err := chromedp.Run(r.ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.Fatalf("%s: render: %v", name, err)
	}
	var out rendering
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		tb.Fatalf("%s: %v: %s", name, err, raw)
	}
	if shots != "" && out.Error == "" {
		png, err := chromedp.Run(r.ctx, chromedp.Screenshot(chromedp.ID("box-"+id)))
		if err != nil {
			tb.Fatalf("%s: screenshot: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	if err := chromedp.Do(r.ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf("document.getElementById('box-%s').remove()", id))); err != nil {
		tb.Fatal(err)
	}
	for _, list := range [][]rect{out.Nodes, out.Labels, out.Edges, out.Messages, out.Notes, out.NoteTexts} {
		for i := range list {
			list[i].X, list[i].Y, list[i].W, list[i].H = list[i].Box[0], list[i].Box[1], list[i].Box[2], list[i].Box[3]
		}
	}
	return out
}

// measureJS renders a diagram with Mermaid into a box of its own and
// reports the boxes of what it drew: states (nodes), edge labels, edge
// paths (their id and length), messages and notes, and the smallest text
// on screen (font size times the scale the box imposes).
const measureJS = `
mermaid.initialize({startOnLoad: false, securityLevel: 'strict'});
async function measure(id, text, width) {
  const box = document.createElement('div');
  box.id = 'box-' + id;
  box.style.display = 'inline-block';
  box.style.width = (width || 8000) + 'px';
  document.body.appendChild(box);
  const out = {error: '', nodes: [], labels: [], edges: [], messages: [], notes: [], noteTexts: [], minFont: 1e9};
  try {
    const {svg} = await mermaid.render(id, text);
    box.innerHTML = svg;
  } catch (e) {
    out.error = String(e && e.message || e);
    return JSON.stringify(out);
  }
  const s = box.querySelector('svg');
  out.natural = s.viewBox.baseVal.width;
  if (!width) box.style.width = Math.ceil(out.natural) + 'px';
  const scale = s.getBoundingClientRect().width / out.natural;
  out.width = s.getBoundingClientRect().width;
  const words = el => el.textContent.replace(/\s+/g, ' ').trim();
  const r = el => { const b = el.getBoundingClientRect(); return [b.x, b.y, b.width, b.height]; };
  const add = (list, el, extra) => list.push(Object.assign({text: words(el), id: el.id || '', Box: r(el)}, extra || {}));
  s.querySelectorAll('g.node').forEach(n => add(out.nodes, n));
  s.querySelectorAll('g.edgeLabel').forEach(l => { if (words(l)) add(out.labels, l.querySelector('.label') || l); });
  s.querySelectorAll('g.edgePaths path, path.flowchart-link').forEach(p => {
    if (!out.edges.some(e => e.id === p.id)) add(out.edges, p, {text: String(p.getTotalLength())});
  });
  s.querySelectorAll('text.messageText').forEach(m => add(out.messages, m));
  s.querySelectorAll('rect.note').forEach(n => add(out.notes, n));
  s.querySelectorAll('text.noteText').forEach(n => add(out.noteTexts, n));
  s.querySelectorAll('*').forEach(el => {
    if (!words(el) || [...el.children].some(c => words(c))) return;
    if (el.closest('style, title, desc')) return;
    const b = el.getBoundingClientRect();
    if (b.width === 0 || b.height === 0) return;
    out.minFont = Math.min(out.minFont, parseFloat(getComputedStyle(el).fontSize) * scale);
  });
  return JSON.stringify(out);
}
`

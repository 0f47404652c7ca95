package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"text/template"
)

// The plot's frame, in SVG units.
const (
	width, height                      = 760, 440
	marginL, marginR, marginT, marginB = 70, 230, 40, 50
)

var colors = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#7f7f7f"}

// svgTemplate draws axes, grid, lines and legend; x escapes text for XML.
var svgTemplate = template.Must(template.New("svg").Funcs(template.FuncMap{
	"add":     func(a, b int) int { return a + b },
	"sub":     func(a, b int) int { return a - b },
	"mid":     func(a, b int) int { return (a + b) / 2 },
	"legendY": func(i int) int { return marginT + 10 + 22*i },
	"x":       escape,
}).Parse(`<svg xmlns="http://www.w3.org/2000/svg" width="{{.W}}" height="{{.H}}" viewBox="0 0 {{.W}} {{.H}}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{{.Left}}" y="22" font-size="14">{{x .Title}}</text>
{{range .YTicks}}<line x1="{{$.Left}}" x2="{{$.Right}}" y1="{{.Pos}}" y2="{{.Pos}}" stroke="#ddd"/>
<text x="{{sub $.Left 6}}" y="{{.Pos}}" text-anchor="end" dominant-baseline="middle">{{.Label}}</text>
{{end}}{{range .XTicks}}<line x1="{{.Pos}}" x2="{{.Pos}}" y1="{{$.Top}}" y2="{{$.Bottom}}" stroke="#eee"/>
<text x="{{.Pos}}" y="{{add $.Bottom 16}}" text-anchor="middle">{{.Label}}</text>
{{end}}<line x1="{{.Left}}" x2="{{.Right}}" y1="{{.Bottom}}" y2="{{.Bottom}}" stroke="black"/>
<line x1="{{.Left}}" x2="{{.Left}}" y1="{{.Top}}" y2="{{.Bottom}}" stroke="black"/>
<text x="{{mid .Left .Right}}" y="{{add .Bottom 36}}" text-anchor="middle">concurrency (flows at once)</text>
<text transform="translate(16 {{mid .Top .Bottom}}) rotate(-90)" text-anchor="middle">flows per second</text>
{{range $i, $l := .Lines}}<polyline fill="none" stroke="{{$l.Color}}" stroke-width="2" points="{{$l.Points}}"/>
{{range $l.Dots}}<circle cx="{{.X}}" cy="{{.Y}}" r="3" fill="{{$l.Color}}"/>
{{end}}<line x1="{{add $.Right 16}}" x2="{{add $.Right 36}}" y1="{{legendY $i}}" y2="{{legendY $i}}" stroke="{{$l.Color}}" stroke-width="2"/>
<text x="{{add $.Right 42}}" y="{{legendY $i}}" dominant-baseline="middle">{{x $l.Name}}</text>
{{end}}</svg>
`))

// escape returns s as XML character data.
func escape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

type tick struct {
	Pos   float64
	Label string
}

type dot struct{ X, Y float64 }

type line struct {
	Name, Color, Points string
	Dots                []dot
}

// plot draws lines over the concurrencies cs, on a logarithmic x axis.
func plot(title string, cs []int, lines []series) ([]byte, error) {
	maxY := 0.0
	for _, l := range lines {
		for _, y := range l.Y {
			maxY = math.Max(maxY, y)
		}
	}
	step := niceStep(maxY / 5)
	yMax := math.Max(step, math.Ceil(maxY/step)*step)
	x0, x1 := math.Log2(float64(cs[0])), math.Log2(float64(cs[len(cs)-1]))
	px := func(c int) float64 {
		if x1 == x0 {
			return (marginL + width - marginR) / 2
		}
		return marginL + (math.Log2(float64(c))-x0)/(x1-x0)*float64(width-marginR-marginL)
	}
	py := func(y float64) float64 { return height - marginB - y/yMax*float64(height-marginB-marginT) }
	data := map[string]any{"W": width, "H": height, "Left": marginL, "Right": width - marginR, "Top": marginT,
		"Bottom": height - marginB, "Title": title}
	var yt, xt []tick
	for y := 0.0; y <= yMax+step/2; y += step {
		yt = append(yt, tick{py(y), fmt.Sprintf("%.0f", y)})
	}
	for _, c := range cs {
		xt = append(xt, tick{px(c), fmt.Sprint(c)})
	}
	var ls []line
	for i, s := range lines {
		l := line{Name: s.Name, Color: colors[i%len(colors)]}
		var pts bytes.Buffer
		for j, y := range s.Y {
			d := dot{px(cs[j]), py(y)}
			l.Dots = append(l.Dots, d)
			fmt.Fprintf(&pts, "%.1f,%.1f ", d.X, d.Y)
		}
		l.Points = pts.String()
		ls = append(ls, l)
	}
	data["YTicks"], data["XTicks"], data["Lines"] = yt, xt, ls
	var b bytes.Buffer
	if err := svgTemplate.Execute(&b, data); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// niceStep rounds a grid step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

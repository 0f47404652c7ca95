package main

import (
	"encoding/xml"
	"strings"
	"testing"
)

func TestPlot(t *testing.T) {
	svg, err := plot("flows <&> per second", []int{1, 4, 16}, []series{
		{Name: "engine, memory", Y: []float64{100, 350, 900}},
		{Name: "raw replay", Y: []float64{120, 400, 1000}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Well-formed XML, its title escaped, a polyline per series.
	d := xml.NewDecoder(strings.NewReader(string(svg)))
	polylines, circles := 0, 0
	for {
		tok, err := d.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("not well-formed: %v\n%s", err, svg)
			}
			break
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "polyline":
				polylines++
			case "circle":
				circles++
			}
		}
	}
	if polylines != 2 || circles != 6 {
		t.Errorf("%d polylines, %d points; want 2 and 6", polylines, circles)
	}
	for _, want := range []string{"flows &lt;&amp;&gt; per second", "engine, memory", ">1000<", ">16<"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("the SVG lacks %q", want)
		}
	}
}

func TestParseLevels(t *testing.T) {
	if cs, err := parseLevels("1, 4,16"); err != nil || len(cs) != 3 {
		t.Errorf("parseLevels = %v, %v", cs, err)
	}
	for _, bad := range []string{"0", "4,2", "x"} {
		if _, err := parseLevels(bad); err == nil {
			t.Errorf("parseLevels(%q) succeeded", bad)
		}
	}
}

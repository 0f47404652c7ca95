// Command perfplot draws the throughput of 'ratioflow bench' against
// concurrency, one line per store and one for the raw replay, as an SVG:
//
//	go run ./internal/cmd/perfplot -o docs/throughput.svg
//
// It builds the ratioflow command (or runs -bin), runs its bench at each
// concurrency of -c on each store of -stores, and reads flows_per_sec and
// raw_flows_per_sec from the JSON line each run ends with. PostgreSQL
// stores need RATIOFLOW_SEAL_KEYS in the environment, as bench does.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// result is what perfplot reads of bench's JSON line.
type result struct {
	FlowsPerSec    float64 `json:"flows_per_sec"`
	RawFlowsPerSec float64 `json:"raw_flows_per_sec"`
}

// series is one line of the plot: flows/s at each concurrency.
type series struct {
	Name string
	Y    []float64
}

func main() {
	var (
		bin     = flag.String("bin", "", "the ratioflow binary (default: build ./cmd/ratioflow)")
		out     = flag.String("o", "throughput.svg", "the SVG file to write")
		stores  = flag.String("stores", "memory:,sqlite", "comma-separated store URLs; sqlite means a fresh file per run")
		levels  = flag.String("c", "1,4,16,64,256", "comma-separated concurrencies")
		flows   = flag.Int("flows", 400, "flows per run")
		latency = flag.String("latency", "0", "the sandbox's answer time (bench --latency)")
		title   = flag.String("title", "", "the plot's title (default: says the flow and latency)")
	)
	flag.Parse()
	if err := run(*bin, *out, *stores, *levels, *latency, *title, *flows); err != nil {
		fmt.Fprintln(os.Stderr, "perfplot:", err)
		os.Exit(1)
	}
}

func run(bin, out, stores, levels, latency, title string, flows int) error {
	cs, err := parseLevels(levels)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "perfplot")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if bin == "" {
		bin = filepath.Join(tmp, "ratioflow")
		if b, err := exec.Command("go", "build", "-o", bin, "./cmd/ratioflow").CombinedOutput(); err != nil {
			return fmt.Errorf("build ratioflow: %v: %s", err, b)
		}
	}
	var lines []series
	raw := series{Name: "raw replay (no store)"}
	for i, st := range strings.Split(stores, ",") {
		s := series{Name: "engine, " + storeName(st)}
		for _, c := range cs {
			url := st
			if st == "sqlite" {
				url = "sqlite:" + filepath.Join(tmp, fmt.Sprintf("bench-%d.db", c))
			}
			r, err := bench(bin, url, c, flows, latency, i == 0)
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "%s c=%d: %.0f flows/s (raw %.0f)\n", s.Name, c, r.FlowsPerSec, r.RawFlowsPerSec)
			s.Y = append(s.Y, r.FlowsPerSec)
			if i == 0 {
				raw.Y = append(raw.Y, r.RawFlowsPerSec)
			}
		}
		lines = append(lines, s)
	}
	lines = append(lines, raw)
	if title == "" {
		title = fmt.Sprintf("link flows per second against concurrency (Ratio answering in %s)", latency)
		if d, err := time.ParseDuration(latency); err == nil && d == 0 {
			title = "link flows per second against concurrency (Ratio answering at once)"
		}
	}
	svg, err := plot(title, cs, lines)
	if err != nil {
		return err
	}
	return os.WriteFile(out, svg, 0o644)
}

// bench runs one bench and reads its JSON line; the raw replay runs with
// the first store only.
func bench(bin, url string, c, flows int, latency string, replay bool) (*result, error) {
	cmd := exec.Command(bin, "bench", "--flows", strconv.Itoa(flows), "--concurrency", strconv.Itoa(c),
		"--latency", latency, "--store", url, "--replay="+strconv.FormatBool(replay))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("bench --store %s --concurrency %d: %v: %s", storeName(url), c, err, bytes.TrimSpace(stderr.Bytes()))
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var r result
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		return nil, fmt.Errorf("bench's last line: %w", err)
	}
	return &r, nil
}

// storeName is a store URL without its details, for the legend.
func storeName(url string) string {
	switch {
	case strings.HasPrefix(url, "postgres"):
		return "PostgreSQL"
	case strings.HasPrefix(url, "sqlite"):
		return "SQLite"
	case strings.HasPrefix(url, "memory"):
		return "memory"
	}
	return url
}

func parseLevels(s string) ([]int, error) {
	var cs []int
	for _, f := range strings.Split(s, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || c < 1 {
			return nil, fmt.Errorf("-c: %q is not a concurrency (a whole number from 1)", f)
		}
		if len(cs) > 0 && c <= cs[len(cs)-1] {
			return nil, errors.New("-c: the concurrencies must increase")
		}
		cs = append(cs, c)
	}
	return cs, nil
}

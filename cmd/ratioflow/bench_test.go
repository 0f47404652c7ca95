package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/ratiotest"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/storeurl"
	"github.com/ratioflow/ratioflow/transitions"
)

// callsPerFlow is how many Ratio calls each kind's flow makes on its
// happy path.
var callsPerFlow = map[transitions.Kind]int{
	transitions.KindLink:             8, // the 409 included
	transitions.KindLinkFactorsFirst: 6,
	transitions.KindSignIn:           6,
	transitions.KindSignUp:           5,
}

func TestBench(t *testing.T) {
	t.Parallel()
	type run struct {
		kind  transitions.Kind
		store string
	}
	runs := []run{{transitions.KindLink, sqliteStore(t)}}
	for _, k := range transitions.Kinds() {
		runs = append(runs, run{k, "memory:"})
	}
	for _, tt := range runs {
		t.Run(string(tt.kind)+" "+scheme(tt.store), func(t *testing.T) {
			t.Parallel()
			const n = 24
			out := mustRun(t, nil, "bench", "--flows", fmt.Sprint(n), "--concurrency", "4", "--flow", string(tt.kind), "--store", tt.store)
			var res benchResult
			lastJSON(t, out, &res)
			if res.Flows != n || res.Completed != n || res.Failed != 0 || res.Flow != tt.kind || res.Store != tt.store {
				t.Errorf("bench = %+v, want %d %s flows completed in %s", res, n, tt.kind, tt.store)
			}
			if want := n * callsPerFlow[tt.kind]; res.RatioCalls != want {
				t.Errorf("ratio_calls = %d, want %d", res.RatioCalls, want)
			}
			if res.FlowsPerSec <= 0 || res.RawFlowsPerSec <= 0 || res.EngineToRaw <= 0 || res.StepP50MS <= 0 || res.StepP99MS < res.StepP50MS {
				t.Errorf("bench measures = %+v", res)
			}
			for _, key := range []string{`"flows_per_sec"`, `"step_p50_ms"`, `"step_p99_ms"`, `"ratio_calls"`, `"raw_flows_per_sec"`, `"engine_to_raw"`} {
				if !strings.Contains(out, key) {
					t.Errorf("the JSON line lacks %s", key)
				}
			}
		})
	}
}

// TestBench_ReplayMirrorsEngine checks that the raw replay makes the
// engine's Ratio calls, in the same order, with and without a JWT alike,
// with the same body fields: the comparison is only fair then.
func TestBench_ReplayMirrorsEngine(t *testing.T) {
	t.Parallel()
	userID := regexp.MustCompile(`/v1/users/[^/]+`)
	for _, kind := range transitions.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			sb := ratiotest.NewServer(t)
			mustRun(t, nil, "bench", "--flows", "1", "--concurrency", "1", "--flow", string(kind), "--ratio", sb.URL, "--store", "memory:")
			var calls []string
			for _, r := range sb.Requests() {
				keys := slices.Sorted(mapKeys(r.Body))
				calls = append(calls, fmt.Sprintf("%s %s bearer=%v %d %v", r.Method, userID.ReplaceAllString(r.Path, "/v1/users/ID"), r.Bearer, r.Status, keys))
			}
			n := callsPerFlow[kind]
			if len(calls) != 2*n {
				t.Fatalf("the sandbox saw %d calls, want %d for the replay then %d for the engine:\n%s", len(calls), n, n, strings.Join(calls, "\n"))
			}
			raw, engine := calls[:n], calls[n:]
			if !slices.Equal(raw, engine) {
				t.Errorf("the replay's calls differ from the engine's:\nreplay:\n%s\nengine:\n%s", strings.Join(raw, "\n"), strings.Join(engine, "\n"))
			}
		})
	}
}

func mapKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestBench_KillAndResume kills a bench with SIGKILL half way, finishes it
// with --resume, and checks that every flow ended and no wallet was added
// twice.
func TestBench_KillAndResume(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs a subprocess for several seconds")
	}
	sb := ratiotest.NewServer(t)
	st := sqliteStore(t)
	env := map[string]string{"RATIOFLOW_SEAL_KEY": strings.Repeat("5e", 32)}
	args := []string{"bench", "--ratio", sb.URL, "--store", st, "--flows", "200", "--concurrency", "8", "--seed", "42",
		"--replay=false", "--pending-timeout", "2s"}

	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "RATIOFLOW_TEST_MAIN=1", "RATIOFLOW_SEAL_KEY="+env["RATIOFLOW_SEAL_KEY"])
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(30 * time.Second)
	for len(sb.Stats().AddToUser) < 30 {
		select {
		case err := <-done:
			t.Fatalf("the bench ended before it was killed: %v\n%s", err, out.String())
		case <-deadline:
			cmd.Process.Kill()
			t.Fatalf("no 30 flows linked within 30s\n%s", out.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	<-done
	linkedAtKill := len(sb.Stats().AddToUser)

	before := benchStates(t, st)
	if before["unfinished"] == 0 {
		t.Fatalf("the kill left no unfinished flow (%v): kill earlier", before)
	}
	resumed := mustRun(t, env, append(args, "--resume")...)
	var res benchResult
	lastJSON(t, resumed, &res)
	if !res.Resumed || res.Flows != before["unfinished"] || res.Failed != 0 {
		t.Errorf("resume = %+v, want the %d unfinished flows completed", res, before["unfinished"])
	}

	after := benchStates(t, st)
	if after["unfinished"] != 0 || after["Linked"] != after["all"] {
		t.Errorf("after --resume: %v, want every flow Linked", after)
	}
	adds := sb.Stats().AddToUser
	for wallet, n := range adds {
		if n != 1 {
			t.Errorf("wallet %s added %d times", wallet, n)
		}
	}
	if len(adds) != after["Linked"] {
		t.Errorf("%d wallets added for %d linked flows", len(adds), after["Linked"])
	}
	t.Logf("killed with %d of %d flows linked, %d flows stored, %d unfinished; --resume finished them in %.1fs",
		linkedAtKill, 200, before["all"], before["unfinished"], res.Seconds)
}

// benchStates counts the bench's flows in the store by state, plus "all"
// and "unfinished".
func benchStates(t *testing.T, url string) map[string]int {
	t.Helper()
	st, err := storeurl.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := listRecords(context.Background(), st, store.Query{Limit: store.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, r := range recs {
		counts[string(r.State)]++
		counts["all"]++
		if !r.Terminal() {
			counts["unfinished"]++
		}
	}
	return counts
}

// TestBench_Latency runs the bench with a sandbox that takes --latency to
// answer, in this process and over the sandbox's hooks, and checks that
// every step waited for it and that a sandbox outliving the bench answers
// at once again.
func TestBench_Latency(t *testing.T) {
	t.Parallel()
	const latency = 200 * time.Millisecond
	sb := ratiotest.NewServer(t)
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"in process", nil},
		{"sandbox", []string{"--ratio", sb.URL}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"bench", "--flows", "2", "--concurrency", "2", "--store", "memory:", "--replay=false",
				"--latency", latency.String()}, tt.args...)
			out := mustRun(t, nil, args...)
			var res benchResult
			lastJSON(t, out, &res)
			if res.Completed != 2 || res.LatencyMS != 200 || !strings.Contains(out, "answering in 200ms") {
				t.Errorf("bench = %+v, want 2 flows completed with ratio_latency_ms 200:\n%s", res, out)
			}
			if res.StepP50MS < 200 {
				t.Errorf("step p50 = %.1fms, want at least the sandbox's 200ms: every step calls Ratio", res.StepP50MS)
			}
		})
	}
	c := ratio.NewClient(sb.URL, "ratioflow", "sandbox")
	start := time.Now()
	if _, err := c.StartWallet(t.Context(), "", ratio.StartWalletRequest{WalletAddress: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d >= latency {
		t.Errorf("after the bench the sandbox took %s to answer, want its latency taken back", d)
	}
}

// TestBench_Replicas runs a bench on two engines over one SQLite file and
// checks the store's measures in the JSON line.
func TestBench_Replicas(t *testing.T) {
	t.Parallel()
	const n = 12
	out := mustRun(t, nil, "bench", "--flows", fmt.Sprint(n), "--concurrency", "3", "--replicas", "2", "--store", sqliteStore(t))
	var res benchResult
	lastJSON(t, out, &res)
	if res.Completed != n || res.Replicas != 2 {
		t.Errorf("bench = %+v, want %d flows completed on 2 replicas", res, n)
	}
	// A link flow writes its record at every step: more than its 8 Ratio
	// calls, and it reads it too.
	if res.WritesPerFlow < float64(callsPerFlow[transitions.KindLink]) || res.CallsPerFlow <= res.WritesPerFlow {
		t.Errorf("writes_per_flow = %v, store_calls_per_flow = %v", res.WritesPerFlow, res.CallsPerFlow)
	}
	if res.StoreP50MS <= 0 || res.StoreP99MS < res.StoreP50MS || res.StoreP99MS > res.StepP99MS {
		t.Errorf("store p50 %v, p99 %v (step p99 %v)", res.StoreP50MS, res.StoreP99MS, res.StepP99MS)
	}
	for _, key := range []string{`"replicas":2`, `"writes_per_flow"`, `"store_calls_per_flow"`, `"store_p50_ms"`, `"store_p99_ms"`} {
		if !strings.Contains(out, key) {
			t.Errorf("the JSON line lacks %s", key)
		}
	}
}

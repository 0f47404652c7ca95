package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/ratioflow/ratioflow/flow/flowstats"
	"github.com/ratioflow/ratioflow/ratio/ratiotest"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
)

// flows stats agrees with what a bench run knows independently: the
// flows per ending from the bench's own result, the 409s (one per link
// flow, since every bench user is seeded) and the addToUser calls the
// sandbox counted. 429s retried inside the client never reach a history.
func TestFlowsStats_AgreesWithBench(t *testing.T) {
	t.Parallel()
	sb := ratiotest.NewServer(t)
	st := sqliteStore(t)
	const n = 40
	out := mustRun(t, nil, "bench", "--flows", fmt.Sprint(n), "--concurrency", "4", "--ratio", sb.URL, "--store", st,
		"--replay=false", "--seed", "7")
	var res benchResult
	lastJSON(t, out, &res)
	adds := 0
	for _, c := range sb.Stats().AddToUser {
		adds += c
	}

	var got statsJSON
	if err := json.Unmarshal([]byte(mustRun(t, nil, "flows", "stats", "--store", st, "--format", "json")), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Kinds) != 1 || got.Kinds[0].Kind != transitions.KindLink {
		t.Fatalf("flows stats found %d kinds, want link only", len(got.Kinds))
	}
	s := got.Kinds[0]
	conflict, _ := s.Edge(flowstats.Edge{From: states.WalletAuthed, Event: transitions.SubmitPhone,
		Outcome: transitions.Conflict, To: states.PhoneConflict})
	added, _ := s.Edge(flowstats.Edge{From: states.EmailVerified, Event: transitions.AddWallet,
		Outcome: transitions.OK, To: states.Linked})
	checks := []struct {
		what      string
		got, want int64
	}{
		{"flows", s.Flows, int64(res.Flows)},
		{"flows Linked", s.Ended(flowstats.Ending(states.Linked)).Flows, int64(res.Completed)},
		{"flows Failed", s.Ended(flowstats.Ending(states.Failed)).Flows, int64(res.Failed)},
		{"flows that hit the 409", conflict.Flows, int64(res.Flows)},
		{"409s", conflict.Times, int64(res.Flows)},
		{"flows that hit the 409 and finished", conflict.Finished, int64(res.Completed)},
		{"addToUser steps", added.Times, int64(adds)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.what, c.got, c.want)
		}
	}

	drawn := mustRun(t, nil, "flows", "stats", "--store", st, "--format", "mermaid", "--view", "state")
	if want := fmt.Sprintf(`409 ALREADY_EXISTS_PHONE<br/>%d steps"| PhoneConflict`, n); !strings.Contains(drawn, want) {
		t.Errorf("flows stats --format mermaid lacks %q:\n%s", want, drawn)
	}

	text := mustRun(t, nil, "flows", "stats", "--store", st, "--kind", "link", "--since", "1h")
	for _, want := range []string{
		fmt.Sprintf("link: %d flows created since ", n),
		fmt.Sprintf(`%d flows hit "409 ALREADY_EXISTS_PHONE" in WalletAuthed (submit_phone): %d finished (100.0%%); ended Linked %d`, n, n, n),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("flows stats lacks %q:\n%s", want, text)
		}
	}
}

func TestFlowsStats_Usage(t *testing.T) {
	t.Parallel()
	st := existingStore(t)
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantOutput string
	}{
		{"help", []string{"--help"}, 0, "-state-ttl"},
		{"listed in flows help", nil, 0, "stats"},
		{"empty store", []string{"--store", st}, 0, "no flows in " + st},
		{"empty store, json", []string{"--store", st, "--format", "json"}, 0, `"kinds": []`},
		{"bad format", []string{"--format", "png"}, 2, `--format "png": want text, json or mermaid`},
		{"bad view", []string{"--format", "mermaid", "--view", "side"}, 2, `--view "side": want overview or state`},
		{"nothing to draw", []string{"--store", st, "--format", "mermaid"}, 1, "no flows to draw"},
		{"bad kind", []string{"--kind", "teleport"}, 2, "no such flow"},
		{"negative since", []string{"--since", "-1h"}, 2, "--since -1h0m0s: must not be negative"},
		{"zero state ttl", []string{"--state-ttl", "0s"}, 2, "--state-ttl 0s: must be positive"},
		{"argument", []string{"extra"}, 2, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		args := append([]string{"flows", "stats"}, tt.args...)
		if tt.args == nil {
			args = []string{"flows", "--help"}
		}
		r := runCmd(t, context.Background(), nil, args...)
		if r.code != tt.wantCode || !strings.Contains(r.stdout+r.stderr, tt.wantOutput) {
			t.Errorf("%s: exit %d, output:\n%s%s\nwant exit %d and %q", tt.name, r.code, r.stdout, r.stderr, tt.wantCode, tt.wantOutput)
		}
	}
}

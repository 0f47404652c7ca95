package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/ratiotest"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/storeurl"
	"github.com/ratioflow/ratioflow/transitions"
)

// flowsFixture is a SQLite store holding a flow the demo flew to Linked,
// a link flow waiting for its signature (started against sandbox) and
// one past its deadline.
type flowsFixture struct {
	store                  string
	sandbox                *ratiotest.Server
	linked, waiting, stale string
}

func newFlowsFixture(t *testing.T) *flowsFixture {
	f := &flowsFixture{store: sqliteStore(t), sandbox: ratiotest.NewServer(t)}
	var v flow.View
	lastJSON(t, mustRun(t, nil, "demo", "--json", "--store", f.store), &v)
	f.linked = v.ID
	// The demo left its key next to the store: use it as another process would.
	key, err := resolveSealKey(func(string) string { return "" }, f.store, false)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := storeurl.Open(ctx, f.store)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f.waiting = startLink(t, st, f.sandbox, key, time.Now)
	f.stale = startLink(t, st, f.sandbox, key, func() time.Time { return time.Now().Add(-time.Hour) })
	return f
}

// startLink starts a link flow for a new wallet on an engine with the
// given clock, and returns its ID.
func startLink(t *testing.T, st store.Store, sb *ratiotest.Server, key *sealKey, now func() time.Time) string {
	t.Helper()
	e, err := flow.New(st, ratio.NewClient(sb.URL, "test", "test"), nil, key.options(flow.Options{Now: now}))
	if err != nil {
		t.Fatal(err)
	}
	k, _ := crypto.GenerateKey()
	v, err := e.Start(context.Background(), transitions.KindLink, "tester", flow.Input{WalletAddress: crypto.PubkeyToAddress(k.PublicKey).Hex()})
	if err != nil {
		t.Fatal(err)
	}
	return v.ID
}

func TestFlows(t *testing.T) {
	t.Parallel()
	f := newFlowsFixture(t)
	st := f.store
	wrongKey := map[string]string{"RATIOFLOW_SEAL_KEY": strings.Repeat("00", 32)}
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		wantCode int
		want     []string
		notWant  []string
	}{
		{name: "list", args: []string{"flows", "list", "--store", st}, want: []string{f.linked, f.waiting, f.stale, "Linked", "ChallengeIssued", "3 flows"}},
		{name: "list by state", args: []string{"flows", "list", "--store", st, "--state", "Linked"}, want: []string{f.linked, "1 flow"}, notWant: []string{f.waiting}},
		{name: "list by kind", args: []string{"flows", "list", "--store", st, "--kind", "signup"}, want: []string{"0 flows"}},
		{name: "list by subject", args: []string{"flows", "list", "--store", st, "--subject", "tester"}, want: []string{f.waiting, f.stale, "2 flows"}},
		{name: "list the running", args: []string{"flows", "list", "--store", st, "--running"}, want: []string{f.waiting, f.stale, "2 flows"}, notWant: []string{f.linked}},
		{name: "list the old", args: []string{"flows", "list", "--store", st, "--older-than", "30m"}, want: []string{f.stale, "1 flow"}},
		{name: "list the new", args: []string{"flows", "list", "--store", st, "--newer-than", "30m"}, want: []string{f.linked, f.waiting, "2 flows"}},
		{name: "list the latest", args: []string{"flows", "list", "--store", st, "--limit", "1"}, want: []string{"1 flow shown, the most recent; more match"}},
		{name: "list the latest two", args: []string{"flows", "list", "--store", st, "--limit", "2"},
			want: []string{f.linked, f.waiting, "2 flows shown, the most recent; more match"}, notWant: []string{f.stale}},
		{name: "list all, counted", args: []string{"flows", "list", "--store", st, "--limit", "3"}, want: []string{"3 flows\n"}},
		{name: "show", args: []string{"flows", "show", f.linked, "--store", st},
			want: []string{"kind     link", "view: Linked (ended)", "submit_phone", "409 ALREADY_EXISTS_PHONE", "429 TOO_MANY_REQUESTS", "add_wallet"}},
		{name: "show flags first", args: []string{"flows", "show", "--store", st, f.waiting},
			want: []string{"view: ChallengeIssued", "sign(signature)", "cryptoWallet:start"}},
		{name: "show with a wrong key", env: wrongKey, args: []string{"flows", "show", f.linked, "--store", st},
			want: []string{"view: not shown: the seal keys do not open this flow's data", "409"}},
		{name: "show past its deadline", args: []string{"flows", "show", f.stale, "--store", st}, want: []string{"past its deadline"}},
		{name: "audit", args: []string{"flows", "audit", f.linked, "--store", st}, want: []string{"flowchart TD", "ALREADY_EXISTS_PHONE"}},
		{name: "audit on the complete view", args: []string{"flows", "audit", f.linked, "--format", "state", "--store", st},
			want: []string{"flowchart TD", "ALREADY_EXISTS_PHONE", "Legend"}},
		{name: "audit sequence", args: []string{"flows", "audit", f.linked, "--format", "sequence", "--store", st},
			want: []string{"sequenceDiagram", "Add new wallet to user"}},
		{name: "resume", args: []string{"flows", "resume", f.waiting, "--store", st, "--ratio", f.sandbox.URL},
			want: []string{"ChallengeIssued -> ChallengeIssued"}},
		{name: "resume the demo's flow", args: []string{"flows", "resume", f.linked, "--store", st, "--ratio", f.sandbox.URL},
			want: []string{"Linked -> Linked"}},
		{name: "cancel with a wrong key", env: wrongKey, args: []string{"flows", "cancel", f.waiting, "--store", st}, wantCode: 1,
			want: []string{"cannot be unsealed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCmd(t, context.Background(), tt.env, tt.args...)
			out := r.stdout + r.stderr
			if r.code != tt.wantCode {
				t.Fatalf("exit %d, want %d:\n%s", r.code, tt.wantCode, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
		})
	}

	// Writes, in order: cancel, cancel again, sweep.
	out := mustRun(t, nil, "flows", "cancel", f.waiting, "--store", st)
	if !strings.Contains(out, "ChallengeIssued -> Canceled") {
		t.Errorf("cancel printed:\n%s", out)
	}
	if r := runCmd(t, context.Background(), nil, "flows", "cancel", f.waiting, "--store", st); r.code != 1 || !strings.Contains(r.stderr, "already ended in Canceled") {
		t.Errorf("second cancel: exit %d, %s", r.code, r.stderr)
	}
	if out := mustRun(t, nil, "flows", "sweep", "--store", st); !strings.Contains(out, "expired 1 flow") {
		t.Errorf("sweep printed %q, want 1 flow expired", out)
	}
	out = mustRun(t, nil, "flows", "list", "--store", st, "--json")
	states := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r recordJSON
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("list --json line %q: %v", line, err)
		}
		states[r.ID] = string(r.State)
	}
	want := map[string]string{f.linked: "Linked", f.waiting: "Canceled", f.stale: "Expired"}
	for id, s := range want {
		if states[id] != s {
			t.Errorf("flow %s is %s, want %s", id, states[id], s)
		}
	}
	var shown struct {
		Record  recordJSON           `json:"record"`
		View    *flow.View           `json:"view"`
		History []store.HistoryEntry `json:"history"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, nil, "flows", "show", f.linked, "--json", "--store", st)), &shown); err != nil {
		t.Fatal(err)
	}
	if shown.View == nil || shown.View.State != "Linked" || len(shown.History) < 9 || shown.Record.Subject == "" {
		t.Errorf("show --json = %+v", shown)
	}

	// Retention: the three flows have ended (Linked, Canceled, Expired).
	// --keep-data drops their data and keeps them; show still shows them.
	if out := mustRun(t, nil, "flows", "purge", "--keep-data", "1ns", "--store", st); !strings.Contains(out, "scrubbed the data of 3 ended flows, deleted 0 ended flows") {
		t.Errorf("purge --keep-data printed %q", out)
	}
	out = mustRun(t, nil, "flows", "show", f.linked, "--store", st)
	if !strings.Contains(out, "view: Linked (ended)") || !strings.Contains(out, "dropped by a retention policy") ||
		!strings.Contains(out, "add_wallet") || strings.Contains(out, "0x") {
		t.Errorf("show after the data was dropped:\n%s", out)
	}
	// A policy a day long keeps what ended just now.
	if out := mustRun(t, nil, "flows", "purge", "--keep-history", "24h", "--store", st); !strings.Contains(out, "scrubbed the data of 0 ended flows, deleted 0 ended flows") {
		t.Errorf("purge --keep-history 24h printed %q", out)
	}
	if out := mustRun(t, nil, "flows", "purge", "--keep-history", "1ns", "--store", st); !strings.Contains(out, "deleted 3 ended flows with their history") {
		t.Errorf("purge --keep-history printed %q", out)
	}
	if r := runCmd(t, context.Background(), nil, "flows", "show", f.linked, "--store", st); r.code != 1 || !strings.Contains(r.stderr, "no flow "+f.linked) {
		t.Errorf("show after the flow was deleted: exit %d, %s", r.code, r.stderr)
	}
}

func TestFlows_NoKey(t *testing.T) {
	t.Parallel()
	f := newFlowsFixture(t)
	if err := os.Remove(sqlitePath(f.store) + ".key"); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, nil, "flows", "show", f.linked, "--store", f.store)
	if !strings.Contains(out, "view: not shown: no seal key") || !strings.Contains(out, "RATIOFLOW_SEAL_KEY") {
		t.Errorf("show without a key:\n%s", out)
	}
	// list and audit need no key.
	mustRun(t, nil, "flows", "list", "--store", f.store)
	mustRun(t, nil, "flows", "audit", f.linked, "--store", f.store)
	if r := runCmd(t, context.Background(), nil, "flows", "cancel", f.waiting, "--store", f.store); r.code != 1 || !strings.Contains(r.stderr, "RATIOFLOW_SEAL_KEYS (or RATIOFLOW_SEAL_KEY) is not set") {
		t.Errorf("cancel without a key: exit %d, %s", r.code, r.stderr)
	}
}

// TestFlowsShow_NoHistoryYet: a flow whose first step was never written
// (its process died at once) shows "history": [], not null.
func TestFlowsShow_NoHistoryYet(t *testing.T) {
	t.Parallel()
	url := sqliteStore(t)
	st, err := storeurl.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	rec := &store.Record{ID: "00112233445566778899aabbccddeeff", Kind: "link", State: "ChallengeIssued",
		Subject: "tester", CreatedAt: now, UpdatedAt: now}
	if err := st.Create(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	st.Close()
	env := map[string]string{"RATIOFLOW_SEAL_KEY": strings.Repeat("00", 32)}
	out := mustRun(t, env, "flows", "show", rec.ID, "--json", "--store", url)
	var shown map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &shown); err != nil {
		t.Fatal(err)
	}
	if got := string(shown["history"]); got != "[]" {
		t.Errorf(`show --json printed "history": %s, want []: %s`, got, out)
	}
}

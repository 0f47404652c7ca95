package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/ratioflow/ratioflow/flow"
)

// The rotation of docs/operations.md, each command a new process on one
// SQLite file: flows sealed under the old key open once the new key is
// added first, a write seals under the new key, 'flows reseal' empties the
// old key's share, and then dropping the old key loses nothing.
func TestFlowsReseal_RotatesKeys(t *testing.T) {
	t.Parallel()
	oldKey, newKey := strings.Repeat("0d", 32), strings.Repeat("e1", 32)
	st := sqliteStore(t)
	before := map[string]string{envSealKey: oldKey}
	var linked, signedIn, signedUp flow.View
	lastJSON(t, mustRun(t, before, "demo", "--json", "--store", st), &linked)
	lastJSON(t, mustRun(t, before, "demo", "--json", "--store", st, "--flow", "signin"), &signedIn)

	both := map[string]string{envSealKeys: "new:" + newKey + ", old:" + oldKey}
	newOnly := map[string]string{envSealKeys: "new:" + newKey}
	for _, id := range []string{linked.ID, signedIn.ID} {
		if out := mustRun(t, both, "flows", "show", id, "--store", st); !strings.Contains(out, "view: ") || strings.Contains(out, "not shown") {
			t.Fatalf("show %s with the new key first does not open it:\n%s", id, out)
		}
	}
	if out := mustRun(t, newOnly, "flows", "show", linked.ID, "--store", st); !strings.Contains(out, "view: not shown: the seal keys do not open") {
		t.Fatalf("show without the old key before the reseal:\n%s", out)
	}

	// A new flow is sealed under the new key.
	lastJSON(t, mustRun(t, both, "demo", "--json", "--store", st, "--flow", "signup"), &signedUp)
	if out := mustRun(t, newOnly, "flows", "show", signedUp.ID, "--store", st); strings.Contains(out, "not shown") {
		t.Fatalf("a flow written with the new key first is not under the new key:\n%s", out)
	}

	out := mustRun(t, both, "flows", "reseal", "--store", st)
	for _, want := range []string{"re-sealed 2 flows under key new\n", "new  3  (seals)\n", "old  0\n", "the other keys may be dropped"} {
		if !strings.Contains(out, want) {
			t.Errorf("first reseal: no %q in\n%s", want, out)
		}
	}
	out = mustRun(t, both, "flows", "reseal", "--store", st)
	if !strings.Contains(out, "re-sealed 0 flows under key new") || !strings.Contains(out, "new  3") {
		t.Errorf("second reseal:\n%s", out)
	}
	for _, id := range []string{linked.ID, signedIn.ID, signedUp.ID} {
		if out := mustRun(t, newOnly, "flows", "show", id, "--store", st); strings.Contains(out, "not shown") {
			t.Errorf("show %s after dropping the old key:\n%s", id, out)
		}
	}
	// With the old key alone, the report names what it cannot open, fails,
	// and prints no key.
	r := runCmd(t, context.Background(), map[string]string{envSealKeys: "old:" + oldKey}, "flows", "reseal", "--store", st)
	if r.code != 1 || !strings.Contains(r.stdout, "new  3  (not among the seal keys)") ||
		!strings.Contains(r.stderr, "3 flows that no key in the seal keys opens") {
		t.Errorf("reseal with the old key only: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, k := range []string{oldKey, newKey} {
		raw, _ := hex.DecodeString(k)
		if strings.Contains(r.stdout+r.stderr+out, k) || strings.Contains(r.stdout+r.stderr+out, base64.StdEncoding.EncodeToString(raw)) {
			t.Errorf("reseal printed a seal key")
		}
	}
}

func TestResolveSealKey(t *testing.T) {
	t.Parallel()
	k1, k2 := strings.Repeat("ab", 32), strings.Repeat("cd", 32)
	tests := []struct {
		name    string
		env     map[string]string
		wantIDs []string
		wantErr string
	}{
		{"a keyring", map[string]string{envSealKeys: "k2:" + k2 + ",k1:" + k1}, []string{"k2", "k1"}, ""},
		{"one key is a ring of one, without an ID", map[string]string{envSealKey: k1}, []string{""}, ""},
		{"both", map[string]string{envSealKeys: "k1:" + k1, envSealKey: k1}, nil,
			"RATIOFLOW_SEAL_KEYS: RATIOFLOW_SEAL_KEY is set too"},
		{"a bad pair", map[string]string{envSealKeys: "k1:" + k1 + "," + k2}, nil, "RATIOFLOW_SEAL_KEYS: pair 2: no id: write the pair as id:key"},
		{"a bad key", map[string]string{envSealKey: k1[:40]}, nil, "RATIOFLOW_SEAL_KEY: the key must be 64 hex digits"},
		{"none for postgres", nil, nil, "RATIOFLOW_SEAL_KEYS (or RATIOFLOW_SEAL_KEY) is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := resolveSealKey(func(k string) string { return tt.env[k] }, "postgres://db/flows", false)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) || strings.Contains(err.Error(), k2) || strings.Contains(err.Error(), k1[:40]) {
					t.Errorf("resolveSealKey = %v, want an error %q, without the key", err, tt.wantErr)
				}
				return
			}
			if err != nil || strings.Join(key.ring.IDs(), ",") != strings.Join(tt.wantIDs, ",") {
				t.Errorf("resolveSealKey = %v, %v; want keys %q", key, err, tt.wantIDs)
			}
		})
	}
}

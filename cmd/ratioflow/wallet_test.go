package main

import (
	"context"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/ratioflow/ratioflow/ratio"
)

// TestWallet_NewThenSign makes a key with 'wallet new' and signs with
// 'wallet sign', from the flag and from the environment: each signature
// recovers, the EIP-191 way, the address 'wallet new' printed.
func TestWallet_NewThenSign(t *testing.T) {
	t.Parallel()
	r := runCmd(t, context.Background(), nil, "wallet", "new")
	if r.code != 0 {
		t.Fatalf("wallet new: exit %d: %s", r.code, r.stderr)
	}
	fields := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok {
			fields[k] = strings.TrimSpace(v)
		}
	}
	addr, key := fields["address"], fields["key"]
	if !common.IsHexAddress(addr) || len(key) != 64 {
		t.Fatalf("wallet new printed %q, want an address and a key of 64 hex digits", r.stdout)
	}
	if strings.Contains(r.stderr, key) || !strings.Contains(r.stderr, "never for funds") {
		t.Errorf("wallet new's stderr = %q, want the warning and not the key", r.stderr)
	}
	const challenge = "Signing in with Ratio: nFFi0S49WpfHzNCeEf4_ 2026-12-04T21:00:00Z"
	for name, run := range map[string]func() string{
		"flag": func() string { return mustRun(t, nil, "wallet", "sign", "--key", "0x"+key, challenge) },
		"env": func() string {
			return mustRun(t, map[string]string{"RATIOFLOW_WALLET_KEY": key}, "wallet", "sign", challenge)
		},
	} {
		sig := strings.TrimSpace(run())
		got, err := ratio.RecoverAddress(challenge, sig)
		if err != nil || got != common.HexToAddress(addr) {
			t.Errorf("%s: wallet sign printed %q, which recovers %v, %v; want %s", name, sig, got, err, addr)
		}
	}
}

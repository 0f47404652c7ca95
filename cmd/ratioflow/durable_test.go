package main

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/ratioflow/ratioflow/internal/pgtest"
	"github.com/ratioflow/ratioflow/store/sqlitestore"
)

// TestDurableTable checks the durable baseline's compare-and-swap on each
// database: a write from a version the row has left changes nothing.
func TestDurableTable(t *testing.T) {
	t.Parallel()
	urls := map[string]string{"memory": "memory:", "sqlite": sqliteStore(t)}
	if os.Getenv(pgtest.EnvDSN) != "" {
		urls["postgres"] = pgtest.Schema(t)
	}
	for name, url := range urls {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			d, err := openDurable(ctx, url, 2)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.create(ctx, "f1"); err != nil {
				t.Fatal(err)
			}
			if err := d.cas(ctx, "f1", 1, "a", []byte("x")); err != nil {
				t.Fatalf("cas from version 1 = %v", err)
			}
			if err := d.cas(ctx, "f1", 1, "b", []byte("y")); !errors.Is(err, errLostCAS) {
				t.Errorf("cas from the old version 1 = %v, want errLostCAS", err)
			}
			if err := d.cas(ctx, "f1", 2, "b", []byte("y")); err != nil {
				t.Errorf("cas from version 2 = %v", err)
			}
			if err := d.drop(); err != nil {
				t.Errorf("drop = %v", err)
			}
		})
	}
}

// TestBench_Durable runs the durable baseline on SQLite and checks that it
// is measured and that its table is gone afterwards.
func TestBench_Durable(t *testing.T) {
	t.Parallel()
	url := sqliteStore(t)
	out := mustRun(t, nil, "bench", "--flows", "8", "--concurrency", "2", "--durable", "--store", url)
	var res benchResult
	lastJSON(t, out, &res)
	if res.Completed != 8 || res.DurableFlowsPerSec <= 0 || res.EngineToDurable <= 0 {
		t.Errorf("bench --durable = %+v", res)
	}
	if !strings.Contains(out, "durable baseline: ") || !strings.Contains(out, `"engine_to_durable"`) {
		t.Errorf("the output lacks the durable baseline:\n%s", out)
	}
	db, err := sql.Open("sqlite", sqlitestore.DSN(strings.TrimPrefix(url, "sqlite:")))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name LIKE 'ratioflow_durable_%'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("durable tables left: %d (%v)", n, err)
	}
}

// TestBench_PostgresMeasures runs bench on PostgreSQL with the durable
// baseline and checks what only a database shows: the writes each
// transaction carried (group commit) and the processor time per flow of
// each phase, the machine's (the database included) at least the
// process's.
func TestBench_PostgresMeasures(t *testing.T) {
	t.Parallel()
	url := pgtest.Schema(t)
	out := mustRun(t, map[string]string{envSealKeys: "k1:" + strings.Repeat("ab", 32)},
		"bench", "--flows", "32", "--concurrency", "16", "--durable", "--store", url)
	var res benchResult
	lastJSON(t, out, &res)
	if res.Completed != 32 {
		t.Fatalf("bench = %+v", res)
	}
	if res.WritesPerTx < 1 || res.WritesPerTx > res.WritesPerFlow*32 {
		t.Errorf("writes_per_transaction = %v", res.WritesPerTx)
	}
	if res.ProcessCPUMS <= 0 {
		t.Errorf("process_cpu_ms_per_flow = %v", res.ProcessCPUMS)
	}
	if _, err := os.Stat("/proc/stat"); err == nil {
		if res.CPUMS <= 0 || res.RawCPUMS <= 0 || res.DurableCPUMS <= 0 {
			t.Errorf("cpu_ms_per_flow = %v, raw %v, durable %v: want all measured", res.CPUMS, res.RawCPUMS, res.DurableCPUMS)
		}
	}
	for _, want := range []string{"writes per transaction", "processor time per flow"} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q:\n%s", want, out)
		}
	}
}

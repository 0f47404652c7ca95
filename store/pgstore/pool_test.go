package pgstore_test

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/ratioflow/ratioflow/internal/pgtest"
	"github.com/ratioflow/ratioflow/store/pgstore"
)

func TestOpenWith_PoolSize(t *testing.T) {
	dsn := pgtest.Schema(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	var maxConns int
	err = conn.QueryRow(ctx, "SELECT current_setting('max_connections')::int").Scan(&maxConns)
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name      string
		dsn       string
		o         pgstore.Options
		want      func(int) bool
		wantWords string
	}{
		{"Open keeps pgx's default", dsn, pgstore.Options{}, func(n int) bool { return n == max(4, runtime.NumCPU()) }, "max(4, cores)"},
		{"the size asked for", dsn, pgstore.Options{MaxConns: 7}, func(n int) bool { return n == 7 }, "7"},
		{"the DSN's pool_max_conns wins", pgtest.WithParam(dsn, "pool_max_conns", "3"), pgstore.Options{MaxConns: 7},
			func(n int) bool { return n == 3 }, "3"},
		{"never beyond max_connections", dsn, pgstore.Options{MaxConns: 100000},
			func(n int) bool { return n >= 2 && n <= maxConns-max(maxConns/10, 5) }, "within max_connections less a headroom"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := pgstore.OpenWith(ctx, tt.dsn, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := s.MaxConns(); !tt.want(got) {
				t.Errorf("MaxConns() = %d, want %s (max_connections %d)", got, tt.wantWords, maxConns)
			}
		})
	}
}

func TestOpenWith_NegativeSize(t *testing.T) {
	_, err := pgstore.OpenWith(t.Context(), "postgres://ratio@127.0.0.1:1/flows", pgstore.Options{MaxConns: -1})
	if err == nil || !strings.Contains(err.Error(), "pool size -1") {
		t.Errorf("OpenWith(MaxConns -1) = %v, want an error naming the pool size", err)
	}
}

func TestFreeConns(t *testing.T) {
	dsn := pgtest.Schema(t)
	free, err := pgstore.FreeConns(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	// Holding a pool's connections open leaves fewer free.
	s, err := pgstore.OpenWith(t.Context(), dsn, pgstore.Options{MaxConns: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var conns []interface{ Release() }
	for range 3 {
		c, err := s.Pool().Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	after, err := pgstore.FreeConns(t.Context(), dsn)
	for _, c := range conns {
		c.Release()
	}
	if err != nil || free <= 0 || after > free-3 {
		t.Errorf("FreeConns = %d, then %d with 3 more open (%v), want positive and at least 3 fewer", free, after, err)
	}
}

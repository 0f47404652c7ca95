package pgstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/internal/pgtest"
	"github.com/ratioflow/ratioflow/store/pgstore"
)

// These tests need no database.

func TestOpen_Unreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for _, dsn := range []string{
		"postgres://ratio:s3cret-pw@127.0.0.1:1/flows?sslmode=disable",
		"host=127.0.0.1 port=1 user=ratio password=s3cret-pw dbname=flows sslmode=disable",
	} {
		_, err := pgstore.Open(ctx, dsn)
		if err == nil {
			t.Fatalf("Open(%s) succeeded", dsn)
		}
		if !strings.Contains(err.Error(), "unreachable") {
			t.Errorf("Open(port 1) = %v, want an error saying the database is unreachable", err)
		}
		if strings.Contains(err.Error(), "s3cret-pw") {
			t.Errorf("Open(port 1) error shows the password: %v", err)
		}
	}
}

func TestOpen_ErrorsNeverShowThePassword(t *testing.T) {
	for _, dsn := range []string{
		"postgres://ratio:s3cret-pw@127.0.0.1:notaport/flows",
		"postgresql://ratio:s3cret-pw@[::1/flows",
		"host=127.0.0.1 port=notaport user=ratio password=s3cret-pw",
		"host=127.0.0.1 port=1 user=ratio password='s3cret-pw' connect_timeout=x",
		"postgres://ratio:s3cret-pw@127.0.0.1:1/flows?sslmode=bogus",
	} {
		_, err := pgstore.Open(t.Context(), dsn)
		if err == nil {
			t.Errorf("Open(%s) succeeded", dsn)
			continue
		}
		if strings.Contains(err.Error(), "s3cret-pw") {
			t.Errorf("Open error shows the password: %v", err)
		}
	}
}

// TestOpen_GenericPlans checks that the store's connections plan each
// statement once (PlanCacheMode), and that a DSN's own plan_cache_mode
// wins.
func TestOpen_GenericPlans(t *testing.T) {
	for _, c := range []struct{ param, want string }{
		{"", pgstore.PlanCacheMode},
		{"auto", "auto"},
	} {
		dsn := pgtest.Schema(t)
		if c.param != "" {
			dsn = pgtest.WithParam(dsn, "plan_cache_mode", c.param)
		}
		s := openStore(t, dsn)
		var got string
		if err := s.Pool().QueryRow(context.Background(), `SHOW plan_cache_mode`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("plan_cache_mode with %q in the DSN = %q, want %q", c.param, got, c.want)
		}
	}
}

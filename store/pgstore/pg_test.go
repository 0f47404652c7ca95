package pgstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/pgstore"
	"github.com/ratioflow/ratioflow/store/storetest"
)

// envDSN names the variable that points the tests at a PostgreSQL
// database, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const envDSN = "RATIOFLOW_TEST_POSTGRES"

// testDSN returns the DSN of the test database. Without one it skips the
// test, except under CI=true, where a missing or unreachable database fails
// it: CI must prove the PostgreSQL path.
func testDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(envDSN)
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s is not set: CI must run the PostgreSQL tests (.ci/run sets it)", envDSN)
		}
		tb.Skipf("PostgreSQL tests skipped: set %s=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run them", envDSN)
	}
	reachOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err == nil {
			err = conn.Ping(ctx)
			conn.Close(ctx)
		}
		reachErr = err
	})
	if reachErr != nil {
		tb.Fatalf("PostgreSQL at %s (%s) is unreachable: %v", redacted(dsn), envDSN, reachErr)
	}
	return dsn
}

// reachOnce checks once per test binary that the test database answers.
var (
	reachOnce sync.Once
	reachErr  error
)

// newSchema creates a schema of its own for the calling test in the test
// database and returns a DSN whose search_path selects it. The schema is
// dropped when the test ends, so tests, packages and reruns never collide.
func newSchema(tb testing.TB) string {
	tb.Helper()
	dsn := testDSN(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("connect to PostgreSQL at %s: %v", redacted(dsn), err)
	}
	defer conn.Close(context.Background())
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "ratioflow_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return withParam(dsn, "search_path", schema)
}

// withParam adds a connection parameter to a URL or key=value DSN.
func withParam(dsn, key, value string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		q.Set(key, value)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return strings.TrimSpace(dsn) + " " + key + "=" + value
}

// redacted is dsn without a password, for messages.
func redacted(dsn string) string {
	if u, err := url.Parse(dsn); err == nil {
		return u.Redacted()
	}
	return "(the DSN)"
}

// openStore opens a migrated store in a schema of its own; pool_max_conns
// keeps the parallel subtests within the server's connection limit.
func openStore(tb testing.TB, dsn string) *pgstore.Store {
	tb.Helper()
	s, err := pgstore.Open(context.Background(), withParam(dsn, "pool_max_conns", "4"))
	if err != nil {
		tb.Fatalf("Open() = %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	testDSN(t) // skip once, not in every subtest
	storetest.Run(t, func(t *testing.T) store.Store { return openStore(t, newSchema(t)) })
}

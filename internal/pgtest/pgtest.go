// Package pgtest gives tests a PostgreSQL schema of their own in the
// database named by RATIOFLOW_TEST_POSTGRES, and decides what happens
// without one: skip on a laptop, fail under CI=true.
package pgtest

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
)

// EnvDSN names the variable that points the tests at a PostgreSQL database,
// e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const EnvDSN = "RATIOFLOW_TEST_POSTGRES"

// reachOnce checks once per test binary that the test database answers.
var (
	reachOnce sync.Once
	reachErr  error
)

// DSN returns the DSN of the test database. Without one it skips the test,
// except under CI=true, where a missing or unreachable database fails it:
// CI must prove the PostgreSQL path.
func DSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s is not set: CI must run the PostgreSQL tests (.ci/run sets it)", EnvDSN)
		}
		tb.Skipf("PostgreSQL tests skipped: set %s=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run them", EnvDSN)
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
		tb.Fatalf("PostgreSQL at %s (%s) is unreachable: %v", redacted(dsn), EnvDSN, reachErr)
	}
	return dsn
}

// Schema creates a schema of its own for the calling test in the test
// database and returns a DSN whose search_path selects it. The schema is
// dropped when the test ends, so tests, packages and reruns never collide.
func Schema(tb testing.TB) string {
	tb.Helper()
	dsn := DSN(tb)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "ratioflow_test_" + hex.EncodeToString(b[:])
	if err := exec(dsn, `CREATE SCHEMA `+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		if err := exec(dsn, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return WithParam(dsn, "search_path", schema)
}

// exec runs one statement on a connection of its own.
func exec(dsn, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// WithParam adds a connection parameter to a URL or key=value DSN.
func WithParam(dsn, key, value string) string {
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
	return "(the DSN in " + EnvDSN + ")"
}

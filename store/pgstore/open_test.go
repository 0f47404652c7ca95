package pgstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

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

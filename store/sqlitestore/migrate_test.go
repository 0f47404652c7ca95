package sqlitestore

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
)

// schemaVersion reads the recorded schema version.
func schemaVersion(t *testing.T, s *Store) int {
	t.Helper()
	var v int
	if err := s.read.QueryRowContext(t.Context(), `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		t.Fatalf("read schema version: %v", err)
	}
	return v
}

// objects lists the schema's tables and indexes.
func objects(t *testing.T, s *Store) string {
	t.Helper()
	rows, err := s.read.QueryContext(t.Context(), `SELECT type || ' ' || name FROM sqlite_schema ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	return strings.Join(names, ", ")
}

func TestMigrate_TwiceIsANoOp(t *testing.T) {
	s := New(filepath.Join(t.TempDir(), "flows.db"))
	defer s.Close()
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("first Migrate() = %v", err)
	}
	before := objects(t, s)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("second Migrate() = %v", err)
	}
	if got := schemaVersion(t, s); got != SchemaVersion() {
		t.Errorf("schema version = %d, want %d", got, SchemaVersion())
	}
	var n int
	if err := s.read.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != SchemaVersion() {
		t.Errorf("schema_migrations has %d rows (%v), want %d", n, err, SchemaVersion())
	}
	if after := objects(t, s); after != before {
		t.Errorf("second Migrate changed the schema:\n%s\nwant\n%s", after, before)
	}
}

func TestMigrate_UpgradesAnOlderDatabase(t *testing.T) {
	if SchemaVersion() < 2 {
		t.Skip("only one migration")
	}
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "flows.db")
	old := New(path)
	if err := old.migrateTo(ctx, 1); err != nil {
		t.Fatalf("migrateTo(1) = %v", err)
	}
	if err := writeSQL(ctx, old, `INSERT INTO flows (id, kind, graph_version, state, version, subject, created_at, updated_at)
		VALUES ('f-old', 'link', 'g', 'New', 1, 'alice', 0, 0)`); err != nil {
		t.Fatalf("insert into a version 1 database: %v", err)
	}
	old.Close()

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open(older database) = %v", err)
	}
	defer s.Close()
	if got := schemaVersion(t, s); got != SchemaVersion() {
		t.Errorf("schema version after Open = %d, want %d", got, SchemaVersion())
	}
	for _, want := range []string{"index flows_expiry", "table idempotency_keys", "index idempotency_keys_expiry"} {
		if !strings.Contains(objects(t, s), want) {
			t.Errorf("schema after upgrade lacks %s: %s", want, objects(t, s))
		}
	}
	rec, err := s.Get(ctx, "f-old")
	if err != nil || rec.State != states.New || rec.Subject != "alice" {
		t.Errorf("Get(f-old) after upgrade = %+v, %v", rec, err)
	}
}

func TestMigrate_RefusesANewerDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flows.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeSQL(t.Context(), s, `INSERT INTO schema_migrations (version, name) VALUES ($1, 'from the future')`, SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = Open(t.Context(), path)
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open(newer database) = %v, want an error saying it is newer", err)
	}
}

// Several processes opening one new file at once: each Open migrates, none
// fails, and the schema is applied once.
func TestOpen_ConcurrentlyMigratesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flows.db")
	var wg sync.WaitGroup
	stores := make([]*Store, 8)
	errs := make([]error, len(stores))
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = Open(context.Background(), path) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open #%d = %v", i, err)
		}
		defer stores[i].Close()
	}
	var n int
	if err := stores[0].read.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != SchemaVersion() {
		t.Errorf("schema_migrations has %d rows (%v), want %d", n, err, SchemaVersion())
	}
	// Every store sees the others' writes.
	rec := &store.Record{ID: "f-shared", Kind: "link", State: states.New}
	if err := stores[3].Create(t.Context(), rec); err != nil {
		t.Fatal(err)
	}
	if _, err := stores[5].Get(t.Context(), "f-shared"); err != nil {
		t.Errorf("Get from another store = %v", err)
	}
}

// writeSQL runs query on the write connection of s, through its writer.
func writeSQL(ctx context.Context, s *Store, query string, args ...any) error {
	return s.w.do(newRequest(ctx, false, func(ctx context.Context, c *writeConn) error {
		_, err := c.conn.ExecContext(ctx, query, args...)
		return err
	}))
}

package pgstore_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratioflow/ratioflow/internal/pgtest"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/pgstore"
)

// schemaState reads the recorded migrations and the schema's relations.
func schemaState(t *testing.T, pool *pgxpool.Pool) (migrations int, relations string) {
	t.Helper()
	ctx := t.Context()
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&migrations); err != nil {
		t.Fatalf("count migrations: %v", err)
	}
	if err := pool.QueryRow(ctx, `SELECT string_agg(relname, ', ' ORDER BY relname) FROM pg_class
		WHERE relnamespace = current_schema()::regnamespace`).Scan(&relations); err != nil {
		t.Fatalf("list relations: %v", err)
	}
	return migrations, relations
}

func TestMigrate_TwiceIsANoOp(t *testing.T) {
	s := openStore(t, pgtest.Schema(t))
	n, before := schemaState(t, s.Pool())
	if n != pgstore.SchemaVersion() {
		t.Errorf("migrations after Open = %d, want %d", n, pgstore.SchemaVersion())
	}
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("second Migrate() = %v", err)
	}
	n, after := schemaState(t, s.Pool())
	if n != pgstore.SchemaVersion() || after != before {
		t.Errorf("second Migrate changed the schema: %d migrations, %s; want %d, %s", n, after, pgstore.SchemaVersion(), before)
	}
}

func TestMigrate_UpgradesAnOlderDatabase(t *testing.T) {
	ctx := t.Context()
	dsn := pgtest.Schema(t)
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	old := pgstore.New(pool)
	if err := old.MigrateTo(ctx, 1); err != nil {
		t.Fatalf("MigrateTo(1) = %v", err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO flows (id, kind, graph_version, state, version, subject, created_at, updated_at)
		VALUES ('f-old', 'link', 'g', 'New', 1, 'alice', now(), now())`); err != nil {
		t.Fatalf("insert into a version 1 schema: %v", err)
	}
	if _, rels := schemaState(t, pool); strings.Contains(rels, "flows_expiry") {
		t.Fatalf("version 1 schema already has flows_expiry: %s", rels)
	}

	s := openStore(t, dsn)
	n, rels := schemaState(t, s.Pool())
	if n != pgstore.SchemaVersion() || !strings.Contains(rels, "flows_expiry") || !strings.Contains(rels, "idempotency_keys_expiry") {
		t.Errorf("after Open: %d migrations, relations %s; want %d, flows_expiry and idempotency_keys_expiry",
			n, rels, pgstore.SchemaVersion())
	}
	rec, err := s.Get(ctx, "f-old")
	if err != nil || rec.State != states.New || rec.Subject != "alice" {
		t.Errorf("Get(f-old) after upgrade = %+v, %v", rec, err)
	}
}

func TestMigrate_RefusesANewerDatabase(t *testing.T) {
	dsn := pgtest.Schema(t)
	s := openStore(t, dsn)
	if _, err := s.Pool().Exec(t.Context(), `INSERT INTO schema_migrations (version, name) VALUES ($1, 'from the future')`,
		pgstore.SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	_, err := pgstore.Open(t.Context(), dsn)
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open(newer schema) = %v, want an error saying it is newer", err)
	}
}

// Replicas starting together all migrate; the advisory lock makes one of
// them apply each migration and the others find it applied.
func TestOpen_ConcurrentReplicasMigrateOnce(t *testing.T) {
	dsn := pgtest.Schema(t)
	stores := make([]*pgstore.Store, 6)
	errs := make([]error, len(stores))
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() {
			stores[i], errs[i] = pgstore.Open(context.Background(), pgtest.WithParam(dsn, "pool_max_conns", "2"))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open #%d = %v", i, err)
		}
		defer stores[i].Close()
	}
	if n, _ := schemaState(t, stores[0].Pool()); n != pgstore.SchemaVersion() {
		t.Errorf("migrations = %d, want %d", n, pgstore.SchemaVersion())
	}
}

func TestNew_LeavesThePoolToItsOwner(t *testing.T) {
	dsn := pgtest.Schema(t)
	pool, err := pgxpool.New(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	s := pgstore.New(pool)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate() = %v", err)
	}
	if err := s.Create(t.Context(), &store.Record{ID: "f"}); err != nil {
		t.Fatalf("Create() = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if _, err := s.Get(t.Context(), "f"); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Get after Close = %v, want ErrClosed", err)
	}
	if err := pool.Ping(t.Context()); err != nil {
		t.Errorf("the caller's pool after Close: %v", err)
	}
}

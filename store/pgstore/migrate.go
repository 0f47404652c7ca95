package pgstore

import (
	"context"
	"embed"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/ratioflow/ratioflow/store/internal/backend"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations are the embedded schema migrations, in order.
var migrations = sync.OnceValues(func() ([]backend.Migration, error) {
	return backend.Migrations(migrationFiles, "migrations")
})

// SchemaVersion returns the schema version this binary migrates to: the
// number of its newest embedded migration.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil {
		panic(err) // the embedded files are broken: a build mistake, caught by any test
	}
	return len(ms)
}

// Migrate brings the schema to SchemaVersion, applying the missing embedded
// migrations in order, each in its own transaction that records its version
// in schema_migrations. Migrating an up-to-date schema changes nothing.
// Several replicas may migrate at once: each migration's transaction first
// takes a transaction-scoped advisory lock (one per schema) and checks the
// recorded version under it. Migrate refuses a schema newer than
// SchemaVersion.
func (s *Store) Migrate(ctx context.Context) error {
	return s.migrateTo(ctx, SchemaVersion())
}

// migrateTo applies the migrations up to version target.
func (s *Store) migrateTo(ctx context.Context, target int) error {
	if err := s.begin(ctx); err != nil {
		return err
	}
	ms, err := migrations()
	if err != nil {
		return err
	}
	for _, m := range ms[:target] {
		if err := s.apply(ctx, m, len(ms)); err != nil {
			return s.fail(ctx, "migration "+m.Name, err)
		}
	}
	return nil
}

// apply runs migration m in one transaction unless it is already applied.
func (s *Store) apply(ctx context.Context, m backend.Migration, known int) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('ratioflow.migrate.' || current_schema()))`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer     NOT NULL PRIMARY KEY,
			name       text        NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return err
		}
		var current int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
			return err
		}
		switch {
		case current > known:
			return fmt.Errorf("database schema version %d is newer than this binary's %d", current, known)
		case current >= m.Version:
			return nil
		case current != m.Version-1:
			return fmt.Errorf("database schema version %d cannot take migration %d", current, m.Version)
		}
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
		return err
	})
}

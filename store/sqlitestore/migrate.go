package sqlitestore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"sync"

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

// Migrate brings the database's schema to SchemaVersion, applying the
// missing embedded migrations in order, each in its own immediate
// transaction that records its version in schema_migrations. Migrating an
// up-to-date database changes nothing, and several processes may migrate
// the same file at once: the immediate transactions serialise them, and
// each migration checks the recorded version inside its transaction.
// Migrate refuses a database whose schema is newer than SchemaVersion.
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
			return s.fail(ctx, fmt.Sprintf("migration %s", m.Name), err)
		}
	}
	return nil
}

// apply runs migration m in one transaction unless it is already applied.
func (s *Store) apply(ctx context.Context, m backend.Migration, known int) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER NOT NULL PRIMARY KEY,
			name       TEXT    NOT NULL,
			applied_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
		)`); err != nil {
			return err
		}
		var current int
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
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
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name)
		return err
	})
}

// rollback rolls tx back, ignoring the error of a transaction already
// finished.
func rollback(tx *sql.Tx) error {
	if err := tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return err
	}
	return nil
}

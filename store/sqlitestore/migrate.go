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
	// The migrations run on the write connection, alone: the writer runs
	// nothing else meanwhile.
	var failed string
	r := newRequest(ctx, true, func(ctx context.Context, c *writeConn) error {
		for _, m := range ms[:target] {
			if err := apply(ctx, c.conn, m, len(ms)); err != nil {
				failed = m.Name
				return err
			}
		}
		return nil
	})
	r.solo = true
	switch err := s.w.do(r); {
	case err == nil:
		return nil
	case failed != "":
		return s.fail(ctx, "migration "+failed, err)
	default:
		return s.fail(ctx, "migrate", err)
	}
}

// apply runs migration m on conn in one transaction unless it is already
// applied.
func apply(ctx context.Context, conn *sql.Conn, m backend.Migration, known int) error {
	return inTx(ctx, conn, func(tx *sql.Tx) error {
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

// inTx runs fn in an immediate transaction on conn and commits if fn
// succeeds.
func inTx(ctx context.Context, conn *sql.Conn, fn func(*sql.Tx) error) (err error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, rollback(tx))
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// rollback rolls tx back, ignoring the error of a transaction already
// finished.
func rollback(tx *sql.Tx) error {
	if err := tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return err
	}
	return nil
}

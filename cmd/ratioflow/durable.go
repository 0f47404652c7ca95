package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratioflow/ratioflow/store/pgstore"
	"github.com/ratioflow/ratioflow/store/sqlitestore"
	"github.com/ratioflow/ratioflow/store/storeurl"
)

// durableTable is the hand-written durable baseline's table: what a team
// writing the flows by hand would keep at the least to survive a restart,
// one row per flow with its last state and answer, written with a
// compare-and-swap on the version, with no other index and no history.
type durableTable interface {
	// create inserts flow id at version 1.
	create(ctx context.Context, id string) error
	// cas moves flow id from version to version+1 with state and data.
	cas(ctx context.Context, id string, version int64, state string, data []byte) error
	// drop deletes the table and closes the connections.
	drop() error
}

// errLostCAS: the row was not at the version the writer had.
var errLostCAS = errors.New("durable baseline: compare-and-swap found another version")

// openDurable creates the baseline's table, of a name no other run uses, on
// the database of storeURL, with a pool of maxConns connections. SQLite
// takes one writer at a time: there the table is written through one
// connection, as the engine's store writes through one.
func openDurable(ctx context.Context, storeURL string, maxConns int) (durableTable, error) {
	t, err := storeurl.Parse(storeURL)
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("ratioflow_durable_%d_%d", os.Getpid(), time.Now().UnixNano())
	switch t.Kind {
	case storeurl.Postgres:
		return openPGDurable(ctx, t.DSN, name, maxConns)
	case storeurl.SQLite:
		db, err := sql.Open("sqlite", sqlitestore.DSN(t.Path))
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(1)
		return newSQLDurable(ctx, db, name, "?")
	}
	return &memDurable{rows: map[string]memRow{}}, nil
}

const (
	durableSchema = `CREATE TABLE %s (id text PRIMARY KEY, state text NOT NULL, version bigint NOT NULL, data %s)`
	durableInsert = `INSERT INTO %s (id, state, version) VALUES (%s, 'new', 1)`
	durableCAS    = `UPDATE %s SET state = %s, version = version + 1, data = %s WHERE id = %s AND version = %s`
)

// pgDurable is the baseline's table in PostgreSQL, through a pgx pool.
type pgDurable struct {
	pool                 *pgxpool.Pool
	name, insert, casSQL string
}

func openPGDurable(ctx context.Context, dsn, name string, maxConns int) (*pgDurable, error) {
	cfg, err := pgstore.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = int32(maxConns)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := pool.Exec(ctx, fmt.Sprintf(durableSchema, name, "bytea")); err != nil {
		pool.Close()
		return nil, fmt.Errorf("create the durable baseline's table: %w", err)
	}
	return &pgDurable{pool: pool, name: name, insert: fmt.Sprintf(durableInsert, name, "$1"),
		casSQL: fmt.Sprintf(durableCAS, name, "$1", "$2", "$3", "$4")}, nil
}

func (d *pgDurable) create(ctx context.Context, id string) error {
	_, err := d.pool.Exec(ctx, d.insert, id)
	return err
}

func (d *pgDurable) cas(ctx context.Context, id string, version int64, state string, data []byte) error {
	tag, err := d.pool.Exec(ctx, d.casSQL, state, data, id, version)
	if err == nil && tag.RowsAffected() != 1 {
		err = errLostCAS
	}
	return err
}

func (d *pgDurable) drop() error {
	defer d.pool.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := d.pool.Exec(ctx, "DROP TABLE "+d.name)
	return err
}

// sqlDurable is the baseline's table through database/sql (SQLite).
type sqlDurable struct {
	db                   *sql.DB
	name, insert, casSQL string
}

func newSQLDurable(ctx context.Context, db *sql.DB, name, param string) (*sqlDurable, error) {
	if _, err := db.ExecContext(ctx, fmt.Sprintf(durableSchema, name, "blob")); err != nil {
		db.Close()
		return nil, fmt.Errorf("create the durable baseline's table: %w", err)
	}
	return &sqlDurable{db: db, name: name, insert: fmt.Sprintf(durableInsert, name, param),
		casSQL: fmt.Sprintf(durableCAS, name, param, param, param, param)}, nil
}

func (d *sqlDurable) create(ctx context.Context, id string) error {
	_, err := d.db.ExecContext(ctx, d.insert, id)
	return err
}

func (d *sqlDurable) cas(ctx context.Context, id string, version int64, state string, data []byte) error {
	res, err := d.db.ExecContext(ctx, d.casSQL, state, data, id, version)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errors.Join(errLostCAS, err)
	}
	return nil
}

func (d *sqlDurable) drop() error {
	defer d.db.Close()
	_, err := d.db.Exec("DROP TABLE " + d.name)
	return err
}

// memDurable is the baseline for memory:, a map under a mutex doing the
// same compare-and-swap.
type memDurable struct {
	mu   sync.Mutex
	rows map[string]memRow
}

type memRow struct {
	state   string
	version int64
	data    []byte
}

func (d *memDurable) create(_ context.Context, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.rows[id]; ok {
		return fmt.Errorf("durable baseline: flow %s exists", id)
	}
	d.rows[id] = memRow{state: "new", version: 1}
	return nil
}

func (d *memDurable) cas(_ context.Context, id string, version int64, state string, data []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.rows[id].version != version {
		return errLostCAS
	}
	d.rows[id] = memRow{state: state, version: version + 1, data: data}
	return nil
}

func (d *memDurable) drop() error { return nil }

// Package sqlitestore is the embedded store.Store: one SQLite file, through
// the pure-Go driver modernc.org/sqlite (no cgo).
//
// It is ratioflow's default store for a service on one machine and for the
// demo. Several processes may share the file; for several machines use
// store/pgstore.
//
// Every connection runs with journal_mode WAL (readers never block the
// writer), synchronous NORMAL (a power loss may lose the last transactions
// but never corrupts the file), foreign_keys ON, busy_timeout 5000 ms and
// immediate transactions (_txlock=immediate: a transaction takes the write
// lock when it begins, so concurrent writers wait for it instead of failing
// with "database is locked" when they upgrade). Writes go through a single
// connection, so writers of one process queue in Go rather than in SQLite's
// busy handler; reads use a pool of connections.
//
// The schema is created and upgraded by Migrate (Open calls it) from SQL
// files embedded in the binary; see docs/stores.md.
package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/ratioflow/ratioflow/store"
)

var _ store.Store = (*Store)(nil)

// Settings of every connection; see the package doc.
const pragmas = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
	"&_pragma=foreign_keys(ON)&_txlock=immediate"

// Store is a store.Store in one SQLite file. Create it with Open, or with
// New followed by Migrate.
type Store struct {
	path   string
	write  *sql.DB // one connection: SQLite has one writer at a time
	read   *sql.DB // several connections; WAL lets them read while one writes
	closed atomic.Bool

	mu    sync.Mutex // guards stmts
	stmts map[stmtKey]*sql.Stmt
}

// stmtKey names a prepared statement: its database and its text.
type stmtKey struct {
	db    *sql.DB
	query string
}

// New returns a store for the SQLite database file at path. It does no I/O
// and never fails: the file is opened (and created if missing) on first use.
// Call Migrate before using the store, or use Open, which does both.
func New(path string) *Store {
	dsn := DSN(path)
	write, _ := sql.Open("sqlite", dsn) // sql.Open only fails for an unknown driver
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxIdleTime(0)
	read, _ := sql.Open("sqlite", dsn+"&_pragma=query_only(ON)")
	readers := max(4, runtime.NumCPU())
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)
	return &Store{path: path, write: write, read: read, stmts: make(map[stmtKey]*sql.Stmt)}
}

// Open opens the SQLite database file at path, creating it if missing, and
// migrates its schema to the version this binary knows. The directory must
// exist. A database written by a newer binary (with a higher schema version)
// is refused.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("open sqlite database: empty path")
	}
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("open sqlite database %s: directory %s does not exist", path, dir)
	}
	s := New(path)
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open sqlite database %s: %w", path, err)
	}
	return s, nil
}

// DSN returns the database/sql data source name the store uses for the file
// at path with the "sqlite" driver of modernc.org/sqlite: a SQLite URI with
// the settings described in the package doc.
func DSN(path string) string {
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	if strings.HasPrefix(path, "/") {
		return "file://" + esc + "?" + pragmas // empty authority, absolute path
	}
	return "file:" + esc + "?" + pragmas
}

// Path returns the path of the database file.
func (s *Store) Path() string { return s.path }

// Close closes the database. Every later call returns store.ErrClosed.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return store.ErrClosed
	}
	var errs []error
	s.mu.Lock()
	for _, st := range s.stmts {
		errs = append(errs, st.Close())
	}
	s.stmts = nil
	s.mu.Unlock()
	return errors.Join(append(errs, s.read.Close(), s.write.Close())...)
}

// prepare returns query prepared on db, preparing it on first use: parsing
// costs as much as a small write. It must not be called inside a
// transaction on the write connection, which it would wait for.
func (s *Store) prepare(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	key := stmtKey{db, query}
	s.mu.Lock()
	st, ok := s.stmts[key]
	s.mu.Unlock()
	if ok {
		return st, nil
	}
	st, err := db.PrepareContext(ctx, query) // outside s.mu: it may wait for a connection
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.stmts[key]; ok || s.stmts == nil { // prepared meanwhile, or closed
		st.Close()
		if !ok {
			return nil, store.ErrClosed
		}
		return prev, nil
	}
	s.stmts[key] = st
	return st, nil
}

// begin returns the error that stops a call before it starts.
func (s *Store) begin(ctx context.Context) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	return ctx.Err()
}

// fail wraps the error of operation op, turning the errors of a closed
// database and a done context into store.ErrClosed and ctx.Err().
func (s *Store) fail(ctx context.Context, op string, err error) error {
	switch {
	case s.closed.Load():
		return fmt.Errorf("%s: %w", op, store.ErrClosed)
	case ctx.Err() != nil && !errors.Is(err, ctx.Err()):
		return fmt.Errorf("%s: %w (%v)", op, ctx.Err(), err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

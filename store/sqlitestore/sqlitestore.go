// Package sqlitestore is the embedded store.Store and store.KeyStore: one
// SQLite file, through the pure-Go driver modernc.org/sqlite (no cgo).
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
// with "database is locked" when they upgrade). Reads use a pool of
// connections.
//
// Writes use group commit. One writer goroutine per Store owns the single
// write connection; Create, Update, ClaimExpired, Purge and the writes of
// the idempotency keys (see keys.go) queue a request for it and wait. The
// writer takes every request queued (up to 128) and runs them in queue
// order in one BEGIN IMMEDIATE transaction, then commits once. A request
// that fails leaves the others' writes as they were: a Create or Update refuses a write (a version conflict, a
// duplicate ID) before it writes anything, and the other requests run
// under a savepoint that is rolled back if they fail; on any other error,
// the writer rolls the transaction back and runs the other requests again
// in a new one. No caller learns that its write succeeded before that
// COMMIT; if it fails, every request of the batch gets the error. So
// concurrent writers share the cost of a commit, and two writes of one
// flow in a batch behave as they would one after the other. An Update
// names in its SET list only the indexed columns that change (a hint of
// what this store last wrote, checked in the WHERE clause, tells which),
// so that a write that only records a pending call rewrites no index.
// A request alone in the queue skips the batch's
// statements: it is one statement in autocommit mode, or one transaction
// when it has history entries. A caller whose context ends while its
// request is queued returns ctx.Err(), and the request writes nothing;
// once the writer has taken a request, its caller waits for the outcome,
// so an error always means that nothing was written. Migrate runs alone on
// the same connection. Other processes sharing the file wait for the write
// lock up to busy_timeout, and the writer waits for theirs.
//
// Checkpoints (copying the write-ahead log into the file) run in the
// background, on a connection of their own, at most every 100 ms after
// writes, rather than in the writer's commit: see checkpoint.go.
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
// busy_timeout matches busyTimeout.
const pragmas = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
	"&_pragma=foreign_keys(ON)&_txlock=immediate"

// readMmap is how much of the file the read connections map into memory
// (mmap_size, SQLite's largest by default): they then read its pages as
// memory instead of a system call each. A page of one subject's flows,
// whose rows sit on pages far apart in a large file, costs a third less
// (0.137 ms to 0.089 ms at a million flows), and every read is faster.
// The writer keeps ordinary I/O; WAL pages are read as before.
const readMmap = 0x7fff0000

// Store is a store.Store in one SQLite file. Create it with Open, or with
// New followed by Migrate.
type Store struct {
	path   string
	write  *sql.DB // one connection, held by w: SQLite has one writer at a time
	w      *writer // every write goes through it
	read   *sql.DB // several connections; WAL lets them read while one writes
	ckpt   *checkpointer
	closed atomic.Bool

	mu    sync.Mutex           // guards stmts
	stmts map[string]*sql.Stmt // prepared on read, by query
}

// New returns a store for the SQLite database file at path. It does no I/O
// and never fails: the file is opened (and created if missing) on first use.
// Call Migrate before using the store, or use Open, which does both. New
// starts the store's writer goroutine; Close stops it.
func New(path string) *Store {
	dsn := DSN(path)
	// sql.Open only fails for an unknown driver.
	write, _ := sql.Open("sqlite", dsn+fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)&_pragma=journal_size_limit(%d)",
		walAutoCheckpoint, walSizeLimit))
	single(write)
	ckpt, _ := sql.Open("sqlite", dsn)
	single(ckpt)
	read, _ := sql.Open("sqlite", dsn+fmt.Sprintf("&_pragma=query_only(ON)&_pragma=mmap_size(%d)", readMmap))
	readers := max(4, runtime.NumCPU())
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)
	c := newCheckpointer(ckpt, checkpointEvery)
	return &Store{path: path, write: write, w: newWriter(write, c.wrote), read: read, ckpt: c,
		stmts: make(map[string]*sql.Stmt)}
}

// single makes db a pool of one connection, kept open.
func single(db *sql.DB) {
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(0)
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

// Close closes the database. Writes already queued are made first (their
// callers get their outcome); every later call returns store.ErrClosed.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return store.ErrClosed
	}
	s.w.close()
	errs := []error{s.ckpt.close()}
	s.mu.Lock()
	for _, st := range s.stmts {
		errs = append(errs, st.Close())
	}
	s.stmts = nil
	s.mu.Unlock()
	return errors.Join(append(errs, s.read.Close(), s.write.Close())...)
}

// prepare returns query prepared on the read pool, preparing it on first
// use: parsing costs as much as a small read.
func (s *Store) prepare(ctx context.Context, query string) (*sql.Stmt, error) {
	s.mu.Lock()
	st, ok := s.stmts[query]
	s.mu.Unlock()
	if ok {
		return st, nil
	}
	st, err := s.read.PrepareContext(ctx, query) // outside s.mu: it may wait for a connection
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.stmts[query]; ok || s.stmts == nil { // prepared meanwhile, or closed
		st.Close()
		if !ok {
			return nil, store.ErrClosed
		}
		return prev, nil
	}
	s.stmts[query] = st
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

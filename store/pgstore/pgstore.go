// Package pgstore is the store.Store and store.KeyStore for PostgreSQL,
// through github.com/jackc/pgx/v5 and its pool.
//
// It is the store for services that outgrow one machine: any number of
// stateless engine replicas, each with its own pool, share one PostgreSQL
// (or a PostgreSQL-compatible distributed database). Update is a
// compare-and-swap on the version in one statement (with its history
// entries, one statement too: a data-modifying CTE), so replicas never lose
// each other's writes; ClaimExpired uses FOR UPDATE SKIP LOCKED, so
// sweepers on every replica claim disjoint flows. Under load, the writes
// of concurrent flows go to the database together, as one batch and one
// transaction (group commit; see WriteStats), each keeping its own
// outcome.
//
// Open connects from a URL or DSN and migrates the schema; New wraps a pool
// the service already has, and Migrate creates or upgrades the schema from
// SQL files embedded in the binary (see docs/stores.md). The tables live in
// the first schema of the connection's search_path; to keep several
// independent stores in one database, give each its own schema
// (search_path=name in the URL).
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ratioflow/ratioflow/store"
)

var _ store.Store = (*Store)(nil)

// DefaultConnectTimeout bounds each connection attempt of a pool made by
// Open when the URL sets no connect_timeout, so that an unreachable database
// is reported in seconds rather than after the operating system gives up.
const DefaultConnectTimeout = 5 * time.Second

// Store is a store.Store in a PostgreSQL database.
type Store struct {
	pool   *pgxpool.Pool
	owned  bool     // Close closes the pool
	writes *batcher // Create and Update, sent in batches under load
	closed atomic.Bool
}

// New returns a store on pool, which the caller keeps owning: Close does not
// close it. New does no I/O and never fails; call Migrate before first use
// if the schema may be missing or old.
func New(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, writes: newBatcher(pool)}
}

// Open connects to the database at dsn (a postgres:// URL or a key=value
// DSN, with any pgxpool setting such as pool_max_conns), checks that it
// answers, and migrates the schema. Its error says when the database is
// unreachable and never contains the password. The store owns its pool:
// Close closes it. Its pool is pgx's default unless the DSN sets
// pool_max_conns; OpenWith sizes it.
func Open(ctx context.Context, dsn string) (*Store, error) {
	return OpenWith(ctx, dsn, Options{})
}

// ParseConfig reads dsn as Open does, without connecting: a postgres://
// URL or a key=value DSN, with DefaultConnectTimeout unless the DSN sets
// connect_timeout, and PlanCacheMode unless it sets plan_cache_mode. Its
// error never contains the password.
func ParseConfig(dsn string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse PostgreSQL URL: %s", scrub(err.Error(), dsn))
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; !ok {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = PlanCacheMode
	}
	return cfg, nil
}

// PlanCacheMode is the plan_cache_mode the connections of a pool made by
// Open (and ParseConfig) run with, unless the DSN sets its own. pgx
// prepares every statement once per connection, and PostgreSQL then plans
// each execution anew with its arguments (a custom plan) as long as it
// deems that cheaper than one plan for all: the store's paged lists and
// its claim of due flows stayed on custom plans, whose planning probes the
// indexes and grew with the table, costing 20-30% more at a million flows
// than at a thousand. Every statement of the store has one good plan
// whatever its arguments (an index scan), so a generic plan, made once per
// connection, keeps their cost flat. A service passing its own pool to New
// sets it in its DSN (plan_cache_mode=force_generic_plan) for the same.
const PlanCacheMode = "force_generic_plan"

// Close ends the store and, if Open made its pool, closes the pool. Every
// later call returns store.ErrClosed.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return store.ErrClosed
	}
	if s.owned {
		s.pool.Close()
	}
	return nil
}

// begin returns the error that stops a call before it starts.
func (s *Store) begin(ctx context.Context) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	return ctx.Err()
}

// fail wraps the error of operation op, turning the errors of a closed
// store and a done context into store.ErrClosed and ctx.Err().
func (s *Store) fail(ctx context.Context, op string, err error) error {
	switch {
	case s.closed.Load():
		return fmt.Errorf("%s: %w", op, store.ErrClosed)
	case ctx.Err() != nil && !errors.Is(err, ctx.Err()):
		return fmt.Errorf("%s: %w (%v)", op, ctx.Err(), err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// Passwords in the two forms of DSN, found without parsing them (a DSN
// that does not parse must not leak either).
var (
	kvPassword  = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:\\.|[^'])*'|\S+)`)
	urlPassword = regexp.MustCompile(`(://[^:/@\s]*:)([^@\s]*)@`)
)

// redact returns dsn without its password, for messages.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	dsn = urlPassword.ReplaceAllString(dsn, "${1}xxxxx@")
	return kvPassword.ReplaceAllString(dsn, "${1}xxxxx")
}

// scrub removes the password of dsn from msg, in case a library quoted it.
func scrub(msg, dsn string) string {
	for _, re := range []*regexp.Regexp{urlPassword, kvPassword} {
		for _, m := range re.FindAllStringSubmatch(dsn, -1) {
			pw := strings.Trim(m[2], "'")
			if u, err := url.PathUnescape(pw); err == nil && u != "" {
				msg = strings.ReplaceAll(msg, u, "xxxxx")
			}
			if pw != "" {
				msg = strings.ReplaceAll(msg, pw, "xxxxx")
			}
		}
	}
	return msg
}

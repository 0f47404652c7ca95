package pgstore

import (
	"context"
	"fmt"
	"regexp"

	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultMaxConns is the pool size a service asks OpenWith for when it
// knows no better: the pool opens connections only as concurrent calls need
// them, up to this many per process.
const DefaultMaxConns = 32

// Options tune OpenWith.
type Options struct {
	// MaxConns is the most connections the store's pool opens, as
	// concurrent calls need them. Zero keeps pgx's default (the larger of
	// 4 and the number of CPUs), as Open does. A DSN that sets
	// pool_max_conns wins over it. OpenWith lowers it to what the server
	// has free when it opens: max_connections, less the connections
	// reserved for superusers, those open at the time and a headroom of a
	// tenth of max_connections (at least 5), and never below 2.
	MaxConns int
}

// OpenWith opens the store as Open does, with a pool sized by o.
func OpenWith(ctx context.Context, dsn string, o Options) (*Store, error) {
	if o.MaxConns < 0 {
		return nil, fmt.Errorf("open PostgreSQL: pool size %d must not be negative", o.MaxConns)
	}
	cfg, err := ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	if o.MaxConns > 0 && !setsPoolMaxConns(dsn) {
		cfg.MaxConns = int32(min(o.MaxConns, 1<<20))
	}
	pool, err := connect(ctx, cfg, dsn)
	if err != nil {
		return nil, err
	}
	if o.MaxConns > 0 && !setsPoolMaxConns(dsn) {
		if pool, err = fitPool(ctx, pool, cfg, dsn); err != nil {
			return nil, err
		}
	}
	s := New(pool)
	s.owned = true
	if err := s.Migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open PostgreSQL %s: %s", redact(dsn), scrub(err.Error(), dsn))
	}
	return s, nil
}

// MaxConns returns the most connections the store's pool opens.
func (s *Store) MaxConns() int { return int(s.pool.Config().MaxConns) }

// poolMaxConns finds the pool_max_conns setting in either form of DSN.
var poolMaxConns = regexp.MustCompile(`(^|[\s?&])pool_max_conns\s*=`)

func setsPoolMaxConns(dsn string) bool { return poolMaxConns.MatchString(dsn) }

// connect makes the pool of cfg and checks that the database answers.
func connect(ctx context.Context, cfg *pgxpool.Config, dsn string) (*pgxpool.Pool, error) {
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open PostgreSQL %s: %s", redact(dsn), scrub(err.Error(), dsn))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("connect to PostgreSQL %s: %w", redact(dsn), ctx.Err())
		}
		return nil, fmt.Errorf("PostgreSQL %s is unreachable: %s", redact(dsn), scrub(err.Error(), dsn))
	}
	return pool, nil
}

// freeConnsSQL is how many more connections the server takes, keeping a
// headroom of a tenth of max_connections (at least 5) for the others. The
// asking pool's own connection counts as free: it is the pool's.
const freeConnsSQL = `SELECT current_setting('max_connections')::int
	- current_setting('superuser_reserved_connections')::int
	- greatest(current_setting('max_connections')::int / 10, 5)
	- (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int + 1`

// FreeConns returns how many more connections the server at dsn takes
// now, as OpenWith counts them: max_connections, less the connections
// reserved for superusers, those open and a headroom of a tenth of
// max_connections (at least 5). Pools open their connections as they need
// them, so a program opening several pools at once (replicas in one
// process) checks that their sizes add up within it.
func FreeConns(ctx context.Context, dsn string) (int, error) {
	cfg, err := ParseConfig(dsn)
	if err != nil {
		return 0, err
	}
	cfg.MaxConns = 1
	pool, err := connect(ctx, cfg, dsn)
	if err != nil {
		return 0, err
	}
	defer pool.Close()
	var free int
	if err := pool.QueryRow(ctx, freeConnsSQL).Scan(&free); err != nil {
		return 0, fmt.Errorf("PostgreSQL %s: read max_connections: %s", redact(dsn), scrub(err.Error(), dsn))
	}
	return free, nil
}

// fitPool returns pool, or a smaller one in its place if the server has
// fewer connections free than pool may open.
func fitPool(ctx context.Context, pool *pgxpool.Pool, cfg *pgxpool.Config, dsn string) (*pgxpool.Pool, error) {
	var free int32
	if err := pool.QueryRow(ctx, freeConnsSQL).Scan(&free); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open PostgreSQL %s: read max_connections: %s", redact(dsn), scrub(err.Error(), dsn))
	}
	if free >= cfg.MaxConns {
		return pool, nil
	}
	pool.Close()
	cfg.MaxConns = max(free, 2)
	cfg.MinConns = min(cfg.MinConns, cfg.MaxConns)
	return connect(ctx, cfg, dsn)
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"

	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/pgstore"       // --store postgres://
	_ "github.com/ratioflow/ratioflow/store/sqlitestore" // --store sqlite:
	"github.com/ratioflow/ratioflow/store/storeurl"
)

const envStore = "RATIOFLOW_STORE"

// defaultStore is the store of every command given none: the SQLite file
// in the temporary directory that the demo fills.
func defaultStore() string { return storeurl.Default() }

// storeOrDefault returns the store URL: the flag, else RATIOFLOW_STORE,
// else the default.
func storeOrDefault(e *env, flagURL string) string {
	return firstNonEmpty(flagURL, e.getenv(envStore), defaultStore())
}

// openStore opens the store at url, creating a SQLite file that does not
// exist yet; the caller closes it.
func openStore(ctx context.Context, url string) (store.Store, error) {
	return openStoreWith(ctx, url, 0)
}

// openStoreWith opens the store at url as openStore does; a PostgreSQL
// store's pool opens up to maxConns connections (zero: pgx's default), as
// pgstore.OpenWith sizes it.
func openStoreWith(ctx context.Context, url string, maxConns int) (store.Store, error) {
	t, err := storeurl.Parse(url)
	if err != nil || t.Kind != storeurl.Postgres || maxConns == 0 {
		st, err := storeurl.Open(ctx, url)
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		return st, nil
	}
	st, err := pgstore.OpenWith(ctx, t.DSN, pgstore.Options{MaxConns: maxConns})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return st, nil
}

// openExistingStore opens the store at url for the flows commands, which
// work on flows stored before: a SQLite file that does not exist is an
// error naming its path, never a new empty database made by a typo. (The
// file is looked for just before it is opened: one removed in between is
// made again, empty, as with openStore.) The caller closes the store.
func openExistingStore(ctx context.Context, url string) (store.Store, error) {
	if err := storeExists(url); err != nil {
		return nil, err
	}
	return openStore(ctx, url)
}

// storeExists says, for a SQLite URL, that its file does not exist.
func storeExists(url string) error {
	t, err := storeurl.Parse(url)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	if t.Kind == storeurl.SQLite {
		if _, err := os.Stat(t.Path); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("open store: the SQLite file %s does not exist (the flows commands open a store, they never create one: demo, serve and bench do)", t.Path)
		}
	}
	return nil
}

// poolMaxFlag defines --pool-max, the most connections a PostgreSQL
// store's pool opens.
func poolMaxFlag(fs *flag.FlagSet, v *int) {
	fs.IntVar(v, "pool-max", pgstore.DefaultMaxConns, "the most connections the PostgreSQL pool opens, as concurrent steps need them (pool_max_conns in the URL wins)")
}

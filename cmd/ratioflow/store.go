package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/ratioflow/ratioflow/store"
	_ "github.com/ratioflow/ratioflow/store/pgstore"     // --store postgres://
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
	st, err := storeurl.Open(ctx, url)
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
	t, err := storeurl.Parse(url)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if t.Kind == storeurl.SQLite {
		if _, err := os.Stat(t.Path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("open store: the SQLite file %s does not exist (the flows commands open a store, they never create one)", t.Path)
		}
	}
	return openStore(ctx, url)
}

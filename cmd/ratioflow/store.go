package main

import (
	"context"
	"fmt"

	"github.com/ratioflow/ratioflow/store"
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

// openStore opens the store at url; the caller closes it.
func openStore(ctx context.Context, url string) (store.Store, error) {
	st, err := storeurl.Open(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return st, nil
}

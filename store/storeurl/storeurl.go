// Package storeurl opens a store.Store from a URL, the one string the CLI's
// --store flag and a service's configuration need:
//
//	memory:                      store/memstore: in memory, gone at exit
//	sqlite:PATH                  store/sqlitestore: the SQLite file at PATH
//	sqlite:///abs/path.db        the same, URL style (sqlite://rel.db is relative)
//	postgres://user@host/db?...  store/pgstore (postgresql:// too); the URL
//	                             goes to pgx unchanged, pool_max_conns and
//	                             search_path included
//
// Open migrates the durable stores' schema. An unknown scheme, a missing
// SQLite directory and an unreachable PostgreSQL are errors that say so;
// no error repeats a password given in the URL.
package storeurl

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/memstore"
	"github.com/ratioflow/ratioflow/store/pgstore"
	"github.com/ratioflow/ratioflow/store/sqlitestore"
)

// Supported lists the URL forms Open accepts, for help texts and errors.
const Supported = "memory:, sqlite:PATH, postgres://..."

// Default returns the URL of the store the demo uses when given none: a
// SQLite file in the operating system's temporary directory.
func Default() string {
	return "sqlite:" + filepath.Join(os.TempDir(), "ratioflow-demo.db")
}

// Open opens the store rawURL names; see the package doc for the forms.
// The caller closes the store.
func Open(ctx context.Context, rawURL string) (store.Store, error) {
	scheme, rest, ok := strings.Cut(rawURL, ":")
	if !ok || scheme == "" {
		return nil, fmt.Errorf("store URL %q has no scheme (supported: %s)", rawURL, Supported)
	}
	switch strings.ToLower(scheme) {
	case "memory":
		if rest != "" && rest != "//" {
			return nil, fmt.Errorf("store URL memory: takes no path, got %q", rest)
		}
		return memstore.New(), nil
	case "sqlite":
		path := strings.TrimPrefix(rest, "//")
		switch path {
		case "":
			return nil, fmt.Errorf("store URL sqlite: needs a file path, as in sqlite:%s", filepath.Join(os.TempDir(), "flows.db"))
		case ":memory:":
			return nil, fmt.Errorf("store URL sqlite::memory: is not supported: use memory:")
		}
		s, err := sqlitestore.Open(ctx, path)
		if err != nil {
			return nil, err
		}
		return s, nil
	case "postgres", "postgresql":
		s, err := pgstore.Open(ctx, rawURL)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	return nil, fmt.Errorf("unsupported store URL scheme %q (supported: %s)", scheme, Supported)
}

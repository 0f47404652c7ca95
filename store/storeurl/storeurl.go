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
// Schemes are case-insensitive. Parse checks a URL without opening
// anything; Open migrates the durable stores' schema. An unknown scheme, a missing
// SQLite directory and an unreachable PostgreSQL are errors that say so;
// no error repeats a password given in the URL.
//
// Memory is built in. The durable backends register themselves when a
// program imports them, as database/sql drivers do, so that a program
// links only the backends it names:
//
//	import _ "github.com/ratioflow/ratioflow/store/sqlitestore" // sqlite:
//	import _ "github.com/ratioflow/ratioflow/store/pgstore"     // postgres://
//
// A URL whose backend is not linked is a *URLError naming the import.
package storeurl

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/memstore"
)

// Supported lists the URL forms Open accepts, for help texts and errors.
const Supported = "memory:, sqlite:PATH, postgres://..."

// Default returns the URL of the store the demo uses when given none: a
// SQLite file in the operating system's temporary directory.
func Default() string {
	return "sqlite:" + filepath.Join(os.TempDir(), "ratioflow-demo.db")
}

// Kind names the backend a store URL opens.
type Kind string

// The backends.
const (
	Memory   Kind = "memory"   // store/memstore
	SQLite   Kind = "sqlite"   // store/sqlitestore
	Postgres Kind = "postgres" // store/pgstore
)

// Target is what a store URL names, read without opening anything.
type Target struct {
	Kind Kind
	// Path is the SQLite file, for Kind SQLite.
	Path string
	// DSN is the URL pgx connects to, for Kind Postgres: rawURL with its
	// scheme in lower case.
	DSN string
}

// URLError is a store URL that names no store, and why. It never holds a
// password given in the URL.
type URLError struct {
	Reason string
}

// Error returns the reason.
func (e *URLError) Error() string { return e.Reason }

func badURL(format string, args ...any) error {
	return &URLError{Reason: fmt.Sprintf(format, args...)}
}

// Parse reads rawURL (see the package doc for the forms) without opening
// anything: no store file is made and no connection is made (TLS files a
// PostgreSQL URL names are read, as pgx does). Its errors are
// *URLError. Open opens what Parse accepts.
func Parse(rawURL string) (Target, error) {
	scheme, rest, ok := strings.Cut(rawURL, ":")
	switch {
	case !ok: // no colon, so no password either: the URL may be shown
		return Target{}, badURL("store URL %q has no scheme (supported: %s)", rawURL, Supported)
	case scheme == "":
		return Target{}, badURL("store URL has no scheme before its first colon (supported: %s)", Supported)
	}
	switch strings.ToLower(scheme) {
	case "memory":
		if rest != "" && rest != "//" {
			return Target{}, badURL("store URL memory: takes no path: write memory: or memory://")
		}
		return Target{Kind: Memory}, nil
	case "sqlite":
		path := strings.TrimPrefix(rest, "//")
		switch path {
		case "":
			return Target{}, badURL("store URL sqlite: needs a file path, as in sqlite:%s", filepath.Join(os.TempDir(), "flows.db"))
		case ":memory:":
			return Target{}, badURL("store URL sqlite::memory: is not supported: use memory:")
		}
		return checked(Target{Kind: SQLite, Path: path})
	case "postgres", "postgresql":
		return checked(Target{Kind: Postgres, DSN: strings.ToLower(scheme) + ":" + rest})
	}
	return Target{}, badURL("unsupported store URL scheme %q (supported: %s)", scheme, Supported)
}

// Open opens the store rawURL names; see the package doc for the forms.
// The caller closes the store.
func Open(ctx context.Context, rawURL string) (store.Store, error) {
	t, err := Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if t.Kind == Memory {
		return memstore.New(), nil
	}
	b, _ := lookup(t.Kind) // Parse found it
	return b.Open(ctx, t)
}

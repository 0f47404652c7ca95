package storeurl

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ratioflow/ratioflow/store"
)

// Backend is a durable store that store URLs can name. Its package
// registers it from init (see Register).
type Backend struct {
	// Open opens the store a parsed URL names, creating or migrating its
	// schema. Its errors must not repeat a password given in the URL.
	Open func(ctx context.Context, t Target) (store.Store, error)
	// Check, if not nil, checks a parsed URL further without opening
	// anything, for Parse. Its error becomes a *URLError's reason, so it
	// must not repeat a password either.
	Check func(t Target) error
}

// imports are the packages that register each durable kind.
var imports = map[Kind]string{
	SQLite:   "github.com/ratioflow/ratioflow/store/sqlitestore",
	Postgres: "github.com/ratioflow/ratioflow/store/pgstore",
}

var (
	mu       sync.RWMutex // guards backends
	backends = map[Kind]Backend{}
)

// Register makes the backend of kind (SQLite or Postgres) available to
// Parse and Open. Backend packages call it from init; it panics when kind
// is not one of those, when b has no Open, or when kind is registered
// twice, as database/sql.Register does.
func Register(kind Kind, b Backend) {
	if _, ok := imports[kind]; !ok {
		panic(fmt.Sprintf("storeurl.Register: kind %q has no URL form (want %q or %q)", kind, SQLite, Postgres))
	}
	if b.Open == nil {
		panic(fmt.Sprintf("storeurl.Register: the %s backend has no Open", kind))
	}
	mu.Lock()
	defer mu.Unlock()
	if _, dup := backends[kind]; dup {
		panic(fmt.Sprintf("storeurl.Register: the %s backend is registered twice", kind))
	}
	backends[kind] = b
}

// lookup returns kind's backend, if its package is linked.
func lookup(kind Kind) (Backend, bool) {
	mu.RLock()
	defer mu.RUnlock()
	b, ok := backends[kind]
	return b, ok
}

// checked returns t if its backend is linked into the program and its
// check, if any, accepts it; otherwise a *URLError saying why.
func checked(t Target) (Target, error) {
	b, ok := lookup(t.Kind)
	if !ok {
		return Target{}, badURL("store URL of kind %s: this program does not include that backend; import _ %q to link it",
			t.Kind, imports[t.Kind])
	}
	if b.Check != nil {
		if err := b.Check(t); err != nil {
			var ue *URLError
			if errors.As(err, &ue) {
				return Target{}, ue
			}
			return Target{}, &URLError{Reason: err.Error()}
		}
	}
	return t, nil
}

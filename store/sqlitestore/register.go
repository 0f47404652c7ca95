package sqlitestore

import (
	"context"

	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/storeurl"
)

// init makes sqlite: store URLs open a SQLite store in any program that
// imports this package, even blank.
func init() {
	storeurl.Register(storeurl.SQLite, storeurl.Backend{
		Open: func(ctx context.Context, t storeurl.Target) (store.Store, error) {
			s, err := Open(ctx, t.Path)
			if err != nil {
				return nil, err
			}
			return s, nil
		},
	})
}

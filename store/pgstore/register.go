package pgstore

import (
	"context"

	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/storeurl"
)

// init makes postgres:// store URLs open a PostgreSQL store in any program
// that imports this package, even blank.
func init() {
	storeurl.Register(storeurl.Postgres, storeurl.Backend{
		Open: func(ctx context.Context, t storeurl.Target) (store.Store, error) {
			s, err := Open(ctx, t.DSN)
			if err != nil {
				return nil, err
			}
			return s, nil
		},
		Check: func(t storeurl.Target) error {
			_, err := ParseConfig(t.DSN)
			return err
		},
	})
}

package sqlitestore_test

import (
	"path/filepath"
	"testing"

	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/sqlitestore"
	"github.com/ratioflow/ratioflow/store/storetest"
)

// newStore opens a migrated store in a fresh file under t.TempDir.
func newStore(t *testing.T) *sqlitestore.Store {
	t.Helper()
	s, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "flows.db"))
	if err != nil {
		t.Fatalf("Open() = %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return newStore(t) })
}

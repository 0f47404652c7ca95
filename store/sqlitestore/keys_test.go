package sqlitestore_test

import (
	"path/filepath"
	"testing"

	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/sqlitestore"
	"github.com/ratioflow/ratioflow/store/storetest"
)

// Several stores on one file, as several processes would open it, share
// their idempotency keys.
func TestKeys_SharedByStoresOnOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flows.db")
	stores := make([]store.KeyStore, 3)
	for i := range stores {
		s, err := sqlitestore.Open(t.Context(), path)
		if err != nil {
			t.Fatalf("Open #%d = %v", i, err)
		}
		t.Cleanup(func() { s.Close() })
		stores[i] = s
	}
	storetest.RunKeysShared(t, stores...)
}

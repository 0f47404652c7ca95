package pgstore_test

import (
	"testing"

	"github.com/ratioflow/ratioflow/internal/pgtest"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/storetest"
)

// Replicas, each with its own pool on one schema, share their idempotency
// keys.
func TestKeys_SharedByReplicas(t *testing.T) {
	dsn := pgtest.Schema(t)
	stores := make([]store.KeyStore, 3)
	for i := range stores {
		stores[i] = openStore(t, dsn)
	}
	storetest.RunKeysShared(t, stores...)
}

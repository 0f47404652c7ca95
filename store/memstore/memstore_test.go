package memstore_test

import (
	"testing"

	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/memstore"
	"github.com/ratioflow/ratioflow/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.Store { return memstore.New() })
}

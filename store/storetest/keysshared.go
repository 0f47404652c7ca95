package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/ratioflow/ratioflow/store"
)

// RunKeysShared checks that stores opened on one database (processes or
// replicas sharing it) share their idempotency keys: of callers beginning
// the same keys at once through different stores, exactly one per key gets
// the claim, and the answer kept through one store is what every other
// store returns. stores must be empty of keys and at least two.
func RunKeysShared(t *testing.T, stores ...store.KeyStore) {
	t.Helper()
	if len(stores) < 2 {
		t.Fatalf("RunKeysShared needs at least 2 stores, got %d", len(stores))
	}
	const keys, callersPerStore = 16, 4
	var (
		mu     sync.Mutex
		tokens = map[string][]string{} // by key
		wg     sync.WaitGroup
	)
	start := make(chan struct{})
	for i, s := range stores {
		for range callersPerStore {
			wg.Go(func() {
				<-start
				for k := range keys {
					key := fmt.Sprintf("k-shared-%d", k)
					c, err := s.BeginKey(t.Context(), key, "fp", t0, keyLease, keyTTL)
					if err != nil {
						t.Errorf("store %d: BeginKey(%s) = %v", i, key, err)
						return
					}
					if c.Token != "" {
						mu.Lock()
						tokens[key] = append(tokens[key], c.Token)
						mu.Unlock()
					} else if !c.Running {
						t.Errorf("store %d: BeginKey(%s) = %+v, want a claim or Running", i, key, c)
					}
				}
			})
		}
	}
	close(start)
	wg.Wait()
	for k := range keys {
		key := fmt.Sprintf("k-shared-%d", k)
		if n := len(tokens[key]); n != 1 {
			t.Errorf("%s: %d claims across %d stores, want 1", key, n, len(stores))
			continue
		}
		answer := []byte("answer of " + key)
		finishKey(t, stores[k%len(stores)], key, tokens[key][0], answer)
		for i, s := range stores {
			checkClaim(t, fmt.Sprintf("store %d: BeginKey(%s)", i, key), beginKey(t, s, key, "fp", t0), answered("fp", answer))
		}
	}
}

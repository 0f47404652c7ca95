package flow

import (
	"slices"
	"sync"

	"github.com/ratioflow/ratioflow/store"
)

// dataCache keeps the records and opened data of flows this engine wrote
// recently, so that the next step of the same flow neither reads the store
// nor unseals and decodes the data again (the most common case: a user's
// requests keep landing on one replica).
//
// An entry is one version of one flow. Opened data is looked up by version,
// so it can be missing but never stale. A step may also start from the
// cached record without reading the store (Engine.Step): another replica
// may have written the flow since, but every write is a compare-and-swap
// on the version, so a step that started from a stale copy fails its first
// write before any Ratio call, and Step runs it again from the store. The
// cache holds decrypted data, as the process does during every step
// anyway; it never reaches the store or a log.
type dataCache struct {
	mu sync.Mutex // guards m
	m  map[string]cachedData
}

type cachedData struct {
	version int64
	rec     *store.Record // as written at version
	d       *data
}

// dataCacheSize bounds the cache; past it an arbitrary entry is dropped.
const dataCacheSize = 10000

func newDataCache() *dataCache { return &dataCache{m: make(map[string]cachedData)} }

// get returns a copy of the data of flow id at version, or nil.
func (c *dataCache) get(id string, version int64) *data {
	c.mu.Lock()
	e, ok := c.m[id]
	c.mu.Unlock()
	if !ok || e.version != version {
		return nil
	}
	return e.d.clone()
}

// latest returns copies of the record and data of flow id as this engine
// last wrote them, or nils. They may be stale (see dataCache).
func (c *dataCache) latest(id string) (*store.Record, *data) {
	c.mu.Lock()
	e, ok := c.m[id]
	c.mu.Unlock()
	if !ok || e.rec == nil {
		return nil, nil
	}
	return shallow(e.rec), e.d.clone()
}

// put keeps copies of rec, just written, and its opened data d. A flow
// that ended is dropped instead: it takes no more steps, and keeping it
// would only grow the heap the garbage collector scans.
func (c *dataCache) put(rec *store.Record, d *data) {
	if rec.Terminal() {
		c.drop(rec.ID)
		return
	}
	e := cachedData{version: rec.Version, rec: shallow(rec), d: d.clone()}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[rec.ID]; !ok && len(c.m) >= dataCacheSize {
		for k := range c.m { // map order is random: drop any one
			delete(c.m, k)
			break
		}
	}
	c.m[rec.ID] = e
}

// shallow copies rec but its sealed Data, which the engine never changes
// in place: every write seals a new slice.
func shallow(rec *store.Record) *store.Record {
	c := *rec
	if rec.Pending != nil {
		p := *rec.Pending
		c.Pending = &p
	}
	return &c
}

// drop forgets flow id.
func (c *dataCache) drop(id string) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

// clone returns a deep copy of d.
func (d *data) clone() *data {
	c := *d
	c.Factors = slices.Clone(d.Factors)
	c.Wallets = slices.Clone(d.Wallets)
	if d.Profile != nil {
		p := *d.Profile
		c.Profile = &p
	}
	if d.User != nil {
		u := *d.User
		c.User = &u
	}
	if d.Last != nil {
		l := *d.Last
		c.Last = &l
	}
	return &c
}

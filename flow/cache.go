package flow

import (
	"slices"
	"sync"
)

// dataCache keeps the opened data of flows this engine wrote recently, so
// that the next step of the same flow does not unseal and decode it again
// (the most common case: a user's requests keep landing on one replica).
// An entry is valid for one version of one flow: every write makes a new
// version, so an entry can be missing but never stale, even when other
// replicas write the flow. It holds decrypted data, as the process does
// during every step anyway; it never reaches the store or a log.
type dataCache struct {
	mu sync.Mutex // guards m
	m  map[string]cachedData
}

type cachedData struct {
	version int64
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

// put keeps a copy of the data of flow id at version.
func (c *dataCache) put(id string, version int64, d *data) {
	cp := d.clone()
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[id]; !ok && len(c.m) >= dataCacheSize {
		for k := range c.m { // map order is random: drop any one
			delete(c.m, k)
			break
		}
	}
	c.m[id] = cachedData{version: version, d: cp}
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

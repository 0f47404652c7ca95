package memstore_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/memstore"
)

// BenchmarkUpdate measures Update without history against a raw baseline:
// the same compare-and-swap on a plain mutex-guarded map, copying the data
// as any store that does not alias its callers must (raw: into a new slice;
// raw_reuse: into the buffer of the previous version, as memstore does).
func BenchmarkUpdate(b *testing.B) {
	ctx := context.Background()
	now := time.Now()
	data := make([]byte, 256)
	b.Run("store", func(b *testing.B) {
		s := memstore.New()
		defer s.Close()
		rec := &store.Record{ID: "bench", Kind: "link", State: states.New, Subject: "s", Data: data, CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := s.Create(ctx, rec); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			rec.State = states.SmsSent
			rec.UpdatedAt = now.Add(time.Duration(i))
			if err := s.Update(ctx, rec); err != nil {
				b.Fatal(err)
			}
		}
		reportOps(b)
	})
	for _, raw := range []struct {
		name  string
		reuse bool
	}{{"raw", false}, {"raw_reuse", true}} {
		b.Run(raw.name, func(b *testing.B) {
			r := newRawMap(raw.reuse)
			r.flows["bench"] = &rawRecord{version: 1}
			b.ReportAllocs()
			version := int64(1)
			for i := 0; b.Loop(); i++ {
				if !r.update("bench", version, states.SmsSent, data, now.Add(time.Duration(i))) {
					b.Fatal("conflict")
				}
				version++
			}
			reportOps(b)
		})
	}
}

// rawMap is the baseline: the least a correct in-memory CAS update does.
type rawMap struct {
	reuse bool       // copy data into the previous buffer
	mu    sync.Mutex // guards flows
	flows map[string]*rawRecord
}

type rawRecord struct {
	state     states.State
	data      []byte
	version   int64
	updatedAt time.Time
}

func newRawMap(reuse bool) *rawMap {
	return &rawMap{reuse: reuse, flows: make(map[string]*rawRecord)}
}

func (m *rawMap) update(id string, version int64, state states.State, data []byte, at time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.flows[id]
	if !ok || r.version != version {
		return false
	}
	if m.reuse {
		r.data = append(r.data[:0], data...)
	} else {
		r.data = bytes.Clone(data)
	}
	r.state, r.updatedAt = state, at
	r.version++
	return true
}

// reportOps reports the throughput as ops/s.
func reportOps(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

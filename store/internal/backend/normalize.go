package backend

import (
	"time"

	"github.com/ratioflow/ratioflow/store"
)

// Micro returns t truncated to the microsecond, in UTC. The zero time stays
// zero. Every backend stores times this way, so all of them return the same
// values.
func Micro(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	// Twice as fast as t.Truncate(time.Microsecond).UTC(), with the same
	// result (no monotonic clock reading).
	return time.Unix(t.Unix(), int64(t.Nanosecond()/1000*1000)).UTC()
}

// Record returns a deep copy of r as a backend stores it: times truncated to
// the microsecond in UTC and an empty Data as nil.
func Record(r *store.Record) *store.Record {
	c := r.Clone()
	if len(c.Data) == 0 {
		c.Data = nil
	}
	if c.Pending != nil {
		c.Pending.StartedAt = Micro(c.Pending.StartedAt)
	}
	c.CreatedAt = Micro(c.CreatedAt)
	c.UpdatedAt = Micro(c.UpdatedAt)
	c.ExpiresAt = Micro(c.ExpiresAt)
	c.EndedAt = Micro(c.EndedAt)
	return c
}

// Entries returns copies of hs as a backend stores them: At truncated to the
// microsecond in UTC and Seq numbered from last+1.
func Entries(hs []store.HistoryEntry, last int64) []store.HistoryEntry {
	if len(hs) == 0 {
		return nil
	}
	out := make([]store.HistoryEntry, len(hs))
	for i, h := range hs {
		h.At = Micro(h.At)
		h.Seq = last + int64(i) + 1
		out[i] = h
	}
	return out
}

// Cutoffs returns the times before which terminal records lose their data
// and are deleted under policy at now, truncated to the microsecond. A zero
// cutoff means "never" (the policy's duration is zero).
func Cutoffs(now time.Time, policy store.Retention) (data, history time.Time) {
	if policy.KeepData > 0 {
		data = Micro(now.Add(-policy.KeepData))
	}
	if policy.KeepHistory > 0 {
		history = Micro(now.Add(-policy.KeepHistory))
	}
	return data, history
}

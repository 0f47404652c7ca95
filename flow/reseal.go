package flow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/ratioflow/ratioflow/store"
)

// ResealResult counts what Reseal did and what it left.
type ResealResult struct {
	// Sealing is the ID of the key that seals: the keyring's first.
	Sealing string
	// Resealed counts the flows this run re-sealed under the sealing key.
	Resealed int
	// Keys counts the flows by the key of the ring their data is sealed
	// under after the run, by key ID: the sealing key's count includes
	// Resealed. Flows without data (scrubbed by a retention policy) are
	// not counted.
	Keys map[string]int
	// Skipped counts the flows left under an older key because a step was
	// in flight on them, or kept changing them while Reseal tried: they are
	// counted in Keys under that key. Run Reseal again.
	Skipped int
	// Unopened counts the flows no key of the ring opens, by the key ID
	// their data names ("" when it names none): sealed under a key that
	// was already dropped, or corrupt. Reseal leaves them as they are.
	Unopened map[string]int
}

// Remaining returns how many flows are still sealed under keys other than
// the sealing key, by key ID, Unopened ones included. An older key may be
// dropped once it has none.
func (r ResealResult) Remaining() map[string]int {
	out := map[string]int{}
	for id, n := range r.Keys {
		if id != r.Sealing && n > 0 {
			out[id] += n
		}
	}
	for id, n := range r.Unopened {
		out[id] += n
	}
	return out
}

// resealTries bounds the attempts on one flow that keeps changing.
const resealTries = 3

// Reseal re-seals, under the keyring's sealing key, the data of every flow
// in the store still sealed under another key, or in a form that names no
// key, so that the older keys can then be dropped. It pages through the
// whole store, ended flows included (their views still open their data).
//
// Each flow is re-sealed with a compare-and-swap Update that changes its
// sealed data and version only: no state, no time, no history entry. A
// flow with a Ratio call in flight is skipped, so its step's write is not
// refused; a flow changed under Reseal is read again and retried, and
// skipped after a few tries. A step that read the flow just before it was
// re-sealed fails with ErrConcurrentStep and may be retried, as with any
// concurrent writer. Flows written by the engines meanwhile are sealed
// under their sealing key by those writes. Reseal is safe to run while
// the service runs, and to run again.
func (e *Engine) Reseal(ctx context.Context) (ResealResult, error) {
	res := ResealResult{Sealing: e.sealer.SealingID(), Keys: map[string]int{}, Unopened: map[string]int{}}
	q := store.Query{Limit: store.MaxPageSize}
	for {
		page, err := e.store.List(ctx, q)
		if err != nil {
			return res, fmt.Errorf("list flows: %w", err)
		}
		for _, rec := range page.Records {
			if err := e.resealFlow(ctx, rec, &res); err != nil {
				return res, err
			}
		}
		if page.NextPageToken == "" {
			return res, nil
		}
		q.PageToken = page.NextPageToken
	}
}

// resealFlow re-seals one flow if it needs it, and counts it in res.
func (e *Engine) resealFlow(ctx context.Context, rec *store.Record, res *ResealResult) error {
	for try := 1; ; try++ {
		if rec.Data == nil {
			return nil
		}
		if e.sealer.sealedUnder(rec.Data) {
			res.Keys[e.sealer.SealingID()]++
			return nil
		}
		d, kid, err := e.sealer.openKey(rec.ID, rec.Data)
		if err != nil {
			named, _, _ := sealedBy(rec.Data)
			res.Unopened[named]++
			return nil
		}
		if rec.Pending != nil || try > resealTries {
			res.Keys[kid]++
			res.Skipped++
			return nil
		}
		err = e.resealRecord(ctx, rec, d)
		switch {
		case err == nil:
			res.Keys[e.sealer.SealingID()]++
			res.Resealed++
			return nil
		case errors.Is(err, store.ErrNotFound):
			return nil // purged meanwhile
		case !errors.Is(err, store.ErrConflict):
			return fmt.Errorf("reseal flow %s: %w", rec.ID, err)
		}
		// Changed meanwhile: read it again; its write may have re-sealed it.
		again, err := e.store.Get(ctx, rec.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		} else if err != nil {
			return fmt.Errorf("reseal flow %s: %w", rec.ID, err)
		}
		rec = again
	}
}

// resealRecord writes rec back with d sealed under the sealing key, if its
// version is still rec's.
func (e *Engine) resealRecord(ctx context.Context, rec *store.Record, d *data) error {
	sealed, err := e.sealer.seal(rec.ID, d)
	if err != nil {
		return err
	}
	next := shallow(rec)
	next.Data = sealed
	if err := e.store.Update(ctx, next); err != nil {
		return err
	}
	e.log.LogAttrs(ctx, slog.LevelInfo, "flow resealed", slog.String("flow", rec.ID), slog.String("kind", rec.Kind),
		slog.String("key", e.sealer.SealingID()))
	return nil
}

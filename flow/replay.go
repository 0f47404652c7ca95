package flow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"

	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/transitions"
)

// A user step made with a request key (StepKeyed: flowhttp passes the
// Idempotency-Key) keeps the key's hash and the step's outcome in the
// flow's data, in the same write that applies the step. When the process
// died after that write and before the caller heard the answer, the caller
// retries with the same key: the step is not made again (a second code
// check would cost an attempt, a second send a cooldown) and is not
// refused as not permitted in the state it led to. It answers as it did:
// the flow's view, after the automatic steps that follow, and the step's
// error rebuilt from its outcome.

// keyHash is what the flow keeps of a request key.
func keyHash(key string) string {
	if key == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("ratioflow step\x00" + key))
	return hex.EncodeToString(sum[:8])
}

// applied reports whether the step the run is asked for, with its key,
// is the one the flow applied last.
func (r *run) applied(event transitions.Event) bool {
	k := r.d.Keyed
	return r.stepKey != "" && k != nil && k.Key == r.stepKey && k.Step.Event == string(event)
}

// replay answers a step the flow already applied: the automatic steps
// that follow it, if the process that made it died first, then its own
// outcome again.
func (r *run) replay(ctx context.Context) (*View, error) {
	r.chain = true
	if err := r.autos(ctx); err != nil {
		return r.view(), err
	}
	return r.view(), r.replayedError()
}

// replayedError rebuilds the error a keyed step returned from its outcome,
// or nil for a step that succeeded.
func (r *run) replayedError() error {
	k := r.d.Keyed
	o := transitions.Outcome(k.Step.Outcome)
	if !k.Failed {
		return nil // it moved the flow: its view is its answer
	}
	var t *transitions.Transition
	for i := range r.c.flow.Transitions {
		if r.c.flow.Transitions[i].Event == transitions.Event(k.Step.Event) {
			t = &r.c.flow.Transitions[i]
			break
		}
	}
	if t == nil {
		return nil
	}
	res := result{outcome: o, status: k.Step.Status, code: k.Step.Code, message: k.Step.Message, spent: k.Spent}
	if k.Step.Status != 0 {
		res.err = &ratio.APIError{Op: ratio.Op(t.Call).Route(), Status: k.Step.Status, Code: k.Step.Code}
	} else {
		res.err = errors.New(k.Step.Message)
	}
	return r.stepError(t, res)
}

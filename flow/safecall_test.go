package flow_test

import (
	"context"
	"sync"
	"testing"

	"github.com/ratioflow/ratioflow/flow/flowtest"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/memstore"
)

// pendingLog records the pending call of every write the engine makes.
type pendingLog struct {
	store.Store
	mu      sync.Mutex
	pending []string
}

func (s *pendingLog) Update(ctx context.Context, rec *store.Record, hs ...store.HistoryEntry) error {
	if rec.Pending != nil {
		s.mu.Lock()
		s.pending = append(s.pending, rec.Pending.Call)
		s.mu.Unlock()
	}
	return s.Store.Update(ctx, rec, hs...)
}

// TestEngine_SafeCallsWriteNoClaim runs every story and checks that the
// engine records every call with a side effect as pending before making
// it, and never a read (users:get, users.wallets:list), which it may
// make again at no cost.
func TestEngine_SafeCallsWriteNoClaim(t *testing.T) {
	claimed := map[string]bool{}
	for _, s := range stories(t) {
		t.Run(s.name, func(t *testing.T) {
			st := &pendingLog{Store: memstore.New()}
			h := flowtest.New(t, flowtest.Options{Store: st})
			if s.setup != nil {
				s.setup(h)
			}
			h.Run(s.kind, s.steps)
			for _, call := range st.pending {
				claimed[call] = true
				if ratio.Op(call).Safe() {
					t.Errorf("the engine recorded the read %s as pending", call)
				}
			}
		})
	}
	for _, op := range []ratio.Op{ratio.OpSendSMS, ratio.OpAuthenticateSMS, ratio.OpSendEmail, ratio.OpAuthenticateEmail,
		ratio.OpAuthenticateWallet, ratio.OpAddWalletToUser, ratio.OpCreateUser} {
		if !claimed[string(op)] {
			t.Errorf("no story recorded %s as pending before making it", op)
		}
	}
}

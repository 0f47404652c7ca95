package flow_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/flow/flowtest"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/memstore"
	"github.com/ratioflow/ratioflow/transitions"
)

// countingStore counts the reads and writes the engine asks of its store.
type countingStore struct {
	store.Store
	asked atomic.Int64
}

func (s *countingStore) Get(ctx context.Context, id string) (*store.Record, error) {
	s.asked.Add(1)
	return s.Store.Get(ctx, id)
}

func (s *countingStore) History(ctx context.Context, id string) ([]store.HistoryEntry, error) {
	s.asked.Add(1)
	return s.Store.History(ctx, id)
}

func (s *countingStore) List(ctx context.Context, q store.Query) (store.Page, error) {
	s.asked.Add(1)
	return s.Store.List(ctx, q)
}

func (s *countingStore) Create(ctx context.Context, rec *store.Record, hs ...store.HistoryEntry) error {
	s.asked.Add(1)
	return s.Store.Create(ctx, rec, hs...)
}

func TestEngine_BadStrings_RefusedBeforeTheStore(t *testing.T) {
	st := &countingStore{Store: memstore.New()}
	h := flowtest.New(t, flowtest.Options{Store: st})
	w := flowtest.NewWallet(t)
	v := h.Run(transitions.KindLink, []flowtest.Step{{Name: "start", Input: flow.Input{WalletAddress: w.Address},
		Want: flowtest.Want{State: states.ChallengeIssued}}})
	ctx := context.Background()
	badIDs := []string{"abc\x00def", "\xff\xfe", v.ID + "\xc3", strings.Repeat("a", store.MaxIDLen+1)}
	badSubjects := []string{"alice\x00", "alice\xff", strings.Repeat("s", store.MaxSubjectLen+1)}
	isSubject := func(err error) bool {
		var ie *ratio.InputError
		return errors.As(err, &ie) && ie.Field == flow.FieldSubject
	}
	before := st.asked.Load()
	for _, id := range badIDs {
		lookups := map[string]func() error{
			"Get": func() error { _, err := h.Engine.Get(ctx, id, h.Subject); return err },
			"Step": func() error {
				_, err := h.Engine.Step(ctx, id, h.Subject, transitions.NewChallenge, flow.Input{})
				return err
			},
			"Cancel":  func() error { _, err := h.Engine.Cancel(ctx, id, h.Subject); return err },
			"Resume":  func() error { _, err := h.Engine.Resume(ctx, id, h.Subject); return err },
			"History": func() error { _, err := h.Engine.History(ctx, id, h.Subject); return err },
		}
		for name, call := range lookups {
			if err := call(); !errors.Is(err, flow.ErrNotFound) {
				t.Errorf("%s(%q) = %v, want ErrNotFound", name, id, err)
			}
		}
	}
	for _, subject := range badSubjects {
		calls := map[string]func() error{
			"Start": func() error {
				_, err := h.Engine.Start(ctx, transitions.KindLink, subject, flow.Input{WalletAddress: w.Address})
				return err
			},
			"Get": func() error { _, err := h.Engine.Get(ctx, v.ID, subject); return err },
			"Step": func() error {
				_, err := h.Engine.Step(ctx, v.ID, subject, transitions.Cancel, flow.Input{})
				return err
			},
			"History": func() error { _, err := h.Engine.History(ctx, v.ID, subject); return err },
			"List":    func() error { _, err := h.Engine.List(ctx, subject, flow.ListQuery{}); return err },
		}
		for name, call := range calls {
			if err := call(); !isSubject(err) {
				t.Errorf("%s(subject %q) = %v, want an input error naming %s", name, subject, err, flow.FieldSubject)
			}
		}
	}
	if n := st.asked.Load() - before; n != 0 {
		t.Errorf("the engine asked its store %d times about strings no store keeps, want 0", n)
	}
	if got, err := h.Engine.Get(ctx, v.ID, h.Subject); err != nil || got.Version != v.Version || got.State != v.State {
		t.Errorf("Get after the refusals = %+v, %v; want the flow unchanged at version %d", got, err, v.Version)
	}
}

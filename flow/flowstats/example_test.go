package flowstats_test

import (
	"context"
	"fmt"
	"time"

	"github.com/ratioflow/ratioflow/flow/flowstats"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/memstore"
	"github.com/ratioflow/ratioflow/transitions"
)

// How many returning users hit the 409, and how many of those finish?
func Example() {
	ctx := context.Background()
	s := memstore.New()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	// Two link flows whose users already had a Ratio account: one linked
	// the wallet, the other let the flow expire.
	for i, last := range []store.HistoryEntry{
		{From: states.EmailVerified, Event: "add_wallet", Outcome: "ok", To: states.Linked},
		{From: states.PhoneConflict, Event: "expire", Outcome: "ok", To: states.Expired},
	} {
		at := now.Add(-time.Duration(i+1) * time.Hour)
		hs := []store.HistoryEntry{
			{At: at.Add(time.Second), From: states.WalletAuthed, Event: "submit_phone", Outcome: "conflict", To: states.PhoneConflict},
		}
		last.At = at.Add(time.Minute)
		hs = append(hs, last)
		rec := &store.Record{ID: fmt.Sprint(i), Kind: "link", State: last.To, CreatedAt: at, EndedAt: last.At}
		if err := s.Create(ctx, rec, hs...); err != nil {
			fmt.Println(err)
			return
		}
	}

	all, err := flowstats.Read(ctx, s, store.Query{Kind: "link"}, flowstats.Options{Now: func() time.Time { return now }})
	if err != nil {
		fmt.Println(err)
		return
	}
	conflict, _ := all[0].Edge(flowstats.Edge{From: states.WalletAuthed, Event: transitions.SubmitPhone,
		Outcome: transitions.Conflict, To: states.PhoneConflict})
	fmt.Printf("%d flows hit the 409 (%s); %d finished\n", conflict.Flows, conflict.Label, conflict.Finished)
	for _, c := range conflict.Ends {
		fmt.Printf("  %s: %d\n", c.Ending, c.Flows)
	}
	// Output:
	// 2 flows hit the 409 (409 ALREADY_EXISTS_PHONE); 1 finished
	//   Expired: 1
	//   Linked: 1
}

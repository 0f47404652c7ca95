package flowmetrics_test

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ratioflow/ratioflow/flow/flowmetrics"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
)

// An engine reports each history entry it writes through
// flow.Options{OnStep: m.Step}; here two entries are reported by hand.
func Example() {
	reg := prometheus.NewRegistry()
	m := flowmetrics.New(reg)
	ctx := context.Background()
	m.Step(ctx, "link", store.HistoryEntry{From: states.WalletAuthed, To: states.PhoneConflict, Event: "submit_phone",
		Outcome: "conflict", Call: "otp/sms:send", Status: 409, Duration: 80 * time.Millisecond})
	m.Step(ctx, "link", store.HistoryEntry{From: states.EmailVerified, To: states.Linked, Event: "add_wallet",
		Outcome: "ok", Call: "cryptoWallet:addToUser", Duration: 120 * time.Millisecond})

	n, _ := testutil.GatherAndCount(reg, "ratioflow_ratio_calls_total")
	fmt.Println("call series:", n)
	fmt.Println("flows linked:", testutil.ToFloat64(m.Collectors()[1].(*prometheus.CounterVec).WithLabelValues("link", "Linked")))
	// Output:
	// call series: 2
	// flows linked: 1
}

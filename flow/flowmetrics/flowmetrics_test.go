package flowmetrics_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ratioflow/ratioflow/flow/flowmetrics"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := flowmetrics.New(reg)
	for _, e := range []store.HistoryEntry{
		{From: states.WalletAuthed, To: states.PhoneConflict, Event: "submit_phone", Outcome: "conflict",
			Call: "otp/sms:send", Status: 409, Duration: 3 * time.Millisecond},
		{From: states.PhoneConflict, To: states.PhoneConflict, Event: "confirm_phone", Outcome: "rate_limited",
			Call: "otp/sms:send", Status: 429, Duration: 40 * time.Millisecond},
		{From: states.PhoneConflict, To: states.SmsFirstSent, Event: "confirm_phone", Outcome: "ok",
			Call: "otp/sms:send", Duration: 12 * time.Second}, // a success, above the last bucket
		{From: states.SmsFirstSent, To: states.SmsFirstSent, Event: "confirm_phone", Outcome: "reconciled",
			Call: "otp/sms:send"}, // no call made: no answer to count
		{From: states.EmailVerified, To: states.EmailVerified, Event: "add_wallet", Outcome: "transient",
			Call: "cryptoWallet:addToUser", Duration: 10 * time.Second}, // no answer: status none, on the last bound
		{From: states.SmsSent, To: states.Expired, Event: "expire", Outcome: "ok"},
		{From: states.Expired, To: states.Expired, Event: "cancel", Outcome: "ended"}, // already ended: not again
	} {
		m.Step(context.Background(), "link", e)
	}
	want := `# HELP ratioflow_steps_total Entries written to flows' histories: steps, expiries, reconciliations.
# TYPE ratioflow_steps_total counter
ratioflow_steps_total{event="add_wallet",kind="link",outcome="transient"} 1
ratioflow_steps_total{event="cancel",kind="link",outcome="ended"} 1
ratioflow_steps_total{event="confirm_phone",kind="link",outcome="ok"} 1
ratioflow_steps_total{event="confirm_phone",kind="link",outcome="rate_limited"} 1
ratioflow_steps_total{event="confirm_phone",kind="link",outcome="reconciled"} 1
ratioflow_steps_total{event="expire",kind="link",outcome="ok"} 1
ratioflow_steps_total{event="submit_phone",kind="link",outcome="conflict"} 1
# HELP ratioflow_flows_ended_total Flows that reached a terminal state, by kind and state.
# TYPE ratioflow_flows_ended_total counter
ratioflow_flows_ended_total{kind="link",state="Expired"} 1
# HELP ratioflow_ratio_calls_total Ratio calls made, by operation and HTTP status ("2xx": success; "none": no usable answer).
# TYPE ratioflow_ratio_calls_total counter
ratioflow_ratio_calls_total{call="cryptoWallet:addToUser",status="none"} 1
ratioflow_ratio_calls_total{call="otp/sms:send",status="2xx"} 1
ratioflow_ratio_calls_total{call="otp/sms:send",status="409"} 1
ratioflow_ratio_calls_total{call="otp/sms:send",status="429"} 1
# HELP ratioflow_ratio_call_duration_seconds How long Ratio calls took, retries included, by operation.
# TYPE ratioflow_ratio_call_duration_seconds histogram
ratioflow_ratio_call_duration_seconds_bucket{call="cryptoWallet:addToUser",le="0.005"} 0
ratioflow_ratio_call_duration_seconds_bucket{call="cryptoWallet:addToUser",le="0.01"} 0
ratioflow_ratio_call_duration_seconds_bucket{call="cryptoWallet:addToUser",le="0.025"} 0
ratioflow_ratio_call_duration_seconds_bucket{call="cryptoWallet:addToUser",le="0.05"} 0
ratioflow_ratio_call_duration_seconds_bucket{call="cryptoWallet:addToUser",le="0.1"} 0
ratioflow_ratio_call_duration_seconds_bucket{call="cryptoWallet:addToUser",le="0.25"} 0
ratioflow_ratio_call_duration_seconds_bucket{call="cryptoWallet:addToUser",le="0.5"} 0
ratioflow_ratio_call_duration_seconds_bucket{call="cryptoWallet:addToUser",le="1"} 0
ratioflow_ratio_call_duration_seconds_bucket{call="cryptoWallet:addToUser",le="2.5"} 0
ratioflow_ratio_call_duration_seconds_bucket{call="cryptoWallet:addToUser",le="5"} 0
ratioflow_ratio_call_duration_seconds_bucket{call="cryptoWallet:addToUser",le="10"} 1
ratioflow_ratio_call_duration_seconds_bucket{call="cryptoWallet:addToUser",le="+Inf"} 1
ratioflow_ratio_call_duration_seconds_sum{call="cryptoWallet:addToUser"} 10
ratioflow_ratio_call_duration_seconds_count{call="cryptoWallet:addToUser"} 1
ratioflow_ratio_call_duration_seconds_bucket{call="otp/sms:send",le="0.005"} 1
ratioflow_ratio_call_duration_seconds_bucket{call="otp/sms:send",le="0.01"} 1
ratioflow_ratio_call_duration_seconds_bucket{call="otp/sms:send",le="0.025"} 1
ratioflow_ratio_call_duration_seconds_bucket{call="otp/sms:send",le="0.05"} 2
ratioflow_ratio_call_duration_seconds_bucket{call="otp/sms:send",le="0.1"} 2
ratioflow_ratio_call_duration_seconds_bucket{call="otp/sms:send",le="0.25"} 2
ratioflow_ratio_call_duration_seconds_bucket{call="otp/sms:send",le="0.5"} 2
ratioflow_ratio_call_duration_seconds_bucket{call="otp/sms:send",le="1"} 2
ratioflow_ratio_call_duration_seconds_bucket{call="otp/sms:send",le="2.5"} 2
ratioflow_ratio_call_duration_seconds_bucket{call="otp/sms:send",le="5"} 2
ratioflow_ratio_call_duration_seconds_bucket{call="otp/sms:send",le="10"} 2
ratioflow_ratio_call_duration_seconds_bucket{call="otp/sms:send",le="+Inf"} 3
ratioflow_ratio_call_duration_seconds_sum{call="otp/sms:send"} 12.043
ratioflow_ratio_call_duration_seconds_count{call="otp/sms:send"} 3
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

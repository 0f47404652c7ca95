package visualize_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/flow/flowstats"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
	"github.com/ratioflow/ratioflow/visualize"
)

// statsFixture counts three link flows: the audit fixture's, which hit the
// 409 and linked; one that hit the 409 and expired; one that took a step
// the table does not have and was abandoned.
func statsFixture() (*transitions.Flow, *flowstats.Stats) {
	f, rec, history := auditFixture()
	c := flowstats.NewCollector(flowstats.Options{Now: func() time.Time { return rec.CreatedAt.Add(time.Hour) }})
	c.Add(rec, history)
	expired := *rec
	expired.ID, expired.State = "expired", states.Expired
	c.Add(&expired, append(append([]store.HistoryEntry(nil), history[:3]...), store.HistoryEntry{
		At: rec.CreatedAt.Add(10 * time.Minute), From: states.PhoneConflict, To: states.Expired, Event: "expire", Outcome: "ok"}))
	off := *rec
	off.ID, off.State, off.EndedAt = "off", states.SmsVerified, time.Time{}
	c.Add(&off, append(append([]store.HistoryEntry(nil), history[:3]...), store.HistoryEntry{
		At: rec.CreatedAt.Add(time.Minute), From: states.PhoneConflict, To: states.SmsVerified, Event: "skip_sms", Outcome: "ok"}))
	return f, c.Stats()[0]
}

func TestStatsState(t *testing.T) {
	f, s := statsFixture()
	got := visualize.StatsState(f, s, visualize.Overview)
	for _, want := range []string{
		"traffic of 3 flows.",
		`WalletAuthed -->|"submit_phone: 409 ALREADY_EXISTS_PHONE<br/>3 steps"| PhoneConflict` + "\n",
		// Loops are summed up in their state's box, by edge.
		`PhoneConflict["PhoneConflict<br/>⚠ errors: stay<br/>↻ ⚠ 429 back off: 1 step<br/>3 stays, median 24s<br/>stopped: 1 expired"]`,
		`↻ ⚠ wrong OTP, attempts left: 1 step<br/>1 stay, median 47s"]`,
		`PhoneConflict -->|"not in this graph<br/>1 step"| SmsVerified` + "\n",
		`Running -->|"expire<br/>1 step"| Expired` + "\n",
		`Linked(["Linked<br/>1 flow (33.3%)"])`,
		`<br/>1 stay, median 16s<br/>stopped: 1 abandoned"]`,
		// The busiest arrows are the heaviest; arrows not taken are grey.
		"linkStyle 1,2,4 stroke:#2471a3,stroke-width:8.0px,color:#2471a3\n",
		"stroke:#2471a3,stroke-width:3.7px,color:#2471a3\n",
		"class Authenticated,Canceled,Failed,SmsSent dim\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("StatsState lacks %q:\n%s", want, got)
		}
	}
}

// The stats views parse, in both views, with every state Mermaid should see.
func TestStatsState_Parses(t *testing.T) {
	f, s := statsFixture()
	diagrams := map[string]string{
		"stats-link.overview.mmd": visualize.StatsState(f, s, visualize.Overview),
		"stats-link.state.mmd":    visualize.StatsState(f, s, visualize.Complete),
	}
	results, _ := mermaidParse(t, diagrams)
	for name, text := range diagrams {
		if r := results[name]; r.Error != "" || len(r.States) == 0 {
			t.Errorf("%s does not parse (%d states): %s\n%s", name, len(r.States), r.Error, text)
		}
	}
}

package visualize

import (
	"fmt"
	"strings"

	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
)

// TextTrace returns the path the persisted flow rec took, as plain text a
// terminal shows well: each state it went through, in order, and under it
// the steps taken there, numbered and timed, "↻" for a step that kept the
// flow in the state (a 429, a wrong OTP) and "↓" for one that moved it on:
//
//	WalletAuthed
//	  ↓ (3) 09:30:44 ⚠ submit_phone: 409 ALREADY_EXISTS_PHONE
//	PhoneConflict
//	  ↻ (4) 09:30:52 ⚠ confirm_phone: 429 back off
//
// It ends with where the flow is, or how it ended.
func TextTrace(f *transitions.Flow, rec *store.Record, history []store.HistoryEntry) string {
	var b strings.Builder
	full := spansDays(rec, history)
	at := f.Initial
	if len(history) > 0 {
		at = history[0].From
	}
	b.WriteString(string(at) + "\n")
	for i, h := range history {
		if h.From != at {
			// A step the history does not record (a gap): say where it resumed.
			fmt.Fprintf(&b, "%s\n", h.From)
		}
		mark := "↓"
		if h.From == h.To {
			mark = "↻"
		}
		fmt.Fprintf(&b, "  %s (%d) %s %s\n", mark, stepNumber(i, h), clock(h.At, full), stepText(f, h))
		if h.From != h.To {
			fmt.Fprintf(&b, "%s\n", h.To)
		}
		at = h.To
	}
	summary := auditSummary(f, rec, history)
	fmt.Fprintf(&b, "(%s)\n", strings.Join(summary[2:], ", "))
	return b.String()
}

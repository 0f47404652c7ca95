package visualize_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
	"github.com/ratioflow/ratioflow/visualize"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ with the generated text")

// golden compares got with the file testdata/name, byte for byte, or
// rewrites the file with -update.
func golden(tb testing.TB, name, got string) {
	tb.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (create it with: go test ./visualize -update)", err)
	}
	if got != string(want) {
		tb.Errorf("%s differs from the generated text at line %d (regenerate with: go test ./visualize -update)\n%s",
			path, firstDiffLine(string(want), got), diffContext(string(want), got))
	}
}

// firstDiffLine returns the 1-based number of the first line where a and b differ.
func firstDiffLine(a, b string) int {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return i + 1
		}
	}
	return min(len(al), len(bl)) + 1
}

func diffContext(want, got string) string {
	n := firstDiffLine(want, got) - 1
	line := func(s string) string {
		if l := strings.Split(s, "\n"); n < len(l) {
			return l[n]
		}
		return "(end of text)"
	}
	return "want: " + line(want) + "\ngot:  " + line(got)
}

// auditFixture is a persisted link flow that walked the spec's 409 branch:
// the phone belonged to another account, the code was resent after a 429,
// one OTP was wrong, and the wallet was linked.
func auditFixture() (*transitions.Flow, *store.Record, []store.HistoryEntry) {
	t0 := time.Date(2026, 11, 21, 9, 30, 0, 0, time.UTC)
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	h := func(sec int, from states.State, ev transitions.Event, o transitions.Outcome, to states.State,
		call transitions.Call, status int, code string, ms int) store.HistoryEntry {
		return store.HistoryEntry{At: at(sec), From: from, Event: string(ev), Outcome: string(o), To: to,
			Call: string(call), Status: status, Code: code, Duration: time.Duration(ms) * time.Millisecond}
	}
	history := []store.HistoryEntry{
		h(1, states.New, transitions.Start, transitions.OK, states.ChallengeIssued, transitions.CallStartWallet, 200, "", 182),
		h(21, states.ChallengeIssued, transitions.Sign, transitions.NewUser, states.WalletAuthed, transitions.CallAuthenticateWallet, 200, "", 240),
		h(44, states.WalletAuthed, transitions.SubmitPhone, transitions.Conflict, states.PhoneConflict, transitions.CallSendSMS, 409, "ALREADY_EXISTS_PHONE", 310),
		h(52, states.PhoneConflict, transitions.ConfirmPhone, transitions.RateLimited, states.PhoneConflict, transitions.CallSendSMS, 429, "", 95),
		h(68, states.PhoneConflict, transitions.ConfirmPhone, transitions.OK, states.SmsFirstSent, transitions.CallSendSMS, 200, "", 420),
		h(97, states.SmsFirstSent, transitions.SubmitOTP, transitions.InvalidOTP, states.SmsFirstSent, transitions.CallAuthenticateSMS, 401, "INVALID_OTP", 130),
		h(115, states.SmsFirstSent, transitions.SubmitOTP, transitions.OK, states.SmsVerified, transitions.CallAuthenticateSMS, 200, "", 150),
		h(131, states.SmsVerified, transitions.SubmitEmail, transitions.OK, states.EmailSent, transitions.CallSendEmail, 200, "", 380),
		h(176, states.EmailSent, transitions.SubmitOTP, transitions.OK, states.EmailVerified, transitions.CallAuthenticateEmail, 200, "", 160),
		h(177, states.EmailVerified, transitions.AddWallet, transitions.OK, states.Linked, transitions.CallAddWalletToUser, 200, "", 205),
	}
	for i := range history {
		history[i].Seq = int64(i + 1)
	}
	rec := &store.Record{
		ID: "5f0c3b1e9a7d4c2b8e6f1a3d5c7b9e01", Kind: string(transitions.KindLink),
		GraphVersion: transitions.Link.Version(), State: states.Linked, Version: 11,
		CreatedAt: t0, UpdatedAt: at(177), ExpiresAt: t0.Add(30 * time.Minute), EndedAt: at(177),
	}
	return transitions.Link, rec, history
}

// runningFixture is auditFixture cut after a second 429, followed by a step
// the table does not declare (the flow ran on another graph), and still
// running.
func runningFixture() (*transitions.Flow, *store.Record, []store.HistoryEntry) {
	f, rec, history := auditFixture()
	retry := history[3]
	retry.Seq, retry.At = 5, retry.At.Add(10*time.Second)
	ghost := store.HistoryEntry{Seq: 6, At: retry.At.Add(5 * time.Second), From: states.PhoneConflict,
		Event: "skip_sms", Outcome: "ok", To: states.SmsVerified}
	history = append(history[:4:4], retry, ghost)
	rec.State, rec.EndedAt, rec.GraphVersion = states.SmsVerified, time.Time{}, "sha256:0123456789abcdef"
	return f, rec, history
}

// allDiagrams returns every diagram the project generates, keyed by a file
// name: every flow in every format, and the audit views of auditFixture and
// runningFixture.
func allDiagrams(tb testing.TB) map[string]string {
	tb.Helper()
	out, err := visualize.Diagrams(transitions.All(), visualize.Formats())
	if err != nil {
		tb.Fatal(err)
	}
	f, rec, history := auditFixture()
	out["audit-link.overview.mmd"] = visualize.AuditState(f, rec, history)
	out["audit-link.state.mmd"] = visualize.AuditStateView(f, rec, history, visualize.Complete)
	out["audit-link.sequence.mmd"] = visualize.AuditSequence(f, rec, history)
	out["audit-link-running.overview.mmd"] = visualize.AuditState(runningFixture())
	out["audit-link-running.sequence.mmd"] = visualize.AuditSequence(runningFixture())
	return out
}

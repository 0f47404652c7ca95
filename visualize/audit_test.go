package visualize_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ratioflow/ratioflow/transitions"
	"github.com/ratioflow/ratioflow/visualize"
)

func TestAuditState_HighlightsThePath(t *testing.T) {
	f, rec, history := auditFixture()
	got := visualize.AuditState(f, rec, history)
	for _, want := range []string{
		`WalletAuthed -->|"(3) 09:30:44 ⚠ submit_phone: 409 ALREADY_EXISTS_PHONE"| PhoneConflict` + "\n",
		// Steps that stayed are said in their state's box.
		`PhoneConflict["PhoneConflict<br/>⚠ errors: stay<br/>(4) 09:30:52 ⚠ confirm_phone: 429 back off"]` + "\n",
		`SmsFirstSent["SmsFirstSent<br/>↻ resend_otp<br/>⚠ errors: stay<br/>⚠ no attempt left → Failed<br/>(6) 09:31:37 ⚠ submit_otp: wrong OTP, attempts left"]` + "\n",
		`EmailVerified ==>|"(10) 09:32:57 add_wallet"| Linked` + "\n",
		// Arrows not taken keep their overview label, dimmed.
		`SmsSent -->|"submit_otp"| Authenticated` + "\n",
		"class Linked current\n",
		"started 2026-11-21 09:30:00 UTC",
		"linkStyle 1,2,4,6,8,9,10,11 " + visualize.PathArrowStyle + "\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("AuditState lacks %q:\n%s", want, got)
		}
	}
	if !strings.Contains(got, "class Authenticated,Canceled,Expired,Failed,Running,SmsSent dim\n") {
		t.Errorf("AuditState does not dim the states the flow did not visit:\n%s", got)
	}
}

func TestAuditState_RepeatedStepsAndStepsOffTheGraph(t *testing.T) {
	got := visualize.AuditState(runningFixture())
	for _, want := range []string{
		`PhoneConflict["PhoneConflict<br/>⚠ errors: stay<br/>(4) 09:30:52, (5) 09:31:02 ⚠ confirm_phone: 429 back off"]` + "\n",
		`PhoneConflict -->|"(6) 09:31:07 skip_sms (not in this graph)"| SmsVerified` + "\n",
		"in SmsVerified, expires at 10:00:00",
		"started on graph sha256:0123456789abcdef, drawn on " + transitions.Link.Version(),
		"class SmsVerified current\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("AuditState lacks %q:\n%s", want, got)
		}
	}
}

func TestAuditSequence(t *testing.T) {
	f, rec, history := auditFixture()
	got := statements(visualize.AuditSequence(f, rec, history))
	text := strings.Join(got, "\n") + "\n"
	for _, want := range []string{
		"Note over User,Ratio: (3) 09:30:44 submit_phone from WalletAuthed to<br/>PhoneConflict: conflict (otp/sms:send 409<br/>ALREADY_EXISTS_PHONE in 310ms)\n" +
			"User->>-Wallet: Submit Phone Number\nWallet->>Ratio: Send SMS OTP with JWT\nRatio->>Wallet: Return 409\n",
		// The 429 draws its request and Ratio's answer, which ends Ratio's activation.
		"stayed:<br/>rate_limited (otp/sms:send 429 in 95ms)\nWallet->>+Ratio: Send SMS OTP without JWT\nRatio->>-Wallet: 429\n",
		// The wrong OTP draws Ratio's answer; the retry deactivates User and Wallet again.
		"Wallet->>-Ratio: Authenticate OTP without JWT\nRatio->>-Wallet: 401 INVALID_OTP\nactivate User\nactivate Wallet\n",
		"Note over User,Ratio: ended in Linked at 09:32:57\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("AuditSequence lacks\n%s\nin\n%s", want, text)
		}
	}
	if !strings.Contains(text, "\nparticipant User\nparticipant Wallet\nparticipant Ratio\n") {
		t.Errorf("AuditSequence does not declare User, Wallet and Ratio in that order:\n%s", text)
	}
}

func TestAuditSequence_StepsOffTheGraphGetANote(t *testing.T) {
	text := visualize.AuditSequence(runningFixture())
	want := "    Note over User,Ratio: (6) 09:31:07 skip_sms from PhoneConflict to SmsVerified:<br/>ok\n" +
		"    Note over User,Ratio: in SmsVerified, expires at 10:00:00, started on graph<br/>sha256:0123456789abcdef, drawn on<br/>" +
		transitions.Link.Version() + "\n"
	if !strings.HasSuffix(text, want) {
		t.Errorf("AuditSequence ends\n%s\nwant\n%s", text[strings.LastIndex(text[:len(text)-1], "Note"):], want)
	}
}

func TestRenderAudit_Formats(t *testing.T) {
	f, rec, history := auditFixture()
	for _, format := range []visualize.Format{visualize.FormatState, visualize.FormatSequence} {
		if got, err := visualize.RenderAudit(f, rec, history, format); err != nil || got == "" {
			t.Errorf("RenderAudit(%s) = %d bytes, %v, want a diagram", format, len(got), err)
		}
	}
	if _, err := visualize.RenderAudit(f, rec, history, visualize.FormatDOT); !errors.Is(err, visualize.ErrUnsupportedFormat) {
		t.Errorf("RenderAudit(dot) error = %v, want ErrUnsupportedFormat", err)
	}
}

func TestTextTrace(t *testing.T) {
	f, rec, history := auditFixture()
	got := visualize.TextTrace(f, rec, history)
	want := "New\n" +
		"  ↓ (1) 09:30:01 start\n" +
		"ChallengeIssued\n" +
		"  ↓ (2) 09:30:21 sign\n" +
		"WalletAuthed\n" +
		"  ↓ (3) 09:30:44 ⚠ submit_phone: 409 ALREADY_EXISTS_PHONE\n" +
		"PhoneConflict\n" +
		"  ↻ (4) 09:30:52 ⚠ confirm_phone: 429 back off\n" +
		"  ↓ (5) 09:31:08 confirm_phone\n" +
		"SmsFirstSent\n" +
		"  ↻ (6) 09:31:37 ⚠ submit_otp: wrong OTP, attempts left\n" +
		"  ↓ (7) 09:31:55 submit_otp\n" +
		"SmsVerified\n" +
		"  ↓ (8) 09:32:11 submit_email\n" +
		"EmailSent\n" +
		"  ↓ (9) 09:32:56 submit_otp\n" +
		"EmailVerified\n" +
		"  ↓ (10) 09:32:57 add_wallet\n" +
		"Linked\n" +
		"(ended in Linked at 09:32:57)\n"
	if got != want {
		t.Errorf("TextTrace =\n%s\nwant\n%s", got, want)
	}
}

package main

import (
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/ratioflow/ratioflow/flow"
)

// otlpReceiver is an OTLP/HTTP trace receiver: it keeps every span sent to
// POST /v1/traces as protobuf.
type otlpReceiver struct {
	mu    sync.Mutex
	spans []*tracepb.Span
}

func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want POST /v1/traces as protobuf", http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(r.Body)
	var req coltracepb.ExportTraceServiceRequest
	if err == nil {
		err = proto.Unmarshal(body, &req)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	o.mu.Lock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			o.spans = append(o.spans, ss.Spans...)
		}
	}
	o.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	_, _ = w.Write(out)
}

func attrs(s *tracepb.Span) map[string]string {
	m := map[string]string{}
	for _, kv := range s.Attributes {
		m[kv.Key] = anyValue(kv.Value)
	}
	return m
}

func anyValue(v *commonpb.AnyValue) string {
	switch x := v.Value.(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_IntValue:
		return strconv.FormatInt(x.IntValue, 10)
	case *commonpb.AnyValue_BoolValue:
		if x.BoolValue {
			return "true"
		}
		return "false"
	}
	return v.String()
}

// TestServe_Traces: with OTEL_EXPORTER_OTLP_ENDPOINT set, serve sends the
// spans of a whole link flow over OTLP/HTTP: a server span per request, a
// step span per transition under it, a Ratio call span under each step
// that calls Ratio, the attributes from the tables, and no secret.
func TestServe_Traces(t *testing.T) {
	t.Parallel()
	recv := &otlpReceiver{}
	collector := httptest.NewServer(recv)
	defer collector.Close()
	lines, stop := started(t, map[string]string{envOTLPEndpoint: collector.URL}, "serve", "--sandbox", "--addr", "127.0.0.1:0", "--store", sqliteStore(t))
	base := waitLine(t, lines, "ratioflow serve listening on ")
	sandbox := strings.TrimPrefix(waitLine(t, lines, "ratio "), "sandbox in this process at ")
	if got := waitLine(t, lines, "traces OTLP to "); got != collector.URL+"/v1/traces" {
		t.Errorf("serve says traces go to %q, want %s/v1/traces", got, collector.URL)
	}
	run := driveLink(t, &frontend{t: t, base: base, subject: "user-42"}, sandbox)
	if err := stop(); err != nil { // flushes the spans
		t.Fatalf("serve stopped with %v", err)
	}

	recv.mu.Lock()
	spans := recv.spans
	recv.mu.Unlock()
	byID := map[string]*tracepb.Span{}
	for _, s := range spans {
		byID[hex.EncodeToString(s.SpanId)] = s
	}
	parent := func(s *tracepb.Span) *tracepb.Span { return byID[hex.EncodeToString(s.ParentSpanId)] }

	// The steps of the link flow's 409 branch, in order, and their calls.
	wantSteps := []struct{ event, from, to, outcome, call string }{
		{"start", "New", "ChallengeIssued", "ok", "cryptoWallet:start"},
		{"sign", "ChallengeIssued", "WalletAuthed", "ok", "cryptoWallet:authenticate"},
		{"submit_phone", "WalletAuthed", "PhoneConflict", "conflict", "otp/sms:send"},
		{"confirm_phone", "PhoneConflict", "SmsFirstSent", "ok", "otp/sms:send"},
		{"submit_otp", "SmsFirstSent", "SmsVerified", "ok", "otp/sms:authenticate"},
		{"submit_email", "SmsVerified", "EmailSent", "ok", "otp/email:send"},
		{"submit_otp", "EmailSent", "EmailVerified", "ok", "otp/email:authenticate"},
		{"add_wallet", "EmailVerified", "Linked", "ok", "cryptoWallet:addToUser"},
	}
	var steps []*tracepb.Span
	for _, s := range spans {
		if strings.HasPrefix(s.Name, "step ") && attrs(s)[string(flow.AttrFlowID)] == run.view.ID {
			steps = append(steps, s)
		}
	}
	slices.SortFunc(steps, func(a, b *tracepb.Span) int { return int(a.StartTimeUnixNano - b.StartTimeUnixNano) })
	if len(steps) != len(wantSteps) {
		t.Fatalf("%d step spans, want %d:\n%v", len(steps), len(wantSteps), steps)
	}
	for i, w := range wantSteps {
		s, a := steps[i], attrs(steps[i])
		if s.Name != "step "+w.event || a[string(flow.AttrKind)] != "link" || a[string(flow.AttrEvent)] != w.event ||
			a[string(flow.AttrFrom)] != w.from || a[string(flow.AttrTo)] != w.to || a[string(flow.AttrOutcome)] != w.outcome {
			t.Errorf("step span %d = %s %v, want %+v", i, s.Name, a, w)
		}
		server := parent(s)
		if server == nil || server.Kind != tracepb.Span_SPAN_KIND_SERVER || !strings.HasPrefix(server.Name, "POST /v1/flows") {
			t.Errorf("step %s: parent %v, want the request's server span", w.event, server)
		}
		var calls []*tracepb.Span
		for _, c := range spans {
			if parent(c) == s {
				calls = append(calls, c)
			}
		}
		if len(calls) != 1 || calls[0].Name != "ratio "+w.call || calls[0].Kind != tracepb.Span_SPAN_KIND_CLIENT ||
			attrs(calls[0])[string(flow.AttrCall)] != w.call {
			t.Errorf("step %s: child spans %v, want one Ratio call span %s", w.event, calls, w.call)
		}
	}
	if a := attrs(childOf(spans, steps[2], parent)); a[string(flow.AttrStatus)] != "409" || a[string(flow.AttrCode)] != "ALREADY_EXISTS_PHONE" {
		t.Errorf("the 409's call span: %v, want status 409 and code ALREADY_EXISTS_PHONE", a)
	}

	// No secret, phone or email in any span.
	for _, s := range spans {
		for k, v := range attrs(s) {
			for _, secret := range []string{run.phone, run.email, run.signature, run.smsCode, run.code, "eyJ"} {
				if strings.Contains(v, secret) || strings.Contains(s.Name, secret) {
					t.Errorf("span %s attribute %s = %q holds a secret", s.Name, k, v)
				}
			}
		}
	}
}

func childOf(spans []*tracepb.Span, p *tracepb.Span, parent func(*tracepb.Span) *tracepb.Span) *tracepb.Span {
	for _, s := range spans {
		if parent(s) == p {
			return s
		}
	}
	return &tracepb.Span{}
}

package flow_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/flow/flowtest"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
)

// jwtRecorder collects every session JWT Ratio hands out.
type jwtRecorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	jwts []string
}

func (r *jwtRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var auth struct {
		SessionJWT string `json:"sessionJwt"`
	}
	if json.Unmarshal(body, &auth) == nil && auth.SessionJWT != "" {
		r.mu.Lock()
		r.jwts = append(r.jwts, auth.SessionJWT)
		r.mu.Unlock()
	}
	return resp, nil
}

func TestEngine_SecretsStayOut(t *testing.T) {
	var logs bytes.Buffer
	h := flowtest.New(t, flowtest.Options{Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	rec := &jwtRecorder{next: h.Sandbox.Client().Transport}
	h.Ratio.HTTPClient = &http.Client{Transport: rec}
	w, p := flowtest.NewWallet(t), flowtest.NewPerson()
	h.SeedUser(p)

	var codes []string
	var errs []error
	steps := linkConflict(w, p)
	for i := range steps {
		if fill := steps[i].Fill; fill != nil && steps[i].Event == transitions.SubmitOTP {
			steps[i].Fill = func(h *flowtest.Harness, v *flow.View) flow.Input {
				in := fill(h, v)
				codes = append(codes, in.OTP.Reveal())
				return in
			}
		}
	}
	// A wrong code on the way, so an error is produced too.
	wrong := flowtest.Step{Name: "wrong code", Event: transitions.SubmitOTP, WantErr: flow.ErrStepFailed,
		Fill: func(h *flowtest.Harness, v *flow.View) flow.Input {
			in := flowtest.WrongCodeFor(p.Phone)(h, v)
			codes = append(codes, in.OTP.Reveal())
			return in
		}, Want: flowtest.Want{State: states.SmsFirstSent}}
	steps = append(steps[:4:4], append([]flowtest.Step{wrong}, steps[4:]...)...)
	v := h.Run(transitions.KindLink, steps)
	if len(rec.jwts) < 3 || len(codes) < 3 {
		t.Fatalf("recorded %d JWTs and %d codes, want at least 3 of each", len(rec.jwts), len(codes))
	}
	_, err := h.Engine.Step(context.Background(), v.ID, h.Subject, transitions.SubmitOTP, flow.Input{OTP: "123456"})
	errs = append(errs, err)

	view, _ := json.Marshal(v)
	hist, _ := h.Store.History(context.Background(), v.ID)
	histJSON, _ := json.Marshal(hist)
	raw, _ := h.Store.Get(context.Background(), v.ID)
	places := map[string]string{"logs": logs.String(), "view": string(view), "history": string(histJSON),
		"stored data": string(raw.Data)}
	for _, e := range errs {
		places["errors"] += e.Error()
	}
	secrets := append(rec.jwts, codes...)
	for where, text := range places {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s holds a secret (%.12s...)", where, s)
			}
		}
		// Ciphertext is random bytes: only the exact secrets are looked for there.
		if where != "stored data" && strings.Contains(text, "eyJ") {
			t.Errorf("%s holds something that looks like a JWT", where)
		}
	}
	// The stored data is sealed: not even the phone number shows.
	if strings.Contains(string(raw.Data), p.Phone) || strings.Contains(string(raw.Data), p.Email) {
		t.Errorf("stored data holds the phone or the email in the clear")
	}
	if !strings.Contains(logs.String(), `"event":"add_wallet"`) {
		t.Errorf("the engine's log has no step records: %s", logs.String())
	}
}

// keyForms are the ways a seal key may be written.
func keyForms(key []byte) []string {
	return []string{string(key), hex.EncodeToString(key), strings.ToUpper(hex.EncodeToString(key)),
		base64.StdEncoding.EncodeToString(key), base64.RawURLEncoding.EncodeToString(key)}
}

// Seal keys never reach a log, an error, a history entry, a view or what
// OnStep is given for metrics: not while flows run, not while Reseal
// re-seals them, not when a key is missing or malformed.
func TestEngine_SealKeysStayOut(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var mu sync.Mutex
	var stepped []store.HistoryEntry
	onStep := func(_ context.Context, _ transitions.Kind, e store.HistoryEntry) {
		mu.Lock()
		stepped = append(stepped, e)
		mu.Unlock()
	}
	h := flowtest.New(t, flowtest.Options{Logger: log})
	old := flow.SealKey{ID: "old", Key: bytes.Repeat([]byte{0x6b}, 32)}
	next := flow.SealKey{ID: "next", Key: bytes.Repeat([]byte{0x7c}, 32)}
	engine := func(keys ...flow.SealKey) *flow.Engine {
		e, err := flow.New(h.Store, h.Ratio, nil, flow.Options{Keys: ring(t, keys...), Now: h.Clock.Now, Logger: log, OnStep: onStep})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	w := flowtest.NewWallet(t)
	v, err := engine(old).Start(ctx, transitions.KindLink, h.Subject, flow.Input{WalletAddress: w.Address})
	if err != nil {
		t.Fatal(err)
	}
	if v, err = engine(old).Step(ctx, v.ID, h.Subject, transitions.Sign, flow.Input{Signature: w.Sign(t, v.Challenge)}); err != nil {
		t.Fatal(err)
	}
	var errs []error
	_, err = engine(next, old).Step(ctx, v.ID, h.Subject, transitions.SubmitPhone, flow.Input{PhoneNumber: "+1202"})
	errs = append(errs, err)
	res, err := engine(next, old).Reseal(ctx)
	if err != nil || res.Resealed != 1 {
		t.Fatalf("Reseal = %+v, %v", res, err)
	}
	_, err = engine(old).Get(ctx, v.ID, h.Subject) // the key that sealed it is missing
	errs = append(errs, err)
	_, err = flow.ParseKeyring("old:" + hex.EncodeToString(old.Key) + ",next:" + hex.EncodeToString(next.Key)[2:])
	errs = append(errs, err)
	_, err = flow.New(h.Store, h.Ratio, old.Key[:20], flow.Options{})
	errs = append(errs, err)

	hist, _ := h.Store.History(ctx, v.ID)
	view, _ := engine(next).Get(ctx, v.ID, h.Subject)
	texts := map[string]any{"logs": logs.String(), "history": hist, "OnStep entries": stepped, "view": view}
	for _, err := range errs {
		if err == nil {
			t.Fatalf("errors = %v: want each step to fail", errs)
		}
		texts["errors"] = fmt.Sprint(texts["errors"]) + err.Error()
	}
	for where, x := range texts {
		text, ok := x.(string)
		if !ok {
			b, _ := json.Marshal(x)
			text = string(b)
		}
		for _, k := range [][]byte{old.Key, next.Key, flowtest.SealKey} {
			for _, form := range keyForms(k) {
				if strings.Contains(text, form) || strings.Contains(text, form[:24]) {
					t.Errorf("%s hold a seal key (%.6s...):\n%s", where, form, text)
				}
			}
		}
	}
	if !strings.Contains(logs.String(), `"msg":"flow resealed"`) {
		t.Errorf("the log has no record of the reseal: %s", logs.String())
	}
}

package flow_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/flow/flowtest"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
)

// TestEngine_List: a subject's flows, as a frontend reopened after the app
// closed finds the flow its user left half way. Each listed view is the
// view Get answers, another subject's flows never appear, and a flow
// found past its deadline is expired on the way, as Get would.
func TestEngine_List(t *testing.T) {
	h := flowtest.New(t)
	ctx := context.Background()
	start := func(kind transitions.Kind, subject string) string {
		t.Helper()
		h.Clock.Advance(time.Second) // one creation time each: List's order is theirs
		v, err := h.Engine.Start(ctx, kind, subject, flow.Input{WalletAddress: flowtest.NewWallet(t).Address})
		if err != nil {
			t.Fatalf("Start(%s) = %v", kind, err)
		}
		return v.ID
	}
	link := start(transitions.KindLink, h.Subject)
	canceled := start(transitions.KindLink, h.Subject)
	if _, err := h.Engine.Cancel(ctx, canceled, h.Subject); err != nil {
		t.Fatal(err)
	}
	signin := start(transitions.KindSignIn, h.Subject)
	others := start(transitions.KindLink, "someone-else")

	// ids lists a page's flows, checking each view against Get's.
	ids := func(e *flow.Engine, subject string, p *flow.Page) []string {
		t.Helper()
		var got []string
		for _, v := range p.Flows {
			got = append(got, v.ID)
			g, err := e.Get(ctx, v.ID, subject)
			if err != nil {
				t.Fatalf("Get(%s) = %v", v.ID, err)
			}
			if diff := cmp.Diff(g, v); diff != "" {
				t.Errorf("the listed view of %s differs from Get's (-get +list):\n%s", v.ID, diff)
			}
		}
		return got
	}
	tests := []struct {
		name    string
		subject string
		q       flow.ListQuery
		want    []string
	}{
		{"all", h.Subject, flow.ListQuery{}, []string{link, canceled, signin}},
		{"running", h.Subject, flow.ListQuery{Running: true}, []string{link, signin}},
		{"kind", h.Subject, flow.ListQuery{Kind: transitions.KindLink}, []string{link, canceled}},
		{"running of a kind", h.Subject, flow.ListQuery{Kind: transitions.KindLink, Running: true}, []string{link}},
		{"kind with none", h.Subject, flow.ListQuery{Kind: transitions.KindSignUp}, nil},
		{"another subject", "someone-else", flow.ListQuery{}, []string{others}},
		{"a subject with none", "nobody", flow.ListQuery{}, nil},
		{"a limit above the cap", h.Subject, flow.ListQuery{Limit: 5000}, []string{link, canceled, signin}},
	}
	for _, tt := range tests {
		for name, e := range map[string]*flow.Engine{"": h.Engine, " on another engine": h.NewEngine()} {
			p, err := e.List(ctx, tt.subject, tt.q)
			if err != nil {
				t.Fatalf("List(%s)%s = %v", tt.name, name, err)
			}
			if diff := cmp.Diff(tt.want, ids(e, tt.subject, p)); diff != "" {
				t.Errorf("List(%s)%s (-want +got):\n%s", tt.name, name, diff)
			}
			if p.NextPageToken != "" {
				t.Errorf("List(%s)%s.NextPageToken = %q on the only page", tt.name, name, p.NextPageToken)
			}
		}
	}

	t.Run("pages", func(t *testing.T) {
		for _, tt := range []struct {
			q    flow.ListQuery
			want []string
		}{
			{flow.ListQuery{Limit: 1}, []string{link, canceled, signin}},
			// The store filters: no page is spent on an ended flow.
			{flow.ListQuery{Limit: 1, Running: true}, []string{link, signin}},
		} {
			var pages [][]string
			for q := tt.q; len(pages) < 4; {
				p, err := h.Engine.List(ctx, h.Subject, q)
				if err != nil {
					t.Fatal(err)
				}
				pages = append(pages, ids(h.Engine, h.Subject, p))
				if q.PageToken = p.NextPageToken; q.PageToken == "" {
					break
				}
			}
			var want [][]string
			for _, id := range tt.want {
				want = append(want, []string{id})
			}
			if diff := cmp.Diff(want, pages); diff != "" {
				t.Errorf("pages of %+v (-want +got):\n%s", tt.q, diff)
			}
		}
	})

	t.Run("bad queries", func(t *testing.T) {
		var inErr *ratio.InputError
		if _, err := h.Engine.List(ctx, h.Subject, flow.ListQuery{PageToken: "not-a-token"}); !errors.As(err, &inErr) || inErr.Field != "pageToken" {
			t.Errorf("List with a bad page token = %v, want an InputError naming pageToken", err)
		}
		if _, err := h.Engine.List(ctx, h.Subject, flow.ListQuery{Kind: "nope"}); !errors.Is(err, flow.ErrUnknownKind) {
			t.Errorf("List of an unknown kind = %v, want ErrUnknownKind", err)
		}
		if _, err := h.Engine.List(ctx, "", flow.ListQuery{}); err == nil {
			t.Error("List without a subject succeeded: it must never list every subject's flows")
		}
	})

	t.Run("past the deadline", func(t *testing.T) {
		h.Clock.Advance(time.Hour) // past every running flow's deadline
		p, err := h.Engine.List(ctx, h.Subject, flow.ListQuery{Running: true})
		if err != nil || len(p.Flows) != 0 {
			t.Fatalf("List(running) after the deadline = %v, %v; want no flow", p, err)
		}
		v, err := h.NewEngine().Get(ctx, link, h.Subject)
		if err != nil || v.State != states.Expired {
			t.Errorf("Get(%s) after List = %v, %v; want it expired by List", link, v, err)
		}
		p, err = h.Engine.List(ctx, h.Subject, flow.ListQuery{})
		if err != nil {
			t.Fatal(err)
		}
		var got []states.State
		for _, v := range p.Flows {
			got = append(got, v.State)
		}
		if diff := cmp.Diff([]states.State{states.Expired, states.Canceled, states.Expired}, got); diff != "" {
			t.Errorf("states after the deadline (-want +got):\n%s", diff)
		}
	})
}

package visualize_test

import (
	"strings"
	"testing"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
	"github.com/ratioflow/ratioflow/visualize"
)

func say(from transitions.Participant, text string, to transitions.Participant) transitions.Message {
	return transitions.Message{From: from, Arrow: transitions.Sync, To: to, Text: text}
}

// TestSequenceDiagram_Walk draws small tables that exercise each rule of the
// story walk.
func TestSequenceDiagram_Walk(t *testing.T) {
	u, w, r := transitions.User, transitions.Wallet, transitions.Ratio
	tests := []struct {
		name string
		flow *transitions.Flow
		want string
	}{
		{
			name: "no story edge: the walk goes on along the OK edge",
			flow: &transitions.Flow{Initial: states.New, Transitions: []transitions.Transition{
				{Event: transitions.Start, From: []states.State{states.New}, Auto: true,
					Messages: []transitions.Message{say(w, "start", r)},
					Edges:    []transitions.Edge{{Outcome: transitions.OK, To: states.ChallengeIssued}}},
				{Event: transitions.Sign, From: []states.State{states.ChallengeIssued},
					Edges: []transitions.Edge{{Outcome: transitions.OK, To: states.Linked,
						Messages: []transitions.Message{say(r, "linked", w)}}}},
			}},
			want: "sequenceDiagram|Wallet->>Ratio: start|Ratio->>Wallet: linked",
		},
		{
			name: "two story transitions in one state: alt by event",
			flow: &transitions.Flow{Initial: states.New, Transitions: []transitions.Transition{
				{Event: transitions.SubmitPhone, From: []states.State{states.New},
					Messages: []transitions.Message{say(u, "phone", w)},
					Edges:    []transitions.Edge{{Outcome: transitions.OK, To: states.SmsSent}}},
				{Event: transitions.SubmitEmail, From: []states.State{states.New},
					Messages: []transitions.Message{say(u, "email", w)},
					Edges:    []transitions.Edge{{Outcome: transitions.OK, To: states.EmailSent}}},
			}},
			want: "sequenceDiagram|alt submit_phone|User->>Wallet: phone|else submit_email|User->>Wallet: email|end",
		},
		{
			name: "branches without Branch labels, one back to a walked state",
			flow: &transitions.Flow{Initial: states.New, Transitions: []transitions.Transition{
				{Event: transitions.SubmitPhone, From: []states.State{states.New},
					Edges: []transitions.Edge{
						{Outcome: transitions.OK, To: states.SmsSent, Messages: []transitions.Message{say(r, "sent", w)}},
						{Outcome: transitions.RateLimited, To: transitions.Stay, Label: "429 back off",
							Messages: []transitions.Message{say(r, "429", w)}},
					}},
				{Event: transitions.Cancel, From: []states.State{states.New, states.SmsSent},
					Messages: []transitions.Message{say(u, "never drawn", w)},
					Edges:    []transitions.Edge{{Outcome: transitions.OK, To: states.Canceled}}},
			}},
			want: "sequenceDiagram|alt ok|Ratio->>Wallet: sent|else 429 back off|Ratio->>Wallet: 429|end",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(statements(visualize.SequenceDiagram(tt.flow)), "|")
			if got != tt.want {
				t.Errorf("SequenceDiagram =\n%s\nwant\n%s", strings.ReplaceAll(got, "|", "\n"), strings.ReplaceAll(tt.want, "|", "\n"))
			}
		})
	}
}

// TestSequenceDiagram_Flows checks what the other flows' stories must tell.
func TestSequenceDiagram_Flows(t *testing.T) {
	tests := []struct {
		flow *transitions.Flow
		want []string
	}{
		{transitions.SignIn, []string{"alt Ratio knows the wallet", "else Ratio does not know the wallet", "Wallet->>Ratio: Get user's wallets"}},
		{transitions.SignUp, []string{"Wallet->>Ratio: Create user", "Ratio->>Wallet: Return 201 and user"}},
		{transitions.LinkFactorsFirst, []string{"Wallet->>Ratio: Authenticate wallet with two-factor JWT", "Ratio->>Wallet: Return 200, wallet linked"}},
	}
	for _, tt := range tests {
		got := statements(visualize.SequenceDiagram(tt.flow))
		for _, w := range tt.want {
			if !strings.Contains(strings.Join(got, "\n")+"\n", w+"\n") {
				t.Errorf("%s sequence diagram lacks %q", tt.flow.Kind, w)
			}
		}
		if got[len(got)-1] != "Wallet->>-User: Close Ratio" {
			t.Errorf("%s sequence diagram ends %q, want the closing messages", tt.flow.Kind, got[len(got)-1])
		}
	}
}

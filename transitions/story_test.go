package transitions_test

import (
	"testing"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
)

func TestTransition_StoryEdges(t *testing.T) {
	tests := []struct {
		name      string
		state     states.State
		event     transitions.Event
		wantStory bool
		want      []transitions.Outcome
	}{
		{"the 409 branch, in declared order", states.WalletAuthed, transitions.SubmitPhone, true,
			[]transitions.Outcome{transitions.OK, transitions.Conflict}},
		{"one story edge among error edges", states.SmsFirstSent, transitions.SubmitOTP, true,
			[]transitions.Outcome{transitions.OK}},
		{"no messages at all", states.SmsSent, transitions.ResendOTP, false, nil},
		{"cancel", states.SmsSent, transitions.Cancel, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, ok := transitions.Link.Find(tt.state, tt.event)
			if !ok {
				t.Fatalf("Find(%s, %s) found nothing", tt.state, tt.event)
			}
			var got []transitions.Outcome
			for _, e := range tr.StoryEdges() {
				got = append(got, e.Outcome)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("StoryEdges() outcomes = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("StoryEdges() outcomes = %v, want %v", got, tt.want)
				}
			}
			if tr.Story() != tt.wantStory {
				t.Errorf("Story() = %t, want %t", tr.Story(), tt.wantStory)
			}
		})
	}
}

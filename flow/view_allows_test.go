package flow_test

import (
	"testing"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/transitions"
)

// TestView_Allows checks that Allows answers from the view's next events
// only: an event listed, one not listed, and a view with none.
func TestView_Allows(t *testing.T) {
	v := &flow.View{Next: []flow.Next{{Event: transitions.Cancel}, {Event: transitions.Sign, Fields: []string{"signature"}}}}
	for _, tt := range []struct {
		view  *flow.View
		event transitions.Event
		want  bool
	}{
		{v, transitions.Sign, true},
		{v, transitions.Cancel, true},
		{v, transitions.SubmitPhone, false},
		{&flow.View{}, transitions.Cancel, false},
	} {
		if got := tt.view.Allows(tt.event); got != tt.want {
			t.Errorf("Allows(%s) with next %v = %v, want %v", tt.event, tt.view.Next, got, tt.want)
		}
	}
}

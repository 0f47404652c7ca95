package transitions

import (
	"maps"

	"github.com/ratioflow/ratioflow/states"
)

// withEndings returns a flow's endings: its own, and the ones every flow
// shares.
func withEndings(own map[states.State]string) map[states.State]string {
	all := map[states.State]string{
		states.Failed: "The flow cannot go on: the last step says why (no code attempt left, or Ratio refused " +
			"what it was given). Start a new flow to try again.",
		states.Expired: "The flow outlived Ratio's session before it ended. Start a new flow: it asks for a new " +
			"challenge and new codes.",
		states.Canceled: "The flow was canceled, and nothing more happens with it. Start a new flow to try again.",
	}
	maps.Copy(all, own)
	return all
}

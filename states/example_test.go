package states_test

import (
	"fmt"

	"github.com/ratioflow/ratioflow/states"
)

// Example lists the states that end a flow.
func Example() {
	var ends []states.State
	for _, s := range states.All() {
		if s.Terminal() {
			ends = append(ends, s)
		}
	}
	fmt.Println(ends)
	fmt.Println(states.PhoneConflict.Terminal(), states.State("Limbo").Known())
	// Output:
	// [Linked Authenticated SignedIn UserCreated UnknownWallet Failed Expired Canceled]
	// false false
}

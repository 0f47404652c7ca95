package states_test

import (
	"fmt"

	"github.com/ratioflow/ratioflow/states"
)

// Example lists the states that end a flow.
func Example() {
	for _, s := range states.All() {
		if s.Terminal() {
			fmt.Print(s, " ")
		}
	}
	fmt.Println()
	fmt.Println(states.PhoneConflict.Terminal(), states.State("Limbo").Known())
	// Output:
	// Linked Authenticated SignedIn UserCreated UnknownWallet Failed Expired Canceled
	// false false
}

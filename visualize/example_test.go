package visualize_test

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ratioflow/ratioflow/transitions"
	"github.com/ratioflow/ratioflow/visualize"
)

// Example draws the link flow's complete state diagram and prints the
// arrows that leave WalletAuthed, where the spec's story branches on
// Ratio's 409.
func Example() {
	format, err := visualize.ParseFormat("state")
	if err != nil {
		panic(err)
	}
	text, err := visualize.Render(transitions.Link, format)
	if err != nil {
		panic(err)
	}
	lines := strings.Split(text, "\n")
	fmt.Println(lines[slices.Index(lines, "flowchart TD")])
	for _, line := range lines {
		if strings.HasPrefix(strings.TrimSpace(line), "WalletAuthed -") {
			fmt.Println(strings.TrimSpace(line))
		}
	}
	// Output:
	// flowchart TD
	// WalletAuthed -.->|"⚠ submit_phone: JWT expired: new challenge"| New
	// WalletAuthed -->|"submit_phone"| SmsSent
	// WalletAuthed -->|"submit_phone: 409 ALREADY_EXISTS_PHONE"| PhoneConflict
}

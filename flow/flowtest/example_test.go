package flowtest_test

import (
	"fmt"

	"github.com/ratioflow/ratioflow/flow/flowtest"
	"github.com/ratioflow/ratioflow/transitions"
)

// Example counts the edges of the link flow that a test binary's tables
// must take: the report of flowtest.Main counts them the same way.
func Example() {
	r := flowtest.Coverage(transitions.Link)
	fmt.Println(r.Transitions, "transitions,", r.Edges, "edges the engine can take")
	// Output:
	// 31 transitions, 107 edges the engine can take
}

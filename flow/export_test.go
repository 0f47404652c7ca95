package flow

import "time"

func init() {
	// The lease holders look at the engine's (fake) clock this often in
	// tests, so a test advancing it sees the renewal at once.
	leasePoll = 5 * time.Millisecond
}

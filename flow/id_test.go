package flow

import (
	"strings"
	"testing"
	"time"
)

func TestNewFlowID_BeginsWithTheTimeAndEndsRandom(t *testing.T) {
	at := time.UnixMilli(0x0123456789ab)
	a, b := newFlowID(at), newFlowID(at)
	for _, id := range []string{a, b} {
		if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
			t.Fatalf("flow ID %q: want 32 lower-case hex digits", id)
		}
		if !strings.HasPrefix(id, "0123456789ab") {
			t.Errorf("flow ID %q: want the milliseconds 0123456789ab first", id)
		}
	}
	if a == b {
		t.Errorf("two flow IDs of the same millisecond are equal: %s", a)
	}
	if later := newFlowID(at.Add(time.Millisecond)); later <= max(a, b) {
		t.Errorf("a flow ID a millisecond later (%s) sorts before %s or %s", later, a, b)
	}
}

package backend

import (
	"encoding/json"
	"fmt"

	"github.com/ratioflow/ratioflow/store"
)

// PendingJSON is the value of the SQL stores' pending column: the call as
// JSON text, or nil (NULL) for no call. Text rather than a struct, so that
// every driver mode can send it.
func PendingJSON(p *store.PendingCall) (any, error) {
	if p == nil {
		return nil, nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode pending call: %w", err)
	}
	return string(b), nil
}

// ParsePending reads a pending column written by PendingJSON; nil for NULL.
func ParsePending(b []byte) (*store.PendingCall, error) {
	if b == nil {
		return nil, nil
	}
	var p store.PendingCall
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("decode pending call: %w", err)
	}
	p.StartedAt, p.RenewedAt = Micro(p.StartedAt), Micro(p.RenewedAt)
	return &p, nil
}

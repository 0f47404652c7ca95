package backend

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/ratioflow/ratioflow/store"
)

// tokenVersion is the first byte of every page token, so that the format can
// change without misreading old tokens; descendingVersion marks the
// tokens of a descending list, in the same format.
const (
	tokenVersion      = 1
	descendingVersion = 2
)

// Cursor is the position after which a List page continues: the creation
// time and ID of the last record of the previous page, and the order of
// the listing.
type Cursor struct {
	CreatedAt time.Time
	ID        string
	// Descending is set in the cursor of a descending list.
	Descending bool
}

// Token encodes c as an opaque page token.
func (c Cursor) Token() string {
	b := make([]byte, 9, 9+len(c.ID))
	b[0] = tokenVersion
	if c.Descending {
		b[0] = descendingVersion
	}
	binary.BigEndian.PutUint64(b[1:], uint64(Micro(c.CreatedAt).UnixMicro()))
	b = append(b, c.ID...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ParseToken decodes a page token made by Cursor.Token. The empty token
// yields ok == false. A malformed token is an error wrapping
// store.ErrInvalidPageToken, and so is one naming an ID no store keeps.
func ParseToken(tok string) (c Cursor, ok bool, err error) {
	if tok == "" {
		return Cursor{}, false, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) < 10 || (b[0] != tokenVersion && b[0] != descendingVersion) {
		return Cursor{}, false, fmt.Errorf("page token %q: %w", tok, store.ErrInvalidPageToken)
	}
	micros := int64(binary.BigEndian.Uint64(b[1:9]))
	id := string(b[9:])
	if store.CheckID(id) != nil {
		return Cursor{}, false, fmt.Errorf("page token %q: %w", tok, store.ErrInvalidPageToken)
	}
	return Cursor{CreatedAt: time.UnixMicro(micros).UTC(), ID: id, Descending: b[0] == descendingVersion}, true, nil
}

// ListToken decodes the page token of q, as ParseToken does, and refuses
// a token of a listing in the other order than q's with an error
// wrapping store.ErrInvalidPageToken: it would skip or repeat records.
func ListToken(q store.Query) (c Cursor, ok bool, err error) {
	c, ok, err = ParseToken(q.PageToken)
	if ok && c.Descending != q.Descending {
		return Cursor{}, false, fmt.Errorf("page token %q continues a list in the other order: %w", q.PageToken, store.ErrInvalidPageToken)
	}
	return c, ok, err
}

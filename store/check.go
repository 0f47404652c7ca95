package store

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits on the strings a store keeps. IDs and subjects reach a store from
// the outside (a URL path, a header set by a proxy), and databases differ
// in what they accept: PostgreSQL refuses a NUL byte and invalid UTF-8 in
// text, SQLite and memory keep them. Every store refuses the same strings
// the same way, before the database sees them:
//
//   - Create returns an error matching ErrInvalid (an *InvalidError naming
//     "id" or "subject") for a record whose ID or Subject fails CheckID or
//     CheckSubject, and writes nothing;
//   - Get, Update and History return ErrNotFound for such an ID, since no
//     record can have it;
//   - List returns an empty page for a Query.Subject that fails
//     CheckSubject, and ErrInvalidPageToken for a page token naming an ID
//     that fails CheckID.
const (
	// MaxIDLen is the longest flow ID a store keeps, in bytes.
	MaxIDLen = 64
	// MaxSubjectLen is the longest subject a store keeps, in bytes.
	MaxSubjectLen = 256
)

// ErrInvalid means Create was given a record whose ID or Subject no store
// keeps (see MaxIDLen). The error is an *InvalidError.
var ErrInvalid = errors.New("invalid record")

// InvalidError names the string of a record that a store refuses, and why.
type InvalidError struct {
	// Field is "id" or "subject".
	Field string
	// Reason says what is wrong, without repeating the value.
	Reason string
}

// Error returns the error text.
func (e *InvalidError) Error() string { return "invalid " + e.Field + ": " + e.Reason }

// Unwrap returns ErrInvalid.
func (e *InvalidError) Unwrap() error { return ErrInvalid }

// CheckID returns nil if id can name a stored flow (at most MaxIDLen bytes
// of UTF-8 without a NUL byte), or an *InvalidError saying why not.
func CheckID(id string) error { return checkString("id", id, MaxIDLen) }

// CheckSubject returns nil if s can be a stored flow's subject (at most
// MaxSubjectLen bytes of UTF-8 without a NUL byte), or an *InvalidError
// saying why not.
func CheckSubject(s string) error { return checkString("subject", s, MaxSubjectLen) }

func checkString(field, s string, maxLen int) error {
	var reason string
	switch {
	case len(s) > maxLen:
		reason = fmt.Sprintf("is %d bytes long, more than %d", len(s), maxLen)
	case strings.IndexByte(s, 0) >= 0:
		reason = "contains a NUL byte"
	case !utf8.ValidString(s):
		reason = "is not valid UTF-8"
	default:
		return nil
	}
	return &InvalidError{Field: field, Reason: reason}
}

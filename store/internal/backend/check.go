package backend

import (
	"fmt"

	"github.com/ratioflow/ratioflow/store"
)

// CheckCreate returns the error Create returns for a record whose ID or
// Subject no store keeps (see store.CheckID), or nil.
func CheckCreate(rec *store.Record) error {
	if err := store.CheckID(rec.ID); err != nil {
		return fmt.Errorf("create flow: %w", err)
	}
	if err := store.CheckSubject(rec.Subject); err != nil {
		return fmt.Errorf("create flow %s: %w", rec.ID, err)
	}
	return nil
}

// NoSuchID returns the error Get, Update and History return for an ID no
// store keeps, wrapping store.ErrNotFound, or nil for an ID a store may
// hold. op says what was asked ("get flow").
func NoSuchID(op, id string) error {
	if err := store.CheckID(id); err != nil {
		return fmt.Errorf("%s %q: %w (%v)", op, id, store.ErrNotFound, err)
	}
	return nil
}

// MatchesNothing reports whether q selects no record whatever is stored:
// a subject no store keeps.
func MatchesNothing(q store.Query) bool {
	return q.Subject != "" && store.CheckSubject(q.Subject) != nil
}

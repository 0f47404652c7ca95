package flow

import (
	"errors"
	"fmt"

	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/store"
)

// FieldSubject names the subject in the *ratio.InputError the engine
// returns for a subject no store keeps.
const FieldSubject = "subject"

// checkRef refuses, before any store is asked, a flow ID or a subject that
// no store keeps (see store.CheckID): NUL bytes, invalid UTF-8, IDs over
// store.MaxIDLen bytes, subjects over store.MaxSubjectLen. Databases differ
// on such strings; the engine answers them the same way on every store: a
// *ratio.InputError naming FieldSubject for the subject, ErrNotFound for
// the ID, since no flow can have it.
func checkRef(id, subject string) error {
	if err := checkSubject(subject); err != nil {
		return err
	}
	if store.CheckID(id) != nil {
		return fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	return nil
}

// checkSubject refuses a subject no store keeps with a *ratio.InputError
// naming FieldSubject.
func checkSubject(subject string) error {
	var ie *store.InvalidError
	if err := store.CheckSubject(subject); errors.As(err, &ie) {
		return &ratio.InputError{Field: FieldSubject, Reason: ie.Reason}
	}
	return nil
}

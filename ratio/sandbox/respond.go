package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/ratioflow/ratioflow/ratio"
)

// apiError is an error answer: a status and Ratio's error body.
type apiError struct {
	status     int
	code       string
	msg        string
	retryAfter time.Duration // sets Retry-After when > 0
}

// Error returns the error text.
func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.code, e.msg) }

// fail returns an *apiError as an error.
func fail(status int, code, format string, args ...any) error {
	return &apiError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// timeFormat is how Ratio writes times: RFC 3339, UTC, milliseconds.
const timeFormat = "2006-01-02T15:04:05.000Z"

func stamp(t time.Time) string { return t.UTC().Format(timeFormat) }

// writeJSON writes v as the JSON answer with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only the sandbox's own types are encoded: a failure is a bug.
		panic("sandbox: encode answer: " + err.Error())
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError writes err as Ratio's error body. An error that is not an
// *apiError is a sandbox bug and answers 500 INTERNAL.
func writeError(w http.ResponseWriter, now time.Time, err error) *apiError {
	var e *apiError
	if !errors.As(err, &e) {
		e = &apiError{status: http.StatusInternalServerError, code: ratio.CodeInternal, msg: "sandbox: " + err.Error()}
	}
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(e.retryAfter)))
	}
	writeJSON(w, e.status, ratio.ErrorBody{CreateTime: stamp(now), Message: e.msg, Code: e.code})
	return e
}

// retryAfterSeconds rounds d up to whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) int {
	s := int(math.Ceil(d.Seconds()))
	if s < 1 {
		s = 1
	}
	return s
}

// inputFail turns a failed ratio input check into a 400 answer whose code
// names the field as errors.go does: MISSING_X when the value is absent,
// INVALID_X otherwise.
func inputFail(err error) error {
	var ie *ratio.InputError
	if !errors.As(err, &ie) {
		return fail(http.StatusBadRequest, ratio.CodeInvalidBody, "%v", err)
	}
	missing := ie.Reason == "missing"
	invalid, absent := fieldCodes(ie.Field)
	code := invalid
	if missing && absent != "" {
		code = absent
	}
	return fail(http.StatusBadRequest, code, "%s", ie.Error())
}

// fieldCodes returns the INVALID_ and MISSING_ codes of a request field
// ("" when Ratio has no MISSING_ code for it).
func fieldCodes(field string) (invalid, missing string) {
	switch field {
	case ratio.FieldWalletAddress:
		return ratio.CodeInvalidWalletAddress, ratio.CodeMissingWalletAddress
	case ratio.FieldSignature:
		return ratio.CodeInvalidSignature, ratio.CodeMissingSignature
	case ratio.FieldPhoneNumber, "phone":
		return ratio.CodeInvalidPhone, ratio.CodeMissingPhone
	case ratio.FieldOTP:
		return ratio.CodeInvalidOTP, ratio.CodeMissingOTP
	case ratio.FieldEmailAddress, "email":
		return ratio.CodeInvalidEmail, ratio.CodeMissingEmail
	case ratio.FieldFirstName:
		return ratio.CodeInvalidFirstName, ratio.CodeMissingFirstName
	case ratio.FieldLastName:
		return ratio.CodeInvalidLastName, ratio.CodeMissingLastName
	case ratio.FieldMiddleName:
		return ratio.CodeInvalidMiddleName, ""
	case ratio.FieldCountry:
		return ratio.CodeInvalidCountry, ratio.CodeMissingCountry
	case ratio.FieldAcceptedTerms:
		return ratio.CodeInvalidAcceptedTerms, ""
	}
	return ratio.CodeInvalidBody, ""
}

// decodeBody decodes a JSON request body into v: 400 INVALID_BODY if it is
// not a JSON object of the right field types.
func decodeBody(body []byte, v any) error {
	if len(body) == 0 {
		return fail(http.StatusBadRequest, ratio.CodeInvalidBody, "the request body is missing")
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return fail(http.StatusBadRequest, ratio.CodeInvalidBody, "the request body is invalid: %s must be a %s", te.Field, jsonKind(te.Type.Kind().String()))
		}
		return fail(http.StatusBadRequest, ratio.CodeInvalidBody, "the request body is not a valid JSON object")
	}
	return nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "bool":
		return "boolean"
	case "slice":
		return "array"
	case "struct", "map":
		return "object"
	}
	return goKind
}

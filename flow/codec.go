package flow

import (
	"encoding/binary"
	"errors"
	"math"
	"time"
)

// The flow's data is encoded in a compact binary form before it is sealed:
// encoding/json, with its reflection and time formatting, was the largest
// part of the engine's own work under load. The form is a sequence of
// fields in a fixed order: strings and byte runs with a uvarint length,
// integers as varints, times as Unix nanoseconds (0 for the zero time),
// booleans as one byte, optional structs behind a presence byte. New
// fields are only ever appended: a decoder meeting the end of the input
// early leaves the remaining fields at their zero values, so data written
// before a field existed still opens.

// codecVersion is the first byte of every encoding.
const codecVersion = 1

var errCorrupt = errors.New("corrupt flow data")

type encoder struct{ b []byte }

func (e *encoder) str(s string) {
	e.b = binary.AppendUvarint(e.b, uint64(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) int(n int64) { e.b = binary.AppendVarint(e.b, n) }

func (e *encoder) time(t time.Time) {
	if t.IsZero() {
		e.int(math.MinInt64)
		return
	}
	e.int(t.UnixNano())
}

func (e *encoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

func (e *encoder) strs(ss []string) {
	e.b = binary.AppendUvarint(e.b, uint64(len(ss)))
	for _, s := range ss {
		e.str(s)
	}
}

type decoder struct {
	b   []byte
	err error
}

// done reports whether the input ended: the fields that follow keep their
// zero values.
func (d *decoder) done() bool { return d.err != nil || len(d.b) == 0 }

func (d *decoder) uvarint() uint64 {
	if d.done() {
		return 0
	}
	n, k := binary.Uvarint(d.b)
	if k <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[k:]
	return n
}

func (d *decoder) str() string {
	if d.done() {
		return ""
	}
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.err = errCorrupt
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) int() int64 {
	if d.done() {
		return 0
	}
	n, k := binary.Varint(d.b)
	if k <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[k:]
	return n
}

func (d *decoder) time() time.Time {
	if d.done() {
		return time.Time{}
	}
	n := d.int()
	if n == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func (d *decoder) bool() bool {
	if d.done() {
		return false
	}
	v := d.b[0]
	d.b = d.b[1:]
	if v > 1 {
		d.err = errCorrupt
	}
	return v == 1
}

func (d *decoder) strs() []string {
	if d.done() {
		return nil
	}
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.err = errCorrupt
		return nil
	}
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str()
	}
	return out
}

// encode appends the encoding of d to b.
func (d *data) encode(b []byte) []byte {
	e := encoder{b: append(b, codecVersion)}
	e.str(d.WalletAddress)
	e.str(d.PhoneNumber)
	e.str(d.EmailAddress)
	e.bool(d.Profile != nil)
	if p := d.Profile; p != nil {
		e.str(p.FirstName)
		e.str(p.MiddleName)
		e.str(p.LastName)
		e.str(p.Country)
		e.bool(p.AcceptedTerms)
	}
	e.str(d.Challenge)
	e.time(d.ChallengeExpiresAt)
	e.str(d.JWT)
	e.strs(d.Factors)
	e.str(d.UserID)
	e.str(d.PhoneID)
	e.str(d.PhoneMask)
	e.str(d.EmailID)
	e.str(d.EmailMask)
	e.bool(d.User != nil)
	if u := d.User; u != nil {
		e.str(u.ID)
		e.str(u.FirstName)
		e.str(u.LastName)
		e.str(u.KYCStatus)
	}
	e.strs(d.Wallets)
	e.time(d.EnteredAt)
	e.int(int64(d.OTPAttempts))
	e.time(d.LastSentAt)
	e.int(int64(d.Backoffs))
	e.time(d.RetryAt)
	e.time(d.UncertainSendAt)
	e.bool(d.CreateUncertain)
	e.bool(d.Last != nil)
	if l := d.Last; l != nil {
		e.str(l.Event)
		e.str(l.Outcome)
		e.int(int64(l.Status))
		e.str(l.Code)
		e.str(l.Message)
	}
	e.str(d.UncertainAuth)
	e.bool(d.Keyed != nil)
	if k := d.Keyed; k != nil {
		e.str(k.Key)
		e.str(k.Step.Event)
		e.str(k.Step.Outcome)
		e.int(int64(k.Step.Status))
		e.str(k.Step.Code)
		e.str(k.Step.Message)
		e.bool(k.Failed)
		e.bool(k.Spent)
	}
	return e.b
}

// decodeData decodes what encode wrote.
func decodeData(b []byte) (*data, error) {
	if len(b) == 0 || b[0] != codecVersion {
		return nil, errCorrupt
	}
	r := &decoder{b: b[1:]}
	d := &data{}
	d.WalletAddress = r.str()
	d.PhoneNumber = r.str()
	d.EmailAddress = r.str()
	if r.bool() {
		d.Profile = &profile{FirstName: r.str(), MiddleName: r.str(), LastName: r.str(), Country: r.str(), AcceptedTerms: r.bool()}
	}
	d.Challenge = r.str()
	d.ChallengeExpiresAt = r.time()
	d.JWT = r.str()
	d.Factors = r.strs()
	d.UserID = r.str()
	d.PhoneID = r.str()
	d.PhoneMask = r.str()
	d.EmailID = r.str()
	d.EmailMask = r.str()
	if r.bool() {
		d.User = &userInfo{ID: r.str(), FirstName: r.str(), LastName: r.str(), KYCStatus: r.str()}
	}
	d.Wallets = r.strs()
	d.EnteredAt = r.time()
	d.OTPAttempts = int(r.int())
	d.LastSentAt = r.time()
	d.Backoffs = int(r.int())
	d.RetryAt = r.time()
	d.UncertainSendAt = r.time()
	d.CreateUncertain = r.bool()
	if r.bool() {
		d.Last = &lastStep{Event: r.str(), Outcome: r.str(), Status: int(r.int()), Code: r.str(), Message: r.str()}
	}
	d.UncertainAuth = r.str()
	if r.bool() {
		d.Keyed = &keyedStep{Key: r.str(), Step: lastStep{Event: r.str(), Outcome: r.str(), Status: int(r.int()),
			Code: r.str(), Message: r.str()}, Failed: r.bool(), Spent: r.bool()}
	}
	if r.err != nil {
		return nil, r.err
	}
	return d, nil
}

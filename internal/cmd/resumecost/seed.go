package main

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
)

// The mix of a seeded store: out of every 100 flows, 90 ended with their
// histories, 9 running and 1 running past its deadline (due).
const (
	endedPercent   = 90
	runningPercent = 9
)

// subjectsPerFlow is how many distinct subjects the flows are spread over,
// per flow: 1M flows over 300k subjects, so a subject's page is small.
const subjectsPerFlow = 0.3

// seedSpan is how far back the ended flows were created.
const seedSpan = 30 * 24 * time.Hour

// seedFlow is one flow of a seeded store, with its history.
type seedFlow struct {
	rec  store.Record
	seq  int64 // history_seq: the Seq of the last entry
	hist []store.HistoryEntry
}

// dataset generates the flows of a store of n flows, the same ones for the
// same n and now, in the order of their creation within each class (ended,
// due, running), so that bulk loads append to the indexes keyed by ID.
type dataset struct {
	n        int
	now      time.Time
	subjects int
	graph    string
}

func newDataset(n int, now time.Time) *dataset {
	return &dataset{n: n, now: now.UTC().Truncate(time.Microsecond), subjects: max(1, int(float64(n)*subjectsPerFlow)),
		graph: transitions.Link.Version()}
}

// counts returns how many flows of each class the dataset has.
func (d *dataset) counts() (ended, running, due int) {
	ended = d.n * endedPercent / 100
	running = d.n * runningPercent / 100
	return ended, running, d.n - ended - running
}

// subject returns the i-th subject's name.
func subject(i int) string { return fmt.Sprintf("user-%08x", uint32(i)*2654435761) }

// each calls fn with every flow of the dataset; fn must not keep f, which
// is reused.
func (d *dataset) each(fn func(f *seedFlow) error) error {
	rng := rand.New(rand.NewPCG(uint64(d.n), 18))
	ended, running, due := d.counts()
	f := &seedFlow{}
	data := make([]byte, 1024)
	classes := []struct {
		count    int
		from, to time.Duration // creation time, before now
		make     func(f *seedFlow)
	}{
		{ended, seedSpan, time.Hour, func(f *seedFlow) { d.ended(rng, f) }},
		{due, 48 * time.Hour, 24 * time.Hour, func(f *seedFlow) { d.due(rng, f) }},
		{running, 24 * time.Hour, time.Minute, func(f *seedFlow) { d.running(rng, f) }},
	}
	for _, c := range classes {
		step := (c.from - c.to) / time.Duration(max(c.count, 1))
		for i := range c.count {
			created := d.now.Add(-c.from + time.Duration(i)*step + time.Duration(rng.Int64N(int64(step)+1)))
			created = created.Truncate(time.Microsecond)
			id := flowID(rng, created)
			for j := range data {
				data[j] = byte(rng.Uint32())
			}
			f.rec = store.Record{ID: id, Kind: string(transitions.KindLink), GraphVersion: d.graph,
				Subject: subject(rng.IntN(d.subjects)), Data: data[:500+rng.IntN(400)], CreatedAt: created}
			f.hist = f.hist[:0]
			c.make(f)
			f.seq = int64(len(f.hist))
			if err := fn(f); err != nil {
				return err
			}
		}
	}
	return nil
}

// flowID makes an ID as the engine does (see flow.newFlowID): the 48 bits
// of the creation time in milliseconds, then 80 random bits.
func flowID(rng *rand.Rand, created time.Time) string {
	var b [16]byte
	ms := uint64(created.UnixMilli())
	for i := range 6 {
		b[i] = byte(ms >> (40 - 8*i))
	}
	for i := 6; i < 16; i++ {
		b[i] = byte(rng.Uint32())
	}
	return hex.EncodeToString(b[:])
}

// linkPath is the audit history of a link flow that met a phone conflict,
// as the engine writes it: the longest common path, 12 entries, which a
// couple of wrong codes or resends lengthen.
var linkPath = []struct {
	from, to states.State
	event    transitions.Event
	call     string
	status   int
	code     string
	outcome  string
}{
	{states.New, states.ChallengeIssued, transitions.Start, "cryptoWallet:start", 0, "", "ok"},
	{states.ChallengeIssued, states.WalletAuthed, transitions.Sign, "cryptoWallet:authenticate", 0, "", "ok"},
	{states.WalletAuthed, states.PhoneConflict, transitions.SubmitPhone, "sms:send", 409, "ALREADY_EXISTS_PHONE", "conflict"},
	{states.PhoneConflict, states.SmsFirstSent, transitions.ConfirmPhone, "sms:send", 0, "", "ok"},
	{states.SmsFirstSent, states.SmsFirstSent, transitions.SubmitOTP, "sms:authenticate", 401, "INVALID_OTP", "wrong_code"},
	{states.SmsFirstSent, states.SmsVerified, transitions.SubmitOTP, "sms:authenticate", 0, "", "ok"},
	{states.SmsVerified, states.EmailSent, transitions.SubmitEmail, "email:send", 0, "", "ok"},
	{states.EmailSent, states.EmailSent, transitions.ResendOTP, "email:send", 0, "", "ok"},
	{states.EmailSent, states.EmailSent, transitions.SubmitOTP, "email:authenticate", 401, "INVALID_OTP", "wrong_code"},
	{states.EmailSent, states.EmailVerified, transitions.SubmitOTP, "email:authenticate", 0, "", "ok"},
	{states.EmailVerified, states.TwoFactorAuthed, transitions.LoadUser, "users:get", 0, "", "ok"},
	{states.TwoFactorAuthed, states.Linked, transitions.AddWallet, "cryptoWallet:addToUser", 0, "", "ok"},
}

// history appends the first n entries of the link path (repeating its
// retries past 12) to f, a step every few seconds from creation.
func history(rng *rand.Rand, f *seedFlow, n int) time.Time {
	at := f.rec.CreatedAt
	for i := range n {
		p := linkPath[min(i, len(linkPath)-1)]
		if i >= len(linkPath) {
			p = linkPath[4] // more wrong codes
		}
		d := time.Duration(50+rng.IntN(400)) * time.Millisecond
		at = at.Add(time.Duration(1+rng.IntN(20))*time.Second + d).Truncate(time.Microsecond)
		f.hist = append(f.hist, store.HistoryEntry{Seq: int64(i + 1), At: at, From: p.from, To: p.to, Event: string(p.event),
			Outcome: p.outcome, Call: p.call, Status: p.status, Code: p.code, Duration: d})
	}
	return at
}

// ended makes f a flow that ended: most linked, after 10 to 15 entries;
// some expired, canceled or failed on the way.
func (d *dataset) ended(rng *rand.Rand, f *seedFlow) {
	n := 10 + rng.IntN(6)
	end := states.Linked
	switch r := rng.IntN(100); {
	case r < 8:
		end, n = states.Expired, 2+rng.IntN(8)
	case r < 12:
		end, n = states.Canceled, 1+rng.IntN(6)
	case r < 14:
		end, n = states.Failed, 5+rng.IntN(4)
	}
	at := history(rng, f, n)
	if end != states.Linked {
		last := &f.hist[len(f.hist)-1]
		last.To, last.Event, last.Outcome, last.Call, last.Status, last.Code = end, "cancel", "ok", "", 0, ""
		if end == states.Expired {
			last.Event = "expire"
		}
	}
	f.rec.State, f.rec.UpdatedAt, f.rec.EndedAt = end, at, at
	f.rec.ExpiresAt = f.rec.CreatedAt.Add(9 * time.Minute)
	f.rec.Version = int64(2*n - 1)
}

// running makes f a flow in progress, 1 to 6 entries in, whose deadline
// is hours away, so that none falls due while the measures run.
func (d *dataset) running(rng *rand.Rand, f *seedFlow) {
	n := 1 + rng.IntN(6)
	at := history(rng, f, n)
	f.rec.State, f.rec.UpdatedAt = f.hist[n-1].To, at
	f.rec.ExpiresAt = d.now.Add(6*time.Hour + time.Duration(rng.Int64N(int64(24*time.Hour)))).Truncate(time.Microsecond)
	f.rec.Version = int64(2*n - 1)
}

// due makes f a running flow whose deadline passed hours ago: a sweeper
// has yet to expire it.
func (d *dataset) due(rng *rand.Rand, f *seedFlow) {
	d.running(rng, f)
	f.rec.ExpiresAt = f.rec.CreatedAt.Add(9 * time.Minute)
}

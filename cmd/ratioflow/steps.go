package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/internal/pilot"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
)

// stepPrinter prints a demo: a header, each step as it happens, the end.
type stepPrinter interface {
	header(d *demo)
	step(s pilot.Step)
	end(d *demo, v *flow.View, elapsed time.Duration, diagram string) error
}

// textSteps prints the demo for a person.
type textSteps struct {
	w    io.Writer
	flow *transitions.Flow
}

func (p *textSteps) header(d *demo) {
	f, w := d.flow, p.w
	fmt.Fprintf(w, "%s flow: %s\n", f.Kind, f.Title)
	fmt.Fprintf(w, "  ratio    %s\n", d.ratio.describe())
	fmt.Fprintf(w, "  store    %s (seal key: %s)\n", d.storeURL, d.key.source)
	per := d.persona
	user := "not a Ratio user yet: the flow creates one"
	if needsUser(f.Kind) && d.ratio.mode != realRatio {
		user = "an existing Ratio user, seeded in the sandbox"
	} else if needsUser(f.Kind) {
		user = "your Ratio account"
	}
	fmt.Fprintf(w, "  user     %s %s, %s, %s (%s)\n", per.FirstName, per.LastName, per.Phone, per.Email, user)
	wallet := "a new key made for this run"
	if f.Kind == transitions.KindSignIn {
		wallet += ", linked to the user"
	}
	fmt.Fprintf(w, "  wallet   %s (%s)\n\n", per.Wallet(), wallet)
	fmt.Fprintf(w, "  %3s  %-20s %-33s %-27s %-25s %s\n", "#", "event", "transition", "Ratio call", "answer", "time")
}

func (p *textSteps) step(s pilot.Step) {
	for _, h := range s.Entries {
		event := h.Event
		if t, ok := p.flow.Find(h.From, transitions.Event(h.Event)); ok && t.Auto {
			event += " (auto)"
		}
		fmt.Fprintf(p.w, "  %3d  %-20s %-33s %-27s %-25s %s\n", h.Seq, event, string(h.From)+" -> "+string(h.To),
			h.Call, answer(h), millis(h.Duration))
	}
	if wait, why := backoff(s.Err); wait > 0 {
		fmt.Fprintf(p.w, "       %s: the demo waits %s, then sends %s again\n", why, round(wait), s.Event)
	}
}

// answer is Ratio's answer to an entry's call: status and error code.
func answer(h store.HistoryEntry) string {
	switch {
	case h.Call == "":
		return ""
	case h.Status == 0:
		return h.Outcome
	case h.Code == "":
		return fmt.Sprint(h.Status)
	}
	return fmt.Sprintf("%d %s", h.Status, h.Code)
}

func millis(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}

// round rounds d for people: to the millisecond under a second, else to
// the hundredth of a second.
func round(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(10 * time.Millisecond)
}

// backoff says how long the demo waits after a step's error, and why.
func backoff(err error) (time.Duration, string) {
	var (
		se   *flow.StepError
		wait *flow.WaitError
	)
	switch {
	case errors.As(err, &se) && se.Outcome == transitions.RateLimited:
		return se.RetryAfter, "429: Ratio asks to back off"
	case errors.As(err, &wait):
		return wait.RetryAfter, "too early (" + wait.Reason + ")"
	}
	return 0, ""
}

func (p *textSteps) end(d *demo, v *flow.View, elapsed time.Duration, diagram string) error {
	w := p.w
	fmt.Fprintf(w, "\n%s in %s: %s\n", v.State, round(elapsed), outcome(v, d.persona))
	fmt.Fprintf(w, "\nThe path this flow took, from its audit history:\n\n%s", diagram)
	fmt.Fprintf(w, "\nFlow %s is kept in %s:\n  ratioflow flows show %s --store %s\n", v.ID, d.storeURL, v.ID, d.storeURL)
	fmt.Fprintf(w, "Its diagrams, in Mermaid (demo --mermaid prints them too):\n  ratioflow flows audit %s --store %s [--format overview|state|sequence]\n", v.ID, d.storeURL)
	return nil
}

// outcome says in words what the flow achieved.
func outcome(v *flow.View, p pilot.Persona) string {
	user := p.FirstName + " " + p.LastName + "'s Ratio account"
	if v.User != nil {
		user = "user " + v.User.ID
	}
	switch v.State {
	case states.Linked:
		return fmt.Sprintf("wallet %s is now an authentication method of %s", p.Wallet(), user)
	case states.SignedIn:
		return fmt.Sprintf("%s signed in with wallet %s and SMS", user, p.Wallet())
	case states.UserCreated:
		return fmt.Sprintf("%s created, with wallet %s and phone %s", user, p.Wallet(), p.Phone)
	}
	return string(v.State)
}

// jsonSteps prints one JSON object per audit entry, then the final view.
type jsonSteps struct {
	w io.Writer
}

// jsonStep is one line of demo --json.
type jsonStep struct {
	Step    int64   `json:"step"`
	Event   string  `json:"event"`
	From    string  `json:"from"`
	To      string  `json:"to"`
	Call    string  `json:"call,omitempty"`
	Status  int     `json:"status,omitempty"`
	Code    string  `json:"code,omitempty"`
	Outcome string  `json:"outcome"`
	MS      float64 `json:"ms"`
}

func (p *jsonSteps) header(*demo) {}

func (p *jsonSteps) step(s pilot.Step) {
	enc := json.NewEncoder(p.w)
	for _, h := range s.Entries {
		_ = enc.Encode(jsonStep{Step: h.Seq, Event: h.Event, From: string(h.From), To: string(h.To), Call: h.Call,
			Status: h.Status, Code: h.Code, Outcome: h.Outcome, MS: float64(h.Duration.Microseconds()) / 1000})
	}
}

func (p *jsonSteps) end(_ *demo, v *flow.View, _ time.Duration, _ string) error {
	return json.NewEncoder(p.w).Encode(v)
}

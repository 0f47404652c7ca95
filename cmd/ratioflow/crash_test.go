package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/ratio/sandbox"
)

// maxLock is the longest a flow may stay locked after the process that
// was stepping it died (with --pending-timeout childPendingTimeout).
const maxLock = 15 * time.Second

// childPendingTimeout is the --pending-timeout of the serve children: how
// long a dead child's Ratio call holds its flow.
const childPendingTimeout = "1s"

// crashSteps are the Ratio-calling steps the kill scenario loses an
// answer of: all but the resends, whose 30s cooldown serve does not
// shorten (their sends are reconciled as submit_email's and
// confirm_phone's are).
func crashSteps() []ratioStep {
	steps := slices.Clone(ratioSteps)
	for _, rs := range otherRatioSteps {
		if rs.step != "resend_otp" {
			steps = append(steps, rs)
		}
	}
	return steps
}

// TestCrash_KilledBetweenAnswerAndWrite: eleven people each reach one of
// the Ratio-calling steps of the link and signup flows together (the
// seven of ratioSteps first); Ratio answers all their calls, and serve is
// killed (SIGKILL) before any answer gets back. A new serve on the same store takes the retries, each with its
// step's Idempotency-Key. Each flow then ends as it should with no
// attempt spent, no code or signature refused as wrong, no second flow
// and no wallet added twice, and at most one new code or one new
// signature.
func TestCrash_KilledBetweenAnswerAndWrite(t *testing.T) {
	needChaos(t)
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			killBetweenAnswerAndWrite(t, backend)
		})
	}
}

func killBetweenAnswerAndWrite(t *testing.T, backend string) {
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	gate := newRatioGate(t, sandbox.Config{})
	serve := startServeChildren(t, newStoreURL(t, backend), gate.url, "--pending-timeout", childPendingTimeout)
	var tl tally
	steps := crashSteps()
	people := make([]*person, len(steps))
	traps := make(chan *trap, len(steps))
	for i, rs := range steps {
		api := &apiClient{base: serve.URL, subject: fmt.Sprintf("crash-%s-%d", backend, i)}
		p := rs.person(t, api, gate.sandbox, i, &tl)
		armed := false
		p.first = func(_ context.Context, st step) (reply, bool) {
			if st.name == rs.step && !armed {
				armed = true
				traps <- gate.set(rs.op, p.marker(rs.op, st), loseAnswer, nil)
			}
			return reply{}, false
		}
		people[i] = p
	}
	errs := make([]error, len(people))
	var wg sync.WaitGroup
	for i, p := range people {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = p.fly(ctx) }()
	}

	// Every call answered by Ratio and held: kill serve, start another.
	var caught []*trap
	for range steps {
		tr := <-traps
		select {
		case <-tr.answered:
		case <-ctx.Done():
			t.Fatalf("only %d of %d calls reached Ratio", len(caught), len(steps))
		}
		caught = append(caught, tr)
	}
	killed := time.Now()
	serve.restart()
	for _, tr := range caught {
		tr.Release()
	}
	wg.Wait()

	recovered, free, core := 0, 0, 0
	var locks []string
	for i, rs := range steps {
		p := people[i]
		ok := true
		check := func(good bool, format string, args ...any) {
			if !good {
				ok = false
				t.Errorf(rs.name+": "+format, args...)
			}
		}
		codes, sigs := p.extras(gate)
		check(errs[i] == nil, "the flight failed: %v", errs[i])
		check(p.view.State == p.goal(), "the flow ended %s, want %s", p.view.State, p.goal())
		check(codes+sigs <= 1, "%d new codes and %d new signatures, want at most one of either", codes, sigs)
		n, list := p.flows(t.Context())
		check(n == 1, "the person's flows: %s, want one", list)
		check(gate.sandbox.Stats().AddToUser[p.wallet()] == rs.adds(), "wallet added %d times, want %d",
			gate.sandbox.Stats().AddToUser[p.wallet()], rs.adds())
		check(len(p.refusals()) == 0, "answers that cost the person: %s", p.refusals())
		if ok && i < len(ratioSteps) {
			core++
		}
		if ok {
			recovered++
			if codes+sigs == 0 {
				free++
			}
		}
		check(!p.retryNotPermitted(), "a retry with the step's key was answered not_permitted: the step was applied")
		locked := p.lockedFor(rs.step, killed)
		check(locked >= 0 && locked < maxLock, "the flow was locked for %s after the kill, want less than %s", locked, maxLock)
		locks = append(locks, fmt.Sprintf("%s %s", rs.name, locked.Round(10*time.Millisecond)))
	}
	if tl.tooEarly > 0 {
		t.Errorf("a person who waited as told was answered too_early: %s", &tl)
	}
	t.Logf("%s: serve killed between Ratio's answer and the write on %d steps: %d recovered (%d of the %d of ratioSteps), "+
		"%d of them with nothing new; %s", backend, len(steps), recovered, core, len(ratioSteps), free, &tl)
	t.Logf("%s: time from the kill to the step's first answer that is not 'in progress': %s", backend, strings.Join(locks, ", "))
}

// refusals lists the answers that cost the person something: a code
// counted wrong, a signature refused as invalid.
func (p *person) refusals() []string {
	var out []string
	for _, tr := range p.tries {
		switch c := tr.a.prob.Code; {
		case c == "invalid_otp", c == "attempts_exhausted", c == "invalid_input" && tr.a.prob.Field == "signature":
			out = append(out, tr.step+": "+tr.a.String())
		}
	}
	return out
}

// retryNotPermitted reports whether a retry of a step (same key) was
// answered not_permitted.
func (p *person) retryNotPermitted() bool {
	for i, tr := range p.tries {
		if tr.a.prob.Code == "not_permitted" && i > 0 && p.tries[i-1].key == tr.key {
			return true
		}
	}
	return false
}

// lockedFor returns how long after since the person's step named name
// first got an answer that is neither a failure to answer, a 5xx nor a
// concurrent step: how long the flow stayed locked.
func (p *person) lockedFor(name string, since time.Time) time.Duration {
	for _, tr := range p.tries {
		if tr.step != name || tr.at.Before(since) || tr.a.err != nil || tr.a.status >= 500 || tr.a.prob.Code == "concurrent_step" {
			continue
		}
		return tr.at.Sub(since)
	}
	return -1
}

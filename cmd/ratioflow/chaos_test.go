package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
)

// crowdSize and crowdConcurrency: how many people fly the link flow in a
// crowd scenario, and how many at once.
const crowdSize, crowdConcurrency = 200, 8

// crowd is a crowd scenario's people and what their flights returned.
type crowd struct {
	people []*person
	errs   []error
	tally  tally
	took   time.Duration
}

// flyCrowd flies crowdSize people through the link flow, crowdConcurrency
// at a time, each with a subject of their own on serve at base.
func flyCrowd(ctx context.Context, t *testing.T, gate *ratioGate, name string, base func() string) *crowd {
	c := &crowd{people: make([]*person, crowdSize), errs: make([]error, crowdSize)}
	for i := range c.people {
		c.people[i] = newPerson(t, &apiClient{base: base, subject: fmt.Sprintf("%s-%d", name, i)}, gate.sandbox, i, &c.tally)
	}
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range crowdConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < crowdSize; i = int(next.Add(1) - 1) {
				c.errs[i] = c.people[i].fly(ctx)
			}
		}()
	}
	wg.Wait()
	c.took = time.Since(start)
	return c
}

// check checks that every flight linked its wallet, once, in one flow,
// with no attempt spent, no signature refused and no too_early after a
// wait, and returns the codes Ratio sent beyond a clean run's and the
// signatures made beyond one per flow.
func (c *crowd) check(t *testing.T, gate *ratioGate) (codes, signatures int) {
	t.Helper()
	adds := gate.sandbox.Stats().AddToUser
	bad := 0
	for i, p := range c.people {
		problems := p.refusals()
		if c.errs[i] != nil {
			problems = append(problems, "flight: "+c.errs[i].Error())
		}
		if p.view.State != states.Linked {
			problems = append(problems, "ended "+string(p.view.State))
		}
		if n := adds[p.wallet()]; n != 1 {
			problems = append(problems, fmt.Sprintf("wallet added %d times", n))
		}
		if n, list := p.flows(t.Context()); n != 1 {
			problems = append(problems, "flows: "+list.String())
		}
		if p.retryNotPermitted() {
			problems = append(problems, "a retry with its key was answered not_permitted")
		}
		if len(problems) > 0 {
			if bad++; bad <= 5 {
				t.Errorf("person %d (flow %s): %s", i, p.view.ID, strings.Join(problems, "; "))
			}
		}
		cs, ss := p.extras(gate)
		codes, signatures = codes+cs, signatures+ss
	}
	if bad > 0 {
		t.Errorf("%d of %d people lost something", bad, len(c.people))
	}
	if c.tally.tooEarly > 0 {
		t.Errorf("people who waited as told were answered too_early %d times", c.tally.tooEarly)
	}
	return codes, signatures
}

// TestOutage_StoreDownAfterRatioAnswered: while 200 people link their
// wallets, the store goes down for 3s, twice, each time just after Ratio
// answered a code (email, then SMS) and before serve could write it. The
// process lives and keeps the answer: no code is wasted, no attempt
// spent, every flow links.
func TestOutage_StoreDownAfterRatioAnswered(t *testing.T) {
	needChaos(t)
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
			defer cancel()
			url := newStoreURL(t, backend)
			var st store.Store
			var out outage
			if backend == "postgres" {
				dsn, proxy := pgThrough(t, url)
				st, out = openTestStore(t, dsn), proxy
			} else {
				down := newDownStore(t, openTestStore(t, url))
				st, out = down, down
			}
			gate := newRatioGate(t, sandbox.Config{})
			s := newServed(t, st, gate, flow.Options{})
			const downFor = 3 * time.Second
			var outages atomic.Int32
			var cutAfter func(op ratio.Op) func()
			cutAfter = func(op ratio.Op) func() {
				return func() {
					out.cut(downFor)
					if outages.Add(1) == 1 {
						time.AfterFunc(downFor+500*time.Millisecond, func() {
							gate.set(ratio.OpAuthenticateSMS, "", delayAnswer, cutAfter(ratio.OpAuthenticateSMS))
						})
					}
				}
			}
			gate.set(ratio.OpAuthenticateEmail, "", delayAnswer, cutAfter(ratio.OpAuthenticateEmail))
			c := flyCrowd(ctx, t, gate, "outage", func() string { return s.url })
			if n := outages.Load(); n != 2 {
				t.Errorf("the store went down %d times during the flights, want 2", n)
			}
			codes, sigs := c.check(t, gate)
			if codes+sigs > 0 || c.tally.lost() {
				t.Errorf("codes wasted %d, new signatures %d; %s", codes, sigs, &c.tally)
			}
			t.Logf("%s: store down twice for %s under %d flows (%d at once), %s: codes wasted %d, new signatures %d; %s",
				backend, downFor, crowdSize, crowdConcurrency, c.took.Round(100*time.Millisecond), codes, sigs, &c.tally)
		})
	}
}

// TestChaos_ServeKilledThreeTimes: while 200 people link their wallets
// through a serve child, serve is killed (SIGKILL) three times, each time
// just after Ratio answered an authentication (wallet, SMS, email) and
// with other steps in flight, and restarted on the same store. No attempt
// is spent on a code Ratio had taken, no signature refused as invalid,
// every flow links, none twice, and no wallet is added twice.
func TestChaos_ServeKilledThreeTimes(t *testing.T) {
	needChaos(t)
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			gate := newRatioGate(t, sandbox.Config{})
			serve := startServeChildren(t, newStoreURL(t, backend), gate.url, "--pending-timeout", childPendingTimeout)
			kills := []ratio.Op{ratio.OpAuthenticateWallet, ratio.OpAuthenticateSMS, ratio.OpAuthenticateEmail}
			var killed atomic.Int32
			stop := make(chan struct{})
			go func() { // a kill when 40, 90 and 140 flows have linked
				for k, op := range kills {
					for len(gate.sandbox.Stats().AddToUser) < 40+50*k {
						select {
						case <-stop:
							return
						case <-time.After(20 * time.Millisecond):
						}
					}
					gate.set(op, "", delayAnswer, func() { serve.restart(); killed.Add(1) })
				}
			}()
			c := flyCrowd(ctx, t, gate, "chaos", serve.URL)
			close(stop)
			if n := killed.Load(); n != 3 {
				t.Errorf("serve was killed %d times during the flights, want 3", n)
			}
			codes, sigs := c.check(t, gate)
			t.Logf("%s: serve killed %d times under %d flows (%d at once), %s: attempts spent %d, codes wasted %d, new signatures %d; %s",
				backend, killed.Load(), crowdSize, crowdConcurrency, c.took.Round(100*time.Millisecond), c.tally.attemptsSpent, codes, sigs, &c.tally)
		})
	}
}

package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/internal/pgtest"
	"github.com/ratioflow/ratioflow/internal/pilot"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/transitions"
)

// TestMultiReplicaEngines runs the link flow as a service behind a load
// balancer would: four engine replicas, each with its own pgxpool on one
// PostgreSQL, 500 flows advanced concurrently, every step of a flow served
// by a replica picked at random, and one step in five delivered twice at
// once to two replicas (a client retrying). Every flow must end Linked
// with no wallet added twice, and every history must be one unbroken
// chain: each transition starts in the state the previous one reached.
func TestMultiReplicaEngines(t *testing.T) {
	const (
		replicas = 4
		flows    = 500
		workers  = 32
	)
	dsn := pgtest.Schema(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()

	sb := sandbox.NewHandler(sandbox.Config{})
	srv := httptest.NewServer(sb)
	defer srv.Close()
	key := []byte("multi-replica-seal-key-32-bytes!")
	engines := make([]*flow.Engine, replicas)
	for i := range engines {
		client := ratio.NewClient(srv.URL, "replicas", "secret")
		// Two tabs racing through a flow sometimes submit a code the other
		// tab's send replaced; the pilot then asks for a new one, which the
		// default cooldown between sends (30s) would hold back.
		e, err := flow.New(openStore(t, dsn), client, key,
			flow.Options{Policy: flow.Policy{ResendCooldown: 100 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		engines[i] = e
	}
	personas := make([]pilot.Persona, flows)
	for i := range personas {
		k, _ := crypto.GenerateKey()
		personas[i] = pilot.Persona{Key: k, Phone: fmt.Sprintf("+1202%03d%04d", 300+i/10000, i%10000),
			Email: fmt.Sprintf("replica%d@example.com", i), FirstName: "Ada", LastName: "Lovelace", Country: "US"}
		if _, err := sb.SeedUser(sandbox.UserSeed{PhoneNumber: personas[i].Phone,
			EmailAddress: personas[i].Email, FirstName: "Ada", LastName: "Lovelace", Country: "US"}); err != nil {
			t.Fatal(err)
		}
	}

	var (
		mu       sync.Mutex
		ids      = make([]string, flows)
		failures []error
		racers   sync.WaitGroup
		raced    atomic.Int64
		lost     atomic.Int64 // steps that lost a race to the other client
	)
	fly := func(i int, p *pilot.Pilot, run func() (*flow.View, error)) {
		v, err := run()
		mu.Lock()
		defer mu.Unlock()
		if err != nil || v.State != states.Linked {
			failures = append(failures, fmt.Errorf("flow %d: %v, %v", i, v, err))
		} else {
			ids[i] = v.ID
		}
	}
	newPilot := func(i int) *pilot.Pilot {
		p := &pilot.Pilot{Engine: engines[rand.IntN(replicas)], Subject: fmt.Sprintf("user-%d", i),
			Persona: personas[i], Codes: pilot.SandboxCodes{Sandbox: sb}}
		// Each request of this user lands on any replica.
		p.Observe = func(s pilot.Step) {
			p.Engine = engines[rand.IntN(replicas)]
			if errors.Is(s.Err, flow.ErrConcurrentStep) || errors.Is(s.Err, flow.ErrNotPermitted) {
				lost.Add(1)
			}
		}
		return p
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				p := newPilot(i)
				if i%5 == 0 {
					// A second tab races the first through the same flow.
					first := p.Observe
					var once sync.Once
					p.Observe = func(s pilot.Step) {
						first(s)
						once.Do(func() {
							raced.Add(1)
							racers.Go(func() {
								q := newPilot(i)
								fly(i, q, func() (*flow.View, error) { return q.Resume(ctx, s.View.ID) })
							})
						})
					}
				}
				fly(i, p, func() (*flow.View, error) { return p.Fly(ctx, transitions.KindLink) })
			}
		})
	}
	for i := range flows {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	racers.Wait()
	for _, err := range failures {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	stats := sb.Stats()
	for i, id := range ids {
		if n := stats.AddToUser[personas[i].Wallet()]; n != 1 {
			t.Errorf("flow %s: wallet added %d times, want 1", id, n)
		}
		hist, err := engines[i%replicas].History(ctx, id, fmt.Sprintf("user-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		for j, e := range hist {
			if e.Seq != int64(j+1) {
				t.Errorf("flow %s: entry %d has Seq %d", id, j, e.Seq)
			}
			if j > 0 && e.From != hist[j-1].To {
				t.Errorf("flow %s: entry %d starts in %s, the previous ended in %s", id, j, e.From, hist[j-1].To)
			}
		}
	}
	t.Logf("%d flows on %d replicas, %d of them raced by a second client; %d steps lost a race and reloaded",
		flows, replicas, raced.Load(), lost.Load())
}

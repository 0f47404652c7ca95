package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
)

// ratioGate stands between serve and the sandbox, as the network between
// a service and Ratio: it counts Ratio's answers by operation and status,
// and it springs traps set on one call of an operation, to hold the call
// before Ratio sees it, or to lose Ratio's answer on its way back.
type ratioGate struct {
	sandbox *sandbox.Handler
	url     string

	mu sync.Mutex // guards answers and traps
	// answers counts the answers Ratio gave, by "route status".
	answers map[string]int
	// sent counts the codes Ratio sent, by phone number or email address.
	sent  map[string]int
	traps []*trap
}

// trapMode says what a trap does with the call it catches.
type trapMode int

const (
	// holdCall keeps the call from Ratio until the trap is released; a
	// call whose caller gives up first never reaches Ratio.
	holdCall trapMode = iota
	// loseAnswer lets Ratio answer, then holds the answer until the trap
	// is released and drops the connection: the answer never arrives.
	loseAnswer
	// delayAnswer lets Ratio answer, runs the trap's then, and only then
	// sends the answer back.
	delayAnswer
)

// trap catches the first call of op whose path or body holds marker (any
// call of op for an empty marker).
type trap struct {
	op     ratio.Op
	marker string
	mode   trapMode
	// then runs, for delayAnswer, between Ratio's answer and its sending.
	then func()

	caught   chan struct{} // closed when a call is caught
	answered chan struct{} // closed once Ratio answered it (not for holdCall)
	release  chan struct{} // closed by Release
	dropped  chan struct{} // closed when a held call's caller gave up first
	once     sync.Once
}

// Release lets a held call reach Ratio, or a lost answer's connection drop.
func (tr *trap) Release() { tr.once.Do(func() { close(tr.release) }) }

// newRatioGate starts a sandbox behind a gate on a loopback port, closed
// when the test ends.
func newRatioGate(tb testing.TB, cfg sandbox.Config) *ratioGate {
	g := &ratioGate{sandbox: sandbox.NewHandler(cfg), answers: map[string]int{}, sent: map[string]int{}}
	srv := httptest.NewServer(g)
	tb.Cleanup(func() {
		g.mu.Lock()
		for _, tr := range g.traps {
			tr.Release()
		}
		g.mu.Unlock()
		srv.Close()
	})
	g.url = srv.URL
	return g
}

// set arms a trap on the next call of op whose path or body holds
// marker.
func (g *ratioGate) set(op ratio.Op, marker string, mode trapMode, then func()) *trap {
	tr := &trap{op: op, marker: strings.ToLower(marker), mode: mode, then: then, caught: make(chan struct{}),
		answered: make(chan struct{}), release: make(chan struct{}), dropped: make(chan struct{})}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.traps = append(g.traps, tr)
	return tr
}

// spring returns the trap the call of op to path with body catches,
// removing it.
func (g *ratioGate) spring(op ratio.Op, path string, body []byte) *trap {
	lower := strings.ToLower(path + " " + string(body))
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, tr := range g.traps {
		if tr.op == op && strings.Contains(lower, tr.marker) {
			g.traps = append(g.traps[:i], g.traps[i+1:]...)
			return tr
		}
	}
	return nil
}

// count counts Ratio's answer status to a call of op with body.
func (g *ratioGate) count(op ratio.Op, body []byte, status int) {
	var to struct{ PhoneNumber, EmailAddress string }
	if status/100 == 2 && (op == ratio.OpSendSMS || op == ratio.OpSendEmail) {
		_ = json.Unmarshal(body, &to)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.answers[fmt.Sprintf("%s %d", op.Route(), status)]++
	if dest := to.PhoneNumber + to.EmailAddress; dest != "" {
		g.sent[strings.ToLower(dest)]++
	}
}

// sentTo returns how many codes Ratio sent to a phone number or an email
// address.
func (g *ratioGate) sentTo(to string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.sent[strings.ToLower(to)]
}

// counts returns a copy of the answer counters.
func (g *ratioGate) counts() map[string]int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return maps.Clone(g.answers)
}

// ServeHTTP passes a call to the sandbox, through the trap it springs.
func (g *ratioGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := opOf(r)
	if !ok {
		g.sandbox.ServeHTTP(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	tr := g.spring(op, r.URL.Path, body)
	if tr != nil {
		close(tr.caught)
	}
	if tr != nil && tr.mode == holdCall {
		select {
		case <-tr.release:
		case <-r.Context().Done():
			close(tr.dropped)
			return
		}
	}
	rec := httptest.NewRecorder()
	g.sandbox.ServeHTTP(rec, r)
	g.count(op, body, rec.Code)
	if tr != nil && tr.mode != holdCall {
		close(tr.answered)
		if tr.mode == delayAnswer {
			tr.then()
		} else {
			<-tr.release
			panic(http.ErrAbortHandler) // the connection drops without an reply
		}
	}
	maps.Copy(w.Header(), rec.Header())
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// opOf tells the Ratio operation a request calls.
func opOf(r *http.Request) (ratio.Op, bool) {
	for _, op := range ratio.Ops() {
		if r.Method != op.Method() {
			continue
		}
		switch op {
		case ratio.OpGetUser:
			if strings.HasPrefix(r.URL.Path, "/v1/users/") && !strings.HasSuffix(r.URL.Path, "/wallets") {
				return op, true
			}
		case ratio.OpListWallets:
			if strings.HasPrefix(r.URL.Path, "/v1/users/") && strings.HasSuffix(r.URL.Path, "/wallets") {
				return op, true
			}
		default:
			if r.URL.Path == op.Path() {
				return op, true
			}
		}
	}
	return "", false
}

// count429 returns how many 429s Ratio answered to calls of op.
func (g *ratioGate) count429(op ratio.Op) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.answers[fmt.Sprintf("%s %d", op.Route(), http.StatusTooManyRequests)]
}

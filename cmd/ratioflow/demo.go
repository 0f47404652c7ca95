package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/internal/pilot"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
	"github.com/ratioflow/ratioflow/states"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/transitions"
	"github.com/ratioflow/ratioflow/visualize"
)

const demoAbout = `
Fly one flow end to end, printing each step as it happens: the state, the
Ratio call, its outcome and timing, then the path taken, state by state
(--mermaid adds its Mermaid diagrams: the overview with the path drawn on
it, and the sequence). With no flags it starts a Ratio sandbox in this process, seeds the
user the flow needs (an existing user for link and link-factors-first, one
with the wallet linked for signin, nobody for signup), creates a fresh
Ethereum key as the wallet, and stores the flow in SQLite in the temporary
directory. The link flow takes the conflict branch: 409 on the phone, the
user confirms, SMS first, a forced 429 and its back-off, email, addToUser.

With --ratio (or RATIO_BASE_URL) naming a 'ratioflow sandbox', the demo
seeds it and reads the codes over HTTP. Naming Ratio itself (credentials in
RATIO_CLIENT_ID and RATIO_CLIENT_SECRET), it asks you for your phone number,
email and each code you receive.

Without RATIOFLOW_SEAL_KEYS or RATIOFLOW_SEAL_KEY the key sealing the flow's data is kept next to a
SQLite store (PATH.key), so that 'ratioflow flows show ID' can open it later.`

// demoEnd is the state each flow's demo must end in.
var demoEnd = map[transitions.Kind]states.State{
	transitions.KindLink:             states.Linked,
	transitions.KindLinkFactorsFirst: states.Linked,
	transitions.KindSignIn:           states.SignedIn,
	transitions.KindSignUp:           states.UserCreated,
}

// demo is one run of the demo command.
type demo struct {
	env      *env
	flow     *transitions.Flow
	ratio    *ratioTarget
	storeURL string
	store    store.Store
	key      *sealKey
	engine   *flow.Engine
	persona  pilot.Persona
	out      stepPrinter
	// forced is set once the demo has forced its 429.
	forced bool
	// mermaid asks for the path's Mermaid diagrams after its text trace.
	mermaid bool
}

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "demo", "[--flow NAME] [--store URL] [--ratio URL] [--json] [--mermaid]", demoAbout)
	kind := fs.String("flow", string(transitions.KindLink), "the flow to fly: "+kindList())
	storeURL := fs.String("store", "", "store URL (default $"+envStore+", else "+defaultStore()+")")
	ratioURL := fs.String("ratio", "", "Ratio or sandbox base URL (default $"+envRatioURL+", else a sandbox in this process)")
	jsonOut := fs.Bool("json", false, "print one JSON object per step, then the flow's final view")
	mermaid := fs.Bool("mermaid", false, "end with the path's Mermaid diagrams (state and sequence)")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	f, err := lookupFlow("demo", *kind, false)
	if err != nil {
		return err
	}
	d := &demo{env: e, flow: f, storeURL: storeOrDefault(e, *storeURL), mermaid: *mermaid}
	if *jsonOut {
		d.out = &jsonSteps{w: e.stdout}
	} else {
		d.out = &textSteps{w: e.stdout, flow: f}
	}
	defer d.close()
	if err := d.setUp(ctx, *ratioURL); err != nil {
		return err
	}
	return d.fly(ctx)
}

// setUp finds Ratio, opens the store and the seal key, and prepares the
// person and the engine.
func (d *demo) setUp(ctx context.Context, ratioURL string) error {
	var err error
	if d.ratio, err = openRatio(ctx, d.env.getenv, ratioURL, sandbox.Config{}); err != nil {
		return err
	}
	if d.store, err = openStore(ctx, d.storeURL); err != nil {
		return err
	}
	if d.key, err = resolveSealKey(d.env.getenv, d.storeURL, true); err != nil {
		return err
	}
	if d.ratio.mode == realRatio {
		err = d.askPersona()
	} else {
		err = d.seedPersona(ctx)
	}
	if err != nil {
		return err
	}
	client := d.ratio.client()
	// A Retry-After longer than a second comes back to the engine, which
	// schedules the back-off and lets the pilot wait it out: the demo's
	// forced 429 asks for two.
	client.MaxRetryAfter = time.Second
	d.engine, err = flow.New(d.store, client, nil, d.key.options(flow.Options{}))
	return err
}

func (d *demo) close() {
	if d.store != nil {
		d.store.Close()
	}
	if d.ratio != nil {
		d.ratio.Close()
	}
}

// seedPersona makes up a person and seeds the sandbox with what the flow
// needs.
func (d *demo) seedPersona(ctx context.Context) error {
	var err error
	for range 3 { // a random phone number may, rarely, be taken in a shared sandbox
		if d.persona, err = randomPersona(); err != nil {
			return err
		}
		if !needsUser(d.flow.Kind) {
			return nil
		}
		if err = d.ratio.seedUser(ctx, userSeed(d.persona, d.flow.Kind)); !errors.Is(err, ratio.ErrConflict) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("seed the sandbox's user: %w", err)
	}
	return nil
}

// fly runs the flow with a pilot and prints it.
func (d *demo) fly(ctx context.Context) error {
	d.out.header(d)
	p := &pilot.Pilot{
		Engine: d.engine, Codes: d.ratio.codes(d.env.input(), d.env.stderr),
		Subject: "demo-" + strings.ToLower(d.persona.Wallet()[2:10]), Persona: d.persona,
		Observe: func(s pilot.Step) { d.observe(ctx, s) },
	}
	start := time.Now()
	v, err := p.Fly(ctx, d.flow.Kind)
	elapsed := time.Since(start)
	if err != nil {
		if v != nil {
			return fmt.Errorf("flow %s stopped in %s: %w", v.ID, v.State, err)
		}
		return err
	}
	if want := demoEnd[d.flow.Kind]; v.State != want {
		return fmt.Errorf("flow %s ended in %s, not %s%s", v.ID, v.State, want, lastMessage(v))
	}
	rec, err := d.store.Get(ctx, v.ID)
	if err != nil {
		return fmt.Errorf("read the flow back: %w", err)
	}
	hist, err := d.store.History(ctx, v.ID)
	if err != nil {
		return fmt.Errorf("read the flow's history: %w", err)
	}
	path := visualize.TextTrace(d.flow, rec, hist)
	if d.mermaid {
		path += "\n```mermaid\n" + visualize.AuditState(d.flow, rec, hist) + "```\n" +
			"\n```mermaid\n" + visualize.AuditSequence(d.flow, rec, hist) + "```\n"
	}
	return d.out.end(d, v, elapsed, path)
}

// observe prints a step's audit entries and, in the link flow against a
// sandbox, forces the 429 of the story right after the 409.
func (d *demo) observe(ctx context.Context, s pilot.Step) {
	d.out.step(s)
	if d.flow.Kind == transitions.KindLink && d.ratio.mode != realRatio && !d.forced && s.View.State == states.PhoneConflict {
		d.forced = true
		if err := d.ratio.forceRateLimit(ctx, ratio.OpSendSMS, 1, 2*time.Second); err != nil {
			fmt.Fprintf(d.env.stderr, "warning: could not force the 429: %v\n", err)
		}
	}
}

func lastMessage(v *flow.View) string {
	if v.Last == nil || v.Last.Message == "" {
		return ""
	}
	return ": " + v.Last.Message
}

// askPersona asks the person at the terminal who they are, for a demo
// against Ratio itself: the codes will reach their phone and inbox.
func (d *demo) askPersona() error {
	if d.flow.Kind == transitions.KindSignIn {
		return errors.New("demo --flow signin against Ratio needs a wallet already linked to your account, " +
			"and the demo makes a fresh one: run --flow link first, against a sandbox")
	}
	var err error
	if d.persona, err = randomPersona(); err != nil {
		return err
	}
	w := d.env.stderr
	fmt.Fprintf(w, "%s is Ratio itself: the codes go to your phone and inbox.\n", d.ratio.url)
	ask := func(prompt string, check func(string) (string, error)) (string, error) {
		fmt.Fprint(w, prompt)
		line, err := d.env.input().ReadString('\n')
		line = strings.TrimSpace(line)
		if line == "" && err != nil {
			return "", fmt.Errorf("read the answer: %w", err)
		}
		return check(line)
	}
	if d.persona.Phone, err = ask("Your phone number (US, E.164, e.g. +12025550123): ", ratio.NormalizePhone); err != nil {
		return err
	}
	if d.persona.Email, err = ask("Your email address: ", func(s string) (string, error) { return s, ratio.CheckEmail(s) }); err != nil {
		return err
	}
	if d.flow.Kind == transitions.KindSignUp {
		name := func(s string) (string, error) { return s, ratio.CheckName("name", s, false) }
		if d.persona.FirstName, err = ask("First name: ", name); err != nil {
			return err
		}
		if d.persona.LastName, err = ask("Last name: ", name); err != nil {
			return err
		}
	}
	return nil
}

// lookupFlow returns the declared flow named s ("all" too when all is set:
// nil then).
func lookupFlow(cmd, s string, all bool) (*transitions.Flow, error) {
	if all && s == "all" {
		return nil, nil
	}
	f, ok := transitions.Lookup(transitions.Kind(s))
	if !ok {
		list := kindList()
		if all {
			list += ", all"
		}
		return nil, usageErrorf(cmd, "--flow %q: no such flow (flows: %s)", s, list)
	}
	return f, nil
}

func kindList() string {
	var ks []string
	for _, k := range transitions.Kinds() {
		ks = append(ks, string(k))
	}
	return strings.Join(ks, ", ")
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/ratioflow/ratioflow/internal/pilot"
	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
)

// Where Ratio is, for demo, serve, flows and bench.
type ratioMode int

const (
	inProcess     ratioMode = iota // a sandbox this process started on loopback
	remoteSandbox                  // a sandbox another process serves (ratioflow sandbox)
	realRatio                      // anything without the sandbox's hooks: Ratio itself
)

// ratioTarget is the Ratio a command talks to, with the sandbox's hooks
// when it is one.
type ratioTarget struct {
	mode    ratioMode
	url     string
	id      string
	secret  ratio.Secret
	handler *sandbox.Handler // in-process only
	srv     *http.Server     // in-process only
	hc      *http.Client     // for the /_sandbox/ hooks
}

const (
	envRatioURL    = "RATIO_BASE_URL"
	envRatioID     = "RATIO_CLIENT_ID"
	envRatioSecret = "RATIO_CLIENT_SECRET"
)

// openRatio finds Ratio: the --ratio flag, else RATIO_BASE_URL, else a
// sandbox started in-process on 127.0.0.1 with cfg. A URL that serves
// GET /_sandbox/stats is a sandbox; any other is taken for Ratio itself,
// which needs RATIO_CLIENT_ID and RATIO_CLIENT_SECRET. The caller closes
// the target.
func openRatio(ctx context.Context, getenv func(string) string, flagURL string, cfg sandbox.Config) (*ratioTarget, error) {
	url := strings.TrimRight(firstNonEmpty(flagURL, getenv(envRatioURL)), "/")
	t := &ratioTarget{url: url, id: getenv(envRatioID), secret: ratio.Secret(getenv(envRatioSecret)),
		hc: &http.Client{Timeout: 10 * time.Second}}
	if url == "" {
		return t, t.startInProcess(cfg)
	}
	isSandbox, err := probeSandbox(ctx, t.hc, url)
	if err != nil {
		return nil, err
	}
	if isSandbox {
		t.mode = remoteSandbox
		t.id, t.secret = firstNonEmpty(t.id, "ratioflow"), ratio.Secret(firstNonEmpty(string(t.secret), "sandbox"))
		return t, nil
	}
	t.mode = realRatio
	if t.id == "" || t.secret.IsZero() {
		return nil, fmt.Errorf("%s is not a sandbox (it has no /_sandbox/ hooks): calling Ratio needs %s and %s in the environment",
			url, envRatioID, envRatioSecret)
	}
	return t, nil
}

// startInProcess serves a new sandbox on a loopback port, so that the
// engine's client pays for real HTTP as it would against Ratio.
func (t *ratioTarget) startInProcess(cfg sandbox.Config) error {
	cfg.ClientID, cfg.ClientSecret = "ratioflow", "in-process"
	t.mode, t.id, t.secret = inProcess, cfg.ClientID, ratio.Secret(cfg.ClientSecret)
	t.handler = sandbox.NewHandler(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("start the sandbox: %w", err)
	}
	t.url = "http://" + ln.Addr().String()
	t.srv = &http.Server{Handler: t.handler, ReadHeaderTimeout: 10 * time.Second}
	go t.srv.Serve(ln)
	return nil
}

// probeSandbox reports whether url serves the sandbox's hooks.
func probeSandbox(ctx context.Context, hc *http.Client, url string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/_sandbox/stats", nil)
	if err != nil {
		return false, fmt.Errorf("Ratio URL %q: %w", url, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false, fmt.Errorf("Ratio at %s does not answer: %w", url, unwrapURLError(err))
	}
	defer resp.Body.Close()
	var stats struct {
		Calls map[string]int `json:"calls"`
	}
	err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&stats)
	return resp.StatusCode == http.StatusOK && err == nil && stats.Calls != nil, nil
}

func unwrapURLError(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return op
	}
	return err
}

// Close stops an in-process sandbox.
func (t *ratioTarget) Close() error {
	if t.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return t.srv.Shutdown(ctx)
}

// describe says where Ratio is, for headers and logs.
func (t *ratioTarget) describe() string {
	switch t.mode {
	case inProcess:
		return "sandbox in this process at " + t.url
	case remoteSandbox:
		return "sandbox at " + t.url
	}
	return "Ratio at " + t.url
}

// client returns a Ratio client for the target.
func (t *ratioTarget) client() *ratio.Client { return ratio.NewClient(t.url, t.id, t.secret) }

// codes reads the one-time codes: from the sandbox, or from the person at
// the terminal when this is Ratio itself.
func (t *ratioTarget) codes(in *bufio.Reader, out io.Writer) pilot.Codes {
	switch t.mode {
	case inProcess:
		return pilot.SandboxCodes{Sandbox: t.handler}
	case remoteSandbox:
		return pilot.HTTPCodes{BaseURL: t.url, Client: t.hc}
	}
	return pilot.PromptCodes{In: in, Out: out}
}

// seedUser creates a user in the sandbox, as if they had signed up earlier.
func (t *ratioTarget) seedUser(ctx context.Context, seed sandbox.UserSeed) error {
	switch t.mode {
	case inProcess:
		_, err := t.handler.SeedUser(seed)
		return err
	case remoteSandbox:
		return t.hook(ctx, http.MethodPost, "users", seed, nil)
	}
	return errors.New("only a sandbox can be seeded with users")
}

// forceRateLimit makes the sandbox answer 429 to the next n calls of op.
func (t *ratioTarget) forceRateLimit(ctx context.Context, op ratio.Op, n int, retryAfter time.Duration) error {
	switch t.mode {
	case inProcess:
		t.handler.ForceRateLimit(op, n, retryAfter)
		return nil
	case remoteSandbox:
		body := map[string]any{"op": op, "count": n, "status": http.StatusTooManyRequests,
			"retryAfterSeconds": int((retryAfter + time.Second - 1) / time.Second)}
		return t.hook(ctx, http.MethodPost, "faults", body, nil)
	}
	return errors.New("only a sandbox takes faults")
}

// setLatency makes the sandbox take d of real time to answer every call
// of Ratio's API (d <= 0: at once), as Ratio itself takes tens to hundreds
// of milliseconds.
func (t *ratioTarget) setLatency(ctx context.Context, d time.Duration) error {
	for _, op := range ratio.Ops() {
		switch t.mode {
		case inProcess:
			t.handler.SetLatency(op, d)
		case remoteSandbox:
			ms := int(max(d, 0) / time.Millisecond)
			if err := t.hook(ctx, http.MethodPost, "faults", map[string]any{"op": op, "latencyMs": ms}, nil); err != nil {
				return err
			}
		default:
			return errors.New("only a sandbox takes a latency")
		}
	}
	return nil
}

// stats returns the sandbox's call counters.
func (t *ratioTarget) stats(ctx context.Context) (sandbox.Stats, error) {
	var s sandbox.Stats
	switch t.mode {
	case inProcess:
		return t.handler.Stats(), nil
	case remoteSandbox:
		err := t.hook(ctx, http.MethodGet, "stats", nil, &s)
		return s, err
	}
	return s, errors.New("only a sandbox counts calls")
}

// hook calls one of the sandbox's /_sandbox/ hooks.
func (t *ratioTarget) hook(ctx context.Context, method, name string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, t.url+"/_sandbox/"+name, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := t.hc.Do(req)
	if err != nil {
		return fmt.Errorf("sandbox %s: %w", name, unwrapURLError(err))
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 300 {
		var eb ratio.ErrorBody
		_ = json.Unmarshal(data, &eb)
		return &ratio.APIError{Status: resp.StatusCode, Code: eb.Code, Message: eb.Message}
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

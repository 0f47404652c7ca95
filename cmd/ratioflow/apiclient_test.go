package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/ratioflow/ratioflow/flow"
)

// apiClient is a wallet app's backend calling serve's flow API over HTTP
// for one subject. base returns where serve is now: a test that restarts
// serve moves it.
type apiClient struct {
	base    func() string
	subject string
	hc      *http.Client
}

// reply is what one request to the flow API got.
type reply struct {
	status int
	// view is the flow's view: the body of a 2xx, else the problem's flow.
	view     flow.View
	prob     problemDoc
	raw      string
	replayed bool
	// err is set when no answer arrived.
	err error
}

// problemDoc is the part of a problem+json answer the tests read.
type problemDoc struct {
	Code         string     `json:"code"`
	Field        string     `json:"field"`
	RetryAfter   int        `json:"retryAfter"`
	AttemptsLeft *int       `json:"attemptsLeft"`
	Flow         *flow.View `json:"flow"`
	// header is the Retry-After header, in seconds (0 if none).
	header int
}

func (a reply) String() string {
	if a.err != nil {
		return "no answer: " + a.err.Error()
	}
	return fmt.Sprintf("%d %s (replayed %v)", a.status, a.raw, a.replayed)
}

// ok reports whether the request succeeded.
func (a reply) ok() bool { return a.err == nil && a.status/100 == 2 }

// do sends one request; key is its Idempotency-Key, if any.
func (c *apiClient) do(ctx context.Context, method, path, key string, body any) reply {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base()+path, r)
	if err != nil {
		return reply{err: err}
	}
	req.Header.Set(subjectHeader, c.subject)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	hc := c.hc
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{err: err}
	}
	a := reply{status: resp.StatusCode, raw: string(raw), replayed: resp.Header.Get("Idempotent-Replayed") == "true"}
	if a.status/100 == 2 {
		_ = json.Unmarshal(raw, &a.view)
		return a
	}
	_ = json.Unmarshal(raw, &a.prob)
	a.prob.header, _ = strconv.Atoi(resp.Header.Get("Retry-After"))
	if a.prob.Flow != nil {
		a.view = *a.prob.Flow
	}
	return a
}

// newKey returns a fresh Idempotency-Key.
func newKey() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

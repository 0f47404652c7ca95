package ratio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
)

// Defaults NewClient sets.
const (
	DefaultRetryMax      = 4
	DefaultRetryWaitMin  = 200 * time.Millisecond
	DefaultRetryWaitMax  = 5 * time.Second
	DefaultMaxRetryAfter = 30 * time.Second
	DefaultRetryBudget   = 2 * time.Second
	DefaultTimeout       = 30 * time.Second
	DefaultUserAgent     = "ratioflow (+https://github.com/ratioflow/ratioflow)"
)

// HeaderRefresh is the response header in which Ratio sends a fresh
// session JWT when the one sent nears expiry.
const HeaderRefresh = "ratio-authentication-refresh"

// maxBody caps the bytes read from one response: Ratio's answers are a
// few hundred bytes.
const maxBody = 1 << 20

// Client is Ratio's HTTP API client. It implements API.
//
// The exported fields are optional; NewClient sets them to the defaults
// above. They are read once, at the first call: set them before it and do
// not change them afterwards. A Client is safe for concurrent use.
type Client struct {
	// HTTPClient sends the requests. The default has a 30 s timeout per
	// attempt and follows no redirect (a redirect would carry the client
	// secret elsewhere; the 3xx is returned as an *APIError instead): give
	// one you supply the same CheckRedirect. Each attempt's timeout is its
	// own: use the context to bound a whole call.
	HTTPClient *http.Client
	// RetryMax is the most retries after the first request; 0 disables
	// retrying.
	RetryMax int
	// RetryWaitMin and RetryWaitMax bound the exponential back-off between
	// attempts (zero means the default). Retry-After may ask for more than
	// RetryWaitMax: the client waits up to MaxRetryAfter.
	RetryWaitMin, RetryWaitMax time.Duration
	// MaxRetryAfter is the longest Retry-After the client will sleep
	// (zero means the default). A longer one ends the call at once with
	// the *APIError, whose RetryAfter tells the caller when to try again.
	MaxRetryAfter time.Duration
	// RetryBudget bounds the total time one call spends waiting between
	// its attempts (zero means the default, 2 s). A retry whose wait would
	// overrun it is not made: the call ends with the last answer, so a
	// persistent 429 reaches the caller as an *APIError carrying Ratio's
	// RetryAfter at once instead of holding it for a minute. A person
	// waiting on a step is better told when to try again.
	RetryBudget time.Duration
	// RetryPolicy decides which failed attempts are tried again; nil means
	// DefaultRetryPolicy. Whatever it answers, the client never repeats a
	// side effect that may have been applied.
	RetryPolicy RetryPolicy
	// Logger receives a record of each request, answer, retry decision and
	// outcome: operation, attempt, status, error code and wait, never a
	// header, a body or a query string. Nil logs nothing.
	Logger *slog.Logger
	// UserAgent is sent as User-Agent.
	UserAgent string
	// Propagator writes the caller's trace context (W3C traceparent) into
	// every request, so that Ratio's side of a call can join its trace; nil
	// means the global one, otel.GetTextMapPropagator(), which writes
	// nothing until a service sets one.
	Propagator propagation.TextMapPropagator

	baseURL      string
	clientID     string
	clientSecret Secret

	once sync.Once
	conf *config // resolved from the fields above by the first call
}

func (c *Client) propagator() propagation.TextMapPropagator {
	if c.Propagator != nil {
		return c.Propagator
	}
	return otel.GetTextMapPropagator()
}

// String returns "ratio.Client(BASE URL)": printing a client with fmt or
// slog must not show its secret, which fmt would otherwise print from the
// unexported field.
func (c *Client) String() string { return "ratio.Client(" + redactURL(c.baseURL) + ")" }

// GoString is String, for %#v.
func (c *Client) GoString() string { return c.String() }

// config is what the first call resolves from Client's fields.
type config struct {
	base                            string // no trailing slash
	err                             error  // why base is unusable
	httpClient                      *http.Client
	retryMax                        int
	waitMin, waitMax, maxRetryAfter time.Duration
	budget                          time.Duration
	policy                          RetryPolicy
	logger                          *slog.Logger
	userAgent                       string
}

// NewClient returns a client of the Ratio API at baseURL (e.g.
// "https://api.ratio.me" or "https://api.sandbox.ratio.me") that
// identifies itself with clientID and clientSecret (sent as the
// ratio-client-id and ratio-client-secret headers; an empty one is not
// sent). It never fails: an unusable baseURL is reported by every call.
func NewClient(baseURL, clientID string, clientSecret Secret) *Client {
	return &Client{
		HTTPClient:    newHTTPClient(),
		RetryMax:      DefaultRetryMax,
		RetryWaitMin:  DefaultRetryWaitMin,
		RetryWaitMax:  DefaultRetryWaitMax,
		MaxRetryAfter: DefaultMaxRetryAfter,
		RetryPolicy:   DefaultRetryPolicy,
		UserAgent:     DefaultUserAgent,
		baseURL:       baseURL,
		clientID:      clientID,
		clientSecret:  clientSecret,
	}
}

func newHTTPClient() *http.Client {
	return &http.Client{
		Timeout: DefaultTimeout,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   16,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// config resolves the fields once.
func (c *Client) config() *config {
	c.once.Do(func() {
		conf := &config{
			httpClient:    c.HTTPClient,
			retryMax:      max(c.RetryMax, 0),
			waitMin:       orDefault(c.RetryWaitMin, DefaultRetryWaitMin),
			waitMax:       orDefault(c.RetryWaitMax, DefaultRetryWaitMax),
			maxRetryAfter: orDefault(c.MaxRetryAfter, DefaultMaxRetryAfter),
			budget:        orDefault(c.RetryBudget, DefaultRetryBudget),
			policy:        c.RetryPolicy,
			logger:        c.Logger,
			userAgent:     c.UserAgent,
		}
		conf.base, conf.err = checkBaseURL(c.baseURL)
		conf.waitMax = max(conf.waitMax, conf.waitMin)
		if conf.httpClient == nil {
			conf.httpClient = newHTTPClient()
		}
		if conf.policy == nil {
			conf.policy = DefaultRetryPolicy
		}
		if conf.logger == nil {
			conf.logger = slog.New(slog.DiscardHandler)
		}
		if conf.userAgent == "" {
			conf.userAgent = DefaultUserAgent
		}
		c.conf = conf
	})
	return c.conf
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// checkBaseURL returns the base URL without its trailing slash. Its error
// does not repeat the URL, which may hold credentials.
func checkBaseURL(s string) (string, error) {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return "", errors.New("ratio: base URL does not parse")
	case u.Scheme != "http" && u.Scheme != "https":
		return "", errors.New("ratio: base URL must start with http:// or https://")
	case u.Host == "":
		return "", errors.New("ratio: base URL has no host")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", errors.New("ratio: base URL must have no query or fragment")
	}
	return strings.TrimRight(s, "/"), nil
}

// response is every response type: they all embed Meta.
type response interface{ meta() *Meta }

func (m *Meta) meta() *Meta { return m }

// do makes one API call: it sends in (nil for none) as JSON, retrying as
// the policy allows, and decodes a 2xx answer into out.
func (c *Client) do(ctx context.Context, op Op, userID string, jwt Secret, in any, out response) error {
	conf := c.config()
	if conf.err != nil {
		return conf.err
	}
	cl := &call{conf: conf, op: op}
	if err := ctx.Err(); err != nil {
		return cl.fail(err)
	}
	req, err := c.newRequest(ctx, cl, userID, jwt, in)
	if err != nil {
		return err
	}
	resp, err := cl.retryClient().Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return cl.fail(err)
	}
	defer resp.Body.Close()
	data, err := readBody(resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return cl.apiError(resp, data)
	}
	if err != nil {
		return cl.fail(fmt.Errorf("read response: %w", err))
	}
	if err := decode(data, out); err != nil {
		return cl.fail(err)
	}
	*out.meta() = Meta{RefreshedJWT: Secret(resp.Header.Get(HeaderRefresh)), Attempts: cl.attempts}
	cl.logDone(ctx, resp.StatusCode)
	return nil
}

// newRequest builds the request with Ratio's headers and a trace that
// tells the call whether each attempt got a connection.
func (c *Client) newRequest(ctx context.Context, cl *call, userID string, jwt Secret, in any) (*retryablehttp.Request, error) {
	var body any // an untyped nil for no body
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("ratio: %s: encode request: %w", cl.op.Route(), err)
		}
		body = b
	}
	path := strings.Replace(cl.op.Path(), "{userId}", url.PathEscape(userID), 1)
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(httptrace.GotConnInfo) { cl.connected.Store(true) },
	})
	req, err := retryablehttp.NewRequestWithContext(ctx, cl.op.Method(), cl.conf.base+path, body)
	if err != nil {
		return nil, fmt.Errorf("ratio: %s: build request: %w", cl.op.Route(), redactError(err))
	}
	h := req.Header
	c.propagator().Inject(ctx, propagation.HeaderCarrier(h))
	h.Set("Accept", "application/json")
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", cl.conf.userAgent)
	if c.clientID != "" {
		h.Set("ratio-client-id", c.clientID)
	}
	if !c.clientSecret.IsZero() {
		h.Set("ratio-client-secret", c.clientSecret.Reveal())
	}
	if !jwt.IsZero() {
		h.Set("Authorization", "Bearer "+jwt.Reveal())
	}
	return req, nil
}

// readBody reads at most maxBody bytes; a longer body is an error.
func readBody(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxBody+1))
	if err == nil && len(data) > maxBody {
		return data[:maxBody], fmt.Errorf("response body exceeds %d bytes", maxBody)
	}
	return data, err
}

// decode fills out from a 2xx body. An empty body (addToUser's answer)
// decodes to nothing; a required field that is missing is an error.
func decode(data []byte, out response) error {
	if len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("decode response: %w", err)
		}
	}
	if r, ok := out.(interface{ missing() string }); ok {
		if f := r.missing(); f != "" {
			return fmt.Errorf("response has no %s", f)
		}
	}
	return nil
}

// redactError removes the query, fragment and user information from the
// URL of a *url.Error (net/http puts the request URL in every transport
// error), so that no error string can carry a secret from a URL.
func redactError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = redactURL(ue.URL)
	}
	return err
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "[unparsable URL]"
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}

package pilot

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
)

// SandboxCodes reads codes from an in-process sandbox.
type SandboxCodes struct{ Sandbox *sandbox.Handler }

// Code returns the last code the sandbox sent to.
func (s SandboxCodes) Code(_ context.Context, to string) (ratio.Secret, error) {
	code, ok := s.Sandbox.LastOTP(to)
	if !ok {
		return "", fmt.Errorf("the sandbox sent no code to %s", to)
	}
	return ratio.Secret(code), nil
}

// HTTPCodes reads codes from a sandbox over HTTP (GET /_sandbox/otp).
type HTTPCodes struct {
	BaseURL string
	Client  *http.Client
}

// Code returns the last code the sandbox at BaseURL sent to.
func (s HTTPCodes) Code(ctx context.Context, to string) (ratio.Secret, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		strings.TrimSuffix(s.BaseURL, "/")+"/_sandbox/otp?to="+url.QueryEscape(to), nil)
	if err != nil {
		return "", err
	}
	c := s.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("read the code from the sandbox: %w", err)
	}
	defer resp.Body.Close()
	var body struct {
		OTP string `json:"otp"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("read the code from the sandbox: status %d", resp.StatusCode)
	}
	return ratio.Secret(body.OTP), nil
}

// PromptCodes asks the person at the terminal for each code, as against
// the real Ratio, where the codes arrive by SMS and email.
type PromptCodes struct {
	In  *bufio.Reader
	Out io.Writer
}

// Code prompts for the code sent to and reads one line.
func (p PromptCodes) Code(ctx context.Context, to string) (ratio.Secret, error) {
	fmt.Fprintf(p.Out, "Enter the code sent to %s: ", to)
	line, err := p.In.ReadString('\n')
	if err != nil && (line == "" || !errors.Is(err, io.EOF)) {
		return "", fmt.Errorf("read the code: %w", err)
	}
	return ratio.Secret(strings.TrimSpace(line)), ctx.Err()
}

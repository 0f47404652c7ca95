package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/ratioflow/ratioflow/ratio"
	"github.com/ratioflow/ratioflow/ratio/sandbox"
)

const sandboxAbout = `
Serve a local fake of Ratio's authentication API (package ratio/sandbox):
the ten operations ratioflow uses, with Ratio's paths and error bodies, and
test hooks under /_sandbox/ (seed users, read the codes sent, count calls,
inject faults). Client credentials: any, unless RATIO_CLIENT_ID and
RATIO_CLIENT_SECRET are set. It listens on loopback only unless
--allow-remote is given, prints its base URL, and stops on Ctrl-C.`

func runSandbox(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "sandbox", "[--addr HOST:PORT]", sandboxAbout)
	addr := fs.String("addr", "127.0.0.1:8547", "address to listen on (port 0 picks a free one)")
	remote := fs.Bool("allow-remote", false, "allow an address other hosts can reach")
	verbose := fs.Bool("v", false, "log every API call (operation, status, error code; never a secret) on stderr")
	noLimit := fs.Bool("no-send-limit", false, "turn off the limit of 5 code sends per phone or email in 10 minutes")
	latency := fs.Duration("latency", 0, "how long to take to answer each call of Ratio's API (0: at once), as Ratio takes tens to hundreds of ms")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	if err := checkLoopback("sandbox", *addr, *remote); err != nil {
		return err
	}
	if *latency < 0 {
		return usageErrorf("sandbox", "--latency must not be negative")
	}
	cfg := sandbox.Config{ClientID: e.getenv(envRatioID), ClientSecret: e.getenv(envRatioSecret)}
	cfg.SendLimit.Off = *noLimit
	if *verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	h := sandbox.NewHandler(cfg)
	for _, op := range ratio.Ops() {
		h.SetLatency(op, *latency)
	}
	fmt.Fprintf(e.stdout, "Ratio sandbox listening on http://%s\n", ln.Addr())
	if *latency > 0 {
		fmt.Fprintf(e.stdout, "  every call answers after %s\n", *latency)
	}
	return serveUntilDone(ctx, ln, h, e.stderr)
}

// checkLoopback refuses an address other hosts can reach, unless allowed.
func checkLoopback(cmd, addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usageErrorf(cmd, "--addr %q: %v", addr, err)
	}
	if allowRemote || host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return usageErrorf(cmd, "--addr %q is reachable from other hosts: use 127.0.0.1, or add --allow-remote", addr)
}

// newServer returns the HTTP server of serve and sandbox. A request has
// 10s to send its headers and 30s to arrive whole, so a client that sends
// slowly cannot hold a connection and its goroutine for ever; a keep-alive
// connection idle for 2 minutes is closed. There is no write timeout: an
// answer waits for its Ratio call (or the sandbox's --latency), which the
// engine's own deadline bounds.
func newServer(h http.Handler, stderr io.Writer) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(slog.NewTextHandler(stderr, nil), slog.LevelError)}
}

// serveUntilDone serves h on ln until ctx is done, then shuts down
// gracefully, letting calls in flight finish.
func serveUntilDone(ctx context.Context, ln net.Listener, h http.Handler, stderr io.Writer) error {
	srv := newServer(h, stderr)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

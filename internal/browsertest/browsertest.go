// Package browsertest starts Debian's Chromium headless for the tests that
// look at a page as a person would, through the DevTools protocol
// (chromedp). Under CI=true a missing Chromium fails the test; elsewhere it
// skips it.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Flags start Chromium headless, quiet and offline, with no sandbox (it
// runs as root in containers) and no GPU.
var Flags = []chromedp.ExecAllocatorOption{
	chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
	chromedp.Flag("disable-background-networking", true),
	chromedp.Flag("disable-component-update", true),
	chromedp.Flag("disable-sync", true),
}

// Missing skips tb, or fails it under CI=true, for want of what.
func Missing(tb testing.TB, what string) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatal(what)
	}
	tb.Skip(what)
}

// Start starts Chromium with Flags, extra and a fresh profile, and returns
// a context of its first tab, which ends after timeout or with the test.
func Start(tb testing.TB, timeout time.Duration, extra ...chromedp.ExecAllocatorOption) context.Context {
	tb.Helper()
	browser, err := exec.LookPath("chromium")
	if err != nil {
		Missing(tb, "chromium is not on PATH; install it with: apt-get install -y chromium")
	}
	opts := append([]chromedp.ExecAllocatorOption{chromedp.ExecPath(browser),
		chromedp.UserDataDir(filepath.Join(tb.TempDir(), "profile"))}, Flags...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(opts, extra...)...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	tb.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// Screenshot saves the page as DIR/name.png when RATIOFLOW_SCREENSHOTS
// names a directory DIR, for a person to look at; otherwise it does
// nothing.
func Screenshot(tb testing.TB, ctx context.Context, name string) {
	tb.Helper()
	dir := os.Getenv("RATIOFLOW_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		tb.Fatal(err)
	}
}

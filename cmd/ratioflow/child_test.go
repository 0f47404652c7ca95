package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// envChaos turns on the scenarios that run serve as a child process and
// kill it (.ci/run sets it); each takes up to about a minute.
const envChaos = "RATIOFLOW_TEST_CHAOS"

// needChaos skips a test unless RATIOFLOW_TEST_CHAOS=1.
func needChaos(t *testing.T) {
	t.Helper()
	if os.Getenv(envChaos) != "1" {
		t.Skipf("kills serve for up to a minute: set %s=1 to run it", envChaos)
	}
}

// childSealKey seals the flows of every serve child of a test, so that a
// child started after a kill opens the flows of the one before.
var childSealKey = strings.Repeat("c4", 32)

// serveChildren runs `ratioflow serve` as a child process (the test binary
// running main, see TestMain) on a store and a Ratio, kills it with
// SIGKILL and starts another on the same store, as a supervisor restarts
// a crashed service. URL is where the live child listens.
type serveChildren struct {
	t          *testing.T
	store, url string // the store, and Ratio's URL
	args       []string
	logs       syncBuffer

	mu   sync.Mutex // guards cmd and exited
	cmd  *exec.Cmd
	done chan struct{}
	base atomic.Value // string: the live child's base URL
}

// startServeChildren starts the first child; the last is killed when the
// test ends.
func startServeChildren(t *testing.T, storeURL, ratioURL string, args ...string) *serveChildren {
	c := &serveChildren{t: t, store: storeURL, url: ratioURL, args: args}
	c.base.Store("http://127.0.0.1:1") // nothing listens there
	if err := c.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.stop()
		if t.Failed() {
			t.Logf("serve's output (last 4 KB):\n%s", c.logs.tail(4096))
		}
	})
	return c
}

// URL returns the base URL of the live child.
func (c *serveChildren) URL() string { return c.base.Load().(string) }

// start runs a child and waits until it listens.
func (c *serveChildren) start() error {
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--store", c.store, "--ratio", c.url}, c.args...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "RATIOFLOW_TEST_MAIN=1", "RATIOFLOW_SEAL_KEY="+childSealKey, "RATIOFLOW_ADMIN_ADDR=127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = &c.logs
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if base, ok := strings.CutPrefix(sc.Text(), "ratioflow serve listening on "); ok {
				listening <- strings.TrimSpace(base)
			}
		}
		_ = cmd.Wait()
		close(done)
	}()
	select {
	case base := <-listening:
		c.base.Store(base)
	case <-done:
		return fmt.Errorf("serve exited before it listened:\n%s", c.logs.tail(4096))
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		return fmt.Errorf("serve did not listen within 30s:\n%s", c.logs.tail(4096))
	}
	c.mu.Lock()
	c.cmd, c.done = cmd, done
	c.mu.Unlock()
	return nil
}

// stop kills the live child with SIGKILL and waits for it to exit.
func (c *serveChildren) stop() {
	c.mu.Lock()
	cmd, done := c.cmd, c.done
	c.cmd = nil
	c.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// restart kills the live child with SIGKILL and starts another on the
// same store. It may be called from any goroutine.
func (c *serveChildren) restart() {
	c.stop()
	if err := c.start(); err != nil {
		c.t.Errorf("restart serve: %v", err)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// tail returns the last n bytes written.
func (s *syncBuffer) tail(n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.b.Bytes()
	return string(b[max(len(b)-n, 0):])
}

var _ io.Writer = (*syncBuffer)(nil)

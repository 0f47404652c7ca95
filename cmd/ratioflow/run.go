package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/ratioflow/ratioflow/store/storeurl"
)

// command is one subcommand.
type command struct {
	name, summary string
	run           func(ctx context.Context, env *env, args []string) error
}

// env is what every subcommand receives from the operating system.
type env struct {
	getenv         func(string) string
	stdin          io.Reader
	stdout, stderr io.Writer
	in             *bufio.Reader // stdin, buffered once for every prompt
}

// input returns stdin as one buffered reader shared by every prompt.
func (e *env) input() *bufio.Reader {
	if e.in == nil {
		e.in = bufio.NewReader(e.stdin)
	}
	return e.in
}

func commands() []command {
	return []command{
		{"demo", "fly a flow end to end against a local Ratio sandbox, step by step", runDemo},
		{"sandbox", "serve the local Ratio sandbox", runSandbox},
		{"serve", "serve the flow API to a wallet app's frontend", runServe},
		{"diagram", "draw the declared flows as Mermaid or DOT diagrams", runDiagram},
		{"flows", "list, show, audit, resume, cancel, sweep and purge stored flows", runFlows},
		{"bench", "run many flows at once and compare them with raw Ratio calls", runBench},
		{"wallet", "make a dev wallet key and sign a flow's challenge with it", runWallet},
	}
}

// run is the command: main gives it the operating system's values.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := &env{getenv: getenv, stdin: &ctxReader{ctx: ctx, r: stdin}, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		topUsage(stderr)
		return usageErrorf("", "no command given")
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		topUsage(stdout)
		return flag.ErrHelp
	case "-version", "--version", "version":
		fmt.Fprintf(stdout, "ratioflow %s\n", version())
		return nil
	}
	for _, c := range commands() {
		if c.name == name {
			err := c.run(ctx, e, args[1:])
			if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
				return errors.New("interrupted")
			}
			return err
		}
	}
	return usageErrorf("", "unknown command %q (commands: %s)", name, commandNames())
}

func commandNames() string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	return strings.Join(names, ", ")
}

func topUsage(w io.Writer) {
	fmt.Fprint(w, `ratioflow runs Ratio's authentication and wallet-linking flows as declared,
persisted, resumable state graphs, for a wallet app's backend. Ratio (ratio.me)
is a fiat-to-crypto on-ramp; 'ratioflow demo' shows a flow against a local
sandbox of it.

Usage:
  ratioflow <command> [arguments] [flags]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run 'ratioflow <command> --help' for a command's flags, and
'ratioflow --version' for the version.

Environment:
  RATIO_BASE_URL        where Ratio is (demo and bench default to a sandbox started
                        in-process; serve needs it, --ratio or --sandbox)
  RATIO_CLIENT_ID       Ratio client credentials (never passed as flags)
  RATIO_CLIENT_SECRET
  RATIOFLOW_STORE       store URL: memory:, sqlite:PATH, postgres://...
  RATIOFLOW_SEAL_KEYS   keys sealing the flows' data: id:key pairs, comma-separated,
                        the first sealing (see docs/operations.md)
  RATIOFLOW_SEAL_KEY    or one key: 64 hex digits or base64 of 32 bytes
  RATIOFLOW_<FLAG>      any flag of serve, e.g. RATIOFLOW_ADDR, RATIOFLOW_PENDING_TIMEOUT
`)
}

// usageError is bad usage: exit status 2.
type usageError struct {
	cmd string // the subcommand, "" for the top level
	msg string
}

func (e *usageError) Error() string { return e.msg }

func usageErrorf(cmd, format string, args ...any) error {
	return &usageError{cmd: cmd, msg: fmt.Sprintf(format, args...)}
}

// exitCode maps run's error to the exit status: a malformed store URL
// is bad usage too.
func exitCode(err error) int {
	var ue *usageError
	var se *storeurl.URLError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue), errors.As(err, &se):
		return 2
	}
	return 1
}

// errorLine is what main prints on stderr for a failed run.
func errorLine(err error) string {
	var ue *usageError
	if errors.As(err, &ue) {
		help := "ratioflow --help"
		if ue.cmd != "" {
			help = "ratioflow " + ue.cmd + " --help"
		}
		return "error: " + ue.msg + "\n(see '" + help + "')"
	}
	return "error: " + strings.ReplaceAll(err.Error(), "\n", " ")
}

// flagSet returns a flag set for a subcommand whose help shows usage (the
// arguments) and about (what it does).
func flagSet(e *env, name, usage, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse errors become usage errors; --help goes to stdout
	fs.Usage = func() {
		w := e.stdout
		fmt.Fprintf(w, "Usage: ratioflow %s %s\n\n%s\n", name, usage, strings.TrimSpace(about))
		if hasFlags(fs) {
			fmt.Fprintln(w, "\nFlags:")
			fs.SetOutput(w)
			fs.PrintDefaults()
			fs.SetOutput(io.Discard)
		}
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// parse parses args, flags before and after the positional arguments
// ("flows show ID --store URL" as well as "flows show --store URL ID"),
// and returns the positional arguments. --help prints the usage and
// returns flag.ErrHelp; any other error is a usage error.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	help := fs.Usage
	fs.Usage = func() {} // flag calls it on every error; only --help prints it
	defer func() { fs.Usage = help }()
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				help()
				return nil, flag.ErrHelp
			}
			return nil, usageErrorf(fs.Name(), "%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// envFlags gives each flag of fs that the command line left unset the
// value of its environment variable, if that is set: RATIOFLOW_ and the
// flag's name in upper case with '_' for '-' (--pending-timeout:
// RATIOFLOW_PENDING_TIMEOUT), or the variable names maps it to. A value
// the flag refuses is a usage error naming the variable.
func envFlags(fs *flag.FlagSet, getenv func(string) string, names map[string]string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		name := envName(f.Name, names)
		if v := getenv(name); v != "" {
			if e := fs.Set(f.Name, v); e != nil {
				err = usageErrorf(fs.Name(), "%s=%q: %v", name, v, e)
			}
		}
	})
	return err
}

// envName is the environment variable of the flag named flagName.
func envName(flagName string, names map[string]string) string {
	if n, ok := names[flagName]; ok {
		return n
	}
	return "RATIOFLOW_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// noArgs parses args for a subcommand that takes no positional argument.
func noArgs(fs *flag.FlagSet, args []string) error {
	pos, err := parse(fs, args)
	if err == nil && len(pos) > 0 {
		err = usageErrorf(fs.Name(), "unexpected argument %q", pos[0])
	}
	return err
}

// oneOf checks that v is one of allowed, for a flag's value.
func oneOf(cmd, flagName, v string, allowed []string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	sorted := append([]string(nil), allowed...)
	sort.Strings(sorted)
	return usageErrorf(cmd, "--%s %q: must be one of %s", flagName, v, strings.Join(sorted, ", "))
}

// firstNonEmpty returns the first of vs that is not empty.
func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// ctxReader is stdin that stops waiting when ctx is done, so that Ctrl-C
// ends a demo waiting at a prompt. The read it abandons finishes in the
// background; the process is exiting by then.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	type result struct {
		n   int
		err error
	}
	buf := make([]byte, len(p))
	done := make(chan result, 1)
	go func() {
		n, err := c.r.Read(buf)
		done <- result{n, err}
	}()
	select {
	case res := <-done:
		return copy(p, buf[:res.n]), res.err
	case <-c.ctx.Done():
		return 0, c.ctx.Err()
	}
}

// Command ratioflow runs Ratio's end-user authentication and wallet-linking
// flows (api.ratio.me) as declared, persisted, resumable state graphs: the
// engine of package flow, driven from a terminal.
//
//	ratioflow demo       fly a flow end to end against a local Ratio sandbox
//	ratioflow sandbox    serve the local Ratio sandbox
//	ratioflow serve      serve the flow API (package flowhttp) to a frontend
//	ratioflow diagram    draw the declared flows (Mermaid, DOT)
//	ratioflow flows      list, show, audit, resume, cancel, sweep and purge stored flows
//	ratioflow bench      run many flows at once and compare with raw Ratio calls
//	ratioflow wallet     make a dev wallet key and sign a challenge with it
//
// Configuration comes from flags, then from the environment: RATIO_BASE_URL,
// RATIO_CLIENT_ID and RATIO_CLIENT_SECRET say where Ratio is and how to call
// it (secrets are never flags), RATIOFLOW_STORE names the store (memory:,
// sqlite:PATH, postgres://...) and RATIOFLOW_SEAL_KEYS the keys that seal the
// flows' data (id:key pairs, the first sealing; RATIOFLOW_SEAL_KEY for one
// key). Without a seal key, a SQLite store keeps one in a 0600 file next to
// the database (PATH.key), a demo convenience, so that later commands can
// open the flows the demo left there.
//
// Exit status: 0 on success, 1 on failure (one line on stderr), 2 on bad usage.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	code := exitCode(err)
	if code != 0 {
		fmt.Fprintln(os.Stderr, errorLine(err))
	}
	os.Exit(code)
}

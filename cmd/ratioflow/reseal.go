package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/ratioflow/ratioflow/flow"
)

const resealAbout = `Re-seal every stored flow still sealed under an older key with the first key
of ` + envSealKeys + `, so that the older key can be dropped: a compare-and-swap
write of each flow's sealed data, without a history entry, that running
flows do not notice. It reports how many flows each key seals now. A flow
with a Ratio call in flight is skipped: run it again. The procedure is in
docs/operations.md.`

func flowsReseal(ctx context.Context, e *env, args []string) error {
	c := newFlowsCmd(e, "reseal", "[--store URL]", resealAbout)
	if err := noArgs(c.fs, args); err != nil {
		return err
	}
	st, err := openExistingStore(ctx, c.store())
	if err != nil {
		return err
	}
	defer st.Close()
	key, err := resolveSealKey(c.env.getenv, c.store(), false)
	if err != nil {
		return err
	}
	eng, err := flow.New(st, offlineRatio{}, nil, key.options(flow.Options{}))
	if err != nil {
		return err
	}
	res, err := eng.Reseal(ctx)
	if err != nil {
		return err
	}
	sealing := res.Sealing
	fmt.Fprintf(e.stdout, "re-sealed %s under key %s\n\n", count(res.Resealed, "flow"), keyName(sealing))
	printKeys(e.stdout, key.ring, res)
	left := res.Remaining()
	if len(left) == 0 {
		fmt.Fprintf(e.stdout, "\nevery flow is sealed under key %s", keyName(sealing))
		if others := key.ring.IDs()[1:]; len(others) > 0 {
			fmt.Fprintf(e.stdout, ": the other keys may be dropped from %s", envSealKeys)
		}
		fmt.Fprintln(e.stdout)
		return nil
	}
	n := 0
	for _, k := range left {
		n += k
	}
	if res.Skipped > 0 {
		return fmt.Errorf("%s still under older keys, %d of them busy: run 'ratioflow flows reseal' again", count(n, "flow"), res.Skipped)
	}
	return fmt.Errorf("%s that no key in the seal keys opens: add the keys they name, or let them end and purge them", count(n, "flow"))
}

// printKeys prints how many flows each key seals after a reseal: the
// keys of the ring in order, then the keys the ring lacks.
func printKeys(w io.Writer, ring *flow.Keyring, res flow.ResealResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tFLOWS")
	for i, id := range ring.IDs() {
		note := ""
		if i == 0 {
			note = "  (seals)"
		}
		fmt.Fprintf(tw, "%s\t%d%s\n", keyName(id), res.Keys[id], note)
	}
	var missing []string
	for id := range res.Unopened {
		missing = append(missing, id)
	}
	slices.Sort(missing)
	for _, id := range missing {
		note := "not among the seal keys"
		if id == "" || slices.Contains(ring.IDs(), id) {
			note = "no seal key opens them"
		}
		fmt.Fprintf(tw, "%s\t%d  (%s)\n", keyName(id), res.Unopened[id], note)
	}
	tw.Flush()
}

// keyName is a key's ID as the reseal report shows it.
func keyName(id string) string {
	if id == "" {
		return "(no id)"
	}
	return id
}

// Command gendocs regenerates ratioflow's generated docs: docs/flows.md and
// every flow's diagrams under docs/diagrams/, from the declared tables.
//
// Run it from anywhere inside the module:
//
//	go run ./visualize/internal/gendocs
//
// It finds the module's root (the directory holding go.mod) and writes its
// docs directory, unless -dir names another.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ratioflow/ratioflow/visualize"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("gendocs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "docs directory to write (default: docs/ at the module's root)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		root, err := moduleRoot()
		if err != nil {
			return err
		}
		*dir = filepath.Join(root, "docs")
	}
	if err := visualize.WriteDocs(*dir); err != nil {
		return err
	}
	fmt.Fprintln(stderr, "wrote", *dir)
	return nil
}

// moduleRoot returns the nearest directory at or above the working
// directory that holds a go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find the module's root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find the module's root: no go.mod at or above the working directory")
		}
		dir = parent
	}
}

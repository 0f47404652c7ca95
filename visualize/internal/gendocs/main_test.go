package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/ratioflow/ratioflow/visualize"
)

func TestRun_WritesTheDocs(t *testing.T) {
	dir := t.TempDir()
	if err := run([]string{"-dir", dir}, io.Discard); err != nil {
		t.Fatalf("run(-dir %s) = %v", dir, err)
	}
	if err := visualize.CheckDocs(dir); err != nil {
		t.Errorf("CheckDocs after run = %v, want nil", err)
	}
}

func TestModuleRoot(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Errorf("moduleRoot() = %s, which holds no go.mod: %v", root, err)
	}
	if filepath.Base(root) == "gendocs" {
		t.Errorf("moduleRoot() = %s, want the module's root, not the package", root)
	}
}

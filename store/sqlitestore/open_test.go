package sqlitestore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/sqlitestore"
)

func TestOpen_MissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "flows.db")
	_, err := sqlitestore.Open(t.Context(), path)
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Open(%s) = %v, want an error saying the directory does not exist", path, err)
	}
}

func TestOpen_NotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flows.db")
	if err := os.WriteFile(path, []byte("this is not a SQLite database, just a file of text long enough"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := sqlitestore.Open(t.Context(), path); err == nil {
		s.Close()
		t.Errorf("Open(text file) succeeded, want an error")
	}
}

// Paths with characters that mean something in a SQLite URI still name the
// file they say, relative or absolute.
func TestOpen_PathsWithURICharacters(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, path := range []string{
		filepath.Join(dir, "a?b#c%20d.db"),
		"relative?x.db",
	} {
		s, err := sqlitestore.Open(t.Context(), path)
		if err != nil {
			t.Fatalf("Open(%q) = %v", path, err)
		}
		if err := s.Create(t.Context(), &store.Record{ID: "f"}); err != nil {
			t.Errorf("Create in %q = %v", path, err)
		}
		s.Close()
		if _, err := os.Stat(path); err != nil {
			t.Errorf("Open(%q) did not create that file: %v", path, err)
		}
	}
}

func TestNew_DoesNoIO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flows.db")
	s := sqlitestore.New(path)
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("New created %s (stat: %v)", path, err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
}

// TestOpen_ReadsMapTheFile checks that the read connections map the file
// into memory (mmap_size), which the reads of a large store rely on.
func TestOpen_ReadsMapTheFile(t *testing.T) {
	s, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), "flows.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := sqlitestore.ReadPragma(s, "mmap_size")
	if err != nil {
		t.Fatal(err)
	}
	if got < 1<<30 {
		t.Errorf("mmap_size of the read connections = %d, want at least 1 GiB", got)
	}
}

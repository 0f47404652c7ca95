package storeurl_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ratioflow/ratioflow/internal/pgtest"
	"github.com/ratioflow/ratioflow/store"
	"github.com/ratioflow/ratioflow/store/memstore"
	"github.com/ratioflow/ratioflow/store/pgstore"
	"github.com/ratioflow/ratioflow/store/sqlitestore"
	"github.com/ratioflow/ratioflow/store/storeurl"
)

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		url      string
		wantType string
		wantFile string
	}{
		{"memory", "memory:", "memstore", ""},
		{"memory, URL style", "memory://", "memstore", ""},
		{"sqlite path", "sqlite:" + filepath.Join(dir, "a.db"), "sqlitestore", filepath.Join(dir, "a.db")},
		{"sqlite URL style", "sqlite://" + filepath.Join(dir, "b.db"), "sqlitestore", filepath.Join(dir, "b.db")},
		{"scheme in capitals", "SQLite:" + filepath.Join(dir, "c.db"), "sqlitestore", filepath.Join(dir, "c.db")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := storeurl.Open(t.Context(), tt.url)
			if err != nil {
				t.Fatalf("Open(%q) = %v", tt.url, err)
			}
			defer s.Close()
			var got string
			switch s.(type) {
			case *memstore.Store:
				got = "memstore"
			case *sqlitestore.Store:
				got = "sqlitestore"
			}
			if got != tt.wantType {
				t.Errorf("Open(%q) = %T, want %s", tt.url, s, tt.wantType)
			}
			if err := s.Create(t.Context(), &store.Record{ID: "f"}); err != nil {
				t.Errorf("Create() = %v", err)
			}
			if tt.wantFile != "" {
				if _, err := os.Stat(tt.wantFile); err != nil {
					t.Errorf("Open(%q) did not create %s: %v", tt.url, tt.wantFile, err)
				}
			}
		})
	}
}

func TestOpen_Errors(t *testing.T) {
	tests := []struct {
		name string
		url  string
		want []string // substrings of the error
	}{
		{"unknown scheme", "mysql://u:pw-123@localhost/flows", []string{`"mysql"`, "memory:", "sqlite:PATH", "postgres://"}},
		{"no scheme", "flows.db", []string{"no scheme", "memory:", "sqlite:PATH", "postgres://"}},
		{"sqlite without a path", "sqlite:", []string{"needs a file path"}},
		{"sqlite in memory", "sqlite::memory:", []string{"use memory:"}},
		{"sqlite in a missing directory", "sqlite:" + filepath.Join(t.TempDir(), "nope", "flows.db"), []string{"does not exist"}},
		{"memory with a path", "memory:flows", []string{"takes no path"}},
		{"unreachable postgres", "postgres://ratio:pw-123@127.0.0.1:1/flows?sslmode=disable", []string{"unreachable", "127.0.0.1:1"}},
		{"unreachable postgresql", "postgresql://ratio:pw-123@127.0.0.1:1/flows?sslmode=disable", []string{"unreachable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := storeurl.Open(t.Context(), tt.url)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded, want an error", tt.url)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Open(%q) = %q, want it to contain %q", tt.url, err, w)
				}
			}
			if strings.Contains(err.Error(), "pw-123") {
				t.Errorf("Open(%q) error shows the password: %v", tt.url, err)
			}
		})
	}
}

func TestOpen_Postgres(t *testing.T) {
	dsn := pgtest.Schema(t)
	s, err := storeurl.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open(postgres) = %v", err)
	}
	defer s.Close()
	if _, ok := s.(*pgstore.Store); !ok {
		t.Errorf("Open(postgres) = %T, want *pgstore.Store", s)
	}
	if err := s.Create(t.Context(), &store.Record{ID: "f"}); err != nil {
		t.Errorf("Create() = %v", err)
	}
}

func TestDefault(t *testing.T) {
	u := storeurl.Default()
	if !strings.HasPrefix(u, "sqlite:"+os.TempDir()) {
		t.Errorf("Default() = %q, want a sqlite: URL under %s", u, os.TempDir())
	}
}

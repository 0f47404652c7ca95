package storeurl

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ratioflow/ratioflow/store"
)

// unlink removes kind's backend for the rest of the test, as if its
// package were not imported, and puts it back after.
func unlink(t *testing.T, kind Kind) {
	mu.Lock()
	b, ok := backends[kind]
	delete(backends, kind)
	mu.Unlock()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if ok {
			backends[kind] = b
		}
	})
}

// TestParse_BackendNotLinked checks that a URL of a backend the program
// does not import is a *URLError that names the import to add, from Parse
// and from Open, and that memory: needs no import.
func TestParse_BackendNotLinked(t *testing.T) {
	unlink(t, SQLite)
	unlink(t, Postgres)
	for url, want := range map[string]string{
		"sqlite:/tmp/flows.db":                  `import _ "github.com/ratioflow/ratioflow/store/sqlitestore"`,
		"postgres://u:pw-123@db/flows":          `import _ "github.com/ratioflow/ratioflow/store/pgstore"`,
		"POSTGRESQL://u:pw-123@db/flows?x=bad%": `import _ "github.com/ratioflow/ratioflow/store/pgstore"`,
	} {
		for name, f := range map[string]func(string) error{
			"Parse": func(u string) error { _, err := Parse(u); return err },
			"Open":  func(u string) error { _, err := Open(context.Background(), u); return err },
		} {
			err := f(url)
			var ue *URLError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), want) {
				t.Errorf("%s(%q) = %v (%T), want a *URLError containing %s", name, url, err, err, want)
			}
			if err != nil && strings.Contains(err.Error(), "pw-123") {
				t.Errorf("%s(%q) = %q, which shows the password", name, url, err)
			}
		}
	}
	if got, err := Parse("memory:"); err != nil || got.Kind != Memory {
		t.Errorf("Parse(memory:) = %+v, %v with no backend linked", got, err)
	}
}

// TestParse_CheckError checks that a backend's Check refuses a URL with a
// *URLError carrying its reason.
func TestParse_CheckError(t *testing.T) {
	unlink(t, SQLite)
	backends[SQLite] = Backend{
		Open:  func(context.Context, Target) (store.Store, error) { return nil, errors.New("not called") },
		Check: func(t Target) error { return errors.New("path " + t.Path + " is refused") },
	}
	_, err := Parse("sqlite:x.db")
	var ue *URLError
	if !errors.As(err, &ue) || ue.Reason != "path x.db is refused" {
		t.Fatalf("Parse(sqlite:x.db) = %v (%T), want the check's reason as a *URLError", err, err)
	}
}

// TestRegister_Panics checks the misuses Register refuses.
func TestRegister_Panics(t *testing.T) {
	open := func(context.Context, Target) (store.Store, error) { return nil, nil }
	for name, f := range map[string]func(){
		"memory":     func() { Register(Memory, Backend{Open: open}) },
		"unknown":    func() { Register("mysql", Backend{Open: open}) },
		"no Open":    func() { unlink(t, SQLite); Register(SQLite, Backend{}) },
		"registered": func() { Register(Postgres, Backend{Open: open}); Register(Postgres, Backend{Open: open}) },
	} {
		t.Run(name, func(t *testing.T) {
			unlink(t, Postgres)
			defer func() {
				if recover() == nil {
					t.Errorf("Register did not panic")
				}
			}()
			f()
		})
	}
}

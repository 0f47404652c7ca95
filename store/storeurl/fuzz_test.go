package storeurl_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/ratioflow/ratioflow/store/memstore"
	_ "github.com/ratioflow/ratioflow/store/pgstore"     // postgres:// URLs parse
	_ "github.com/ratioflow/ratioflow/store/sqlitestore" // sqlite: URLs parse
	"github.com/ratioflow/ratioflow/store/storeurl"
)

// userinfoPassword finds the password of a URL-style store URL.
var userinfoPassword = regexp.MustCompile(`^[^:]*://[^:/@]*:([^@/]+)@`)

// FuzzParse reads arbitrary store URLs. Parse opens nothing, so the loop
// makes no file and no connection: an accepted URL names the backend of
// its scheme and reads back the same, a refused one is a *URLError that
// never shows the URL's password.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"memory:", "memory://", "MEMORY:", "memory:flows",
		"sqlite:/var/lib/ratioflow/flows.db", "sqlite://rel.db", "sqlite:////abs.db", "SQLite:c.db", "sqlite:",
		"sqlite::memory:", "sqlite://", "flows.db", ":x", "", "mysql://u:pw-123@localhost/flows",
		"postgres://ratio:pw-123@127.0.0.1:5432/test?sslmode=disable&pool_max_conns=4&search_path=s1",
		"postgresql://ratio@db/flows", "POSTGRES://ratio:pw-123@db/flows", "postgres:host=db password=pw-123",
		"postgres://ratio:pw-123@db:notaport/flows", "postgres://ratio:pw-123@db/flows?pool_max_conns=x",
		"postgres://ratio:pw%2D123@db/flows?sslmode=bogus", "postgres://[::1/flows", "postgres://u:pw-123@h/d?connect_timeout=-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := storeurl.Parse(raw)
		if err != nil {
			var ue *storeurl.URLError
			if !errors.As(err, &ue) || ue.Reason == "" {
				t.Fatalf("Parse(%q) = %v (%T), want a *storeurl.URLError with a reason", raw, err, err)
			}
			if m := userinfoPassword.FindStringSubmatch(raw); m != nil && len(m[1]) >= 4 &&
				strings.Count(raw, m[1]) == 1 && strings.Contains(err.Error(), m[1]) {
				t.Fatalf("Parse(%q) = %q, which shows the password", raw, err)
			}
			return
		}
		scheme, rest, _ := strings.Cut(raw, ":")
		var again string
		switch scheme = strings.ToLower(scheme); {
		case scheme == "memory" && got == (storeurl.Target{Kind: storeurl.Memory}):
			again = "memory:"
		case scheme == "sqlite" && got.Kind == storeurl.SQLite && got.DSN == "" && got.Path != "" &&
			strings.HasSuffix(rest, got.Path):
			again = "sqlite://" + got.Path
		case (scheme == "postgres" || scheme == "postgresql") && got.Kind == storeurl.Postgres && got.Path == "" &&
			got.DSN == scheme+":"+rest:
			again = got.DSN
		default:
			t.Fatalf("Parse(%q) = %+v, not the backend of scheme %q", raw, got, scheme)
		}
		if back, err := storeurl.Parse(again); err != nil || back != got {
			t.Fatalf("Parse(%q) = %+v, %v; want %+v as for %q", again, back, err, got, raw)
		}
		if got.Kind == storeurl.Memory { // the one backend that opens without I/O
			s, err := storeurl.Open(t.Context(), raw)
			if _, ok := s.(*memstore.Store); err != nil || !ok {
				t.Fatalf("Open(%q) = %T, %v; want a *memstore.Store", raw, s, err)
			}
			_ = s.Close()
		}
	})
}

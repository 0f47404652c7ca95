package flowhttp

import (
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestProblemCodes_Documented: docs/api.md lists exactly the codes of the
// table, with the same statuses; every code the handler's source gives a
// problem is in the table; and every code in the table is given by some
// problem in the source.
func TestProblemCodes_Documented(t *testing.T) {
	documented := docCodes(t, filepath.Join("..", "..", "docs", "api.md"))
	for code, status := range codes {
		switch got, ok := documented[code]; {
		case !ok:
			t.Errorf("code %s (%d) is not documented in docs/api.md", code, status)
		case got != status:
			t.Errorf("docs/api.md documents %s as %d, the handler answers %d", code, got, status)
		}
	}
	for code := range documented {
		if _, ok := codes[code]; !ok {
			t.Errorf("docs/api.md documents %s, which is not in the table of codes", code)
		}
	}
	emitted := emittedCodes(t)
	for _, code := range slices.Sorted(maps.Keys(emitted)) {
		if _, ok := codes[code]; !ok {
			t.Errorf("%s gives a problem the code %s, which is not in the table of codes", emitted[code], code)
		}
	}
	for code := range codes {
		if _, ok := emitted[code]; !ok {
			t.Errorf("no problem in the handler's source has the code %s: drop it from the table and docs/api.md", code)
		}
	}
}

// docCodes reads the status and code of each row of the errors table in
// the markdown file at path.
func docCodes(t *testing.T, path string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| (\\d{3}) \\| <a id=\"([a-z_]+)\"></a>`([a-z_]+)` \\|")
	found := map[string]int{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		if m[2] != m[3] {
			t.Errorf("docs/api.md: anchor %s on code %s", m[2], m[3])
		}
		if _, dup := found[m[3]]; dup {
			t.Errorf("docs/api.md documents %s twice", m[3])
		}
		found[m[3]], _ = strconv.Atoi(m[1])
	}
	if len(found) == 0 {
		t.Fatalf("no codes found in %s", path)
	}
	return found
}

// emittedCodes returns the codes the package's source gives problems,
// each with where: the string literals set as a problem's Code, and the
// outcomes of the cases of the switches that copy a StepError's outcome
// into Code (stepProblem).
func emittedCodes(t *testing.T) map[string]string {
	t.Helper()
	outcomes := outcomeValues(t)
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			var val ast.Expr
			switch n := n.(type) {
			case *ast.KeyValueExpr:
				if id, ok := n.Key.(*ast.Ident); ok && id.Name == "Code" {
					val = n.Value
				}
			case *ast.AssignStmt:
				for i, lhs := range n.Lhs {
					if sel, ok := lhs.(*ast.SelectorExpr); ok && sel.Sel.Name == "Code" && i < len(n.Rhs) {
						val = n.Rhs[i]
					}
				}
			case *ast.CaseClause:
				for _, e := range n.List {
					if sel, ok := e.(*ast.SelectorExpr); ok {
						if v, ok := outcomes[sel.Sel.Name]; ok {
							found[v] = fset.Position(e.Pos()).String()
						}
					}
				}
			}
			if lit, ok := val.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				s, _ := strconv.Unquote(lit.Value)
				found[s] = fset.Position(lit.Pos()).String()
			}
			return true
		})
	}
	return found
}

// outcomeValues maps the names of the transitions.Outcome constants to
// their values, read from the package's source.
func outcomeValues(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "transitions", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string]string{}
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			spec, ok := n.(*ast.ValueSpec)
			if !ok || spec.Type == nil || len(spec.Values) != len(spec.Names) {
				return true
			}
			if id, ok := spec.Type.(*ast.Ident); !ok || id.Name != "Outcome" {
				return true
			}
			for i, v := range spec.Values {
				if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					vals[spec.Names[i].Name], _ = strconv.Unquote(lit.Value)
				}
			}
			return true
		})
	}
	if len(vals) == 0 {
		t.Fatal("no transitions.Outcome constants found")
	}
	return vals
}

// A problem whose code is not in the table is answered as internal and
// logged at ERROR, naming the code: no undocumented code reaches a client.
func TestProblem_UnknownCodeIsInternal(t *testing.T) {
	var logs strings.Builder
	h := &Handler{Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	w := httptest.NewRecorder()
	h.problem(w, httptest.NewRequest("GET", "/v1/flows", nil), &problem{Code: "made_up", Detail: "x"})
	if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), `"code":"internal"`) {
		t.Errorf("answer %d %s, want 500 internal", w.Code, w.Body)
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), `made_up`) {
		t.Errorf("log %q: want an ERROR naming the code", logs.String())
	}
}

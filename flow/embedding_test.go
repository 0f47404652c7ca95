package flow_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// funcBody returns the body of the function that starts with header in
// the Go file at path, up to its "// Output:" comment, each line dedented
// by one tab.
func funcBody(t *testing.T, path, header string) string {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(src), "\n"+header+" {\n")
	if !ok {
		t.Fatalf("%s: no %q", path, header)
	}
	body, _, ok := strings.Cut(rest, "\n}\n")
	if !ok {
		t.Fatalf("%s: %s does not end", path, header)
	}
	body, _, _ = strings.Cut(body, "\t// Output:")
	lines := strings.Split(strings.TrimRight(body, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, "\t")
	}
	return strings.Join(lines, "\n")
}

// exampleOutput returns Example_embedding's expected output.
func exampleOutput(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile("example_embedding_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, out, _ := strings.Cut(string(src), "\t// Output:\n")
	out, _, _ = strings.Cut(out, "\n}\n")
	var b strings.Builder
	for l := range strings.SplitSeq(out, "\n") {
		b.WriteString(strings.TrimPrefix(l, "\t// ") + "\n")
	}
	return b.String()
}

// TestExampleEmbedding_IsTheDocs checks that docs/engine.md's first code
// block and the program in testdata/embedding are Example_embedding's body,
// and that the body is at most 30 lines of code (blank lines and comments
// aside).
func TestExampleEmbedding_IsTheDocs(t *testing.T) {
	want := funcBody(t, "example_embedding_test.go", "func Example_embedding()")
	docs, err := os.ReadFile(filepath.Join("..", "docs", "engine.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, block, _ := strings.Cut(string(docs), "```go\n")
	block, _, _ = strings.Cut(block, "\n```")
	if block != want {
		t.Errorf("docs/engine.md's first code block differs from Example_embedding's body:\n--- docs\n%s\n--- example\n%s", block, want)
	}
	if got := funcBody(t, filepath.Join("testdata", "embedding", "main.go"), "func main()"); got != want {
		t.Errorf("testdata/embedding/main.go differs from Example_embedding's body:\n--- main\n%s\n--- example\n%s", got, want)
	}
	code := 0
	for l := range strings.SplitSeq(want, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "//") {
			code++
		}
	}
	if code > 30 {
		t.Errorf("Example_embedding has %d lines of code, want at most 30", code)
	}
}

// TestExampleEmbedding_LinksNoPgx builds the example as a program, with
// only the SQLite backend imported, and checks from its build info that
// it does not contain pgx (nor anything of PostgreSQL's), that it does
// contain the SQLite driver, and that it prints the example's output.
func TestExampleEmbedding_LinksNoPgx(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program: not in -short")
	}
	bin := filepath.Join(t.TempDir(), "embedding")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/embedding").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	info, err := exec.Command("go", "version", "-m", bin).CombinedOutput()
	if err != nil {
		t.Fatalf("go version -m: %v\n%s", err, info)
	}
	if strings.Contains(string(info), "github.com/jackc/pgx") {
		t.Errorf("a SQLite-only program links pgx:\n%s", info)
	}
	if !strings.Contains(string(info), "modernc.org/sqlite") {
		t.Errorf("the program does not link the SQLite driver, so the check above proves nothing:\n%s", info)
	}
	out, err := exec.Command(bin).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", bin, err, out)
	}
	if want := exampleOutput(t); string(out) != want {
		t.Errorf("the program printed\n%s\nwant\n%s", out, want)
	}
}

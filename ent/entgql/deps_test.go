package entgql_test

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestServerDoesNotLinkCodeGenerators: the server binary's dependencies hold
// no code generator. One import of upstream entgql (in ent/schema, in
// generated code or in a hand-written file) brings back ent's and gqlgen's
// code generators and golang.org/x/tools: 6 MB of binary, 8 MiB of resident
// pages and 2 MB of heap from start-up (see the package comment).
func TestServerDoesNotLinkCodeGenerators(t *testing.T) {
	readModule(t)
	out, err := exec.Command("go", "list", "-deps", "custgraph").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps custgraph: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 100 || !slices.Contains(deps, "custgraph/ent/entgql") {
		t.Fatalf("go list -deps custgraph lists %d packages, without custgraph/ent/entgql: not the server's", len(deps))
	}
	for _, banned := range []string{
		"entgo.io/contrib/entgql",
		"entgo.io/ent/entc",
		"entgo.io/ent/entc/gen",
		"github.com/99designs/gqlgen/codegen",
		"golang.org/x/tools/go/packages",
	} {
		if slices.Contains(deps, banned) {
			t.Errorf("the server links %s (go list -deps custgraph)", banned)
		}
	}
}

// readModule reads every Go file of the module and go.mod: go test caches a
// result until a file the test read changes, and it cannot see what the go
// command it runs reads.
func readModule(t *testing.T) {
	t.Helper()
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".go") || d.Name() == "go.mod") {
			_, err = os.ReadFile(p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

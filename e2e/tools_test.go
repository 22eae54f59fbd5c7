package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The tests in this file run tools nobody here wrote against the real
// binary: the graphql-http audit of GraphQL over HTTP, graphql-ws's and
// graphql-sse's clients, graphql-codegen with the README's configuration,
// and graphql-js, whose introspection query the Go tests send
// (graph/testdata/introspection). They are npm packages,
// pinned in node/package.json and package-lock.json and installed by
// `npm ci --prefix e2e/node` (.ci/run does it); without them the tests skip,
// unless CUSTGRAPH_REQUIRE_NODE=1 (set by CI) makes that a failure.

// nodeTools returns the absolute path of e2e/node, whose node_modules holds
// the installed tools, and the node binary.
func nodeTools(t *testing.T) (dir, node string) {
	t.Helper()
	dir, err := filepath.Abs("node")
	if err != nil {
		t.Fatal(err)
	}
	node, err = exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "graphql-http", "package.json"))
	}
	if err != nil {
		msg := "the npm tools are not installed (run: npm ci --prefix e2e/node): " + err.Error()
		if os.Getenv("CUSTGRAPH_REQUIRE_NODE") == "1" {
			t.Fatal(msg + "; CUSTGRAPH_REQUIRE_NODE=1 requires them")
		}
		t.Skip(msg)
	}
	return dir, node
}

// run runs a command with a deadline and returns its combined output.
func run(t *testing.T, dir string, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(serverEnv(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// TestGraphQLOverHTTPAudit runs graphql-http's auditServer (every MUST,
// SHOULD and MAY of the GraphQL-over-HTTP specification it checks) against
// the binary, authenticated as the administrator so that the audit's
// queries are judged as GraphQL, not refused as anonymous. No MUST or SHOULD
// may fail.
func TestGraphQLOverHTTPAudit(t *testing.T) {
	t.Parallel() // light: they run together once the serial tests are done
	dir, node := nodeTools(t)
	bin := buildBinary(t)
	p := startServer(t, t.Context(), bin)
	out, err := run(t, dir, []string{"CUSTGRAPH_TOKEN=" + p.accessToken(t)}, node, "audit.mjs", p.base+"/query")
	t.Logf("graphql-http audit:\n%s", out)
	if err != nil {
		t.Fatalf("the audit failed (%v): see the lines not marked OK above", err)
	}
	if !strings.Contains(out, " 0 failed MUST, 0 failed SHOULD,") {
		t.Fatalf("the audit's summary is missing or reports failures")
	}
}

// TestLiveClients follows the change stream with the clients dashboards
// use (node/live.mjs): graphql-ws's client over the graphql-transport-ws
// subprotocol, as Apollo's and urql's links use it, and graphql-sse's; each
// must deliver the change a mutation over HTTP makes, and graphql-ws's
// client must see a bad token refused with 4403.
func TestLiveClients(t *testing.T) {
	t.Parallel() // light: they run together once the serial tests are done
	dir, node := nodeTools(t)
	bin := buildBinary(t)
	p := startServer(t, t.Context(), bin)
	out, err := run(t, dir, []string{"CUSTGRAPH_TOKEN=" + p.accessToken(t)}, node, "live.mjs", p.base)
	t.Logf("live clients:\n%s", out)
	if err != nil {
		t.Fatalf("live.mjs failed (%v)", err)
	}
	if n := strings.Count(out, "OK "); n != 3 {
		t.Fatalf("live.mjs reported %d checks passed, want 3", n)
	}
}

// TestCodegenFromURL runs graphql-codegen with the README's configuration,
// as written but for the port, against the binary's GraphQL endpoint
// (introspection, no credentials), and once more against GET
// /schema.graphql: both generate the same TypeScript types, every custom
// scalar mapped (strictScalars would fail otherwise).
func TestCodegenFromURL(t *testing.T) {
	t.Parallel() // light: they run together once the serial tests are done
	dir, node := nodeTools(t)
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(# codegen.yml\n.*?)```").FindSubmatch(b)
	if m == nil {
		t.Fatal("README.md has no ```yaml block starting with # codegen.yml")
	}
	config := string(m[1])
	out := regexp.MustCompile(`(?m)^  (\S+\.ts):$`).FindStringSubmatch(config)
	if out == nil || !strings.Contains(config, "http://127.0.0.1:8080/query") {
		t.Fatalf("README's codegen.yml: want the schema at http://127.0.0.1:8080/query and one generated .ts file:\n%s", config)
	}

	bin := buildBinary(t)
	p := startServer(t, t.Context(), bin)
	generate := func(schemaURL string) string {
		work := t.TempDir()
		if err := os.Symlink(filepath.Join(dir, "node_modules"), filepath.Join(work, "node_modules")); err != nil {
			t.Fatal(err)
		}
		c := strings.ReplaceAll(config, "http://127.0.0.1:8080/query", schemaURL)
		if err := os.WriteFile(filepath.Join(work, "codegen.yml"), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
		log, err := run(t, work, nil, node, filepath.Join(dir, "node_modules", "@graphql-codegen", "cli", "esm", "bin.js"), "--config", "codegen.yml")
		if err != nil {
			t.Fatalf("graphql-codegen with %s: %v\n%s", schemaURL, err, log)
		}
		ts, err := os.ReadFile(filepath.Join(work, out[1]))
		if err != nil {
			t.Fatalf("graphql-codegen with %s wrote no %s: %v\n%s", schemaURL, out[1], err, log)
		}
		return string(ts)
	}
	fromQuery := generate(p.base + "/query")
	for _, want := range []string{
		"export type Customer = Node & {",
		"export type CustomerWhereInput = {",
		"export type Mutation = {",
		"UUID: { input: string; output: string; }",
		"Decimal: { input: string; output: string; }",
		"Time: { input: string; output: string; }",
		"Cursor: { input: string; output: string; }",
	} {
		if !strings.Contains(fromQuery, want) {
			t.Errorf("generated types lack %q", want)
		}
	}
	t.Logf("generated %d bytes of TypeScript from %s/query", len(fromQuery), p.base)
	// Compared without comments: built from SDL, codegen also copies the
	// scalars' descriptions into its Scalars type.
	comments := regexp.MustCompile(`(?s)[ \t]*/\*\*.*?\*/\n`)
	if fromSDL := generate(p.base + "/schema.graphql"); comments.ReplaceAllString(fromSDL, "") != comments.ReplaceAllString(fromQuery, "") {
		t.Errorf("types generated from /schema.graphql differ from those generated by introspection")
	}
}

// TestIntrospectionQueryFiles checks that graph/testdata/introspection
// still holds what the pinned graphql package generates.
func TestIntrospectionQueryFiles(t *testing.T) {
	t.Parallel() // light: they run together once the serial tests are done
	dir, node := nodeTools(t)
	for option, file := range map[string]string{
		"all":      "graphql-js-16.11.0-all-options.graphql",
		"graphiql": "graphiql-4.1.2.graphql",
	} {
		got, err := run(t, dir, nil, node, "introspection-query.mjs", option)
		if err != nil {
			t.Fatalf("introspection-query.mjs %s: %v\n%s", option, err, got)
		}
		want, err := os.ReadFile(filepath.Join("..", "graph", "testdata", "introspection", file))
		if err != nil {
			t.Fatal(err)
		}
		if got != string(want) {
			t.Errorf("graph/testdata/introspection/%s differs from what graphql-js generates: regenerate it with\n  node e2e/node/introspection-query.mjs %s > graph/testdata/introspection/%s", file, option, file)
		}
	}
}

package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The tests in this file check the OpenAPI document the binary serves at
// GET /openapi.json with tools a partner would use on it: Redocly's linter
// (the repository's redocly.yaml, Redocly's recommended rules) and a client
// generator. Like the tests of tools_test.go they need the npm tools of
// e2e/node and skip without them, unless CUSTGRAPH_REQUIRE_NODE=1.

// npmTool returns the path of e2e/node and node, or skips (fails with
// CUSTGRAPH_REQUIRE_NODE=1) when pkg is not installed there.
func npmTool(t *testing.T, pkg string) (dir, node string) {
	t.Helper()
	dir, node = nodeTools(t)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", filepath.FromSlash(pkg), "package.json")); err != nil {
		msg := pkg + " is not installed (run: npm ci --prefix e2e/node): " + err.Error()
		if os.Getenv("CUSTGRAPH_REQUIRE_NODE") == "1" {
			t.Fatal(msg + "; CUSTGRAPH_REQUIRE_NODE=1 requires it")
		}
		t.Skip(msg)
	}
	return dir, node
}

// redoclyEnv keeps Redocly CLI from sending usage data or checking for
// updates (CI may run offline).
var redoclyEnv = []string{"REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true"}

// TestOpenAPILint runs Redocly CLI's linter, with the repository's
// redocly.yaml, on the document the binary serves, once as served without
// a public URL (server "/") and once with --public-url: 0 errors and 0
// warnings, nothing ignored.
func TestOpenAPILint(t *testing.T) {
	t.Parallel() // light: they run together once the serial tests are done
	dir, node := npmTool(t, "@redocly/cli")
	config, err := filepath.Abs(filepath.Join("..", "redocly.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	bin := buildBinary(t)
	for _, c := range []struct {
		name, publicURL, server string
	}{
		{"no public URL", "", "/"},
		{"public URL", "https://api.bank.example/custgraph", "https://api.bank.example/custgraph"},
	} {
		args := []string{"--database-url", filepath.Join(t.TempDir(), "e2e.db")}
		if c.publicURL != "" {
			args = append(args, "--public-url", c.publicURL)
		}
		p := launch(t, t.Context(), bin, args...)
		doc := fetch(t, p.base+"/openapi.json")
		var served struct {
			Servers []struct {
				URL string `json:"url"`
			} `json:"servers"`
		}
		if err := json.Unmarshal(doc, &served); err != nil {
			t.Fatalf("%s: /openapi.json is not JSON: %v", c.name, err)
		}
		if len(served.Servers) != 1 || served.Servers[0].URL != c.server {
			t.Errorf("%s: servers %+v, want the one server %q", c.name, served.Servers, c.server)
		}

		// Redocly reads the document from the server, as the README says.
		out, err := run(t, dir, redoclyEnv, node, filepath.Join(dir, "node_modules", "@redocly", "cli", "bin", "cli.js"),
			"lint", "--config", config, "--format", "json", p.base+"/openapi.json")
		var report struct {
			Totals struct {
				Errors, Warnings, Ignored int
			} `json:"totals"`
			Version  string `json:"version"`
			Problems []struct {
				RuleID   string `json:"ruleId"`
				Severity string `json:"severity"`
				Message  string `json:"message"`
				Location []struct {
					Pointer string `json:"pointer"`
				} `json:"location"`
			} `json:"problems"`
		}
		// The report is the first JSON value of the output, between Node's
		// and Redocly's notices.
		start := strings.Index(out, "{")
		if start < 0 || json.NewDecoder(strings.NewReader(out[start:])).Decode(&report) != nil || report.Version == "" {
			t.Fatalf("%s: redocly lint (%v) printed no JSON report:\n%s", c.name, err, out)
		}
		for _, pr := range report.Problems {
			where := ""
			if len(pr.Location) > 0 {
				where = pr.Location[0].Pointer
			}
			t.Errorf("%s: %s %s at %s: %s", c.name, pr.Severity, pr.RuleID, where, pr.Message)
		}
		if report.Totals.Errors != 0 || report.Totals.Warnings != 0 || report.Totals.Ignored != 0 {
			t.Errorf("%s: redocly lint %s: %d errors, %d warnings, %d ignored; want none", c.name, report.Version,
				report.Totals.Errors, report.Totals.Warnings, report.Totals.Ignored)
		}
		if err != nil && !t.Failed() {
			t.Errorf("%s: redocly lint failed without a problem reported: %v\n%s", c.name, err, out)
		}
		t.Logf("%s: redocly lint %s: %d errors, %d warnings (%d bytes)", c.name, report.Version,
			report.Totals.Errors, report.Totals.Warnings, len(doc))
	}
}

// fetch GETs url and returns the body of its 200 answer.
func fetch(t *testing.T, url string) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, res.Status, b)
	}
	return b
}

// TestOpenAPIClient bootstraps a client as a partner would: TypeScript
// types generated by openapi-typescript from the served document (the
// README's command, but for the port), a client written against them with
// openapi-fetch (node/openapi-client.ts), compiled by tsc --strict (every
// path, parameter, body and answer checked against the generated types) and
// run against the binary with the demo data: it finds the server and the
// token URL in the document, gets a token by client credentials, lists and
// creates bankingservice.ai customers, logs a user in with DirectLogin and
// reads an OBP route with the DirectLogin scheme.
func TestOpenAPIClient(t *testing.T) {
	t.Parallel() // light: they run together once the serial tests are done
	dir, node := npmTool(t, "openapi-typescript")
	for _, pkg := range []string{"typescript", "openapi-fetch"} {
		npmTool(t, pkg)
	}
	bin := buildBinary(t)
	p := launch(t, t.Context(), bin, "--database-url", filepath.Join(t.TempDir(), "e2e.db"), "--demo", "--customers", "20")
	docURL := p.base + "/openapi.json"

	work := t.TempDir()
	if err := os.Symlink(filepath.Join(dir, "node_modules"), filepath.Join(work, "node_modules")); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(dir, "openapi-client.ts"))
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string][]byte{"package.json": []byte(`{"type": "module"}`), "openapi-client.ts": src} {
		if err := os.WriteFile(filepath.Join(work, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bins := filepath.Join(dir, "node_modules")
	if out, err := run(t, work, redoclyEnv, node, filepath.Join(bins, "openapi-typescript", "bin", "cli.js"), docURL, "-o", "api.ts"); err != nil {
		t.Fatalf("openapi-typescript %s: %v\n%s", docURL, err, out)
	}
	api, err := os.ReadFile(filepath.Join(work, "api.ts"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"/oauth/token": {`,
		`"/my/logins/direct": {`,
		"oauthToken: {",
		"obpDirectLogin: {",
		`"Idempotency-Key"?: components["parameters"]["IdempotencyKey"];`,
		"DirectLogin?: string;",
		"OAuthError: {",
	} {
		if !strings.Contains(string(api), want) {
			t.Errorf("the generated types lack %q", want)
		}
	}
	if out, err := run(t, work, nil, node, filepath.Join(bins, "typescript", "bin", "tsc"),
		"--strict", "--target", "es2022", "--module", "nodenext", "--moduleResolution", "nodenext",
		"--lib", "es2022,dom", "--skipLibCheck", "--outDir", "out", "openapi-client.ts", "api.ts"); err != nil {
		t.Fatalf("tsc: the client does not type-check against the types generated from the document: %v\n%s", err, out)
	}
	out, err := run(t, work, nil, node, filepath.Join("out", "openapi-client.js"), docURL)
	if err != nil {
		t.Fatalf("the generated client failed: %v\n%s", err, out)
	}
	var got struct {
		Server, TokenURL, TokenType, Created, Username  string
		Customers, PageSize, CreatedStatus, LoginStatus int
		NotFound                                        []any
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
		t.Fatalf("the client's report: %v\n%s", err, out)
	}
	t.Logf("client: %s", lines[len(lines)-1])
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"server (the document's \"/\")", got.Server, p.base},
		{"token URL (the oauth2 scheme's)", got.TokenURL, p.base + "/oauth/token"},
		{"token_type", got.TokenType, "Bearer"},
		{"customers listed", got.PageSize, 5},
		{"customer created", got.Created, "Ada Client"},
		{"create status", got.CreatedStatus, http.StatusOK},
		{"DirectLogin status", got.LoginStatus, http.StatusCreated},
		{"DirectLogin user", got.Username, "demo.banker"},
		{"unknown customer", len(got.NotFound) == 2 && got.NotFound[0] == float64(404) && got.NotFound[1] == "not_found", true},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
		}
	}
	if got.Customers < 5 {
		t.Errorf("the demo partner's bank has %d customers, want at least 5", got.Customers)
	}
}

package graphiql

import (
	"encoding/base64"
	"encoding/hex"
	"html"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
)

// newServer mounts the handlers the way server.go does (assets under
// AssetsPrefix, page at /).
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(AssetsPrefix, Assets())
	mux.Handle("/{$}", Page(Options{Endpoint: "/query", TokenPath: "/oauth/token", DirectLoginPath: "/my/logins/direct"}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return resp, body
}

// assetRef matches a <script src> or <link href> together with its integrity.
var assetRef = regexp.MustCompile(`<(script|link)\b[^>]*?\b(?:src|href)="([^"]*)"[^>]*?\bintegrity="([^"]*)"`)

func TestPageUsesOnlyEmbeddedAssets(t *testing.T) {
	srv := newServer(t)
	resp, page := get(t, srv.URL+"/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /: status %d", resp.StatusCode)
	}
	doc := string(page)
	for _, bad := range []string{"http://", "https://", "//cdn"} {
		if strings.Contains(doc, bad) {
			t.Errorf("page contains %q; want only local asset URLs", bad)
		}
	}
	config := regexp.MustCompile(`<script id="custgraph-config" type="application/json">([^<]*)</script>`).FindStringSubmatch(doc)
	if len(config) != 2 || config[1] != `{"directLoginPath":"/my/logins/direct","endpoint":"/query","tokenPath":"/oauth/token"}` {
		t.Errorf("page config: %q", config)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self';", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(regexp.MustCompile(`script-src[^;]*`).FindString(csp), "unsafe") {
		t.Errorf("Content-Security-Policy %q allows unsafe scripts", csp)
	}

	refs := assetRef.FindAllStringSubmatch(doc, -1)
	var names []string
	for _, ref := range refs {
		name, version, _ := strings.Cut(strings.TrimPrefix(html.UnescapeString(ref[2]), AssetsPrefix), "?v=")
		if len(version) != 12 || !strings.HasPrefix(hex.EncodeToString(mustDecode(t, ref[3])), version) {
			t.Errorf("%s: version %q is not the start of its hash", ref[2], version)
		}
		names = append(names, name)
	}
	want := "graphiql.min.css graphiql-plugin-explorer.css custgraph-graphiql.css react.production.min.js react-dom.production.min.js " +
		"graphiql.min.js graphiql-plugin-explorer.umd.js custgraph-graphiql.js"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("page loads (with integrity) %s\nwant %s", got, want)
	}
	wantType := map[string]string{"script": "text/javascript; charset=utf-8", "link": "text/css; charset=utf-8"}
	for _, ref := range refs {
		// Attribute values are HTML-escaped (+ becomes &#43;).
		tag, url, integrity := ref[1], html.UnescapeString(ref[2]), html.UnescapeString(ref[3])
		if !strings.HasPrefix(url, AssetsPrefix) {
			t.Errorf("<%s> references %q, want prefix %s", tag, url, AssetsPrefix)
			continue
		}
		resp, body := get(t, srv.URL+url)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d", url, resp.StatusCode)
			continue
		}
		if got := resp.Header.Get("Content-Type"); got != wantType[tag] {
			t.Errorf("GET %s: Content-Type %q, want %q", url, got, wantType[tag])
		}
		if got := sri(body); got != integrity {
			t.Errorf("GET %s: body hashes to %s, page integrity is %s", url, got, integrity)
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(url, AssetsPrefix), "?")
		if v, ok := vendored[name]; ok && v != integrity {
			t.Errorf("GET %s: integrity %s, want the vendored file's %s", url, integrity, v)
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("GET %s: Cache-Control %q, want immutable", url, cc)
		}
	}
}

func TestAssetsUnknownIs404(t *testing.T) {
	srv := newServer(t)
	for _, p := range []string{"nope.js", "", "LICENSE", "../graphiql.go", "assets/graphiql.min.js"} {
		resp, _ := get(t, srv.URL+AssetsPrefix+p)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s%s: status %d, want 404", AssetsPrefix, p, resp.StatusCode)
		}
	}
}

func TestAssetsConditionalGet(t *testing.T) {
	srv := newServer(t)
	url := srv.URL + AssetsPrefix + "react.production.min.js"
	resp, _ := get(t, url)
	etag := resp.Header.Get("ETag")
	if want := `"` + vendored["react.production.min.js"] + `"`; etag != want {
		t.Fatalf("ETag %q, want %q", etag, want)
	}
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("If-None-Match", etag)
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", resp2.StatusCode)
	}
}

func TestLicensesServed(t *testing.T) {
	srv := newServer(t)
	for _, name := range []string{"LICENSE-graphiql.txt", "LICENSE-react.txt", "LICENSE-react-dom.txt", "LICENSE-graphiql-plugin-explorer.txt"} {
		resp, body := get(t, srv.URL+AssetsPrefix+name)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "MIT License") {
			t.Errorf("GET %s: status %d, MIT text present %v", name, resp.StatusCode, strings.Contains(string(body), "MIT License"))
		}
	}
}

// TestVendoredFilesAreEmbedded: every vendored file is embedded and hashes
// to its constant (scripts/vendor-graphiql.sh checks the same sums).
func TestVendoredFilesAreEmbedded(t *testing.T) {
	for name, want := range vendored {
		b, err := fs.ReadFile(assets, name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := sri(b); got != want {
			t.Errorf("%s hashes to %s, want %s", name, got, want)
		}
	}
}

// TestVendorScriptChecksTheSameSums: the sums the vendoring script checks
// are the ones the page's integrity attributes use.
func TestVendorScriptChecksTheSameSums(t *testing.T) {
	b, err := os.ReadFile("../../scripts/vendor-graphiql.sh")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^(?:expected=")?([\w.-]+) (sha256-[A-Za-z0-9+/=]+)"?$`).FindAllStringSubmatch(string(b), -1) {
		got[m[1]] = m[2]
	}
	if !maps.Equal(got, vendored) {
		t.Errorf("scripts/vendor-graphiql.sh checks %v\nthe page uses %v", got, vendored)
	}
}

func mustDecode(t *testing.T, integrity string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(html.UnescapeString(integrity), "sha256-"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

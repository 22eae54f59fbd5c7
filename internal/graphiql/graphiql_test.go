package graphiql

import (
	"html"
	"io"
	"net/http"
	"net/http/httptest"
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
	mux.Handle("/{$}", Page("custgraph", "/query"))
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
	if !strings.Contains(doc, `"/query"`) {
		t.Errorf("page does not reference endpoint /query")
	}

	refs := assetRef.FindAllStringSubmatch(doc, -1)
	if len(refs) != 4 {
		t.Fatalf("found %d script/link tags with integrity, want 4: %q", len(refs), refs)
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
	if etag != `"`+reactSRI+`"` {
		t.Fatalf("ETag %q, want %q", etag, `"`+reactSRI+`"`)
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
	for _, name := range []string{"LICENSE-graphiql.txt", "LICENSE-react.txt", "LICENSE-react-dom.txt"} {
		resp, body := get(t, srv.URL+AssetsPrefix+name)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "MIT License") {
			t.Errorf("GET %s: status %d, MIT text present %v", name, resp.StatusCode, strings.Contains(string(body), "MIT License"))
		}
	}
}

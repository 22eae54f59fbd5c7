// Package graphiql serves the GraphiQL IDE without any internet access, with
// a sign-in panel and the explorer (query builder) plugin.
//
// The page loads GraphiQL 4.1.2, React/ReactDOM 18.2.0 and
// @graphiql/plugin-explorer 4.0.6 from embedded copies of their npm files
// (vendored by scripts/vendor-graphiql.sh, checked against the same SHA-256
// sums as here, licenses alongside), each with its Subresource Integrity
// hash, and custgraph-graphiql.js, written here, which renders GraphiQL with
// the sign-in panel: it gets a token from custgraph's token endpoints, keeps
// it in memory only, renews it and sends it with every request. A Content
// Security Policy allows scripts and connections to this origin only. Mount
// both handlers on one router:
//
//	r.Handle(graphiql.AssetsPrefix+"*", graphiql.Assets())
//	r.Handle("/", graphiql.Page(graphiql.Options{Endpoint: "/query", …}))
package graphiql

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// AssetsPrefix is the URL path under which Assets serves the embedded files.
const AssetsPrefix = "/graphiql/assets/"

// SRI hashes (sha256, base64) of the vendored files, checked by
// scripts/vendor-graphiql.sh and by the tests. All but the explorer's
// stylesheet equal gqlgen v0.17.90's defaults for the same CDN files.
var vendored = map[string]string{
	"graphiql.min.js":                 "sha256-hnImuor1znlJkD/FOTL3jayfS/xsyNoP04abi8bFJWs=",
	"graphiql.min.css":                "sha256-MEh+B2NdMSpj9kexQNN3QKc8UzMrCXW/Sx/phcpuyIU=",
	"react.production.min.js":         "sha256-S0lp+k7zWUMk2ixteM6HZvu8L9Eh//OVrt+ZfbCpmgY=",
	"react-dom.production.min.js":     "sha256-IXWO0ITNDjfnNXIu5POVfqlgYoop36bDzhodR6LW5Pc=",
	"graphiql-plugin-explorer.umd.js": "sha256-UM8sWOS0Xa9yLY85q6Clh0pF4qpxX+TOcJ41flECqBs=",
	"graphiql-plugin-explorer.css":    "sha256-aJCaSuI7+t/EWRrLTis8jU9EFTua5/o7fnwxnroxDvE=",
}

//go:embed assets/*
var embedded embed.FS

var (
	assets = mustSub(embedded, "assets")
	etags  = hashAll(assets) // file name -> quoted SRI string
)

// contentTypes is fixed here rather than taken from the mime package, whose
// answer for .js depends on the host's /etc/mime.types.
var contentTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".txt": "text/plain; charset=utf-8",
}

// Assets returns a handler serving the embedded GraphiQL files for request
// paths beginning with AssetsPrefix. Files are immutable (versioned by the
// vendoring script), so responses carry a one-year immutable Cache-Control and
// a strong ETag; unknown paths get 404.
func Assets() http.Handler {
	files := http.FileServerFS(assets)
	return http.StripPrefix(AssetsPrefix, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		etag, ok := etags[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", contentTypes[path.Ext(r.URL.Path)])
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("ETag", etag)
		files.ServeHTTP(w, r)
	}))
}

// Options configure the page.
type Options struct {
	Title           string // the page's title; "custgraph GraphiQL" when empty
	Endpoint        string // the GraphQL endpoint, e.g. /query
	TokenPath       string // OAuth2 token endpoint (client credentials), e.g. /oauth/token
	DirectLoginPath string // OBP DirectLogin, e.g. /my/logins/direct
}

// Page returns a handler rendering the GraphiQL page, which loads its
// scripts and styles only from AssetsPrefix, each with its integrity hash.
func Page(o Options) http.Handler {
	if o.Title == "" {
		o.Title = "custgraph GraphiQL"
	}
	config, err := json.Marshal(map[string]string{
		"endpoint": o.Endpoint, "tokenPath": o.TokenPath, "directLoginPath": o.DirectLoginPath,
	})
	if err != nil {
		panic(err)
	}
	data := struct {
		Title   string
		Config  template.JS
		Styles  []ref
		Scripts []ref
	}{
		Title: o.Title,
		// html/template escapes the JSON for a <script> element.
		Config: template.JS(config),
		Styles: refs("graphiql.min.css", "graphiql-plugin-explorer.css", "custgraph-graphiql.css"),
		Scripts: refs("react.production.min.js", "react-dom.production.min.js", "graphiql.min.js",
			"graphiql-plugin-explorer.umd.js", "custgraph-graphiql.js"),
	}
	var b strings.Builder
	if err := page.Execute(&b, data); err != nil {
		panic(err)
	}
	html := b.String()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		_, _ = w.Write([]byte(html))
	})
}

// csp lets the page run only its own scripts (React sets inline styles)
// and talk only to its own origin: no third-party script can read the token
// it holds.
const csp = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// ref is an asset the page loads.
type ref struct{ URL, Integrity string }

func refs(names ...string) []ref {
	out := make([]ref, len(names))
	for i, n := range names {
		etag, ok := etags[n]
		if !ok {
			panic("graphiql: no embedded asset " + n)
		}
		integrity := strings.Trim(etag, `"`)
		// The file's hash in the URL: a new release's file is a new URL,
		// never a year-old cached copy that its integrity would refuse.
		sum, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(integrity, "sha256-"))
		out[i] = ref{AssetsPrefix + n + "?v=" + hex.EncodeToString(sum[:6]), integrity}
	}
	return out
}

var page = template.Must(template.New("graphiql").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
{{- range .Styles}}
<link rel="stylesheet" href="{{.URL}}" integrity="{{.Integrity}}" crossorigin="anonymous">
{{- end}}
<script id="custgraph-config" type="application/json">{{.Config}}</script>
</head>
<body style="margin: 0">
<div id="graphiql" style="height: 100vh"><p style="font: 2rem sans-serif; text-align: center; margin-top: 40vh">Loading…</p></div>
{{- range .Scripts}}
<script src="{{.URL}}" integrity="{{.Integrity}}" crossorigin="anonymous"></script>
{{- end}}
</body>
</html>
`))

// sri returns the Subresource Integrity string (sha256) of b.
func sri(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// hashAll maps each top-level file of fsys that has a known content type to
// its quoted SRI string, used as ETag: the vendored files from their
// constants, the others hashed here.
func hashAll(fsys fs.FS) map[string]string {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		panic(err)
	}
	m := make(map[string]string, len(entries))
	for _, e := range entries {
		if _, ok := contentTypes[path.Ext(e.Name())]; e.IsDir() || !ok {
			continue
		}
		if sum, ok := vendored[e.Name()]; ok {
			// Not read at start-up: 1.7 MB of the binary's pages that
			// would stay resident (TestVendoredFilesAreEmbedded checks
			// that the file hashes to sum).
			m[e.Name()] = `"` + sum + `"`
			continue
		}
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			panic(err)
		}
		m[e.Name()] = `"` + sri(b) + `"`
	}
	return m
}

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

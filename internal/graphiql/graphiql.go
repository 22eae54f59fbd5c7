// Package graphiql serves the GraphiQL IDE without any internet access.
//
// gqlgen's playground page loads GraphiQL 4.1.2 and React/ReactDOM 18.2.0
// from a public CDN. This package embeds byte-identical copies of those files
// (vendored from npm by scripts/vendor-graphiql.sh, licenses alongside) and
// renders the same gqlgen page pointing at them, keeping gqlgen's
// Subresource Integrity hashes. Mount both handlers on one router:
//
//	r.Handle(graphiql.AssetsPrefix+"*", graphiql.Assets())
//	r.Handle("/", graphiql.Page("custgraph", "/query"))
package graphiql

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
	"net/http"
	"path"

	"github.com/99designs/gqlgen/graphql/playground"
)

// AssetsPrefix is the URL path under which Assets serves the embedded files.
const AssetsPrefix = "/graphiql/assets/"

// SRI hashes (sha256, base64) of the vendored files; they equal gqlgen
// v0.17.90's defaults for the same CDN files and are checked by
// scripts/vendor-graphiql.sh and by the tests.
const (
	graphiqlJSSRI  = "sha256-hnImuor1znlJkD/FOTL3jayfS/xsyNoP04abi8bFJWs="
	graphiqlCSSSRI = "sha256-MEh+B2NdMSpj9kexQNN3QKc8UzMrCXW/Sx/phcpuyIU="
	reactSRI       = "sha256-S0lp+k7zWUMk2ixteM6HZvu8L9Eh//OVrt+ZfbCpmgY="
	reactDOMSRI    = "sha256-IXWO0ITNDjfnNXIu5POVfqlgYoop36bDzhodR6LW5Pc="
)

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

// Page returns a handler rendering the GraphiQL page titled title that sends
// queries to endpoint and loads its scripts and styles only from AssetsPrefix.
func Page(title, endpoint string) http.Handler {
	p := AssetsPrefix
	return playground.Handler(title, endpoint,
		playground.WithGraphiqlVersion(p+"graphiql.min.js", p+"graphiql.min.css", graphiqlJSSRI, graphiqlCSSSRI),
		playground.WithGraphiqlReactVersion(p+"react.production.min.js", p+"react-dom.production.min.js", reactSRI, reactDOMSRI),
	)
}

// sri returns the Subresource Integrity string (sha256) of b.
func sri(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// hashAll maps each top-level file of fsys that has a known content type to
// its quoted SRI string, used as ETag.
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

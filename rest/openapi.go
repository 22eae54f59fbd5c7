package rest

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// The OpenAPI 3.1 description of every REST route is kept beside the code
// of each family, one fragment a family (openapi/*.json: its paths and
// component schemas), and put together here. The tests check it against
// the router both ways (every route described, every description served),
// validate it with an OpenAPI 3.1 validator and validate every answer the
// REST tests get against it.

//go:embed openapi/*.json
var fragments embed.FS

// OpenAPIPath is where the binary serves the document.
const OpenAPIPath = "/openapi.json"

var openAPI = sync.OnceValues(func() ([]byte, error) { return buildOpenAPI(fragments, "") })

// OpenAPI returns the OpenAPI 3.1 document of the REST routes as served
// without a configured public URL: its server is "/", the host it was
// fetched from.
func OpenAPI() ([]byte, error) { return openAPI() }

// OpenAPIFor returns the document as served with the public URL
// publicURL (--public-url; "" for none): its server, and the token URL
// of its OAuth 2.0 scheme, are that URL's.
func OpenAPIFor(publicURL string) ([]byte, error) {
	if publicURL == "" {
		return OpenAPI()
	}
	return buildOpenAPI(fragments, publicURL)
}

// fragment is the part of an OpenAPI document a family file holds
// (common.json holds the components every family uses: the security
// schemes, Retry-After, Idempotency-Key; auth.json the token endpoints).
type fragment struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components map[string]map[string]json.RawMessage `json:"components"`
}

func buildOpenAPI(files fs.FS, publicURL string) ([]byte, error) {
	names, err := fs.Glob(files, "openapi/*.json")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	paths := map[string]map[string]json.RawMessage{}
	components := map[string]map[string]json.RawMessage{}
	for _, name := range names {
		b, err := fs.ReadFile(files, name)
		if err != nil {
			return nil, err
		}
		var f fragment
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for p, ops := range f.Paths {
			if paths[p] == nil {
				paths[p] = map[string]json.RawMessage{}
			}
			for method, op := range ops {
				if _, dup := paths[p][method]; dup {
					return nil, fmt.Errorf("%s: %s %s is described twice", name, method, p)
				}
				paths[p][method] = op
			}
		}
		for kind, entries := range f.Components {
			if components[kind] == nil {
				components[kind] = map[string]json.RawMessage{}
			}
			for n, c := range entries {
				if _, dup := components[kind][n]; dup {
					return nil, fmt.Errorf("%s: components.%s.%s is defined twice", name, kind, n)
				}
				components[kind][n] = c
			}
		}
	}
	// The server, and the OAuth 2.0 token URL, are the configured public
	// URL's; without one, relative to where the document was fetched.
	server := map[string]string{"url": "/", "description": "The server this document was fetched from."}
	if base := strings.TrimSuffix(publicURL, "/"); base != "" {
		server = map[string]string{"url": base, "description": "custgraph at its public URL (--public-url)."}
		var oauth2 struct {
			Type        string `json:"type"`
			Description string `json:"description"`
			Flows       struct {
				ClientCredentials map[string]any `json:"clientCredentials"`
			} `json:"flows"`
		}
		if err := json.Unmarshal(components["securitySchemes"]["oauth2"], &oauth2); err != nil {
			return nil, fmt.Errorf("components.securitySchemes.oauth2: %w", err)
		}
		path, _ := oauth2.Flows.ClientCredentials["tokenUrl"].(string)
		oauth2.Flows.ClientCredentials["tokenUrl"] = base + path
		b, err := json.Marshal(oauth2)
		if err != nil {
			return nil, err
		}
		components["securitySchemes"]["oauth2"] = b
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":   "custgraph REST compatibility routes",
			"version": "1.0.0",
			"description": "bankingservice.ai customers, a Tradevest-style BaaS (customers and products) and the " +
				"Open Bank Project customer endpoints, served on the same data and rules as custgraph's GraphQL API (POST /query).\n\n" +
				"Authentication: an API client gets an access token from POST /oauth/token (OAuth 2.0 client credentials, " +
				"the oauth2 scheme) and sends it as Authorization: Bearer <token>; a user logs in with OBP DirectLogin " +
				"(POST /my/logins/direct) and sends Authorization: DirectLogin token=\"<token>\".\n\n" +
				"Every route may answer 429 (a rate or concurrency limit) and 503 (the service unavailable), both with " +
				"Retry-After, in its family's error format. Every mutating route takes an optional Idempotency-Key header " +
				"that makes retries safe: the same caller, key and body within 24 hours get the first answer again.",
			"license": map[string]string{"name": "Proprietary", "identifier": "LicenseRef-Proprietary"},
			"contact": map[string]string{"name": "custgraph maintainers"},
		},
		"servers": []map[string]string{server},
		"tags": []map[string]string{
			{"name": "Authentication", "description": "Getting a token: OAuth 2.0 client credentials for API clients, OBP DirectLogin for users."},
			{"name": "bankingservice.ai", "description": "/v1/profiles/{profileId}/customers: profileId is the bank's code."},
			{"name": "Tradevest", "description": "Customers and customer products of a bank-bound partner; mutations carry Requestor-ID."},
			{"name": "OBP", "description": "Open Bank Project customer endpoints under /obp/vX.Y.Z/, and OBP DirectLogin."},
		},
		"security":   []map[string][]string{{"oauth2": {}}, {"bearer": {}}, {"directLogin": {}}},
		"paths":      paths,
		"components": components,
	}
	return json.MarshalIndent(doc, "", "  ")
}

// serveOpenAPI answers GET /openapi.json with the document for publicURL.
func serveOpenAPI(publicURL string) http.HandlerFunc {
	// Built at the first request, not at start-up: 0.7 MB that a replica
	// which is never asked would keep on its heap (and, with GOGC=400, some
	// 3.5 MB of memory).
	build := sync.OnceValues(func() ([]byte, error) { return OpenAPIFor(publicURL) })
	return func(w http.ResponseWriter, _ *http.Request) {
		b, err := build()
		if err != nil {
			http.Error(w, "the OpenAPI document could not be built", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	}
}

package rest

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
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

var openAPI = sync.OnceValues(func() ([]byte, error) { return buildOpenAPI(fragments) })

// OpenAPI returns the OpenAPI 3.1 document of the REST routes.
func OpenAPI() ([]byte, error) { return openAPI() }

// fragment is the part of an OpenAPI document a family file holds.
type fragment struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components map[string]map[string]json.RawMessage `json:"components"`
}

func buildOpenAPI(files fs.FS) ([]byte, error) {
	names, err := fs.Glob(files, "openapi/*.json")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	paths := map[string]map[string]json.RawMessage{}
	components := map[string]map[string]json.RawMessage{
		"securitySchemes": {
			"bearer": json.RawMessage(`{"type":"http","scheme":"bearer","bearerFormat":"JWT",` +
				`"description":"An access token from POST /oauth/token (OAuth2 client credentials), or an OBP DirectLogin token."}`),
			"directLogin": json.RawMessage(`{"type":"apiKey","in":"header","name":"DirectLogin",` +
				`"description":"OBP DirectLogin: token=\"<token from POST /my/logins/direct>\" (also accepted as Authorization: DirectLogin token=\"…\")."}`),
		},
	}
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
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":   "custgraph REST compatibility routes",
			"version": "1.0.0",
			"description": "bankingservice.ai customers, a Tradevest-style BaaS (customers and products) and the " +
				"Open Bank Project customer endpoints, served on the same data and rules as custgraph's GraphQL API (POST /query).",
		},
		"tags": []map[string]string{
			{"name": "bankingservice.ai", "description": "/v1/profiles/{profileId}/customers: profileId is the bank's code."},
			{"name": "Tradevest", "description": "Customers and customer products of a bank-bound partner; mutations carry Requestor-ID."},
			{"name": "OBP", "description": "Open Bank Project customer endpoints under /obp/vX.Y.Z/."},
		},
		"security":   []map[string][]string{{"bearer": {}}, {"directLogin": {}}},
		"paths":      paths,
		"components": components,
	}
	return json.MarshalIndent(doc, "", "  ")
}

// serveOpenAPI answers GET /openapi.json.
func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	b, err := OpenAPI()
	if err != nil {
		http.Error(w, "the OpenAPI document could not be built", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

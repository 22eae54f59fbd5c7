package rest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/stretchr/testify/require"

	"custgraph/internal/authn"
	"custgraph/rest"
)

// openAPIValidator is one validator of the served document for the whole
// test binary (building it parses every schema).
var openAPIValidator = sync.OnceValues(func() (validator.Validator, error) {
	b, err := rest.OpenAPI()
	if err != nil {
		return nil, err
	}
	if b, err = closedObjects(b); err != nil {
		return nil, err
	}
	doc, err := libopenapi.NewDocument(b)
	if err != nil {
		return nil, err
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return v, nil
})

// TestOpenAPIDocument validates the served document against the OpenAPI
// 3.1 specification and checks that it describes exactly the routes the
// router serves, both ways.
func TestOpenAPIDocument(t *testing.T) {
	v, err := openAPIValidator()
	require.NoError(t, err)
	ok, errs := v.ValidateDocument()
	for _, e := range errs {
		t.Errorf("OpenAPI document: %s", e.Error())
	}
	require.True(t, ok)

	b, err := rest.OpenAPI()
	require.NoError(t, err)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(b, &doc))
	require.Equal(t, "3.1.0", doc.OpenAPI)
	var described []string
	ids := map[string]string{}
	for p, ops := range doc.Paths {
		for method, op := range ops {
			if method == "parameters" || method == "summary" || method == "description" {
				continue
			}
			route := strings.ToUpper(method) + " " + p
			described = append(described, route)
			var o struct {
				OperationID string `json:"operationId"`
			}
			require.NoError(t, json.Unmarshal(op, &o))
			require.NotEmpty(t, o.OperationID, "%s has no operationId", route)
			require.NotContains(t, ids, o.OperationID, "operationId %s of %s is also %s's", o.OperationID, route, ids[o.OperationID])
			ids[o.OperationID] = route
		}
	}

	// The token endpoints are served beside the REST routes
	// (internal/server), not by rest.Mount.
	tokenRoutes := []string{"POST " + authn.TokenPath, "POST " + authn.DirectLoginPath}
	for _, route := range tokenRoutes {
		require.Contains(t, described, route)
	}
	described = slices.DeleteFunc(described, func(route string) bool { return slices.Contains(tokenRoutes, route) })

	r := chi.NewRouter()
	rest.Mount(r, rest.Config{})
	var served []string
	require.NoError(t, chi.Walk(r, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if route != rest.OpenAPIPath {
			served = append(served, method+" "+strings.TrimSuffix(route, "/"))
		}
		return nil
	}))
	slices.Sort(described)
	slices.Sort(served)
	require.Equal(t, served, described, "the OpenAPI paths must be exactly the routes served")
}

// TestOpenAPIServed checks that the binary serves the document.
func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t)
	res := e.call(t, http.MethodGet, rest.OpenAPIPath, "", nil)
	require.Equal(t, http.StatusOK, res.status)
	require.Equal(t, "application/json", res.header.Get("Content-Type"))
	want, err := rest.OpenAPI()
	require.NoError(t, err)
	require.JSONEq(t, string(want), string(res.body))
}

// checkAgainstOpenAPI validates a REST answer against the OpenAPI
// document: its status must be described for the operation and its body
// must match the schema. Answers of unknown URLs (404s of paths the
// document has no operation for) are not described by design.
func checkAgainstOpenAPI(t *testing.T, req *http.Request, rep reply) {
	t.Helper()
	v, err := openAPIValidator()
	require.NoError(t, err)
	res := &http.Response{
		StatusCode: rep.status,
		Header:     rep.header,
		Body:       io.NopCloser(bytes.NewReader(rep.body)),
		Request:    req,
	}
	ok, errs := v.ValidateHttpResponse(req, res)
	if ok {
		return
	}
	for _, e := range errs {
		if (e.IsPathMissingError() || e.IsOperationMissingError()) && (rep.status == http.StatusNotFound || rep.status == http.StatusMethodNotAllowed) {
			continue
		}
		t.Errorf("%s %s answered %d, which the OpenAPI document does not allow: %s\nbody: %s",
			req.Method, req.URL.Path, rep.status, e.Error(), rep.body)
	}
}

// closedObjects returns the document with every object schema that lists
// its properties closed (additionalProperties: false, where it says
// nothing else): every answer the tests get is then checked to have only
// the documented fields, the shapes of ../shared/spec/rest-compat.md.
func closedObjects(doc []byte) ([]byte, error) {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return nil, err
	}
	var walk func(any)
	walk = func(n any) {
		switch n := n.(type) {
		case map[string]any:
			if _, ok := n["properties"].(map[string]any); ok {
				if _, set := n["additionalProperties"]; !set {
					n["additionalProperties"] = false
				}
			}
			for _, c := range n {
				walk(c)
			}
		case []any:
			for _, c := range n {
				walk(c)
			}
		}
	}
	walk(v)
	return json.Marshal(v)
}

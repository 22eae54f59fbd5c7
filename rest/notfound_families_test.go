package rest_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// An unknown URL under a family's paths, or a method its route does not
// serve, answers in the family's error format (as OBP's OBP-10404 does),
// not chi's text/plain "404 page not found" or an empty 405: 404, and 405
// with an Allow header naming the route's methods. Authentication does not
// matter: no route, no credentials to check.

const notFoundRequestID = "notfound-test"

func TestFamiliesUnknownRouteAndMethod(t *testing.T) {
	e := newEnv(t)
	tok := e.client(t, e.A, allBankRoles(e.A)...)
	id := uuid.NewString()

	// bsai is bankingservice.ai's error body (rest-compat §5.2).
	bsai := func(status int, code, msg string) string {
		return `{"status":` + strconv.Itoa(status) + `,"error":"` + code + `","message":"` + msg + `"}` + "\n"
	}
	// tv is Tradevest's ErrorMessage (rest-compat §2.6).
	tv := func(responseType, errorCode, msg string) string {
		return `{"message":"` + msg + `","responseType":"` + responseType + `","requestId":"` + notFoundRequestID +
			`","errorCode":"` + errorCode + `","errorDetails":[]}` + "\n"
	}
	for _, tc := range []struct {
		name, method, path string
		status             int
		allow              string
		body               string
	}{
		// bankingservice.ai: /v1/…
		{"bsai trailing slash", http.MethodGet, "/v1/profiles/" + bankA + "/customers/", http.StatusNotFound, "",
			bsai(404, "not_found", `path \"/v1/profiles/`+bankA+`/customers/\" not found`)},
		{"bsai unknown path", http.MethodGet, "/v1/nowhere", http.StatusNotFound, "",
			bsai(404, "not_found", `path \"/v1/nowhere\" not found`)},
		{"bsai PATCH list", http.MethodPatch, "/v1/profiles/" + bankA + "/customers", http.StatusMethodNotAllowed, "GET, HEAD, POST",
			bsai(405, "method_not_allowed", `method PATCH is not allowed on path \"/v1/profiles/`+bankA+`/customers\" (allowed: GET, HEAD, POST)`)},
		{"bsai POST customer", http.MethodPost, "/v1/profiles/" + bankA + "/customers/" + id, http.StatusMethodNotAllowed, "GET, HEAD, PUT, DELETE",
			bsai(405, "method_not_allowed", `method POST is not allowed on path \"/v1/profiles/`+bankA+`/customers/`+id+`\" (allowed: GET, HEAD, PUT, DELETE)`)},

		// Tradevest: /roles, /customers, /products, /entities-changelog.
		{"tv roles trailing slash", http.MethodGet, "/roles/customers/", http.StatusNotFound, "",
			tv("NOT_FOUND", "ROUTE_NOT_FOUND", `path \"/roles/customers/\" not found`)},
		{"tv changelog trailing slash", http.MethodGet, "/entities-changelog/", http.StatusNotFound, "",
			tv("NOT_FOUND", "ROUTE_NOT_FOUND", `path \"/entities-changelog/\" not found`)},
		{"tv unknown product path", http.MethodGet, "/products", http.StatusNotFound, "",
			tv("NOT_FOUND", "ROUTE_NOT_FOUND", `path \"/products\" not found`)},
		{"tv unknown customer path", http.MethodGet, "/customers/" + id + "/products/x", http.StatusNotFound, "",
			tv("NOT_FOUND", "ROUTE_NOT_FOUND", `path \"/customers/`+id+`/products/x\" not found`)},
		{"tv PUT customer", http.MethodPut, "/roles/customers/" + id, http.StatusMethodNotAllowed, "GET, HEAD, PATCH",
			tv("METHOD_NOT_ALLOWED", "METHOD_NOT_ALLOWED", `method PUT is not allowed on path \"/roles/customers/`+id+`\" (allowed: GET, HEAD, PATCH)`)},
		{"tv DELETE changelog", http.MethodDelete, "/entities-changelog", http.StatusMethodNotAllowed, "GET, HEAD",
			tv("METHOD_NOT_ALLOWED", "METHOD_NOT_ALLOWED", `method DELETE is not allowed on path \"/entities-changelog\" (allowed: GET, HEAD)`)},
		{"tv DELETE products", http.MethodDelete, "/customers/" + id + "/products", http.StatusMethodNotAllowed, "GET, HEAD, POST",
			tv("METHOD_NOT_ALLOWED", "METHOD_NOT_ALLOWED", `method DELETE is not allowed on path \"/customers/`+id+`/products\" (allowed: GET, HEAD, POST)`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, auth := range []string{tok, ""} {
				res := noRouteCall(t, e, tc.method, tc.path, auth)
				require.Equal(t, tc.status, res.status, "%s", res.body)
				require.Equal(t, "application/json", res.header.Get("Content-Type"))
				require.Equal(t, tc.allow, res.header.Get("Allow"))
				require.Equal(t, tc.body, string(res.body))
			}
		})
	}
}

// noRouteCall is e.call without e.send's check against the OpenAPI
// document: the document describes no answer of a URL it has no route
// for, and its validator takes "/roles/customers/" for "/roles/customers".
func noRouteCall(t *testing.T, e *env, method, path, authorization string) reply {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, nil)
	require.NoError(t, err)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	req.Header.Set("X-Request-Id", notFoundRequestID)
	return roundTrip(t, req)
}

package restcore

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// AllowedMethods are the methods routes serves at the request's path (the
// part of it below the router's mount point), for the Allow header of a
// family's 405 (chi gives its MethodNotAllowed handler no list). HEAD is
// listed wherever GET is: the server answers HEAD on every GET route
// (chi's GetHead, in internal/server).
func AllowedMethods(routes chi.Routes, r *http.Request) []string {
	path := r.URL.Path
	if rctx := chi.RouteContext(r.Context()); rctx != nil && rctx.RoutePath != "" {
		path = rctx.RoutePath
	}
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace} {
		if routes.Match(chi.NewRouteContext(), m, path) || m == http.MethodHead && len(out) > 0 && out[0] == http.MethodGet {
			out = append(out, m)
		}
	}
	return out
}

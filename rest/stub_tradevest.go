package rest

import "github.com/go-chi/chi/v5"

// STUB: replaced by tradevest.go.
func (a *api) mountTradevest(r chi.Router) {}

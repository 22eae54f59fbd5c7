package rest

import "github.com/go-chi/chi/v5"

// STUB: replaced by bsai.go.
func (a *api) mountBSAI(r chi.Router) {}

package rest

import "github.com/go-chi/chi/v5"

// STUB: replaced by obp_records.go.
func (a *api) obpRecordRoutes(r chi.Router) {}

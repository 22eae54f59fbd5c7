package rest

import "github.com/go-chi/chi/v5"

// STUB: replaced by obp_customers.go.
func (a *api) obpCustomerRoutes(r chi.Router) {}

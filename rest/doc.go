// Package rest will serve the REST compatibility routes (bankingservice.ai,
// the Tradevest-style BaaS and the Open Bank Project) on the same ent client,
// rules and transactions as the GraphQL API. It is filled in by the REST
// compatibility issue; see ../shared/spec/rest-compat.md.
package rest

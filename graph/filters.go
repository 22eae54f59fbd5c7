package graph

import (
	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqljson"

	"custgraph/ent/customer"
	"custgraph/ent/predicate"
)

// hasLabels matches customers that carry every one of the labels
// (jsonb containment on PostgreSQL, served by the GIN index; json_each on SQLite).
func hasLabels(labels ...string) predicate.Customer {
	return func(s *sql.Selector) {
		ps := make([]*sql.Predicate, len(labels))
		for i, l := range labels {
			ps[i] = sqljson.ValueContains(s.C(customer.FieldLabels), l)
		}
		s.Where(sql.And(ps...))
	}
}

// hasAnyLabel matches customers that carry at least one of the labels.
func hasAnyLabel(labels ...string) predicate.Customer {
	return func(s *sql.Selector) {
		ps := make([]*sql.Predicate, len(labels))
		for i, l := range labels {
			ps[i] = sqljson.ValueContains(s.C(customer.FieldLabels), l)
		}
		s.Where(sql.Or(ps...))
	}
}

// searchCustomers is the dashboard's free-text search: a case-insensitive
// substring of the names, the e-mail address or the customer number.
func searchCustomers(q string) predicate.Customer {
	return customer.Or(
		customer.LegalNameContainsFold(q),
		customer.FirstNameContainsFold(q),
		customer.LastNameContainsFold(q),
		customer.CompanyContainsFold(q),
		customer.EmailContainsFold(q),
		customer.CustomerNumberContainsFold(q),
	)
}

// Package filters holds the customer list filters that are not plain column
// predicates (labels, free-text search), shared by the GraphQL where-input
// extensions and the REST list routes so both doors filter alike.
package filters

import (
	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqljson"

	"custgraph/ent/customer"
	"custgraph/ent/predicate"
	"custgraph/internal/apperr"
	"custgraph/internal/validate"
)

// Labels checks a label filter: a customer has at most validate.MaxLabels
// labels, so a longer list is a mistake (and unbounded lists would grow the
// SQL without limit). field names the input in the error.
func Labels(field string, labels []string) error {
	if len(labels) > validate.MaxLabels {
		return apperr.Invalid(field, "at most %d labels, got %d", validate.MaxLabels, len(labels))
	}
	return nil
}

// HasLabels matches customers that carry every one of the labels
// (jsonb containment on PostgreSQL, served by the GIN index; json_each on SQLite).
func HasLabels(labels ...string) predicate.Customer {
	return func(s *sql.Selector) {
		ps := make([]*sql.Predicate, len(labels))
		for i, l := range labels {
			ps[i] = sqljson.ValueContains(s.C(customer.FieldLabels), l)
		}
		s.Where(sql.And(ps...))
	}
}

// HasAnyLabel matches customers that carry at least one of the labels.
func HasAnyLabel(labels ...string) predicate.Customer {
	return func(s *sql.Selector) {
		ps := make([]*sql.Predicate, len(labels))
		for i, l := range labels {
			ps[i] = sqljson.ValueContains(s.C(customer.FieldLabels), l)
		}
		s.Where(sql.Or(ps...))
	}
}

// Search is the dashboard's free-text search: a case-insensitive
// substring of the names, the e-mail address or the customer number.
func Search(q string) predicate.Customer {
	return customer.Or(
		customer.LegalNameContainsFold(q),
		customer.FirstNameContainsFold(q),
		customer.LastNameContainsFold(q),
		customer.CompanyContainsFold(q),
		customer.EmailContainsFold(q),
		customer.CustomerNumberContainsFold(q),
	)
}

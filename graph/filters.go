package graph

import (
	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqljson"

	"custgraph/ent"
	"custgraph/ent/customer"
	"custgraph/ent/predicate"
	"custgraph/internal/apperr"
	"custgraph/internal/validate"
)

// addLabelFilter adds a label filter; a customer has at most
// validate.MaxLabels labels, so a longer list is a mistake (and unbounded
// lists would grow the SQL without limit).
func addLabelFilter(w *ent.CustomerWhereInput, field string, labels []string, p func(...string) predicate.Customer) error {
	if len(labels) > validate.MaxLabels {
		return apperr.Invalid(field, "at most %d labels, got %d", validate.MaxLabels, len(labels))
	}
	if len(labels) > 0 {
		w.AddPredicates(p(labels...))
	}
	return nil
}

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

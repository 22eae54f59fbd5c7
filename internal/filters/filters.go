// Package filters holds the customer list filters that are not plain column
// predicates (labels, free-text search), shared by the GraphQL where-input
// extensions and the REST list routes so both doors filter alike.
package filters

import (
	"strings"
	"unicode/utf8"

	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqljson"

	"custgraph/ent/customer"
	"custgraph/ent/predicate"
	"custgraph/internal/apperr"
	"custgraph/internal/textfold"
	"custgraph/internal/validate"
)

// MaxValueLength is the longest text a filter compares with, in
// characters: no stored text is longer (messages and CRM event details,
// 4,096), so a longer value could never match, and on SQLite a LIKE pattern
// above 50,000 bytes is an error.
const MaxValueLength = 4096

// Value checks one text value of a filter (a label, a search, an
// …EQ/…Contains operand): valid UTF-8, no NUL character (PostgreSQL cannot
// store or compare one) and at most MaxValueLength characters. field names
// the input in the error.
func Value(field, v string) error {
	switch {
	case strings.IndexByte(v, 0) >= 0:
		return apperr.Invalid(field, "must not contain a NUL character")
	case !utf8.ValidString(v):
		return apperr.Invalid(field, "must be valid UTF-8")
	case len(v) > MaxValueLength && utf8.RuneCountInString(v) > MaxValueLength:
		return apperr.Invalid(field, "at most %d characters, got %d", MaxValueLength, utf8.RuneCountInString(v))
	}
	return nil
}

// Labels checks a label filter: a customer has at most validate.MaxLabels
// labels, so a longer list is a mistake (and unbounded lists would grow the
// SQL without limit), and each label is a filter Value. field names the
// input in the error.
func Labels(field string, labels []string) error {
	if len(labels) > validate.MaxLabels {
		return apperr.Invalid(field, "at most %d labels, got %d", validate.MaxLabels, len(labels))
	}
	for _, l := range labels {
		if err := Value(field, l); err != nil {
			return err
		}
	}
	return nil
}

// The filters below are two-valued: a customer whose labels or names are
// NULL does not match (`col IS NOT NULL AND …`) rather than matching
// "unknown", so that `not` (NOT (…)) keeps it. SQL's NULL LIKE x and NULL
// @> x are NULL, NOT NULL is NULL, and `not: {search: "zzzz"}` matched no
// customer at all, `not: {hasLabel: "vip"}` none without labels on
// PostgreSQL. (The containment itself stays as it was, for the GIN index.)

// HasLabels matches customers that carry every one of the labels
// (jsonb containment on PostgreSQL, served by the GIN index; json_each on SQLite),
// every customer when there are none.
func HasLabels(labels ...string) predicate.Customer {
	return func(s *sql.Selector) {
		if len(labels) == 0 {
			s.Where(sql.Not(sql.False())) // (a predicate, for a not: around it)
			return
		}
		ps := make([]*sql.Predicate, len(labels))
		for i, l := range labels {
			ps[i] = sqljson.ValueContains(s.C(customer.FieldLabels), l)
		}
		s.Where(sql.And(sql.NotNull(s.C(customer.FieldLabels)), sql.And(ps...)))
	}
}

// HasAnyLabel matches customers that carry at least one of the labels,
// none when there are none.
func HasAnyLabel(labels ...string) predicate.Customer {
	return func(s *sql.Selector) {
		if len(labels) == 0 {
			s.Where(sql.False())
			return
		}
		ps := make([]*sql.Predicate, len(labels))
		for i, l := range labels {
			ps[i] = sqljson.ValueContains(s.C(customer.FieldLabels), l)
		}
		s.Where(sql.And(sql.NotNull(s.C(customer.FieldLabels)), sql.Or(ps...)))
	}
}

// Search is the dashboard's free-text search: a case-insensitive
// substring of the names, the e-mail address or the customer number.
func Search(q string) predicate.Customer {
	return func(s *sql.Selector) {
		var ps []*sql.Predicate
		for _, f := range []string{customer.FieldLegalName, customer.FieldFirstName, customer.FieldLastName,
			customer.FieldCompany, customer.FieldEmail, customer.FieldCustomerNumber} {
			ps = append(ps, sql.And(sql.NotNull(s.C(f)), textfold.ContainsFold(s.Dialect(), s.C(f), q)))
		}
		s.Where(sql.Or(ps...))
	}
}

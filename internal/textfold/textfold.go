// Package textfold holds the case-insensitive text predicates of every
// filter (search, and the generated …ContainsFold and …EqualFold of the
// GraphQL where inputs, through ent/template/textfold.tmpl), so that their
// cost does not grow with the length of the text a caller sends.
//
// ent writes them on PostgreSQL as `column ILIKE $1`, and ILIKE lower-cases
// its pattern again for every row it compares: on 100,000 customers a
// search of 4,096 characters took seconds per column (an outside attack
// held every connection of the pool with a few of them), where a short one
// takes well under one. Here the pattern is lower-cased once per statement,
// in a scalar subquery (an InitPlan), and compared with the lower-cased
// column: `lower(column) LIKE (SELECT lower($1))`. That is what ILIKE does
// in a multibyte encoding (it lower-cases both sides, then matches), so
// the rows that match are ILIKE's, but for the few letters that Go and
// PostgreSQL lower differently: ent lowered an …EqualFold value in Go
// (İ became i̇, two runes; PostgreSQL's lower makes it i), so
// nameEqualFold: "İstanbul" did not find "İstanbul"; now it does. The
// pattern is lowered with the database's default collation, which is every
// column's (none has its own). SQLite keeps ent's predicates (its LOWER is
// Go's Unicode lower-casing, internal/store).
package textfold

import (
	"strings"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
)

// FieldContainsFold is sql.FieldContainsFold: the field contains substr,
// whatever the case.
func FieldContainsFold(name, substr string) func(*sql.Selector) {
	return func(s *sql.Selector) { s.Where(ContainsFold(s.Dialect(), s.C(name), substr)) }
}

// FieldEqualFold is sql.FieldEqualFold: the field equals v, whatever the
// case.
func FieldEqualFold(name, v string) func(*sql.Selector) {
	return func(s *sql.Selector) { s.Where(EqualFold(s.Dialect(), s.C(name), v)) }
}

// ContainsFold is sql.ContainsFold(col, substr) written for dialect.
func ContainsFold(dialectName, col, substr string) *sql.Predicate {
	if dialectName != dialect.Postgres {
		return sql.ContainsFold(col, substr)
	}
	return sql.P(func(b *sql.Builder) {
		// (No ESCAPE clause: PostgreSQL's escape character is the backslash
		// already, and ESCAPE $n made it run like_escape on the pattern for
		// every row.)
		b.WriteString("lower(").Ident(col).WriteString(") LIKE (SELECT lower(").Arg("%" + escape(substr) + "%").WriteString("))")
	})
}

// EqualFold is sql.EqualFold(col, v) written for dialect.
func EqualFold(dialectName, col, v string) *sql.Predicate {
	if dialectName != dialect.Postgres {
		return sql.EqualFold(col, v)
	}
	return sql.P(func(b *sql.Builder) {
		b.WriteString("lower(").Ident(col).WriteString(") = (SELECT lower(").Arg(v).WriteString("))")
	})
}

// escape escapes LIKE's wildcards (and its escape character) in s.
func escape(s string) string {
	if !strings.ContainsAny(s, `%_\`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r == '%' || r == '_' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

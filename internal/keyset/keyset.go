// Package keyset makes cursor pagination seek through an index.
//
// entgql turns a cursor on the ordering (a, b, id) into
// `a > x OR (a = x AND b > y) OR (a = x AND b = y AND id > z)`. That is
// right, but neither SQLite nor PostgreSQL can use an index on (a, …) to
// start at the cursor: both read the list from its beginning, so a page
// 90,000 rows deep costs 90,000 rows. Seek adds the predicate `a >= x`
// (`a <= x` for a descending order), implied by the expression above, which
// both databases turn into an index range start. Results are unchanged.
package keyset

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent/dialect/sql"
)

// Seek returns the extra predicates for the after and before cursors, given
// the order columns and their effective directions (already reversed for
// backward paging), as entgql's generated pagers compute them.
func Seek[T any](after, before *entgql.Cursor[T], fields []string, directions []entgql.OrderDirection) []func(*sql.Selector) {
	if len(fields) == 0 || len(directions) == 0 {
		return nil
	}
	var ps []func(*sql.Selector)
	for _, c := range []*entgql.Cursor[T]{after, before} {
		if c == nil || c.Value == nil {
			continue
		}
		values, ok := c.Value.([]any)
		if !ok || len(values) == 0 || values[0] == nil {
			continue
		}
		col, v, desc := fields[0], values[0], directions[0] == entgql.OrderDirectionDesc
		ps = append(ps, func(s *sql.Selector) {
			if desc {
				s.Where(sql.LTE(s.C(col), v))
			} else {
				s.Where(sql.GTE(s.C(col), v))
			}
		})
	}
	return ps
}

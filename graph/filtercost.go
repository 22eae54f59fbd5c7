package graph

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"custgraph/internal/apperr"
	"custgraph/internal/filters"
)

// The cost of filters and orderings. A filter is not paid per row of the
// page it returns but per row the database examines, which can be every
// row of the table (a substring match cannot use an index), and an edge
// traversal (has…With) is a subquery run for each row it starts from. So
// filters have a budget of their own, in predicates per examined row:
//
//   - each predicate counts 1 (fieldEQ, fieldContainsFold, hasLabel, …),
//     each value of a list predicate (…In, …NotIn, hasAllLabels,
//     hasAnyLabel) 1, and search 6 (it matches six columns);
//   - a has…With counts 5 × (1 + what is inside it), a has… (Boolean) 5:
//     a traversal nested in another costs 25 times its predicates, so the
//     cost grows with the nesting as the database's work does;
//   - and, or and not count nothing themselves, but every object of a
//     where counts at least 1 (an empty one too: a list of ten thousand {}
//     is not free), and every level of and/or/not/has…With is a level of
//     nesting (MaxFilterDepth), so `not` nested a thousand deep never
//     reaches the database's parser;
//   - each orderBy term counts 1.
//
// The operation's filters (every where and orderBy argument, each time its
// field is selected) cost at most MaxFilterCost together. Their text values
// are checked here too (filters.Value: no NUL, valid UTF-8, at most
// filters.MaxValueLength characters), in one place for every filter.
const (
	traversalCost = 5 // a has…With: 5 × (1 + what is inside)
	searchCost    = 6 // search matches six columns
)

// arguments measures the where and orderBy arguments of f (at is its
// response path).
func (w *walker) arguments(f *ast.Field, at string) {
	if f.Definition == nil || len(f.Arguments) == 0 {
		return
	}
	cost := 0
	if a := f.Arguments.ForName("where"); a != nil {
		if def := f.Definition.Arguments.ForName("where"); def != nil {
			v, err := a.Value.Value(w.vars)
			if err == nil {
				cost += w.whereCost(f, w.schema.Types[def.Type.Name()], v, 0)
			}
		}
	}
	if a := f.Arguments.ForName("orderBy"); a != nil {
		if v, err := a.Value.Value(w.vars); err == nil && v != nil {
			cost += len(asList(v))
		}
	}
	if cost == 0 {
		return
	}
	w.filters += cost
	if cost > w.costliestFilter.cost {
		w.costliestFilter = costAt{at, cost}
	}
}

// whereCost returns the cost of the where value v, an input object of the
// type def, nested depth levels deep (the where itself: 0).
func (w *walker) whereCost(f *ast.Field, def *ast.Definition, v any, depth int) int {
	obj, ok := v.(map[string]any)
	if !ok || def == nil || w.err != nil {
		return 0
	}
	if w.MaxFilterDepth > 0 && depth > w.MaxFilterDepth {
		w.err = limitErr("FILTER_TOO_DEEP",
			"the where of %s nests and/or/not/has…With more than %d levels deep; at most %d are allowed",
			f.Alias, w.MaxFilterDepth, w.MaxFilterDepth)
		return 0
	}
	cost := 0
	for _, key := range slices.Sorted(maps.Keys(obj)) { // the same error first, every time
		val := obj[key]
		fd := def.Fields.ForName(key)
		if val == nil || fd == nil || w.err != nil {
			continue // null is no predicate; unknown keys are validation's
		}
		inner := w.schema.Types[fd.Type.Name()]
		if l, ok := val.([]any); ok && len(l) == 0 && (key == "or" || inner != nil && inner.Kind == ast.InputObject && key != "and") {
			// or: [] would match nothing and has…With: [] any record, where
			// entgql's skipping them matched everything: a dashboard's
			// or: [...selected] with nothing selected got the whole list.
			w.err = &gqlerror.Error{
				Message:    fmt.Sprintf("%s: an empty list holds no condition; leave %s out, or send the conditions", key, key),
				Path:       ast.Path{ast.PathName(f.Alias)},
				Extensions: map[string]any{"code": string(apperr.BadUserInput), "field": key},
			}
			continue
		}
		switch {
		case key == "and" || key == "or":
			for _, e := range asList(val) {
				cost += w.whereCost(f, def, e, depth+1)
			}
		case key == "not":
			cost += w.whereCost(f, def, val, depth+1)
		case inner != nil && inner.Kind == ast.InputObject: // has…With
			c := 1
			for _, e := range asList(val) {
				c += w.whereCost(f, inner, e, depth+1)
			}
			cost += traversalCost * c
		case strings.HasPrefix(key, "has") && def.Fields.ForName(key+"With") != nil: // has…: Boolean
			cost += traversalCost
		default:
			n := 0
			for _, e := range asList(val) {
				n++
				if s, ok := e.(string); ok {
					w.filterValue(f, key, s)
				}
			}
			weight := 1
			if key == "search" {
				weight = searchCost
			}
			cost += weight * max(n, 1)
		}
	}
	return max(cost, 1)
}

// filterValue checks one text value of a filter.
func (w *walker) filterValue(f *ast.Field, key, s string) {
	if w.err != nil {
		return
	}
	if err := filters.Value(key, s); err != nil {
		e, _ := apperr.As(err)
		w.err = &gqlerror.Error{
			Message:    fmt.Sprintf("%s: %s", key, e.Message),
			Path:       ast.Path{ast.PathName(f.Alias)},
			Extensions: map[string]any{"code": string(apperr.BadUserInput), "field": key},
		}
	}
}

// asList is a list input value: GraphQL coerces a single value given
// where a list is expected into a list of one.
func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

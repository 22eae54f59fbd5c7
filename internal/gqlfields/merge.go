package gqlfields

import (
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// Merge returns one selection set for several aliases of one field
// (`a: edges { … } b: edges { … }`), for entgql's field collection to load
// the rows all of them answer, kept in m (a nil m keeps nothing) so that
// every request of a shared document gets the same one (and Collect keeps
// what it collected once).
//
// It is their selections together when they agree: wherever two fields
// under one response key meet, at any depth, they have the same name and
// arguments (GraphQL lets `a: edges { node { products(first: 1) } }` and
// `b: edges { node { products(first: 3) } }` differ; ent keeps a nested
// page's rows under its response key alone, so loading both would answer
// one with the other's rows). When they do not, it is empty: the rows are
// read whole, and what lies below them is read by each field's resolver,
// as for an uncollected field.
func (m *Memo) Merge(fields []graphql.CollectedField) ast.SelectionSet {
	if m == nil || len(fields) == 0 {
		return merge(fields)
	}
	k := fields[0].Field
	if v, ok := m.merged.Load(k); ok {
		return v.(ast.SelectionSet)
	}
	sel := merge(fields)
	if m.n.Load() >= MaxEntries {
		return sel
	}
	if v, loaded := m.merged.LoadOrStore(k, sel); loaded {
		return v.(ast.SelectionSet)
	}
	m.n.Add(1)
	return sel
}

func merge(fields []graphql.CollectedField) ast.SelectionSet {
	sets := make([]ast.SelectionSet, len(fields))
	merged := ast.SelectionSet{}
	for i, f := range fields {
		sets[i] = f.Selections
		merged = append(merged, f.Selections...)
	}
	if !agree(sets) {
		return ast.SelectionSet{}
	}
	return merged
}

// agree reports whether the fields of sets under one response key have
// the same name and arguments, and their selections agree in turn.
func agree(sets []ast.SelectionSet) bool {
	byKey := map[string][]*ast.Field{}
	for _, set := range sets {
		fieldsOf(set, byKey)
	}
	for _, fs := range byKey {
		if len(fs) < 2 {
			continue
		}
		var subs []ast.SelectionSet
		for _, f := range fs {
			if f.Name != fs[0].Name || !sameArguments(f.Arguments, fs[0].Arguments) {
				return false
			}
			subs = append(subs, f.SelectionSet)
		}
		if !agree(subs) {
			return false
		}
	}
	return true
}

// fieldsOf adds the fields of set, through its fragments, by response key.
func fieldsOf(set ast.SelectionSet, byKey map[string][]*ast.Field) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			key := s.Alias
			if key == "" {
				key = s.Name
			}
			byKey[key] = append(byKey[key], s)
		case *ast.InlineFragment:
			fieldsOf(s.SelectionSet, byKey)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				fieldsOf(s.Definition.SelectionSet, byKey)
			}
		}
	}
}

func sameArguments(a, b ast.ArgumentList) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Value.String() != b[i].Value.String() {
			return false
		}
	}
	return true
}

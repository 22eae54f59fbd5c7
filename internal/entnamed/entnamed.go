// Package entnamed holds the edges an ent entity loaded under a name: entgql
// loads a nested connection under its GraphQL alias (its field name when it
// has none), so that two aliases of one edge with other arguments keep
// their own rows. ent keeps them in a map per entity and edge, which cost
// every customer of a page two maps (about 400 bytes each) for its products
// and addresses. A document gives an edge one or two names, so a slice
// searched by name holds them in one small allocation. ent/entc.go
// (namedEdgesAsSlices) has the generated entities use Edges.
package entnamed

// Edges are the edges of one kind an entity loaded, by name: one pointer
// in the entity (as ent's map was), nil until a load.
type Edges[T any] struct{ p *names[T] }

// names holds the first name's edges inline, the others after.
type names[T any] struct {
	named[T]
	more []named[T]
}

type named[T any] struct {
	name  string
	nodes []T
}

// Get returns the edges loaded under name, and whether a load used name:
// ent's map lookup.
func (e Edges[T]) Get(name string) ([]T, bool) {
	if e.p == nil {
		return nil, false
	}
	if e.p.name == name {
		return e.p.nodes, true
	}
	for i := range e.p.more {
		if e.p.more[i].name == name {
			return e.p.more[i].nodes, true
		}
	}
	return nil, false
}

// Append adds nodes to those under name. With no nodes, it records that
// name was loaded (with no edges, which Get returns as an empty slice, not
// nil, as ent's map did).
func (e *Edges[T]) Append(name string, nodes ...T) {
	if e.p == nil {
		e.p = &names[T]{named: first(name, nodes)}
		return
	}
	if e.p.name == name {
		e.p.nodes = append(e.p.nodes, nodes...)
		return
	}
	for i := range e.p.more {
		if e.p.more[i].name == name {
			e.p.more[i].nodes = append(e.p.more[i].nodes, nodes...)
			return
		}
	}
	e.p.more = append(e.p.more, first(name, nodes))
}

// first is name's entry for its first nodes, a copy of them.
func first[T any](name string, nodes []T) named[T] {
	if len(nodes) == 0 {
		return named[T]{name: name, nodes: []T{}}
	}
	return named[T]{name: name, nodes: append([]T(nil), nodes...)}
}

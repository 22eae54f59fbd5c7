package graph

import (
	"errors"
	"math"

	"github.com/99designs/gqlgen/graphql/introspection"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// introspectionCounter bounds the introspection part of an operation (its
// __schema and __type fields and everything below them) by the number of
// values the answer would have. Introspection answers depend on the schema
// only, never on the data, so the count is exact: it walks the selection
// over the schema the way gqlgen's introspection resolvers would, and stops
// as soon as it passes the budget, so measuring costs no more than the
// budget allows.
//
// The budget is twice the values of a full introspection of this schema
// (gqlgen's introspection.Query, the shape GraphiQL, graphql-js and codegen
// tools ask for), so every tool's introspection query passes, with room for
// the options newer tools add, while a query that walks the type graph in
// circles (types → fields → type → fields → …) or repeats __schema under
// many aliases is refused before it runs.
type introspectionCounter struct {
	schema *ast.Schema
	full   int // values answered by gqlgen's full introspection query
	budget int
}

func newIntrospectionCounter(s *ast.Schema) (*introspectionCounter, error) {
	c := &introspectionCounter{schema: s, budget: math.MaxInt}
	doc, errs := gqlparser.LoadQuery(s, introspection.Query)
	if len(errs) > 0 {
		return nil, errs
	}
	if len(doc.Operations) != 1 {
		return nil, errors.New("introspection.Query: want one operation")
	}
	n := c.start(nil)
	for _, sel := range doc.Operations[0].SelectionSet {
		if f, ok := sel.(*ast.Field); ok && isIntrospection(f) {
			n.root(f)
		}
	}
	c.full = n.n
	c.budget = 2 * c.full
	return c, nil
}

// isIntrospection reports whether f is one of the root introspection fields.
// Validation allows them only on the query root type.
func isIntrospection(f *ast.Field) bool { return f.Name == "__schema" || f.Name == "__type" }

// start begins counting one operation's introspection, with its variables.
func (c *introspectionCounter) start(vars map[string]any) *introspectionCount {
	return &introspectionCount{schema: c.schema, vars: vars, budget: c.budget}
}

// introspectionCount is the count of one operation.
type introspectionCount struct {
	schema *ast.Schema
	vars   map[string]any
	n      int // values counted so far
	budget int
}

func (n *introspectionCount) over() bool { return n.n > n.budget }

// root counts a __schema or __type field and its selection.
func (n *introspectionCount) root(f *ast.Field) {
	if n.over() {
		return
	}
	n.n++
	switch f.Name {
	case "__schema":
		n.object(f.SelectionSet, introspection.WrapSchema(n.schema))
	case "__type":
		name, _ := f.ArgumentMap(n.vars)["name"].(string)
		if def := n.schema.Types[name]; def != nil {
			n.object(f.SelectionSet, introspection.WrapTypeFromDef(n.schema, def))
		}
	}
}

// object counts the values set answers on obj, one of introspection's
// *Schema, *Type, *Field, *InputValue, *EnumValue or *Directive: one per
// field (a scalar, a null, a list or an object), plus what is below it.
func (n *introspectionCount) object(set ast.SelectionSet, obj any) {
	for _, sel := range set {
		if n.over() {
			return
		}
		switch s := sel.(type) {
		case *ast.Field:
			n.n++
			if len(s.SelectionSet) > 0 {
				n.below(s, obj)
			}
		case *ast.InlineFragment:
			n.object(s.SelectionSet, obj)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				n.object(s.Definition.SelectionSet, obj)
			}
		}
	}
}

// below counts the objects field f of obj answers with.
func (n *introspectionCount) below(f *ast.Field, obj any) {
	set := f.SelectionSet
	includeDeprecated := func() bool {
		b, _ := f.ArgumentMap(n.vars)["includeDeprecated"].(bool)
		return b
	}
	switch o := obj.(type) {
	case *introspection.Schema:
		switch f.Name {
		case "types":
			each(n, set, o.Types())
		case "queryType":
			n.maybe(set, o.QueryType())
		case "mutationType":
			n.maybe(set, o.MutationType())
		case "subscriptionType":
			n.maybe(set, o.SubscriptionType())
		case "directives":
			each(n, set, o.Directives())
		}
	case *introspection.Type:
		switch f.Name {
		case "fields":
			each(n, set, o.Fields(includeDeprecated()))
		case "inputFields":
			each(n, set, o.InputFields())
		case "interfaces":
			each(n, set, o.Interfaces())
		case "possibleTypes":
			each(n, set, o.PossibleTypes())
		case "enumValues":
			each(n, set, o.EnumValues(includeDeprecated()))
		case "ofType":
			n.maybe(set, o.OfType())
		}
	case *introspection.Field:
		switch f.Name {
		case "args":
			each(n, set, o.Args)
		case "type":
			n.maybe(set, o.Type)
		}
	case *introspection.InputValue:
		if f.Name == "type" {
			n.maybe(set, o.Type)
		}
	case *introspection.Directive:
		if f.Name == "args" {
			each(n, set, o.Args)
		}
	}
}

func (n *introspectionCount) maybe(set ast.SelectionSet, t *introspection.Type) {
	if t != nil {
		n.object(set, t)
	}
}

// each counts set on every element of list.
func each[T any](n *introspectionCount, set ast.SelectionSet, list []T) {
	for i := range list {
		if n.over() {
			return
		}
		n.object(set, &list[i])
	}
}

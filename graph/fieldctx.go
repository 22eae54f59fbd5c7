package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// A field's FieldContext reaches its children through the context:
// graphql.WithFieldContext wraps the parent context in a context.WithValue,
// one allocation beside the FieldContext itself, for every field with
// children and every element of a list (gqlgen's list marshalling adds an
// index too). On a page of 20 customers with their products and addresses
// that was some 300 small allocations, 9% of the request's objects.
//
// fieldCtx is the same context and its FieldContext in one allocation:
// Value answers gqlgen's key with the FieldContext and hands every other key
// to the parent, as context.WithValue's context does. graphql.GetFieldContext
// (gqlgen, entgql's field collection, error paths) cannot tell the two apart.
type fieldCtx struct {
	context.Context
	fc    graphql.FieldContext
	index int // a list element's index; fc.Index points at it
}

func (c *fieldCtx) Value(key any) any {
	if key == fieldContextKey {
		return &c.fc
	}
	return c.Context.Value(key)
}

// fieldContextKey is gqlgen's (unexported) context key of the FieldContext,
// learnt by asking graphql.GetFieldContext with a context that notes the key
// it is asked for.
var fieldContextKey = func() any {
	var p keyProbe
	graphql.GetFieldContext(&p)
	if p.key == nil {
		panic("graph: graphql.GetFieldContext asked its context for no key")
	}
	return p.key
}()

type keyProbe struct {
	context.Context // nil: only Value is called
	key             any
}

func (p *keyProbe) Value(key any) any {
	p.key = key
	return nil
}

// withFieldContext is graphql.WithFieldContext with the FieldContext copied
// into the new context's own allocation: fc is the generated fieldContext_
// function's value, which, once that function is inlined, need not leave the
// stack. It returns the context and its FieldContext (not fc).
func withFieldContext(ctx context.Context, fc *graphql.FieldContext) (context.Context, *graphql.FieldContext) {
	c := &fieldCtx{Context: ctx, fc: *fc}
	c.fc.Parent = graphql.GetFieldContext(ctx)
	return c, &c.fc
}

// elementContexts returns the contexts of a list's n elements, in one
// allocation: element i's FieldContext has Index i and the list's field as
// its parent, as gqlgen's list marshalling gives it.
func elementContexts(ctx context.Context, n int) []fieldCtx {
	parent := graphql.GetFieldContext(ctx)
	elems := make([]fieldCtx, n)
	for i := range elems {
		e := &elems[i]
		e.Context, e.index = ctx, i
		e.fc.Index, e.fc.Parent = &e.index, parent
	}
	return elems
}

package graph

import (
	"context"
	"reflect"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
)

// marshalSliceInline is graphql.MarshalSliceConcurrently (gqlgen v0.17.90)
// without its goroutine per element: graph/gqlgen.go makes the generated
// code call it instead. Below the root, every row of a page has been loaded
// with the page (field collection), so marshalling an element is CPU work
// only; a goroutine per element (and per nested element) cost its start,
// its stack growing as deep as a customer's fields go, and the scheduler.
// Same contract: each element gets a FieldContext with its Index, and a
// panic in one makes the whole list null with the panic reported.
func marshalSliceInline(
	ctx context.Context,
	length int,
	_ int64, // gqlgen's worker limit: one worker here
	omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler,
) (ret graphql.Array) {
	ret = make(graphql.Array, length)
	for i := range length {
		childCtx := graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &i})
		if omitPanicHandler {
			ret[i] = marshalElement(childCtx, i)
			continue
		}
		failed := false
		func() {
			defer func() {
				if r := recover(); r != nil {
					graphql.AddError(childCtx, graphql.Recover(childCtx, r))
					failed = true
				}
			}()
			ret[i] = marshalElement(childCtx, i)
		}()
		if failed {
			return nil
		}
	}
	return ret
}

// unmarshalerMap is gqlgen's map of input unmarshalers (graph/gqlgen.go's
// unmarshalersOnce has the generated Exec take it from inputUnmarshalers).
type unmarshalerMap = map[reflect.Type]reflect.Value

// lastUnmarshalers is the map of the last schema that asked for one: a
// server has one schema, so it is built once; tests that make several
// rebuild it when they alternate.
var lastUnmarshalers atomic.Pointer[schemaUnmarshalers]

type schemaUnmarshalers struct {
	e *executableSchema
	m unmarshalerMap
}

// inputUnmarshalers returns e's map of input unmarshalers, built by build
// with an execution context of no request (the unmarshalers read none: the
// generator checks it) the first time.
func inputUnmarshalers(e *executableSchema, build func(*executionContext) unmarshalerMap) unmarshalerMap {
	if c := lastUnmarshalers.Load(); c != nil && c.e == e {
		return c.m
	}
	m := build(newExecutionContext(nil, e, nil))
	lastUnmarshalers.Store(&schemaUnmarshalers{e: e, m: m})
	return m
}

package graph

import (
	"context"

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

package graph

import (
	"context"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
)

type otherKey struct{}

// TestFieldCtxIsGqlgensFieldContext: what gqlgen and entgql read from a
// fieldCtx is what they read from graphql.WithFieldContext's context: the
// FieldContext, its parent, the path, the parent's other values, deadline
// and cancellation.
func TestFieldCtxIsGqlgensFieldContext(t *testing.T) {
	base, cancel := context.WithDeadline(context.WithValue(context.Background(), otherKey{}, "v"), time.Now().Add(time.Hour))
	root := &graphql.FieldContext{Field: graphql.CollectedField{Field: &ast.Field{Alias: "customers"}}}
	ctx := graphql.WithFieldContext(base, root)

	edges, fc := withFieldContext(ctx, &graphql.FieldContext{Object: "CustomerConnection", Field: graphql.CollectedField{Field: &ast.Field{Alias: "edges"}}})
	require.Same(t, fc, graphql.GetFieldContext(edges), "the FieldContext returned is the one in the context")
	require.Same(t, root, fc.Parent)
	require.Equal(t, "CustomerConnection", fc.Object)

	elems := elementContexts(edges, 3)
	el := graphql.GetFieldContext(&elems[2])
	require.Same(t, &elems[2].fc, el)
	require.Same(t, fc, el.Parent)
	node, _ := withFieldContext(&elems[2], &graphql.FieldContext{Field: graphql.CollectedField{Field: &ast.Field{Alias: "node"}}})
	require.Equal(t, ast.Path{ast.PathName("customers"), ast.PathName("edges"), ast.PathIndex(2), ast.PathName("node")},
		graphql.GetFieldContext(node).Path(), "an error's path below a list element")

	require.Equal(t, "v", node.Value(otherKey{}), "other keys reach the parent")
	d1, _ := base.Deadline()
	d2, ok := node.Deadline()
	require.True(t, ok)
	require.Equal(t, d1, d2)
	child, stop := context.WithCancel(node)
	defer stop()
	cancel()
	<-child.Done()
	require.ErrorIs(t, node.Err(), context.Canceled)
	require.ErrorIs(t, child.Err(), context.Canceled)
}

// TestFieldCtxAllocations: one allocation for a field's context and one for
// a whole list's, where graphql.WithFieldContext made two a field and
// gqlgen's list marshalling three an element.
func TestFieldCtxAllocations(t *testing.T) {
	ctx := graphql.WithFieldContext(context.Background(), &graphql.FieldContext{})
	var sink context.Context
	require.Equal(t, 1.0, testing.AllocsPerRun(100, func() {
		sink, _ = withFieldContext(ctx, &graphql.FieldContext{Object: "ProductEdge"})
	}))
	require.Equal(t, 1.0, testing.AllocsPerRun(100, func() {
		elems := elementContexts(ctx, 20)
		sink = &elems[19]
	}))
	_ = sink
}

package graph

import (
	"encoding/json"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// TestAppendResponse: the answer is byte for byte what encoding/json
// writes of graphql.Response, without scanning data again.
func TestAppendResponse(t *testing.T) {
	yes := true
	for _, resp := range []*graphql.Response{
		{Data: json.RawMessage(`{"a":1}`)},
		{},
		{Errors: gqlerror.List{{Message: `say "data":null`, Extensions: map[string]any{"data": nil}}}},
		{Errors: gqlerror.List{{Message: "x", Path: ast.Path{ast.PathName("a")}}}, Data: json.RawMessage(`{"a":null}`),
			Label: "l", Path: ast.Path{ast.PathIndex(1)}, HasNext: &yes, Extensions: map[string]any{"data": nil, "k": "v"}},
	} {
		want, err := json.Marshal(resp)
		require.NoError(t, err)
		require.Equal(t, string(want), string(appendResponse(nil, resp)))
	}
}

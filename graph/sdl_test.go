package graph_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"custgraph/graph"
)

// TestSDLDescribesTheServedSchema parses the published SDL on its own and
// compares it with the schema the server executes: the same types, each
// with the same fields, arguments, input fields and enum values, and the
// same directives but gqlgen's code-generation ones.
func TestSDLDescribesTheServedSchema(t *testing.T) {
	sdl := graph.SDL()
	for _, internal := range []string{"@goModel", "@goField", "custgraph/ent"} {
		require.NotContains(t, sdl, internal)
	}
	published, err := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: sdl})
	require.NoError(t, err)
	served := graph.NewExecutableSchema(graph.Config{}).Schema()

	require.Equal(t, shape(served), shape(published))
	var dirs []string
	for name, d := range served.Directives {
		if !d.Position.Src.BuiltIn && !strings.HasPrefix(name, "go") {
			dirs = append(dirs, name)
		}
	}
	for name, d := range published.Directives {
		if !d.Position.Src.BuiltIn {
			dirs = append(dirs, "published "+name)
		}
	}
	require.Empty(t, dirs, "directives beyond the built-in ones")
}

// shape lists every non-built-in type's members as "Type.member: Type".
func shape(s *ast.Schema) []string {
	var out []string
	for name, def := range s.Types {
		if def.BuiltIn {
			continue
		}
		out = append(out, string(def.Kind)+" "+name+" "+strings.Join(def.Interfaces, "&")+" "+strings.Join(def.Types, "|"))
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			out = append(out, name+"."+f.Name+": "+f.Type.String())
			for _, a := range f.Arguments {
				out = append(out, name+"."+f.Name+"("+a.Name+": "+a.Type.String()+")")
			}
		}
		for _, v := range def.EnumValues {
			out = append(out, name+"."+v.Name)
		}
	}
	sort.Strings(out)
	return out
}

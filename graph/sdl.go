package graph

import (
	"maps"
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
)

// SDL returns the API's schema in the GraphQL schema definition language:
// what GET /schema.graphql serves and `custgraph schema` prints, for code
// generators and schema checks. It is the schema introspection describes,
// every type and extension merged, sorted by name, without the built-in
// definitions and without gqlgen's code-generation directives (@goModel,
// @goField), which are no part of the API.
func SDL() string { return sdl() }

var sdl = sync.OnceValue(func() string {
	s := *NewExecutableSchema(Config{}).Schema()
	s.Directives = maps.Clone(s.Directives)
	for name := range s.Directives {
		if codegenDirective(name) {
			delete(s.Directives, name)
		}
	}
	s.Types = maps.Clone(s.Types)
	for name, def := range s.Types {
		d := *def
		d.Directives = withoutCodegen(d.Directives)
		d.Fields = make(ast.FieldList, len(def.Fields))
		for i, f := range def.Fields {
			c := *f
			c.Directives = withoutCodegen(c.Directives)
			d.Fields[i] = &c
		}
		s.Types[name] = &d
	}
	var b strings.Builder
	formatter.NewFormatter(&b, formatter.WithIndent("  ")).FormatSchema(&s)
	return b.String()
})

func codegenDirective(name string) bool { return name == "goModel" || name == "goField" }

func withoutCodegen(l ast.DirectiveList) ast.DirectiveList {
	var out ast.DirectiveList
	for _, d := range l {
		if !codegenDirective(d.Name) {
			out = append(out, d)
		}
	}
	return out
}

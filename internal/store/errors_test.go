package store

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strings"
	"testing"

	"custgraph/internal/apperr"
)

// TestEveryEmptyFilterIsTheClients: every where-input's "empty predicate"
// error that ent generates (ent/gql_where_input.go, parsed here) is in
// emptyFilters, so that a type added to the schema cannot bring INTERNAL
// back; and each, wrapped as P wraps it, is BAD_USER_INPUT on where.
func TestEveryEmptyFilterIsTheClients(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "../../ent/gql_where_input.go", nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var generated []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.VAR {
			continue
		}
		for _, s := range g.Specs {
			for _, n := range s.(*ast.ValueSpec).Names {
				if strings.HasPrefix(n.Name, "ErrEmpty") {
					generated = append(generated, strings.TrimSuffix(strings.TrimPrefix(n.Name, "ErrEmpty"), "WhereInput"))
				}
			}
		}
	}
	var listed []string
	for _, e := range emptyFilters {
		listed = append(listed, strings.TrimSuffix(strings.TrimPrefix(e.Error(), "ent: empty predicate "), "WhereInput"))
		got := Classify(fmt.Errorf("%w: field 'not'", fmt.Errorf("%w: field 'or'", e)))
		if got.Code != apperr.BadUserInput || got.Field != "where" {
			t.Errorf("%v: classified %+v, want BAD_USER_INPUT on where", e, got)
		}
	}
	slices.Sort(generated)
	slices.Sort(listed)
	if len(generated) == 0 || !slices.Equal(generated, listed) {
		t.Fatalf("emptyFilters lists %v; ent generates %v", listed, generated)
	}
}

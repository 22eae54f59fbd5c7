package graph_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestConflictingUpdateIsRefused: an update that changes one field two
// ways (set and cleared, or replaced and appended to) is BAD_USER_INPUT
// naming the field, and writes nothing. ent kept one of the two and dropped
// the other while the answer said the change was made: labels ["new"] with
// appendLabels ["app"] left ["old", "app"].
func TestConflictingUpdateIsRefused(t *testing.T) {
	e := newEnv(t)
	b := e.seedBank("gh.29.uk")
	var r struct{ CreateCustomer struct{ ID string } }
	e.do(`mutation($b: ID!) { createCustomer(input: {bankID: $b, firstName: "Lab", lastName: "Els", email: "a@example.com", labels: ["old"]}) { id } }`, &r, "b", b.ID)
	id := r.CreateCustomer.ID
	for _, c := range []struct{ input, field string }{
		{`labels: ["new"], appendLabels: ["app"]`, "labels"},
		{`clearLabels: true, appendLabels: ["app"]`, "labels"},
		{`labels: ["new"], clearLabels: true`, "labels"},
		{`email: "b@example.com", clearEmail: true`, "email"},
		{`dobOfDependants: ["2010-01-01T00:00:00Z"], appendDobOfDependants: ["2012-01-01T00:00:00Z"]`, "dobOfDependants"},
	} {
		errs := e.fail(`mutation($id: ID!) { updateCustomer(id: $id, input: {`+c.input+`}) { id } }`, "id", id)
		require.Len(t, errs, 1, c.input)
		require.Equal(t, "BAD_USER_INPUT", errs[0].Extensions["code"], "%s: %+v", c.input, errs[0])
		require.Equal(t, c.field, errs[0].Extensions["field"], "%s: %+v", c.input, errs[0])
	}
	var got struct {
		Node struct {
			Email  string
			Labels []string
		}
	}
	e.do(`query($id: ID!) { node(id: $id) { ... on Customer { email labels } } }`, &got, "id", id)
	require.Equal(t, "a@example.com", got.Node.Email)
	require.Equal(t, []string{"old"}, got.Node.Labels)
	// One way at a time still works.
	var u struct{ UpdateCustomer struct{ Labels []string } }
	e.do(`mutation($id: ID!) { updateCustomer(id: $id, input: {appendLabels: ["app"]}) { labels } }`, &u, "id", id)
	require.Equal(t, []string{"old", "app"}, u.UpdateCustomer.Labels)
	e.do(`mutation($id: ID!) { updateCustomer(id: $id, input: {labels: ["new"]}) { labels } }`, &u, "id", id)
	require.Equal(t, []string{"new"}, u.UpdateCustomer.Labels)
}

// TestEveryAppendIsChecked: every list field ent lets a change append to
// (an Appended… method in ent/mutation.go) is in the rule's list
// (appendedFields in ent/schema/hooks.go), so a list field added later
// cannot bring the silent drop back.
func TestEveryAppendIsChecked(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "../ent/mutation.go", nil, parser.SkipObjectResolution)
	require.NoError(t, err)
	hooks, err := parser.ParseFile(token.NewFileSet(), "../ent/schema/hooks.go", nil, parser.SkipObjectResolution)
	require.NoError(t, err)
	var fn *ast.FuncDecl
	for _, d := range hooks.Decls {
		if d, ok := d.(*ast.FuncDecl); ok && d.Name.Name == "appendedFields" {
			fn = d
		}
	}
	require.NotNil(t, fn, "ent/schema/hooks.go has no appendedFields")
	called := map[string]bool{}
	ast.Inspect(fn, func(n ast.Node) bool {
		if s, ok := n.(*ast.SelectorExpr); ok && strings.HasPrefix(s.Sel.Name, "Appended") {
			called[s.Sel.Name] = true
		}
		return true
	})
	n := 0
	for _, d := range f.Decls {
		d, ok := d.(*ast.FuncDecl)
		if !ok || d.Recv == nil || !strings.HasPrefix(d.Name.Name, "Appended") {
			continue
		}
		n++
		require.True(t, called[d.Name.Name], "appendedFields does not check %s", d.Name.Name)
	}
	require.NotZero(t, n)
}

package graph

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// wholeInts reads an Int variable written as a whole number with a
// fraction or an exponent (1.0, 1e2) as that integer, as graphql-js does:
// JSON has one kind of number, and a client's serializer may write 20 as
// 20.0. gqlparser's coercion refused it ("cannot use value 0 as Int").
// Only Int positions are touched, at any depth of lists and input
// objects: a Decimal or a Float keeps the digits it was sent. A number
// that is not whole (1.5), or not within 32 bits (4294967296.0, 1e3000000,
// and 99999999999999999999, which gqlparser refused as "cannot use value 0
// as Int"), is refused as graphql-js refuses it.
//
// It runs before coercion, and costs a walk of the variables only when one
// of them holds such a number (then the document is parsed, or taken from
// gqlgen's cache).
type wholeInts struct {
	cache  graphql.Cache[*ast.QueryDocument]
	schema *ast.Schema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = (*wholeInts)(nil)

func (*wholeInts) ExtensionName() string { return "WholeInts" }

func (w *wholeInts) Validate(es graphql.ExecutableSchema) error {
	w.schema = es.Schema()
	return nil
}

func (w *wholeInts) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if p.Query == "" || !anyNeedsReading(p.Variables) {
		return nil
	}
	doc, ok := w.cache.Get(ctx, p.Query)
	if !ok {
		var err error
		if doc, err = parser.ParseQuery(&ast.Source{Input: p.Query}); err != nil {
			return nil // gqlgen reports it
		}
	}
	op := doc.Operations.ForName(p.OperationName)
	if op == nil {
		return nil
	}
	for _, d := range op.VariableDefinitions {
		v, ok := p.Variables[d.Variable]
		if !ok {
			continue
		}
		at := ast.Path{ast.PathName("variable"), ast.PathName(d.Variable)}
		var refused *gqlerror.Error
		p.Variables[d.Variable] = w.whole(d.Type, v, at, &refused)
		if refused != nil {
			return refused
		}
	}
	return nil
}

// whole returns v, read as a value of typ at path, with its Int numbers in
// integer form; an Int that is no 32-bit integer is refused into *refused
// with graphql-js's message (strictVariables' form), as gqlparser's
// coercion would refuse it with a worse one ("cannot use value 0 as Int").
func (w *wholeInts) whole(typ *ast.Type, v any, path ast.Path, refused **gqlerror.Error) any {
	if *refused != nil {
		return v
	}
	if typ.Elem != nil {
		if list, ok := v.([]any); ok {
			for i, e := range list {
				list[i] = w.whole(typ.Elem, e, append(path, ast.PathIndex(i)), refused)
			}
			return list
		}
		return w.whole(typ.Elem, v, append(path, ast.PathIndex(0)), refused) // one value for a list (spec §3.11)
	}
	switch x := v.(type) {
	case json.Number:
		if typ.NamedType != "Int" || !needsReading(x) {
			return v
		}
		n, msg := wholeNumber(x)
		if msg != "" {
			*refused = &gqlerror.Error{
				Message:    variableMessage(path, shown(x), msg),
				Path:       slices.Clone(path), // (siblings append to path)
				Extensions: map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"},
			}
		}
		return n
	case map[string]any:
		if def := w.schema.Types[typ.NamedType]; def != nil && def.Kind == ast.InputObject {
			for _, f := range def.Fields {
				if fv, ok := x[f.Name]; ok {
					x[f.Name] = w.whole(f.Type, fv, append(path, ast.PathName(f.Name)), refused)
				}
			}
		}
	}
	return v
}

// wholeNumber is n, written with a fraction or an exponent, in integer
// form, or why it is no Int (a fraction; beyond 32 bits).
func wholeNumber(n json.Number) (json.Number, string) {
	f, err := strconv.ParseFloat(string(n), 64)
	switch {
	case err != nil && !math.IsInf(f, 0), f != math.Trunc(f):
		return n, "Int cannot represent non-integer value: " + string(n)
	case f > math.MaxInt32 || f < math.MinInt32: // (±Inf too)
		return n, "Int cannot represent non 32-bit signed integer value: " + string(n)
	}
	return json.Number(strconv.FormatInt(int64(f), 10)), ""
}

// needsReading reports whether n, given for an Int, is not in the integer
// form gqlparser reads: written with a fraction or an exponent, or with
// more digits than any 32-bit integer has (gqlparser read one beyond 64
// bits as "cannot use value 0 as Int").
func needsReading(n json.Number) bool { return len(n) > 11 || strings.ContainsAny(string(n), ".eE") }

// anyNeedsReading reports whether a number that needsReading is anywhere
// in v.
func anyNeedsReading(v any) bool {
	switch x := v.(type) {
	case json.Number:
		return needsReading(x)
	case []any:
		for _, e := range x {
			if anyNeedsReading(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if anyNeedsReading(e) {
				return true
			}
		}
	}
	return false
}

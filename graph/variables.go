package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// strictVariables refuses the variable values that gqlparser's coercion
// lets through and GraphQL's input coercion (spec §3.5, as graphql-js
// does it) does not (and an Int literal over 32 bits, see literals):
//   - an Int given a string ("5") or a number outside 32 bits;
//   - a Float given a string;
//   - a String given a number;
//   - an ID given a fraction;
//   - an enum given a name in other letter case (gqlparser compares them
//     with strings.EqualFold; the resolvers then failed on it);
//
// at any depth of lists and input objects. It runs after gqlparser's
// coercion, on what that left: numbers arrive as json.Number (transports
// decode with UseNumber), a top-level Int or Float already as int64 or
// float64, one value for a list as a typed list of one. (An Int written
// with a fraction or an exponent, or beyond 64 bits, wholeInts has read or
// refused before coercion: intvalues.go.) The answer is a request error like gqlparser's own, with its path (variable,
// name, then the fields and indexes inside the value).
type strictVariables struct{ schema *ast.Schema }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = (*strictVariables)(nil)

func (*strictVariables) ExtensionName() string { return "StrictVariables" }

func (s *strictVariables) Validate(es graphql.ExecutableSchema) error {
	s.schema = es.Schema()
	return nil
}

func (s *strictVariables) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if err := s.literals(oc.Operation.SelectionSet, map[string]bool{}); err != nil {
		return err
	}
	for _, d := range oc.Operation.VariableDefinitions {
		v, ok := oc.Variables[d.Variable]
		if !ok {
			continue
		}
		path := ast.Path{ast.PathName("variable"), ast.PathName(d.Variable)}
		if msg, at, bad := s.check(d.Type, v, path); msg != "" {
			return &gqlerror.Error{
				Message:    variableMessage(at, shown(bad), msg),
				Path:       at,
				Extensions: map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"},
			}
		}
	}
	return nil
}

// literals refuses an Int written in the document (an argument's value,
// at any depth of its lists and input objects) outside 32 bits, which
// gqlparser's validation lets through and graphql-js's refuses: a literal
// and a variable of the same value get the same answer. The fragments
// spread are walked once each.
func (s *strictVariables) literals(set ast.SelectionSet, seen map[string]bool) *gqlerror.Error {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if sel.Definition != nil {
				for _, a := range sel.Arguments {
					if def := sel.Definition.Arguments.ForName(a.Name); def != nil {
						if err := s.literal(def.Type, a.Value); err != nil {
							return err
						}
					}
				}
			}
			if err := s.literals(sel.SelectionSet, seen); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if err := s.literals(sel.SelectionSet, seen); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			if sel.Definition != nil && !seen[sel.Name] {
				seen[sel.Name] = true
				if err := s.literals(sel.Definition.SelectionSet, seen); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// literal checks the value v written for typ (variables are checked by
// their values).
func (s *strictVariables) literal(typ *ast.Type, v *ast.Value) *gqlerror.Error {
	if v == nil || typ == nil {
		return nil
	}
	if typ.Elem != nil {
		if v.Kind != ast.ListValue {
			return s.literal(typ.Elem, v)
		}
		for _, c := range v.Children {
			if err := s.literal(typ.Elem, c.Value); err != nil {
				return err
			}
		}
		return nil
	}
	def := s.schema.Types[typ.NamedType]
	switch {
	case def == nil:
	case def.Kind == ast.Scalar && def.Name == "Int" && v.Kind == ast.IntValue:
		if n, err := strconv.ParseInt(v.Raw, 10, 64); err != nil || n > math.MaxInt32 || n < math.MinInt32 {
			err := gqlerror.ErrorPosf(v.Position, "Int cannot represent non 32-bit signed integer value: %s", v.Raw)
			err.Extensions = map[string]any{"code": "GRAPHQL_VALIDATION_FAILED"}
			return err
		}
	case def.Kind == ast.InputObject && v.Kind == ast.ObjectValue:
		for _, c := range v.Children {
			if f := def.Fields.ForName(c.Name); f != nil {
				if err := s.literal(f.Type, c.Value); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// check returns why v is not a value of typ (empty: it is), where, and
// the value refused there. Nulls were checked by gqlparser (a null where
// none is allowed is its refusal already).
func (s *strictVariables) check(typ *ast.Type, v any, path ast.Path) (string, ast.Path, any) {
	if v == nil {
		return "", nil, nil
	}
	if typ.Elem != nil {
		list := reflect.ValueOf(v) // ([]any as sent; gqlparser makes one value a typed list of one, §3.11)
		if list.Kind() != reflect.Slice {
			return s.check(typ.Elem, v, path)
		}
		for i := range list.Len() {
			if msg, at, bad := s.check(typ.Elem, list.Index(i).Interface(), append(path, ast.PathIndex(i))); msg != "" {
				return msg, at, bad
			}
		}
		return "", nil, nil
	}
	def := s.schema.Types[typ.NamedType]
	if def == nil {
		return "", nil, nil
	}
	switch def.Kind {
	case ast.Scalar:
		if msg := scalarRefusal(def.Name, v); msg != "" {
			return msg, path, v
		}
	case ast.Enum:
		name, ok := v.(string)
		if !ok {
			return fmt.Sprintf("Enum %q cannot represent non-string value: %s.", def.Name, shown(v)), path, v
		}
		if def.EnumValues.ForName(name) == nil {
			return fmt.Sprintf("Value %q does not exist in %q enum.", name, def.Name), path, v
		}
	case ast.InputObject:
		fields, ok := v.(map[string]any)
		if !ok {
			return "", nil, nil // (gqlparser refused it)
		}
		for _, f := range def.Fields {
			fv, ok := fields[f.Name]
			if !ok {
				continue
			}
			if msg, at, bad := s.check(f.Type, fv, append(path, ast.PathName(f.Name))); msg != "" {
				return msg, at, bad
			}
		}
	}
	return "", nil, nil
}

// scalarRefusal is graphql-js's refusal of v for a built-in scalar (empty:
// accepted); custom scalars check their values when they are unmarshalled.
func scalarRefusal(scalar string, v any) string {
	switch scalar {
	case "Int":
		n, ok := toInt(v)
		switch {
		case !ok:
			return "Int cannot represent non-integer value: " + shown(v)
		case n > math.MaxInt32 || n < math.MinInt32:
			return "Int cannot represent non 32-bit signed integer value: " + shown(v)
		}
	case "Float":
		if n, ok := number(v); !ok || math.IsInf(n, 0) || math.IsNaN(n) {
			return "Float cannot represent non numeric value: " + shown(v)
		}
	case "String":
		if _, ok := v.(string); !ok {
			return "String cannot represent a non string value: " + shown(v)
		}
	case "Boolean":
		if _, ok := v.(bool); !ok {
			return "Boolean cannot represent a non boolean value: " + shown(v)
		}
	case "ID":
		if _, isString := v.(string); !isString {
			if _, ok := toInt(v); !ok {
				return "ID cannot represent value: " + shown(v)
			}
		}
	}
	return ""
}

// number is v as a number when it is one (not a string of digits).
func number(v any) (float64, bool) {
	switch v := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		return f, err == nil
	case int64:
		return float64(v), true
	case int:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

// shown is v as JSON, cut short: a message quotes what was sent.
func shown(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	if len(b) > 64 {
		return string(b[:61]) + "..."
	}
	return string(b)
}

// variableMessage is graphql-js's refusal of a variable's value, shown,
// at path (variable, its name, then the fields and indexes inside it):
// `Variable "$w" got invalid value 5 at "w.search"; <why>`.
func variableMessage(path ast.Path, shown, why string) string {
	name := string(path[1].(ast.PathName))
	where := ""
	if len(path) > 2 {
		where = " at \"" + name + pathSuffix(path[2:]) + "\""
	}
	return fmt.Sprintf("Variable \"$%s\" got invalid value %s%s; %s", name, shown, where, why)
}

// pathSuffix writes path as graphql-js writes a value's path: .field and
// [index].
func pathSuffix(path ast.Path) string {
	var b strings.Builder
	for _, p := range path {
		switch p := p.(type) {
		case ast.PathName:
			b.WriteString("." + string(p))
		case ast.PathIndex:
			b.WriteString("[" + strconv.Itoa(int(p)) + "]")
		}
	}
	return b.String()
}

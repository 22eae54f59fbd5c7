package graph

import (
	"context"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/lexer"
	"github.com/vektah/gqlparser/v2/parser"
)

// documentLimits measures a document before gqlgen parses and validates
// it, so that a document too large to validate cheaply is refused after
// work proportional to the limits, not to the document.
//
// GraphQL validation is not linear: fields that answer under the same
// response key (a field repeated, directly or through fragments) are
// compared pairwise, and so are their sub-selections
// (OverlappingFieldsCanBeMerged). `{ __typename __typename … }` with 10,000
// fields costs seconds of CPU to validate, with or without credentials. So
// before validation:
//
//   - the document has at most MaxTokens lexical tokens (counted by the
//     lexer, which stops at the limit);
//   - it selects at most MaxFields fields, each fragment's fields counted at
//     every place it is spread (a fragment never spread counts once);
//   - no response key is answered by more than MaxRepeats fields (merged
//     across inline fragments, fragment spreads and the selections of
//     merged parents), which bounds validation's pairwise comparisons by
//     MaxRepeats × MaxFields / 2;
//   - no argument value (of a field, a directive, a variable's default) is
//     nested more than valueDepth levels of objects and lists: validation
//     (ValuesOfCorrectType) is quadratic in that nesting, `not` nested 400
//     deep costs 40 ms and 26 MB to validate.
//
// A document gqlgen has already parsed, validated and cached passed these
// checks before and is not measured again. Refusals are never cached.
//
// The variables are measured on every request, before gqlgen coerces them:
// coercion checks every field an input type declares for each input object
// given (CustomerWhereInput declares over 200), so a list of ten thousand empty
// filters in a variable would cost a second of CPU. Each value counts 1 and
// each input object the number of fields of its type; at most
// MaxVariableCost in a request.
type documentLimits struct {
	Limits
	cache  graphql.Cache[*ast.QueryDocument] // gqlgen's query cache
	schema *ast.Schema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = (*documentLimits)(nil)

func (*documentLimits) ExtensionName() string { return "DocumentLimits" }

func (d *documentLimits) Validate(es graphql.ExecutableSchema) error {
	d.schema = es.Schema()
	return nil
}

func (d *documentLimits) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if p.Query == "" {
		return nil // gqlgen answers a request without a query
	}
	doc, ok := d.cache.Get(ctx, p.Query)
	if !ok {
		var err *gqlerror.Error
		if doc, err = d.check(p.Query); err != nil || doc == nil {
			return err
		}
	}
	if op := doc.Operations.ForName(p.OperationName); op != nil && len(p.Variables) > 0 {
		return d.variables(op, p.Variables)
	}
	return nil
}

// check measures the document query and returns it parsed; a nil document
// when it does not parse (gqlgen then reports the syntax error, after
// parsing at most MaxTokens tokens: SetParserTokenLimit).
func (d *documentLimits) check(query string) (*ast.QueryDocument, *gqlerror.Error) {
	if d.MaxTokens > 0 && !withinTokens(query, d.MaxTokens) {
		return nil, limitErr("TOO_MANY_TOKENS",
			"the document has more than %d tokens (names, punctuation, values); send a smaller one", d.MaxTokens)
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		return nil, nil
	}
	m := docMeasure{Limits: d.Limits, frags: doc.Fragments, spread: map[string]bool{}, valueDepth: valueDepth(d.Limits)}
	for _, op := range doc.Operations {
		for _, v := range op.VariableDefinitions {
			m.value(v.DefaultValue)
		}
		m.directives(op.Directives)
		m.root(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		if !m.spread[f.Name] {
			m.root(f.SelectionSet)
		}
	}
	return doc, m.err
}

// variables measures the variables of op (of a parsed, maybe not yet
// validated document) the way gqlgen will coerce them.
func (d *documentLimits) variables(op *ast.OperationDefinition, vars map[string]any) *gqlerror.Error {
	if d.MaxVariableCost <= 0 {
		return nil
	}
	n := 0
	var value func(t *ast.Type, v any)
	value = func(t *ast.Type, v any) {
		if n++; n > d.MaxVariableCost {
			return
		}
		switch x := v.(type) {
		case []any:
			if t != nil && t.Elem != nil {
				t = t.Elem
			}
			for _, e := range x {
				value(t, e)
			}
		case map[string]any:
			var def *ast.Definition
			if t != nil {
				def = d.schema.Types[t.Name()]
			}
			if def == nil || def.Kind != ast.InputObject {
				n += len(x) // refused by coercion, after a look at each key
				return
			}
			n += len(def.Fields) // coercion checks each declared field
			for k, e := range x {
				var ft *ast.Type
				if f := def.Fields.ForName(k); f != nil {
					ft = f.Type
				}
				value(ft, e)
			}
		}
	}
	for _, v := range op.VariableDefinitions {
		if val, ok := vars[v.Variable]; ok {
			value(v.Type, val)
		}
	}
	if n > d.MaxVariableCost {
		return limitErr("VARIABLES_TOO_LARGE",
			"the variables cost more than %d to check (each value 1, each input object the number of fields its type declares); send fewer or smaller objects",
			d.MaxVariableCost)
	}
	return nil
}

// withinTokens reports whether query has at most limit lexical tokens
// (a document that does not lex counts as within: the parser reports it).
func withinTokens(query string, limit int) bool {
	l := lexer.New(&ast.Source{Input: query})
	for n := 0; n <= limit; n++ {
		t, err := l.ReadToken()
		if err != nil || t.Kind == lexer.EOF {
			return true
		}
	}
	return false
}

// valueDepth is how deep argument values may nest objects and lists: 16,
// or more when MaxFilterDepth allows deeper filters (each level of a where,
// an and/or/has…With list and its objects, takes two).
func valueDepth(l Limits) int { return max(16, 2*l.MaxFilterDepth+8) }

// docMeasure walks a document's selections with fragments expanded,
// counting fields and the fields merged under each response path.
type docMeasure struct {
	Limits
	valueDepth int
	frags      ast.FragmentDefinitionList
	spread     map[string]bool // fragments spread somewhere
	stack      []string        // fragments being expanded (cycles are validation's)
	fields     int
	visited    int
	err        *gqlerror.Error
}

// keyNode is a response path of the merged selection: how many fields
// answer under it, and its sub-paths.
type keyNode struct {
	n        int
	children map[string]*keyNode
}

func (m *docMeasure) root(set ast.SelectionSet) {
	m.selections(set, &keyNode{}, nil)
}

func (m *docMeasure) selections(set ast.SelectionSet, node *keyNode, path []string) {
	for _, sel := range set {
		if m.err != nil {
			return
		}
		// Spreads of fragments holding only spreads expand without fields:
		// the walk itself is bounded too.
		if m.visited++; m.MaxFields > 0 && m.visited > 4*m.MaxFields {
			m.err = limitErr("TOO_MANY_FIELDS",
				"the document selects more than %d fields once its fragments are expanded", m.MaxFields)
			return
		}
		switch s := sel.(type) {
		case *ast.Field:
			for _, a := range s.Arguments {
				m.value(a.Value)
			}
			m.directives(s.Directives)
			if m.fields++; m.MaxFields > 0 && m.fields > m.MaxFields {
				m.err = limitErr("TOO_MANY_FIELDS",
					"the document selects more than %d fields (fragments counted where they are spread)", m.MaxFields)
				return
			}
			key := s.Alias
			if key == "" {
				key = s.Name
			}
			if node.children == nil {
				node.children = map[string]*keyNode{}
			}
			c := node.children[key]
			if c == nil {
				c = &keyNode{}
				node.children[key] = c
			}
			c.n++
			p := append(slices.Clip(path), key)
			if m.MaxRepeats > 0 && c.n > m.MaxRepeats {
				m.err = limitErr("FIELD_REPEATED",
					"%s is selected more than %d times (repeated, or through fragments); select each field once", strings.Join(p, "."), m.MaxRepeats)
				return
			}
			m.selections(s.SelectionSet, c, p)
		case *ast.InlineFragment:
			m.directives(s.Directives)
			m.selections(s.SelectionSet, node, path)
		case *ast.FragmentSpread:
			m.directives(s.Directives)
			f := m.frags.ForName(s.Name)
			if f == nil || slices.Contains(m.stack, s.Name) {
				continue // unknown or cyclic: validation reports it
			}
			m.spread[s.Name] = true
			m.stack = append(m.stack, s.Name)
			m.selections(f.SelectionSet, node, path)
			m.stack = m.stack[:len(m.stack)-1]
		}
	}
}

func (m *docMeasure) directives(list ast.DirectiveList) {
	for _, d := range list {
		for _, a := range d.Arguments {
			m.value(a.Value)
		}
	}
}

// value checks the nesting of an argument value.
func (m *docMeasure) value(v *ast.Value) {
	if v == nil || m.err != nil || within(v, m.valueDepth) {
		return
	}
	m.err = limitErr("VALUE_TOO_DEEP", "an argument value nests objects and lists more than %d levels deep", m.valueDepth)
}

// within reports whether v nests objects and lists at most depth levels.
func within(v *ast.Value, depth int) bool {
	if v.Kind != ast.ListValue && v.Kind != ast.ObjectValue {
		return true
	}
	if depth == 0 {
		return false
	}
	for _, c := range v.Children {
		if !within(c.Value, depth-1) {
			return false
		}
	}
	return true
}

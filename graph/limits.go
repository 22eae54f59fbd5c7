package graph

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"custgraph/internal/access"
	"custgraph/internal/apperr"
	"custgraph/internal/gqlfields"
)

// Page sizes of every connection, root or nested.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// Limits bound the cost of one request. Zero disables a limit.
//
// The cost model (README, "Limits and the cost model") has two stages.
// Before gqlgen parses and validates the document (documentLimits), it is
// measured in tokens, fields and fields repeated under one response key:
// what validation's cost grows with. After validation, before anything
// runs, the operation is measured with its variables (limitsExt): depth,
// aliases, complexity (each data field counts once per row of the pages
// above it; nodes(ids:) is a page of its ids) and the cost of its filters
// and orderings (filterCost).
//
// The limits measure the data fields. The meta-fields do not count: a
// __typename costs like any other field but adds no depth, and the
// introspection fields (__schema, __type, with everything below them) are
// measured apart, by the number of values their answer has (see
// introspectionCounter), so that every tool's introspection query passes
// while introspection cannot be used to get around the limits.
type Limits struct {
	MaxTokens       int // lexical tokens of the document
	MaxFields       int // fields of the document, fragments expanded where spread
	MaxRepeats      int // fields answering under one response key
	MaxVariableCost int // the variables' values and their input objects' declared fields
	MaxDepth        int // deepest field nesting
	MaxAliases      int // aliased fields in the operation
	MaxComplexity   int // fields weighted by the page sizes above them
	MaxFilterDepth  int // nesting of and/or/not/has…With in one where
	MaxFilterCost   int // the operation's filters and orderings (filterCost)
}

// DefaultLimits are the limits custgraph serves with unless told otherwise
// (--max-tokens, --max-fields, --max-repeats, --max-variable-cost, --max-depth, --max-aliases,
// --max-complexity, --max-filter-depth, --max-filter-cost).
var DefaultLimits = Limits{
	MaxTokens: 2000, MaxFields: 1000, MaxRepeats: 50, MaxVariableCost: 10000,
	MaxDepth: 12, MaxAliases: 30, MaxComplexity: 50000,
	MaxFilterDepth: 4, MaxFilterCost: 30,
}

// limitsExt checks an operation against Limits, the introspection budget,
// the page-size rules and the filter values before anything runs, so an
// oversized request is refused without touching the database.
type limitsExt struct {
	Limits
	schema *ast.Schema
	intro  *introspectionCounter // set by Validate, from the schema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = (*limitsExt)(nil)

func (*limitsExt) ExtensionName() string { return "Limits" }

func (l *limitsExt) Validate(es graphql.ExecutableSchema) error {
	l.schema = es.Schema()
	c, err := newIntrospectionCounter(l.schema)
	l.intro = c
	return err
}

func (l *limitsExt) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if err := singleSubscription(oc); err != nil {
		return err
	}
	w := walker{Limits: l.Limits, schema: l.schema, vars: oc.Variables, doc: oc.Doc, intro: l.intro.start(oc.Variables)}
	cost := w.selections(oc.Operation.SelectionSet, 1, 1, "")
	switch {
	case w.err != nil:
		return w.err
	case l.MaxDepth > 0 && w.depth > l.MaxDepth:
		return limitErr("QUERY_TOO_DEEP", "the operation is %d levels deep; at most %d are allowed", w.depth, l.MaxDepth)
	case l.MaxAliases > 0 && w.aliases > l.MaxAliases:
		return limitErr("TOO_MANY_ALIASES", "the operation has %d aliases; at most %d are allowed", w.aliases, l.MaxAliases)
	case l.MaxComplexity > 0 && cost > l.MaxComplexity:
		return limitErr("COMPLEXITY_LIMIT_EXCEEDED",
			"the operation's complexity is %d (each field once per row of the pages above it; nodes(ids:) a page of its ids), %s the most: %d; at most %d is allowed",
			cost, w.costliest.path, w.costliest.cost, l.MaxComplexity)
	case l.MaxFilterCost > 0 && w.filters > l.MaxFilterCost:
		return limitErr("FILTER_TOO_COMPLEX",
			"the operation's filters and orderings cost %d, %s the most: %d; at most %d is allowed "+
				"(a predicate or listed value counts 1, a search 6, an orderBy term 1, a where object at least 1; a has…With 5 × (1 + what is inside it))",
			w.filters, w.costliestFilter.path, w.costliestFilter.cost, l.MaxFilterCost)
	case w.intro.over():
		return limitErr("INTROSPECTION_LIMIT_EXCEEDED",
			"the operation's introspection (__schema, __type) would answer more than %d values, twice a full introspection of the schema: ask for the schema once",
			w.intro.budget)
	}
	return nil
}

// singleSubscription refuses a subscription that selects more than one
// top-level field, as the GraphQL spec's "Single root field" rule (and
// graphql-js) does. gqlparser's version of the rule counts field names, not
// response keys, so `subscription { a: changes {…} b: changes {…} }` passed
// validation and failed in the executor as INTERNAL.
func singleSubscription(oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation.Operation != ast.Subscription {
		return nil
	}
	if fields := graphql.CollectFields(oc, oc.Operation.SelectionSet, []string{"Subscription"}); len(fields) > 1 {
		name := "Anonymous Subscription"
		if oc.Operation.Name != "" {
			name = "Subscription " + strconv.Quote(oc.Operation.Name)
		}
		err := gqlerror.ErrorPosf(fields[1].Position, "%s must select only one top level field.", name)
		errcode.Set(err, errcode.ValidationFailed)
		return err
	}
	return nil
}

// limitErr is a refusal by a limit: a request error, answered 400
// (limitCodes), with the code naming the limit.
func limitErr(code, format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{Message: fmt.Sprintf(format, args...), Extensions: map[string]any{"code": code}}
}

// limitCodes are the codes of the limits' refusals. They and BAD_USER_INPUT
// refusals raised before execution are answered 400 whatever media type
// the client accepts (transport.go).
var limitCodes = map[string]bool{
	"TOO_MANY_TOKENS": true, "TOO_MANY_FIELDS": true, "FIELD_REPEATED": true, "VARIABLES_TOO_LARGE": true, "VALUE_TOO_DEEP": true,
	"QUERY_TOO_DEEP": true, "TOO_MANY_ALIASES": true, "COMPLEXITY_LIMIT_EXCEEDED": true,
	"FILTER_TOO_DEEP": true, "FILTER_TOO_COMPLEX": true, "INTROSPECTION_LIMIT_EXCEEDED": true,
}

// costAt is a part of the operation and what it costs.
type costAt struct {
	path string
	cost int
}

// walker measures an operation's data fields: depth, aliases and
// complexity, where each field costs 1 and the fields below a connection
// (or nodes) count once per row of the page it asks for, and the filters
// (filterCost). The introspection fields are handed to the introspection
// counter instead.
type walker struct {
	Limits
	schema          *ast.Schema
	vars            map[string]any
	doc             *ast.QueryDocument
	intro           *introspectionCount
	depth           int
	aliases         int
	filters         int
	costliest       costAt // the root field costing the most
	costliestFilter costAt // the filter or ordering costing the most
	err             *gqlerror.Error
	seen            int
}

func (w *walker) selections(set ast.SelectionSet, depth, mult int, path string) int {
	cost := 0
	for _, sel := range set {
		if w.err != nil {
			return cost
		}
		if w.seen++; w.seen > 100_000 { // fragments spread many times
			w.err = limitErr("COMPLEXITY_LIMIT_EXCEEDED", "the operation is too large")
			return cost
		}
		switch s := sel.(type) {
		case *ast.Field:
			if isIntrospection(s) {
				w.intro.root(s)
				continue
			}
			if s.Alias != "" && s.Alias != s.Name {
				w.aliases++
			}
			if !strings.HasPrefix(s.Name, "__") { // __typename: a leaf of its parent
				w.depth = max(w.depth, depth)
			}
			at := s.Alias
			if path != "" {
				at = path + "." + s.Alias
			}
			m := mult
			switch {
			case isConnection(s):
				m = mult * w.pageSize(s)
			case s.Name == "nodes" && depth == 1:
				m = mult * w.ids(s)
			}
			w.arguments(s, at)
			c := mult + w.selections(s.SelectionSet, depth+1, m, at)
			if depth == 1 && c > w.costliest.cost {
				w.costliest = costAt{at, c}
			}
			cost += c
		case *ast.InlineFragment:
			cost += w.selections(s.SelectionSet, depth, mult, path)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				cost += w.selections(s.Definition.SelectionSet, depth, mult, path)
			}
		}
	}
	return cost
}

// ids checks the ids of nodes(ids:) and returns how many there are: the
// selection of nodes is answered once per id.
func (w *walker) ids(f *ast.Field) int {
	a := f.Arguments.ForName("ids")
	if a == nil {
		return 1
	}
	v, err := a.Value.Value(w.vars)
	if err != nil {
		return 1
	}
	list, _ := v.([]any)
	if len(list) > MaxPageSize {
		w.err = &gqlerror.Error{
			Message:    fmt.Sprintf("ids: at most %d ids at a time, got %d", MaxPageSize, len(list)),
			Path:       ast.Path{ast.PathName(f.Alias)},
			Extensions: map[string]any{"code": string(apperr.BadUserInput), "field": "ids"},
		}
		return 1
	}
	return max(len(list), 1)
}

func isConnection(f *ast.Field) bool {
	return f.Definition != nil && f.Definition.Type != nil && strings.HasSuffix(f.Definition.Type.Name(), "Connection")
}

// pageSize checks first/last of a connection field and returns the page size
// it asks for (the default when neither is given; 1 for an empty page,
// first: 0, which reads one row for its pageInfo and answers no edge).
func (w *walker) pageSize(f *ast.Field) int {
	size, given, null, numbers := 0, 0, 0, 0
	for _, name := range []string{"first", "last"} {
		a := f.Arguments.ForName(name)
		if a == nil {
			continue
		}
		given++
		v, err := a.Value.Value(w.vars)
		if err != nil || v == nil {
			null++
			continue
		}
		if name == "last" && given-null == 2 {
			// A Relay page is taken from one end.
			w.err = &gqlerror.Error{
				Message:    "first and last: give one of them, not both",
				Path:       ast.Path{ast.PathName(f.Alias)},
				Extensions: map[string]any{"code": string(apperr.BadUserInput), "field": "last"},
			}
			return 0
		}
		n, ok := toInt(v)
		if !ok {
			continue // gqlgen's validation reports the type error
		}
		if n < 0 || n > MaxPageSize {
			w.err = &gqlerror.Error{
				Message: fmt.Sprintf("%s: %s must be between 0 and %d, got %d", name, name, MaxPageSize, n),
				Path:    ast.Path{ast.PathName(f.Alias)},
				Extensions: map[string]any{
					"code": string(apperr.BadUserInput), "field": name,
				},
			}
			return 0
		}
		size = max(size, int(n))
		numbers++
	}
	if given > 0 && given == null {
		// Omitted arguments get the default page (defaultFirst), but a
		// variable that is null or missing would leave the page unbounded.
		w.err = &gqlerror.Error{
			Message:    fmt.Sprintf("first/last on %s are null: give one of them a number, or omit both for the default of %d", f.Name, DefaultPageSize),
			Path:       ast.Path{ast.PathName(f.Alias)},
			Extensions: map[string]any{"code": string(apperr.BadUserInput), "field": "first"},
		}
		return 0
	}
	if numbers == 0 {
		return DefaultPageSize
	}
	return max(size, 1)
}

// pagedCache is gqlgen's query cache with one addition: before a newly
// parsed and validated document is stored (and executed), every connection
// field that has neither first nor last gets `first: 20`. Rewriting the
// document, not the resolver arguments, matters: ent's field collection reads
// the arguments from the document to eager-load nested pages with a LIMIT, so
// the default must be visible there too. Add runs before the document is
// shared, so the rewrite is race-free.
type pagedCache struct {
	graphql.Cache[*ast.QueryDocument]
}

// MaxCachedQueryBytes is the longest query text the parsed-document cache
// and the persisted-query cache keep. They hold 1,000 entries each, and
// their text only the body limit (1 MiB) bounded: 1,000 queries padded
// with a comment, sent without credentials (`{ __typename }` is open),
// kept some 3 GB. A longer query is answered all the same, parsed each
// time; as a persisted query it is not kept, so the client's next hash-only
// request gets PersistedQueryNotFound and sends the text again (Apollo's
// and urql's clients do).
const MaxCachedQueryBytes = 32 << 10

// sizedCache is a graphql.Cache that keeps no entry whose key and text
// together pass MaxCachedQueryBytes; size gives an entry's text.
type sizedCache[T any] struct {
	graphql.Cache[T]
	size func(T) int
}

func (c sizedCache[T]) Add(ctx context.Context, key string, v T) {
	if len(key)+c.size(v) <= MaxCachedQueryBytes {
		c.Cache.Add(ctx, key, v)
	}
}

// callersCache keeps each caller's entries apart: the automatic persisted
// queries are a caller's own. Shared, they told a partner whether another
// caller, of another bank, had sent a given query text (its hash ran
// instead of answering PERSISTED_QUERY_NOT_FOUND), names and ids written
// in it included.
type callersCache[T any] struct{ graphql.Cache[T] }

func (c callersCache[T]) Get(ctx context.Context, key string) (T, bool) {
	return c.Cache.Get(ctx, callerKey(ctx, key))
}

func (c callersCache[T]) Add(ctx context.Context, key string, v T) {
	c.Cache.Add(ctx, callerKey(ctx, key), v)
}

// callerKey is key prefixed with the caller's kind and id ("" for none).
func callerKey(ctx context.Context, key string) string {
	v := access.FromContext(ctx)
	if v == nil {
		return "|" + key
	}
	return fmt.Sprintf("%s:%s|%s", v.Kind, v.ID, key)
}

func (c pagedCache) Add(ctx context.Context, key string, doc *ast.QueryDocument) {
	for _, op := range doc.Operations {
		defaultFirst(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		defaultFirst(f.SelectionSet)
	}
	c.Cache.Add(ctx, key, doc)
	if cached, ok := c.Cache.Get(ctx, key); ok && cached == doc { // (sizedCache keeps no long query)
		gqlfields.Share(doc) // its requests collect its fields once
	}
}

func defaultFirst(set ast.SelectionSet) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if isConnection(s) && s.Arguments.ForName("first") == nil && s.Arguments.ForName("last") == nil {
				s.Arguments = append(s.Arguments, &ast.Argument{
					Name:     "first",
					Value:    &ast.Value{Kind: ast.IntValue, Raw: strconv.Itoa(DefaultPageSize), Position: s.Position},
					Position: s.Position,
				})
			}
			defaultFirst(s.SelectionSet)
		case *ast.InlineFragment:
			defaultFirst(s.SelectionSet)
		}
	}
}

func toInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case float64:
		return int64(n), n == float64(int64(n))
	case interface{ Int64() (int64, error) }: // json.Number
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

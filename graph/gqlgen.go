//go:build ignore

// gqlgen.go runs gqlgen (the version pinned in go.mod) on gqlgen.yml, as
// `go tool gqlgen generate` would, with three changes to the work per row.
// Two keep everything below the root fields on one goroutine:
//   - a plugin makes the fields of every type but the root Query resolve on
//     their parent's goroutine (gqlgen starts one per field bound to a method
//     with a context; entgql's edges, Customer.products, …, are such methods);
//   - the generated code marshals lists with marshalSliceInline (inline.go)
//     instead of graphql.MarshalSliceConcurrently, which starts a goroutine
//     per element.
//
// entgql loads the rows of every nested page with the page (field
// collection), so below the root these goroutines only cost: their start,
// their stacks growing, scheduling, for every row of every page. Root fields
// keep theirs (each may run its own queries). The third, leafFastPath, has
// the leaf fields that read a struct field (most of a page's fields) marshal
// their value directly instead of through graphql.ResolveField. Run through
// `go generate ./...` (see server.go).
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/api"
	"github.com/99designs/gqlgen/codegen"
	"github.com/99designs/gqlgen/codegen/config"
)

// inline is the plugin.
type inline struct{}

func (inline) Name() string { return "inline-fields" }

// GenerateCode runs after gqlgen has built its data and before it writes
// the executable schema.
func (inline) GenerateCode(data *codegen.Data) error {
	for _, o := range data.Objects {
		if o.Name != data.Schema.Query.Name {
			o.DisableConcurrency = true
		}
	}
	return nil
}

func main() {
	cfg, err := config.LoadConfigFromDefaultLocations()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gqlgen: loading gqlgen.yml:", err)
		os.Exit(2)
	}
	if err := api.Generate(cfg, api.AddPlugin(inline{})); err != nil {
		fmt.Fprintln(os.Stderr, "gqlgen:", err)
		os.Exit(3)
	}
	exec := cfg.Exec.Filename
	src, err := os.ReadFile(exec)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gqlgen:", err)
		os.Exit(4)
	}
	const concurrent = "graphql.MarshalSliceConcurrently("
	if !bytes.Contains(src, []byte(concurrent)) {
		fmt.Fprintln(os.Stderr, "gqlgen: no", concurrent, "in", exec, "(a new gqlgen? see graph/inline.go)")
		os.Exit(5)
	}
	src = bytes.ReplaceAll(src, []byte(concurrent), []byte("marshalSliceInline("))
	src, ok := unmarshalersOnce(src)
	if !ok {
		fmt.Fprintln(os.Stderr, "gqlgen: no BuildUnmarshalerMap block in", exec, "(a new gqlgen? see unmarshalersOnce)")
		os.Exit(8)
	}
	// A subscription's events are resolved without the input unmarshalers
	// in their context (gqlgen puts them there for queries and mutations
	// only), and entgql's collection reads a nested page's where through
	// them: it failed without a word, and a change's node answered
	// products(where: …) with every product. They are given to each event.
	const event = "\t\t\tdata := next(ctx)\n"
	if bytes.Count(src, []byte(event)) != 1 {
		fmt.Fprintln(os.Stderr, "gqlgen: a subscription's events are not resolved where expected in", exec, "(a new gqlgen? see the comment above)")
		os.Exit(17)
	}
	src = bytes.Replace(src, []byte(event), []byte("\t\t\tdata := next(graphql.WithUnmarshalerMap(ctx, inputUnmarshalMap)) // (gqlgen.go: entgql reads where inputs through them)\n"), 1)
	const unsized = "\t\t\tvar buf bytes.Buffer\n\t\t\tdata.MarshalGQL(&buf)\n\t\t\tresponse.Data = buf.Bytes()\n"
	if bytes.Count(src, []byte(unsized)) != 1 {
		fmt.Fprintln(os.Stderr, "gqlgen: the query answer's buffer is not where expected in", exec, "(a new gqlgen? see responseBuffer in inline.go)")
		os.Exit(10)
	}
	src = bytes.Replace(src, []byte(unsized), []byte("\t\t\tbuf := responseBuffer(opCtx.Operation) // sized as its last answer (inline.go)\n"+
		"\t\t\tdata.MarshalGQL(buf)\n\t\t\trememberResponseSize(opCtx.Operation, buf.Len())\n\t\t\tresponse.Data = buf.Bytes()\n"), 1)
	for _, c := range []struct{ from, to string }{
		{"v entgql.Cursor[uuid.UUID]) graphql.Marshaler {\n\treturn v\n}", "v entgql.Cursor[uuid.UUID]) graphql.Marshaler {\n\treturn cursorMarshaler(v) // inline.go\n}"},
		{"v *entgql.Cursor[uuid.UUID]) graphql.Marshaler {\n\tif v == nil {\n\t\treturn graphql.Null\n\t}\n\treturn v\n}",
			"v *entgql.Cursor[uuid.UUID]) graphql.Marshaler {\n\tif v == nil {\n\t\treturn graphql.Null\n\t}\n\treturn cursorMarshaler(*v) // inline.go\n}"},
	} {
		if bytes.Count(src, []byte(c.from)) != 1 {
			fmt.Fprintln(os.Stderr, "gqlgen: a Cursor marshaller is not as expected in", exec, "(a new gqlgen? see cursorMarshaler in inline.go)")
			os.Exit(11)
		}
		src = bytes.Replace(src, []byte(c.from), []byte(c.to), 1)
	}
	// A list of non-null Strings (a customer's labels, an address's tags)
	// was an Array of one closure per string; it is one stringList.
	const stringLists = "\tret := make(graphql.Array, len(v))\n\tfor i := range v {\n\t\tret[i] = ec.marshalNString2string(ctx, sel, v[i])\n\t}\n\n" +
		"\tfor _, e := range ret {\n\t\tif e == graphql.Null {\n\t\t\treturn graphql.Null\n\t\t}\n\t}\n\n\treturn ret\n}\n"
	if bytes.Count(src, []byte(stringLists)) != 2 {
		fmt.Fprintln(os.Stderr, "gqlgen: the String list marshallers are not as expected in", exec, "(a new gqlgen? see stringList in inline.go)")
		os.Exit(18)
	}
	src = bytes.ReplaceAll(src, []byte(stringLists), []byte("\treturn stringList(v) // inline.go\n}\n"))
	for _, r := range []struct {
		name, fault string // the rewrite, and what is missing when it finds nothing to do
		exit        int
		rewrite     func([]byte) ([]byte, bool)
	}{
		{"leafFastPath", "no leaf field, or none of one kind (string, time, UUID, enum), matched the fast-path pattern", 7, func(b []byte) ([]byte, bool) {
			b, n := leafFastPath(b)
			return b, n > 0 && everyLeafKind(b)
		}},
		{"objectFastPath", "no object field matched the fast-path pattern", 14, func(b []byte) ([]byte, bool) { b, n := objectFastPath(b); return b, n > 0 }},
		{"fieldSets", "the objects' field sets are not built where expected", 15, fieldSets},
		{"argsOnce", "the arguments of nested fields are not parsed where expected", 12, argsOnce},
		{"fieldsOnce", "the fields of objects are not collected where expected", 13, fieldsOnce},
	} {
		if src, ok = r.rewrite(src); !ok {
			fmt.Fprintln(os.Stderr, "gqlgen:", r.fault, "in", exec, "(a new gqlgen? see "+r.name+")")
			os.Exit(r.exit)
		}
	}
	if src, err = format.Source(src); err != nil { // (the rewrites' own layout, as gofmt has it)
		fmt.Fprintln(os.Stderr, "gqlgen: formatting", exec, "after the rewrites:", err)
		os.Exit(16)
	}
	if err := os.WriteFile(exec, src, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gqlgen:", err)
		os.Exit(6)
	}
}

// leafFastPath rewrites the generated function of every leaf field that
// reads a struct field of its parent (`return obj.X, nil`, no arguments, no
// directive, no resolver) so that it marshals obj.X directly instead of
// going through graphql.ResolveField, when doing so is observably the same:
//
//   - ResolveField builds a FieldContext (and an error value for it), puts
//     it in a new context, allocates four closures and boxes the value in an
//     interface, then runs the field middleware; about two thirds of a page's
//     fields are such leaves, so this was most of the per-row work;
//   - the marshal function must not use the context (the FieldContext is
//     what it would have read: error paths), which is checked on its
//     generated body; a non-null marshaller whose only use of the context is
//     the "must not be null" error is used directly when its gqlgen
//     marshaller never returns null (string, int, boolean), and otherwise
//     (time, UUID: null for the zero value) only when the value is not
//     null: a null goes the ordinary way and gets its error at the field's
//     own path;
//   - reading a struct field cannot panic (the parent is never nil here),
//     so the recover is not needed; and the server installs no field
//     middleware (graph/handler.go: no extension implements
//     graphql.FieldInterceptor; adding one means dropping this rewrite).
//
// Where the value is a string, a time, a UUID or an ent enum, the field
// returns one of inline.go's leaf marshalers (leafValue) instead of
// gqlgen's, which allocate a closure and formatted copies per value.
//
// It returns the new source and how many fields it rewrote.
func leafFastPath(src []byte) ([]byte, int) {
	// The marshal functions and their bodies (their names have non-ASCII letters: not \w).
	marshalRe := regexp.MustCompile(`(?ms)^func \(ec \*executionContext\) (marshal[^(\s]+)\(ctx context\.Context, sel ast\.SelectionSet, v ([^)]+)\) graphql\.Marshaler \{\n(.*?)^\}\n`)
	bodies := map[string]string{}
	types := map[string]string{} // marshal function -> the Go type of its value
	for _, m := range marshalRe.FindAllSubmatch(src, -1) {
		bodies[string(m[1])] = string(m[3])
		types[string(m[1])] = string(m[2])
	}
	// checkedNull: `_ = sel; res := graphql.MarshalX(v); if res == graphql.Null { error }; return res`.
	// scalars.MarshalTime (the Time scalar's binding, gqlgen.yml) is
	// graphql.MarshalTime itself, so it is taken as that.
	checkedRe := regexp.MustCompile(`(?s)^\t_ = sel\n\tres := (?:graphql\.(Marshal\w+)|scalars\.(MarshalTime))\(v\)\n\tif res == graphql\.Null \{\n.*\n\t\}\n\treturn res\n$`)
	neverNull := map[string]bool{"MarshalString": true, "MarshalInt": true, "MarshalBoolean": true}
	checked := map[string]string{} // marshal function -> gqlgen marshaller that may return null
	ctxFree := map[string]bool{}
	nullChecks := map[string]string{} // marshal function -> the gqlgen marshaller it null-checks
	for name, body := range bodies {
		if m := checkedRe.FindStringSubmatch(body); m != nil {
			f := m[1] + m[2] // (one of the two is empty)
			nullChecks[name] = f
			if neverNull[f] {
				ctxFree[name] = true
			} else {
				checked[name] = f
			}
		}
	}
	callRe := regexp.MustCompile(`ec\.(marshal[^(\s]+)\(ctx, `)
	for changed := true; changed; {
		changed = false
		for name, body := range bodies {
			if ctxFree[name] || checked[name] != "" {
				continue
			}
			rest := strings.ReplaceAll(body, "_ = ctx\n", "")
			ok := true
			rest = callRe.ReplaceAllStringFunc(rest, func(call string) string {
				if !ctxFree[callRe.FindStringSubmatch(call)[1]] {
					ok = false
				}
				return ""
			})
			if ok && !regexp.MustCompile(`\bctx\b`).MatchString(rest) {
				ctxFree[name] = true
				changed = true
			}
		}
	}
	fieldRe := regexp.MustCompile(`(?m)^(func \(ec \*executionContext\) _\w+\(ctx context\.Context, field graphql\.CollectedField, obj \*[\w.\[\]]+\) \(ret graphql\.Marshaler\) \{\n)` +
		`(\treturn graphql\.ResolveField\(\n\t\tctx,\n\t\tec\.OperationContext,\n\t\tfield,\n` +
		`\t\tfunc\(ctx context\.Context, field graphql\.CollectedField\) \(\*graphql\.FieldContext, error\) \{\n\t\t\treturn ec\.fieldContext_\w+\(ctx, field\)\n\t\t\},\n` +
		`\t\tfunc\(ctx context\.Context\) \(any, error\) \{\n\t\t\treturn obj\.(\w+), nil\n\t\t\},\n` +
		`\t\tnil,\n` +
		`\t\tfunc\(ctx context\.Context, selections ast\.SelectionSet, v [^)]+\) graphql\.Marshaler \{\n\t\t\treturn ec\.(marshal[^(\s]+)\(ctx, selections, v\)\n\t\t\},\n` +
		`\t\t(?:true|false),\n\t\t(?:true|false),\n\t\)\n)\}\n`)
	n := 0
	out := fieldRe.ReplaceAllFunc(src, func(fn []byte) []byte {
		m := fieldRe.FindSubmatch(fn)
		head, slow, field, marshal := string(m[1]), string(m[2]), string(m[3]), string(m[4])
		n++
		f := "obj." + field
		switch leaf := leafValue(marshal, types[marshal], bodies[marshal], nullChecks[marshal]); {
		case leaf != "" && checked[marshal] != "":
			guard := map[string]string{"MarshalTime": "!" + f + ".IsZero()", "MarshalUUID": f + " != uuid.Nil"}[checked[marshal]]
			return []byte(head + "\tif " + guard + " { // leafFastPath (gqlgen.go)\n\t\treturn " + leaf + "{&" + f + "}\n\t}\n" + slow + "}\n")
		case leaf != "":
			return []byte(head + "\treturn " + leaf + "{&" + f + "} // leafFastPath (gqlgen.go)\n}\n")
		case ctxFree[marshal]:
			return []byte(head + "\treturn ec." + marshal + "(ctx, field.Selections, " + f + ") // leafFastPath (gqlgen.go)\n}\n")
		case checked[marshal] != "":
			return []byte(head + "\tif res := graphql." + checked[marshal] + "(" + f + "); res != graphql.Null { // leafFastPath (gqlgen.go)\n\t\treturn res\n\t}\n" + slow + "}\n")
		}
		n--
		return fn
	})
	return out, n
}

// everyLeafKind reports whether leafFastPath rewrote fields of each leaf
// kind: a change of binding (the Time scalar's, say) can make one kind's
// marshal functions no longer match, which would quietly send every such
// field back through graphql.ResolveField.
func everyLeafKind(src []byte) bool {
	for _, leaf := range []string{"stringLeaf{", "timeLeaf{", "uuidLeaf{", "enumLeaf"} {
		if !bytes.Contains(src, []byte(" "+leaf)) {
			fmt.Fprintln(os.Stderr, "gqlgen: leafFastPath rewrote no field with", strings.TrimSuffix(leaf, "{"))
			return false
		}
	}
	return true
}

// unmarshalersOnce has Exec take the map of input unmarshalers (which
// entgql's field collection reads through graphql.UnmarshalInputFromContext)
// from inputUnmarshalers (inline.go), built once per schema, instead of
// building it for every request: a map of every input type of the schema
// and a method value for each, 6% of a lookup by id's allocated bytes.
// The unmarshalers read no request state (only other unmarshalers and the
// schema's resolvers), which the generated code is checked for here.
func unmarshalersOnce(src []byte) ([]byte, bool) {
	blockRe := regexp.MustCompile(`(?s)\n\tinputUnmarshalMap := graphql\.BuildUnmarshalerMap\(\n(.*?)\n\t\)\n`)
	m := blockRe.FindSubmatchIndex(src)
	if m == nil {
		return src, false
	}
	unmarshalRe := regexp.MustCompile(`(?ms)^func \(ec \*executionContext\) unmarshal[^(\s]+\(.*?^\}\n`)
	stateRe := regexp.MustCompile(`ec\.(\w+)`)
	for _, fn := range unmarshalRe.FindAll(src, -1) {
		for _, use := range stateRe.FindAllSubmatch(fn, -1) {
			if name := string(use[1]); !strings.HasPrefix(name, "unmarshal") && name != "Resolvers" {
				fmt.Fprintf(os.Stderr, "gqlgen: an unmarshaler reads ec.%s: the map of unmarshalers cannot be shared (unmarshalersOnce)\n", name)
				os.Exit(9)
			}
		}
	}
	list := bytes.ReplaceAll(src[m[2]:m[3]], []byte("\n\t\t"), []byte("\n\t\t\t"))
	block := "\n\tinputUnmarshalMap := inputUnmarshalers(e, func(ec *executionContext) unmarshalerMap { // built once (unmarshalersOnce, gqlgen.go)\n" +
		"\t\treturn graphql.BuildUnmarshalerMap(\n\t" + string(list) + "\n\t\t)\n\t})\n"
	out := append([]byte{}, src[:m[0]]...)
	out = append(out, block...)
	return append(out, src[m[1]:]...), true
}

// argsOnce has the fields below the root parse their arguments once per
// operation (argsMemo, inline.go) instead of once per row: a nested
// connection's arguments (Customer.products(first:, where:, …)) come from
// the field and the operation's variables alone, the same for every row of
// the page above it, and parsing them again per row was 5% of a page's
// allocated bytes. Root fields (Query, Mutation, Subscription) run once
// anyway and keep the generated call. It returns false when the generated
// code is not as expected.
func argsOnce(src []byte) ([]byte, bool) {
	const state = "type executionContext struct {\n\t*graphql.ExecutionContextState[ResolverRoot, DirectiveRoot, ComplexityRoot]\n}\n"
	if bytes.Count(src, []byte(state)) != 1 {
		return src, false
	}
	src = bytes.Replace(src, []byte(state), []byte(strings.Replace(state, "]\n}", "]\n\targs argsMemo // arguments parsed once (inline.go)\n}", 1)), 1)
	callRe := regexp.MustCompile(`(?m)^\tif fc\.Args, err = ec\.(field_([A-Za-z0-9]+)_[A-Za-z0-9]+_args)\(ctx, field\.ArgumentMap\(ec\.Variables\)\); err != nil \{$`)
	n := 0
	src = callRe.ReplaceAllFunc(src, func(m []byte) []byte {
		sub := callRe.FindSubmatch(m)
		switch string(sub[2]) {
		case "Query", "Mutation", "Subscription":
			return m
		}
		n++
		return []byte("\tif fc.Args, err = ec.args.of(ctx, " + strconv.Quote(string(sub[2])) + ", field, ec.Variables, ec." + string(sub[1]) + "); err != nil {")
	})
	return src, n > 0
}

// leafValue names the leaf marshaler of inline.go that writes what the
// generated marshal function (its name, value type, body, and the gqlgen
// marshaller it null-checks, if any) writes, or "" for none:
//   - stringLeaf for graphql.MarshalString of a string;
//   - timeLeaf and uuidLeaf for graphql.MarshalTime and MarshalUUID of a
//     non-zero value (the caller keeps the ordinary path for the zero one);
//   - enumLeaf for an ent enum marshalled as itself, when its package
//     (ent/<pkg>) has ent's MarshalGQL (strconv.Quote of String()) and a
//     String that returns the value.
func leafValue(marshal, typ, body, checked string) string {
	stringBody := "\t_ = sel\n\t_ = ctx\n\tres := graphql.MarshalString(v)\n\treturn res\n"
	switch {
	case typ == "string" && (body == stringBody || checked == "MarshalString"):
		return "stringLeaf"
	case typ == "time.Time" && checked == "MarshalTime":
		return "timeLeaf"
	case typ == "uuid.UUID" && checked == "MarshalUUID":
		return "uuidLeaf"
	case body == "\treturn v\n" && strings.Contains(marshal, "custgraphᚋentᚋ"):
		pkg, name, ok := strings.Cut(typ, ".")
		if !ok || !entEnum("ent/"+pkg, name) {
			return ""
		}
		return "enumLeaf[" + typ + "]"
	}
	return ""
}

// entEnum reports whether the ent package in dir declares typ with ent's
// generated String and MarshalGQL.
func entEnum(dir, typ string) bool {
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	str := regexp.MustCompile(`(?m)^func \((\w+) ` + typ + `\) String\(\) string \{\n\treturn string\((\w+)\)\n\}\n`)
	marshal := "func (e " + typ + ") MarshalGQL(w io.Writer) {\n\tio.WriteString(w, strconv.Quote(e.String()))\n}\n"
	var hasString, hasMarshal bool
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return false
		}
		if m := str.FindSubmatch(b); m != nil && bytes.Equal(m[1], m[2]) {
			hasString = true
		}
		hasMarshal = hasMarshal || bytes.Contains(b, []byte(marshal))
	}
	return hasString && hasMarshal
}

// fieldsOnce has every object collect its selected fields through a
// per-operation memo (fieldsMemo, inline.go) keyed by the selection set and
// the type's implementors list. graphql.CollectFields caches them too, but
// builds its key per call (an FNV hash of the type names, allocated: 4% of
// the objects a page allocated), once for every row of every page. It
// returns false when the generated code is not as expected (run after
// argsOnce).
func fieldsOnce(src []byte) ([]byte, bool) {
	const state = "\targs argsMemo // arguments parsed once (inline.go)\n}\n"
	if bytes.Count(src, []byte(state)) != 1 {
		return src, false
	}
	src = bytes.Replace(src, []byte(state), []byte(strings.TrimSuffix(state, "}\n")+"\tfields fieldsMemo // fields collected once (inline.go)\n}\n"), 1)
	callRe := regexp.MustCompile(`graphql\.CollectFields\(ec\.OperationContext, sel, ([A-Za-z_]+Implementors)\)`)
	if len(callRe.FindAll(src, -1)) == 0 || bytes.Count(src, []byte("graphql.CollectFields(")) != len(callRe.FindAll(src, -1)) {
		return src, false
	}
	return callRe.ReplaceAll(src, []byte("ec.fields.of(ec.OperationContext, sel, $1)")), true
}

// objectFastPath rewrites the generated function of every other field that
// reads a struct field of its parent (`return obj.X, nil`: a page's edges,
// an edge's node, pageInfo; run after leafFastPath, which took the leaves)
// to do inline what graphql.ResolveField does for it: build the field's
// FieldContext and put it in the context (withFieldContext, fieldctx.go:
// the context and the FieldContext in one allocation; the paths of errors
// below stay the same), recover a panic below it as ResolveField does, and marshal
// the value. What it leaves out are ResolveField's five closures and the
// field middleware, of which the server installs none (see leafFastPath),
// and its check of a nil result: a struct field of a concrete type (each
// rewritten field's type is a pointer, a slice or a struct, checked here)
// is never an untyped nil, so the check never fired; its marshaller
// reports a nil pointer as before. About 100 fields of a 20-customer page.
// It returns the new source and how many fields it rewrote.
func objectFastPath(src []byte) ([]byte, int) {
	fieldRe := regexp.MustCompile(`(?m)^(func \(ec \*executionContext\) _\w+\(ctx context\.Context, field graphql\.CollectedField, obj \*[\w.\[\]]+\) \(ret graphql\.Marshaler\) \{\n)` +
		`\treturn graphql\.ResolveField\(\n\t\tctx,\n\t\tec\.OperationContext,\n\t\tfield,\n` +
		`\t\tfunc\(ctx context\.Context, field graphql\.CollectedField\) \(\*graphql\.FieldContext, error\) \{\n\t\t\treturn (ec\.fieldContext_\w+)\(ctx, field\)\n\t\t\},\n` +
		`\t\tfunc\(ctx context\.Context\) \(any, error\) \{\n\t\t\treturn obj\.(\w+), nil\n\t\t\},\n` +
		`\t\tnil,\n` +
		`\t\tfunc\(ctx context\.Context, selections ast\.SelectionSet, v ([^)]+)\) graphql\.Marshaler \{\n\t\t\treturn ec\.(marshal[^(\s]+)\(ctx, selections, v\)\n\t\t\},\n` +
		`\t\t(true|false),\n\t\t(?:true|false),\n\t\)\n\}\n`)
	concrete := regexp.MustCompile(`^(\*|\[\])|^(entgql\.PageInfo)\[`)
	n := 0
	out := fieldRe.ReplaceAllFunc(src, func(fn []byte) []byte {
		m := fieldRe.FindSubmatch(fn)
		head, fieldContext, field, typ, marshal, recovers := string(m[1]), string(m[2]), string(m[3]), string(m[4]), string(m[5]), string(m[6]) == "true"
		if !concrete.MatchString(typ) {
			return fn
		}
		n++
		var b strings.Builder
		b.WriteString(head)
		b.WriteString("\tfc, err := " + fieldContext + "(ctx, field) // objectFastPath (gqlgen.go)\n")
		b.WriteString("\tif err != nil {\n\t\treturn graphql.Null\n\t}\n")
		b.WriteString("\tctx, fc = withFieldContext(ctx, fc)\n")
		if recovers {
			b.WriteString("\tdefer func() {\n\t\tif r := recover(); r != nil {\n" +
				"\t\t\tec.OperationContext.Error(ctx, ec.OperationContext.Recover(ctx, r))\n\t\t\tret = graphql.Null\n\t\t}\n\t}()\n")
		}
		b.WriteString("\tfc.Result = obj." + field + "\n")
		b.WriteString("\treturn ec." + marshal + "(ctx, field.Selections, obj." + field + ")\n}\n")
		return []byte(b.String())
	})
	return out, n
}

// fieldSets has every generated object build inline.go's fieldSet (its own
// MarshalGQL, without gqlgen's per-object map of written aliases) instead
// of a graphql.FieldSet. It returns false when the generated code is not
// as expected: objects build their set with NewFieldSet(fields) and
// nothing adds fields to one afterwards (AddField, which the fieldSet's
// own list of fields would not see).
func fieldSets(src []byte) ([]byte, bool) {
	const build = "\tout := graphql.NewFieldSet(fields)\n"
	if bytes.Count(src, []byte(build)) == 0 || bytes.Count(src, []byte(build)) != bytes.Count(src, []byte("NewFieldSet(")) ||
		bytes.Contains(src, []byte(".AddField(")) {
		return src, false
	}
	src = bytes.ReplaceAll(src, []byte(build), []byte("\tout := newFieldSet(fields) // fieldSets (gqlgen.go)\n"))
	// The root objects hand their set to each root field's function (which ignores it).
	return bytes.ReplaceAll(src, []byte("innerFunc(ctx, out)"), []byte("innerFunc(ctx, &out.FieldSet)")), true
}

//go:build ignore

// entc.go generates the ent client (ent/…) and the GraphQL SDL of the ent
// types (graph/ent.graphqls) from ent/schema. Run through `go generate ./...`
// from the repository root (see server.go); gqlgen runs after it.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"go/format"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
)

func main() {
	ex, err := entgql.NewExtension(
		// First: the options below add templates of their own to this list.
		entgql.WithTemplates(templates()...),
		entgql.WithConfigPath("./gqlgen.yml"),
		entgql.WithSchemaGenerator(),
		entgql.WithSchemaPath("./graph/ent.graphqls"),
		entgql.WithWhereInputs(true),
		entgql.WithNodeDescriptor(true),
	)
	if err != nil {
		log.Fatalf("creating entgql extension: %v", err)
	}
	err = entc.Generate("./ent/schema", &gen.Config{
		Features: []gen.Feature{
			gen.FeatureModifier,
			gen.FeatureExecQuery,
			gen.FeaturePrivacy,
			gen.FeatureEntQL,
			gen.FeatureLock,
			gen.FeatureVersionedMigration,
		},
	}, entc.Extensions(ex), entc.BuildTags("codegen")) // ent/schema/entgql: the real annotations
	if err != nil {
		log.Fatalf("running ent codegen: %v", err)
	}
	if err := dropUnparsedPageArgs("./ent/gql_collection.go"); err != nil {
		log.Fatal(err)
	}
	if err := pageInfoFromRows("./ent/gql_collection.go"); err != nil {
		log.Fatal(err)
	}
	if err := orderByListOfOne("./ent/gql_collection.go"); err != nil {
		log.Fatal(err)
	}
	if err := lighterCollection("./ent/gql_collection.go"); err != nil {
		log.Fatal(err)
	}
	if err := collectOncePerDocument("./ent/gql_collection.go"); err != nil {
		log.Fatal(err)
	}
	if err := reuseScanHolders("./ent"); err != nil {
		log.Fatal(err)
	}
	if err := namedEdgesAsSlices("./ent"); err != nil {
		log.Fatal(err)
	}
	if err := loadsTogether("./ent"); err != nil {
		log.Fatal(err)
	}
	if err := selectorsCarryContext("./ent"); err != nil {
		log.Fatal(err)
	}
	if err := jsonStrings("./ent"); err != nil {
		log.Fatal(err)
	}
	if err := emptyInMatchesNothing("./ent/gql_where_input.go"); err != nil {
		log.Fatal(err)
	}
	if err := readableEdges("./ent/gql_where_input.go"); err != nil {
		log.Fatal(err)
	}
	if err := readsIDInNoder("./ent/gql_node.go"); err != nil {
		log.Fatal(err)
	}
	if err := entgqlRuntime("./ent"); err != nil {
		log.Fatal(err)
	}
}

// entgqlRuntime points the generated code's import of entgql at
// ent/entgql, the part of entgql the server runs, so that the server
// does not link entgql's code generator (see ent/entgql).
func entgqlRuntime(dir string) error {
	from, to := []byte("\t\"entgo.io/contrib/entgql\"\n"), []byte("\t\"custgraph/ent/entgql\"\n")
	return rewriteFiles(filepath.Join(dir, "*.go"), "no generated file imports entgql (a new entgql? see entgqlRuntime)",
		func(f string, src []byte) ([]byte, bool) {
			if !bytes.Contains(src, from) || filepath.Base(f) == "entc.go" {
				return nil, false
			}
			return bytes.Replace(src, from, to, 1), true
		})
}

// reuseScanHolders has every generated query scan its rows into one set of
// holders (internal/entscan.Reuse) instead of new ones per row.
func reuseScanHolders(dir string) error {
	scanRe := regexp.MustCompile(`\t_spec\.ScanValues = func\(columns \[\]string\) \(\[\]any, error\) \{\n\t\treturn \(\*(\w+)\)\.scanValues\(nil, columns\)\n\t\}\n`)
	return rewriteFiles(filepath.Join(dir, "*_query.go"), "no query's ScanValues is as expected (a new ent? see reuseScanHolders)",
		func(_ string, src []byte) ([]byte, bool) {
			if !scanRe.Match(src) {
				return nil, false
			}
			src = scanRe.ReplaceAll(src, []byte("\t_spec.ScanValues = entscan.Reuse((*$1).scanValues) // (entc.go, reuseScanHolders)\n"))
			return bytes.Replace(src, []byte("import (\n"), []byte("import (\n\t\"custgraph/internal/entscan\"\n"), 1), true
		})
}

// jsonStrings has the generated assignValues read a []string field's
// JSON (labels, tags, proxy ids) with entscan.JSONStrings, which reads
// what ent writes without json.Unmarshal's reflection and gives the same
// result for anything else.
func jsonStrings(dir string) error {
	callRe := regexp.MustCompile(`json\.Unmarshal\(\*value, &_m\.(\w+)\); err != nil \{`)
	return rewriteFiles(filepath.Join(dir, "*.go"), "no []string field is read with json.Unmarshal (a new ent? see jsonStrings)",
		func(_ string, src []byte) ([]byte, bool) {
			n := 0
			src = callRe.ReplaceAllFunc(src, func(call []byte) []byte {
				field := callRe.FindSubmatch(call)[1]
				if !regexp.MustCompile(`\n\t` + string(field) + ` \[\]string `).Match(src) {
					return call
				}
				n++
				return []byte("entscan.JSONStrings(*value, &_m." + string(field) + "); err != nil { // (entc.go, jsonStrings)")
			})
			if n == 0 {
				return nil, false
			}
			if !bytes.Contains(src, []byte("json.")) {
				src = bytes.Replace(src, []byte("\t\"encoding/json\"\n"), nil, 1)
			}
			if !bytes.Contains(src, []byte("\t\"custgraph/internal/entscan\"\n")) {
				src = bytes.Replace(src, []byte("import (\n"), []byte("import (\n\t\"custgraph/internal/entscan\"\n"), 1)
			}
			return src, true
		})
}

// selectorsCarryContext has the statement of every generated sqlQuery (a
// query's Select, Aggregate and GroupBy: entgql's counts) and of every
// query from a record carry the request's context, as sqlgraph's own
// statements do: the where inputs' edge
// filters evaluate the target entity's read rule with the viewer the
// statement's context holds (readableEdges), and without it they would
// match nothing.
func selectorsCarryContext(dir string) error {
	const from = "\t\tselector.Select(selector.Columns(columns...)...)\n\t}\n"
	const to = from + "\tselector.WithContext(ctx) // (entc.go, selectorsCarryContext)\n"
	// A query from a record (customer.QueryAddresses(), how a mutation's
	// answer reads its nested pages) starts from sqlgraph.SetNeighbors'
	// statement, which sqlgraph then uses as it is, without the context.
	const fromPath = "\t\t_q.sql = prev\n"
	const toPath = "\t\t_q.sql = prev.WithContext(ctx) // (entc.go, selectorsCarryContext)\n"
	return rewriteFiles(filepath.Join(dir, "*_query.go"), "no query's sqlQuery is as expected (a new ent? see selectorsCarryContext)",
		func(f string, src []byte) ([]byte, bool) {
			if !bytes.Contains(src, []byte(") sqlQuery(ctx context.Context) *sql.Selector {")) {
				return nil, false
			}
			if bytes.Count(src, []byte(from)) != 1 || bytes.Count(src, []byte(fromPath)) != 1 {
				log.Fatalf("entc: %s: sqlQuery or prepareQuery is not as expected (a new ent? see selectorsCarryContext)", f)
			}
			src = bytes.Replace(src, []byte(from), []byte(to), 1)
			return bytes.Replace(src, []byte(fromPath), []byte(toPath), 1), true
		})
}

// namedEdgesAsSlices has every generated entity keep the edges it loaded
// under a name (a GraphQL alias) in an internal/entnamed.Edges, a small
// slice, instead of a map per entity and edge.
func namedEdgesAsSlices(dir string) error {
	fieldRe := regexp.MustCompile(`(\tnamed\w+\s+)map\[string\]\[\]\*(\w+)\n`)
	getRe := regexp.MustCompile(`\tif _m\.Edges\.named\w+ == nil \{\n\t\treturn nil, &NotLoadedError\{edge: name\}\n\t\}\n\tnodes, ok := _m\.Edges\.(named\w+)\[name\]\n`)
	appendRe := regexp.MustCompile(`\tif _m\.Edges\.named\w+ == nil \{\n\t\t_m\.Edges\.named\w+ = make\(map\[string\]\[\]\*\w+\)\n\t\}\n` +
		`\tif len\(edges\) == 0 \{\n\t\t_m\.Edges\.named\w+\[name\] = \[\]\*\w+\{\}\n\t\} else \{\n` +
		`\t\t_m\.Edges\.(named\w+)\[name\] = append\(_m\.Edges\.named\w+\[name\], edges\.\.\.\)\n\t\}\n`)
	return rewriteFiles(filepath.Join(dir, "*.go"), "no entity's named edges are as expected (a new ent? see namedEdgesAsSlices)",
		func(f string, src []byte) ([]byte, bool) {
			fields := len(fieldRe.FindAll(src, -1))
			if fields == 0 || filepath.Base(f) == "entc.go" {
				return nil, false
			}
			if len(getRe.FindAll(src, -1)) != fields || len(appendRe.FindAll(src, -1)) != fields {
				log.Fatalf("entc: %s: the named edges' accessors are not as expected (a new ent? see namedEdgesAsSlices)", f)
			}
			src = fieldRe.ReplaceAll(src, []byte("${1}entnamed.Edges[*$2]\n"))
			src = getRe.ReplaceAll(src, []byte("\tnodes, ok := _m.Edges.$1.Get(name)\n"))
			src = appendRe.ReplaceAll(src, []byte("\t_m.Edges.$1.Append(name, edges...)\n"))
			return bytes.Replace(src, []byte("import (\n"), []byte("import (\n\t\"custgraph/internal/entnamed\"\n"), 1), true
		})
}

// loadsTogether has every generated sqlAll hand its eager loads to
// internal/entbatch, one function per edge (its load and its loads under
// GraphQL aliases, in ent's order), instead of running them one after the
// other: on PostgreSQL their first statements then travel in one round
// trip. Loads of different edges write different fields of the nodes;
// those of one edge stay in one function. The loads of nested totalCounts
// run after them, as before.
//
// A query that reads the row of a known id (ReadsID: ent/template/
// readsid.tmpl) reads the edges keyed by that id (not those keyed by a
// foreign key of the row, known once it is read) together with the row,
// on a stand-in node whose edges the row then takes: one round trip for
// Query.node and its nested connections. Where the row is absent (or
// hidden from the caller), what the loads read or met is dropped.
func loadsTogether(dir string) error {
	startRe := regexp.MustCompile(`^\t(?:if query := _q\.with(\w+); query != nil \{|for name, query := range _q\.withNamed(\w+) \{)$`)
	byRowIDRe := regexp.MustCompile(`nodes\[i\]\.ID\b|node\.ID\b`)
	return rewriteFiles(filepath.Join(dir, "*_query.go"), "no sqlAll loads edges as expected (a new ent? see loadsTogether)",
		func(f string, src []byte) ([]byte, bool) {
			text := string(src)
			lines := strings.Split(text, "\n")
			builder := queryBuilder(lines)
			entity := strings.TrimSuffix(builder, "Query")
			start := slices.Index(lines, "func (_q *"+builder+") sqlAll(ctx context.Context, hooks ...queryHook) ([]*"+entity+", error) {")
			if start < 0 {
				return nil, false
			}
			type edge struct {
				name         string
				plain, named bool
				body         []string
			}
			var (
				edges []*edge
				first = -1
				last  = -1
			)
			for i := start; i < len(lines) && lines[i] != "}"; i++ {
				m := startRe.FindStringSubmatch(lines[i])
				if m == nil {
					continue
				}
				name := m[1] + m[2]
				j := i
				for lines[j] != "\t}" {
					j++
				}
				idx := slices.IndexFunc(edges, func(e *edge) bool { return e.name == name })
				if idx < 0 {
					edges = append(edges, &edge{name: name})
					idx = len(edges) - 1
				}
				e := edges[idx]
				if m[1] != "" {
					e.plain = true
				} else {
					e.named = true
				}
				for _, l := range lines[i : j+1] {
					e.body = append(e.body, "\t"+strings.Replace(l, "return nil, err", "return err", 1))
				}
				if first < 0 {
					first = i
				}
				last = j
				i = j
			}
			if len(edges) == 0 {
				return nil, false
			}
			read := []string{
				"\tif err := sqlgraph.QueryNodes(ctx, _q.driver, _spec); err != nil {",
				"\t\treturn nil, err",
				"\t}",
				"\tif len(nodes) == 0 {",
				"\t\treturn nodes, nil",
				"\t}",
			}
			if first < len(read) || !slices.Equal(lines[first-len(read):first], read) {
				log.Fatalf("entc: %s: sqlAll does not read its nodes as expected (a new ent? see loadsTogether)", f)
			}
			out := []string{
				"\tvar (",
				"\t\tloads   []func(context.Context, []*" + entity + ") error",
				"\t\twithRow = _q.byID // (entc.go, loadsTogether)",
				"\t)",
			}
			for _, e := range edges {
				load := text[strings.Index(text, "func (_q *"+builder+") load"+e.name+"("):]
				load = load[:strings.Index(load, "\n}\n")]
				var cond []string
				if e.plain {
					cond = append(cond, "_q.with"+e.name+" != nil")
				}
				if e.named {
					cond = append(cond, "len(_q.withNamed"+e.name+") > 0")
				}
				out = append(out, "\tif "+strings.Join(cond, " || ")+" {")
				if !byRowIDRe.MatchString(load) {
					out = append(out, "\t\twithRow = false // (keyed by a foreign key of the row)")
				}
				out = append(out, "\t\tloads = append(loads, func(ctx context.Context, nodes []*"+entity+") error {")
				out = append(out, e.body...)
				out = append(out, "\t\t\treturn nil", "\t\t})", "\t}")
			}
			out = append(out, strings.Split(strings.ReplaceAll(`	if withRow && len(loads) > 0 && entbatch.Batches(_q.driver) {
		stand := &ENTITY{ID: _q.readsID}
		if err := entbatch.WithRow(ctx, _q.driver, func(ctx context.Context) error {
			return sqlgraph.QueryNodes(ctx, _q.driver, _spec)
		}, func() bool { return len(nodes) > 0 }, stand, loads); err != nil {
			return nil, err
		}
		if len(nodes) == 0 {
			return nodes, nil
		}
		if len(nodes) == 1 && nodes[0].ID == stand.ID {
			stand.Edges.loadedTypes = nodes[0].Edges.loadedTypes
			nodes[0].Edges = stand.Edges
		} else if err := entbatch.Loads(ctx, _q.driver, nodes, loads); err != nil {
			return nil, err
		}
	} else {
		if err := sqlgraph.QueryNodes(ctx, _q.driver, _spec); err != nil {
			return nil, err
		}
		if len(nodes) == 0 {
			return nodes, nil
		}
		if err := entbatch.Loads(ctx, _q.driver, nodes, loads); err != nil {
			return nil, err
		}
	}`, "ENTITY", entity), "\n")...)
			lines = slices.Concat(lines[:first-len(read)], out, lines[last+1:])
			src = []byte(strings.Join(lines, "\n"))
			return bytes.Replace(src, []byte("import (\n"), []byte("import (\n\t\"custgraph/internal/entbatch\"\n"), 1), true
		})
}

// readsIDInNoder has the noder of Query.node read one entity through
// ReadsID (ent/template/readsid.tmpl) instead of Where(ID(id)): its nested
// connections are then read together with it (loadsTogether).
func readsIDInNoder(file string) error {
	re := regexp.MustCompile(`(\t\tquery := c\.\w+\.Query\(\)\.\n\t\t\t)Where\(\w+\.ID\(id\)\)\n`)
	return rewriteFiles(file, "the noder does not read one entity as expected (a new entgql? see readsIDInNoder)",
		func(_ string, src []byte) ([]byte, bool) {
			if len(re.FindAll(src, -1)) < 10 {
				return nil, false
			}
			return re.ReplaceAll(src, []byte("${1}ReadsID(id) // (entc.go, readsIDInNoder)\n")), true
		})
}

// queryBuilder is the name of the query builder a generated *_query.go
// declares ("" when none).
func queryBuilder(lines []string) string {
	for _, l := range lines {
		if name, ok := strings.CutPrefix(l, "type "); ok && strings.HasSuffix(name, "Query struct {") {
			return strings.TrimSuffix(name, " struct {")
		}
	}
	return ""
}

// rewriteFiles rewrites each generated file matching pattern that rewrite
// takes (ok), gofmt-formatted; none is the error when it takes no file:
// upstream's code changed shape.
func rewriteFiles(pattern, none string, rewrite func(file string, src []byte) (out []byte, ok bool)) error {
	files, err := filepath.Glob(pattern)
	if err != nil {
		return err
	}
	n := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		src, ok := rewrite(f, src)
		if !ok {
			continue
		}
		if src, err = format.Source(src); err != nil {
			return fmt.Errorf("entc: %s: %w", f, err)
		}
		if err := os.WriteFile(f, src, 0o644); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return errors.New("entc: " + none)
	}
	return nil
}

// dropUnparsedPageArgs patches entgql's field collection: it parses a
// nested connection's first, last, after and before itself, keeps the raw
// value when parsing fails, and then asserts the parsed type, so a nested
// `products(after: "not-a-cursor")` panicked in the root resolver (an
// INTERNAL error for a caller's mistake). An argument that does not parse
// is dropped instead: the page is collected without it, and the field's
// own argument parsing (gqlgen's) reports it as a bad argument, at the
// field's path.
func dropUnparsedPageArgs(file string) error {
	return patch(file, "entgql's unmarshalArgs", "dropUnparsedPageArgs", func([]byte) int { return 1 }, []rewrite{
		{"\t\ti, err := graphql.UnmarshalInt(v)\n\t\tif err == nil {\n\t\t\targs[k] = &i\n\t\t}\n",
			"\t\ti, err := graphql.UnmarshalInt(v)\n\t\tif err == nil {\n\t\t\targs[k] = &i\n\t\t} else {\n\t\t\tdelete(args, k) // (entc.go, dropUnparsedPageArgs)\n\t\t}\n"},
		{"\t\tc := &Cursor{}\n\t\tif c.UnmarshalGQL(v) == nil {\n\t\t\targs[k] = c\n\t\t}\n",
			"\t\tc := &Cursor{}\n\t\tif c.UnmarshalGQL(v) == nil {\n\t\t\targs[k] = c\n\t\t} else {\n\t\t\tdelete(args, k) // (entc.go, dropUnparsedPageArgs)\n\t\t}\n"},
	})
}

// pageInfoFromRows patches entgql's collection of nested connections.
// Where a nested connection's pageInfo was selected without its edges
// (`products(first: 1) { pageInfo { hasNextPage } }`) entgql counted the
// rows instead of reading them, and built the pageInfo from no rows:
// hasNextPage was false whatever the count. And where pageInfo was
// selected with the edges, it counted them too, for nothing: pageInfo is
// built from the page's rows (first + 1 of them), never from the count.
// Now a selected pageInfo reads the page's rows as edges do, and the rows
// are counted only for a selected totalCount. An empty page (first: 0 or
// last: 0) with pageInfo reads its rows too, one per parent row
// (first + 1), which says whether the window holds more than none: entgql
// read none, and built its pageInfo from no rows (hasNextPage false),
// where the root connection answered true. It loads nothing below its
// edges' node: no edge is answered.
func pageInfoFromRows(file string) error {
	// Once per nested connection.
	connections := func(src []byte) int { return bytes.Count(src, []byte("ignoredEdges := ")) }
	return patch(file, "entgql's collection of nested connections", "pageInfoFromRows", connections, []rewrite{
		{"ignoredEdges := !hasCollectedField(ctx, append(path, edgesField)...)\n",
			"ignoredEdges := !hasCollectedField(ctx, append(path, edgesField)...) && !hasCollectedField(ctx, append(path, pageInfoField)...) // (entc.go, pageInfoFromRows)\n"},
		{"if hasCollectedField(ctx, append(path, totalCountField)...) || hasCollectedField(ctx, append(path, pageInfoField)...) {\n",
			"if hasCollectedField(ctx, append(path, totalCountField)...) { // (entc.go, pageInfoFromRows)\n"},
		{"if ignoredEdges || (args.first != nil && *args.first == 0) || (args.last != nil && *args.last == 0) {\n",
			"empty := (args.first != nil && *args.first == 0) || (args.last != nil && *args.last == 0)\n" +
				"if ignoredEdges || (empty && !hasCollectedField(ctx, append(path, pageInfoField)...)) { // first: 0 reads a row for pageInfo (entc.go, pageInfoFromRows)\n"},
		{"path = append(path, edgesField, nodeField)\n\t\t\tif field := collectedField(ctx, path...); field != nil {\n",
			"path = append(path, edgesField, nodeField)\n\t\t\tif field := collectedField(ctx, path...); field != nil && !empty { // (entc.go, pageInfoFromRows)\n"},
	})
}

// orderByListOfOne patches entgql's collection of nested connections: a
// nested connection's orderBy given as one object (GraphQL coerces one
// value into a list of one: `addresses(orderBy: {field: CITY})`, inline
// or in a variable, which gqlparser turns into a []map[string]any) was
// neither of the two list forms the collection reads, so the rows were
// loaded in the default order, while the connection's cursors were made
// for the requested one. Both are now read as a list.
func orderByListOfOne(file string) error {
	from := "\tif v, ok := rv[orderByField]; ok {\n\t\tswitch v := v.(type) {\n"
	return patch(file, "entgql's collection of a nested orderBy", "orderByListOfOne",
		func(src []byte) int { return bytes.Count(src, []byte(from)) }, []rewrite{
			{from, "\tif v, ok := rv[orderByField]; ok {\n" +
				"\t\tswitch one := v.(type) { // a list of one (entc.go, orderByListOfOne)\n" +
				"\t\tcase map[string]any:\n\t\t\tv = []any{one}\n" +
				"\t\tcase []map[string]any: // (a variable's one value, as gqlparser makes it a list)\n" +
				"\t\t\tlist := make([]any, len(one))\n\t\t\tfor i := range one {\n\t\t\t\tlist[i] = one[i]\n\t\t\t}\n\t\t\tv = list\n\t\t}\n" +
				"\t\tswitch v := v.(type) {\n"},
		})
}

// lighterCollection patches two allocations of entgql's field collection
// that every request paid, whatever it selected: each entity's collection
// made a map sized for all of its columns (a customer's: 50, over 1 KB)
// to tell the columns already selected, and each nested connection a new,
// empty where input (a product's 1.2 KB, an address's 2.3 KB) whether the
// field had a where argument or not. The map now grows with what is
// selected, and the where input is made only for a where argument (the
// collection passes a typed nil; unmarshalArgs makes one of its type).
// A where argument that is null, as GraphQL allows for an optional input
// (`products(where: null)`, or a null variable), filters nothing: entgql
// handed the null to gqlgen's unmarshaler, which panicked ("reflect: Call
// using zero Value argument"), and the query answered INTERNAL.
func lighterCollection(file string) error {
	src, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	seenRe := regexp.MustCompile(`(fieldSeen\s+= make\(map\[string\]struct\{\}), len\(\w+\.Columns\)\)`)
	whereRe := regexp.MustCompile(`fieldArgs\(ctx, new\((\w+WhereInput)\),`)
	const (
		unmarshal = "\tif v, ok := args[whereField]; ok && whereInput != nil {\n"
		made      = "\t\twhereInput = reflect.New(reflect.TypeOf(whereInput).Elem()).Interface() // (entc.go, lighterCollection)\n"
		nonNull   = "\tif v, ok := args[whereField]; ok && v != nil && whereInput != nil { // a null where filters nothing (entc.go, lighterCollection)\n"
	)
	if len(seenRe.FindAll(src, -1)) == 0 || len(whereRe.FindAll(src, -1)) == 0 || bytes.Count(src, []byte(unmarshal)) != 1 ||
		!bytes.Contains(src, []byte("\t\"fmt\"\n")) {
		return errors.New("entc: " + file + ": entgql's field collection is not as expected (a new entgql? see lighterCollection)")
	}
	src = seenRe.ReplaceAll(src, []byte("$1) // (entc.go, lighterCollection)"))
	src = whereRe.ReplaceAll(src, []byte("fieldArgs(ctx, (*$1)(nil),"))
	src = bytes.Replace(src, []byte(unmarshal), []byte(nonNull+made), 1)
	src = bytes.Replace(src, []byte("\t\"fmt\"\n"), []byte("\t\"fmt\"\n\t\"reflect\"\n"), 1)
	if src, err = format.Source(src); err != nil {
		return fmt.Errorf("entc: %s: %w", file, err)
	}
	return os.WriteFile(file, src, 0o644)
}

// emptyInMatchesNothing makes an empty list of a where input's …In
// predicate match nothing (`idIn: []`: no id is in the empty list) and of
// …NotIn match everything, as ent's In and NotIn of no values do: entgql
// skipped an empty list, so `idIn: []` matched every record, and a client
// that filtered on an empty selection was handed the whole list. A null
// (or absent) list still filters nothing.
func emptyInMatchesNothing(file string) error {
	return editFile(file, func(src []byte) ([]byte, error) {
		inRe := regexp.MustCompile(`if len\(i\.(\w+In)\) > 0 \{\n(\t+predicates = append\(predicates, \w+\.\w+In\(i\.\w+In\.\.\.\)\)\n)`)
		n := len(inRe.FindAll(src, -1))
		if n == 0 || n != len(regexp.MustCompile(`if len\(i\.\w+In\) > 0 \{`).FindAll(src, -1)) {
			return nil, errors.New("entc: " + file + ": entgql's In predicates are not as expected (a new entgql? see emptyInMatchesNothing)")
		}
		return inRe.ReplaceAll(src, []byte("if i.$1 != nil { // [] matches nothing (entc.go, emptyInMatchesNothing)\n$2")), nil
	})
}

// readableEdges routes the edge predicates of entgql's where inputs
// (hasProductsWith, hasProducts) through ent/template/readable.tmpl's
// functions, which keep the records at the other end of the edge to those
// the caller may read: entgql used the edge predicates as they are, so a
// filter saw every record of its bank, whatever the caller's roles.
func readableEdges(file string) error {
	return editFile(file, func(src []byte) ([]byte, error) {
		withRe := regexp.MustCompile(`\b([a-z]+)\.Has(\w+)With\(with\.\.\.\)`)
		hasRe := regexp.MustCompile(`\b([a-z]+)\.Has(\w+)\(\)`)
		with, has := len(withRe.FindAll(src, -1)), len(hasRe.FindAll(src, -1))
		calls := len(regexp.MustCompile(`\b[a-z]+\.Has\w*\(`).FindAll(src, -1))
		if with == 0 || with != has || calls != with+has {
			return nil, errors.New("entc: " + file + ": entgql's edge predicates are not as expected (a new entgql? see readableEdges)")
		}
		src = withRe.ReplaceAll(src, []byte("${1}Has${2}(with...)"))
		return hasRe.ReplaceAll(src, []byte("${1}Has${2}()")), nil
	})
}

// editFile rewrites a generated file with edit and gofmt-formats the result.
func editFile(file string, edit func(src []byte) ([]byte, error)) error {
	src, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if src, err = edit(src); err != nil {
		return err
	}
	if src, err = format.Source(src); err != nil {
		return fmt.Errorf("entc: %s: %w", file, err)
	}
	return os.WriteFile(file, src, 0o644)
}

// collectOncePerDocument has entgql's field collection collect each
// selection set's fields through internal/gqlfields, which keeps them for
// the requests of a shared document, as the executor does (graph/inline.go,
// fieldsMemo).
func collectOncePerDocument(file string) error {
	src, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	const from, to = "graphql.CollectFields(opCtx, collected.Selections, satisfies)", "gqlfields.Collect(opCtx, collected.Selections, satisfies)"
	const imp = "\t\"github.com/99designs/gqlgen/graphql\"\n"
	if bytes.Count(src, []byte(from)) == 0 || bytes.Count(src, []byte("graphql.CollectFields(")) != bytes.Count(src, []byte(from)) ||
		!bytes.Contains(src, []byte(imp)) {
		return errors.New("entc: " + file + ": entgql's field collection is not as expected (a new entgql? see collectOncePerDocument)")
	}
	src = bytes.ReplaceAll(src, []byte(from), []byte(to))
	src = bytes.Replace(src, []byte(imp), []byte(imp+"\t\"custgraph/internal/gqlfields\"\n"), 1)
	if src, err = format.Source(src); err != nil {
		return fmt.Errorf("entc: %s: %w", file, err)
	}
	return os.WriteFile(file, src, 0o644)
}

// rewrite replaces from with to in generated code.
type rewrite struct{ from, to string }

// patch applies rewrites to the generated file, each where want says
// (at least once), and gofmt-formats the result. A rewrite whose text is
// not there as often stops generation, naming what and the rewrite's
// function: upstream's code changed shape.
func patch(file, what, name string, want func(src []byte) int, rewrites []rewrite) error {
	src, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	n := want(src)
	for _, r := range rewrites {
		if n == 0 || bytes.Count(src, []byte(r.from)) != n {
			return errors.New("entc: " + file + ": " + what + " is not as expected (a new entgql? see " + name + ")")
		}
		src = bytes.ReplaceAll(src, []byte(r.from), []byte(r.to))
	}
	if src, err = format.Source(src); err != nil {
		return fmt.Errorf("entc: %s: %w", file, err)
	}
	return os.WriteFile(file, src, 0o644)
}

// templates are entgql's templates with its pagination template replaced by
// ent/template/gql_pagination.tmpl (see the notes at the top of that file),
// ent/template/dialect.tmpl, ent/template/readsid.tmpl,
// ent/template/lockold.tmpl, ent/template/readable.tmpl and
// ent/template/textfold.tmpl.
func templates() []*gen.Template {
	pagination := gen.MustParse(gen.NewTemplate("gql_pagination").
		Funcs(entgql.TemplateFuncs).
		ParseFiles("./ent/template/gql_pagination.tmpl"))
	ts := slices.DeleteFunc(slices.Clone(entgql.AllTemplates), func(t *gen.Template) bool {
		return t == entgql.PaginationTemplate
	})
	dialect := gen.MustParse(gen.NewTemplate("dialect").ParseFiles("./ent/template/dialect.tmpl"))
	readsID := gen.MustParse(gen.NewTemplate("readsid").ParseFiles("./ent/template/readsid.tmpl"))
	lockOld := gen.MustParse(gen.NewTemplate("lockold").ParseFiles("./ent/template/lockold.tmpl"))
	readable := gen.MustParse(gen.NewTemplate("readable").ParseFiles("./ent/template/readable.tmpl"))
	textfold := gen.MustParse(gen.NewTemplate("textfold").ParseFiles("./ent/template/textfold.tmpl"))
	return append(ts, pagination, dialect, readsID, lockOld, readable, textfold)
}

//go:build ignore

// entc.go generates the ent client (ent/…) and the GraphQL SDL of the ent
// types (graph/ent.graphqls) from ent/schema. Run through `go generate ./...`
// from the repository root (see server.go); gqlgen runs after it.
package main

import (
	"log"
	"slices"

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
	}, entc.Extensions(ex))
	if err != nil {
		log.Fatalf("running ent codegen: %v", err)
	}
}

// templates are entgql's templates with its pagination template replaced by
// ent/template/gql_pagination.tmpl (see the notes at the top of that file),
// and ent/template/dialect.tmpl.
func templates() []*gen.Template {
	pagination := gen.MustParse(gen.NewTemplate("gql_pagination").
		Funcs(entgql.TemplateFuncs).
		ParseFiles("./ent/template/gql_pagination.tmpl"))
	ts := slices.DeleteFunc(slices.Clone(entgql.AllTemplates), func(t *gen.Template) bool {
		return t == entgql.PaginationTemplate
	})
	dialect := gen.MustParse(gen.NewTemplate("dialect").ParseFiles("./ent/template/dialect.tmpl"))
	return append(ts, pagination, dialect)
}

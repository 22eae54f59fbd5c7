//go:build ignore

// gqlgen.go runs gqlgen (the version pinned in go.mod) on gqlgen.yml, as
// `go tool gqlgen generate` would, with two changes that keep everything
// below the root fields on one goroutine:
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
// keep theirs (each may run its own queries). Run through `go generate ./...`
// (see server.go).
package main

import (
	"bytes"
	"fmt"
	"os"

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
	if err := os.WriteFile(exec, src, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gqlgen:", err)
		os.Exit(6)
	}
}

//go:build ignore

// gqlgen.go runs gqlgen (the version pinned in go.mod) on gqlgen.yml, as
// `go tool gqlgen generate` would, with one plugin: the fields of every type
// but the root Query resolve on their parent's goroutine. gqlgen starts a
// goroutine per field bound to a method with a context; entgql's edges
// (Customer.products, …) are such methods, but their rows are loaded with
// the page (field collection), so the goroutines only cost: allocation and
// scheduling for every row of every page. Root fields keep theirs (each may
// run its own queries). Run through `go generate ./...` (see server.go).
package main

import (
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
}

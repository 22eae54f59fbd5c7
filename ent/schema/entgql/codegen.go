//go:build codegen

package entgql

import (
	upstream "entgo.io/contrib/entgql"
	"entgo.io/ent/schema"
)

// The real annotations, for ent/entc.go, which loads the schema with the
// build tag codegen.

type (
	Annotation     = upstream.Annotation
	SkipMode       = upstream.SkipMode
	MutationOption = upstream.MutationOption
)

const (
	SkipAll                 = upstream.SkipAll
	SkipWhereInput          = upstream.SkipWhereInput
	SkipMutationCreateInput = upstream.SkipMutationCreateInput
	SkipMutationUpdateInput = upstream.SkipMutationUpdateInput
)

func OrderField(name string) Annotation             { return upstream.OrderField(name) }
func MultiOrder() Annotation                        { return upstream.MultiOrder() }
func Type(name string) Annotation                   { return upstream.Type(name) }
func Skip(flags ...SkipMode) Annotation             { return upstream.Skip(flags...) }
func RelayConnection() Annotation                   { return upstream.RelayConnection() }
func QueryField(name ...string) schema.Annotation   { return upstream.QueryField(name...) }
func MutationCreate() MutationOption                { return upstream.MutationCreate() }
func MutationUpdate() MutationOption                { return upstream.MutationUpdate() }
func Mutations(inputs ...MutationOption) Annotation { return upstream.Mutations(inputs...) }

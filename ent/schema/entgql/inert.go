//go:build !codegen

// Package entgql is the subset of entgo.io/contrib/entgql's schema
// annotations that ent/schema uses, under the same names.
//
// ent/entc.go loads the schema with the build tag codegen, and there these
// are upstream's own (codegen.go). Everywhere else, the server included,
// they are inert values of the same shape (this file): the server never
// reads an annotation, and upstream's package would link entgql's code
// generator into it (see ent/entgql for what that cost).
package entgql

import "entgo.io/ent/schema"

// Annotation stands for upstream's entgql.Annotation outside code generation.
type Annotation struct{}

// Name is upstream's annotation name.
func (Annotation) Name() string { return "EntGQL" }

// SkipMode is upstream's entgql.SkipMode.
type SkipMode int

// Stand-ins for upstream's flags.
const (
	SkipType SkipMode = 1 << iota
	SkipEnumField
	SkipOrderField
	SkipWhereInput
	SkipMutationCreateInput
	SkipMutationUpdateInput

	SkipAll = SkipType | SkipEnumField | SkipOrderField | SkipWhereInput | SkipMutationCreateInput | SkipMutationUpdateInput
)

// MutationOption is upstream's entgql.MutationOption.
type MutationOption struct{}

func OrderField(string) Annotation           { return Annotation{} }
func MultiOrder() Annotation                 { return Annotation{} }
func Type(string) Annotation                 { return Annotation{} }
func Skip(...SkipMode) Annotation            { return Annotation{} }
func RelayConnection() Annotation            { return Annotation{} }
func QueryField(...string) schema.Annotation { return Annotation{} }
func MutationCreate() MutationOption         { return MutationOption{} }
func MutationUpdate() MutationOption         { return MutationOption{} }
func Mutations(...MutationOption) Annotation { return Annotation{} }

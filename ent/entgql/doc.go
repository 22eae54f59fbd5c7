// Package entgql is the part of entgo.io/contrib/entgql (v0.7.0) that the
// server runs: Relay cursors and page info, the order direction, the
// per-parent limit of nested pages, the mutation transactioner and node's
// NOT_FOUND error. The code generated from entgql's templates (ent/gql_*.go)
// and gqlgen's bindings use it under the same name; ent/entc.go points their
// import here after each generation.
//
// Why not the upstream package: it also holds entgql's code generator, and
// its package-level templates pull in ent's and gqlgen's code generators,
// golang.org/x/tools and go/types. Linked into the server, that was 6 MB of
// binary, about 8 MiB more of the binary's pages resident and 2 MB of heap
// that stays live from start-up (five times that between collections at the
// server's GOGC=400), for code the server never runs. The code generator
// still comes from upstream (ent/entc.go), and so do the schema annotations
// at generation time (ent/schema/entgql).
//
// The code below is upstream's, with the parts the server does not call left
// out (the cursor predicates: internal/keyset replaces them), and a cursor
// that does not decode reported as "not a cursor", without the decoder's
// text. Upstream's
// copyright and licence, which apply to it:
//
//	Copyright 2019-present Facebook
//
//	Licensed under the Apache License, Version 2.0 (the "License");
//	you may not use this file except in compliance with the License.
//	You may obtain a copy of the License at
//
//	    http://www.apache.org/licenses/LICENSE-2.0
//
//	Unless required by applicable law or agreed to in writing, software
//	distributed under the License is distributed on an "AS IS" BASIS,
//	WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
//	See the License for the specific language governing permissions and
//	limitations under the License.
package entgql

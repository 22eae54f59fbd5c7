// Package gqlfields collects the fields of a selection set once per parsed
// document instead of once per request.
//
// graphql.CollectFields (gqlgen) merges a selection set's fields,
// fragments and type conditions into the list the executor and entgql's
// field collection walk. It keeps what it collected for the length of one
// request, so every request of the same query collects everything again:
// 6% of the server's CPU on a one-customer query, for an answer that only
// the document (and, through @skip/@include/@defer, the variables) decides.
//
// The parsed-document cache (graph/limits.go) marks each document it keeps
// as shared (Share) when none of its selections has a directive: its fields
// then depend on nothing but the document. The requests that run it collect
// through Collect, which keeps what a shared document's selection sets
// collected for as long as the document lives (keyed by a weak pointer to
// it, dropped when the document is collected). A document with a
// directive, or one not cached, is collected as gqlgen does.
package gqlfields

import (
	"hash/maphash"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"
	"weak"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// MaxEntries bounds what one document keeps: the selection sets and type
// lists it was collected for. A document has as many as it has object
// selections (a large dashboard query some dozens); past the bound,
// Collect collects without keeping.
const MaxEntries = 1024

// Memo holds what a shared document's selection sets collected. Its reads
// take no lock (sync.Map): every request of a popular query reads it, on
// every core.
type Memo struct {
	m      sync.Map     // key → entry
	merged sync.Map     // *ast.Field (the first alias) → ast.SelectionSet (Merge)
	n      atomic.Int32 // entries of both
}

// key is the selection set (its first element's address and its length:
// the memo keeps the array alive, so the address cannot be reused while
// the entry exists) and a hash of the type names it was collected for.
type key struct {
	sel *ast.Selection
	n   int
	sat uint64
}

type entry struct {
	satisfies []string // (compared on a hit: a hash may collide)
	fields    []graphql.CollectedField
}

// docs maps a shared document's address to its memo (a sync.Map: For
// reads it once per request and per entgql collection, without a lock; a
// new document costs one store, whatever the number of documents). The
// address is not a reference: a document is collected once its cache and
// its requests let go of it, and its entry is then dropped
// (runtime.AddCleanup); the weak pointer tells a later document at the
// same address from it.
var (
	docs sync.Map // uintptr → shared
	seed = maphash.MakeSeed()
)

type shared struct {
	doc  weak.Pointer[ast.QueryDocument]
	memo *Memo
}

type cleanup struct {
	addr uintptr
	e    shared
}

// Share marks doc as one whose collected fields requests may share, when
// no selection in it has a directive (@skip, @include and @defer read the
// variables). Call it once the document is final (validated, and rewritten
// where the cache rewrites it).
func Share(doc *ast.QueryDocument) {
	if doc == nil || !plain(doc) || For(doc) != nil {
		return
	}
	addr := uintptr(unsafe.Pointer(doc))
	e := shared{doc: weak.Make(doc), memo: &Memo{}}
	docs.Store(addr, e) // (over the entry of a collected document at the address, if any)
	runtime.AddCleanup(doc, forget, cleanup{addr, e})
}

// forget drops the entry of a collected document, unless a later document
// at the same address has taken it.
func forget(c cleanup) { docs.CompareAndDelete(c.addr, c.e) }

// For returns the memo of doc, or nil when doc is not shared.
func For(doc *ast.QueryDocument) *Memo {
	if doc == nil {
		return nil
	}
	v, ok := docs.Load(uintptr(unsafe.Pointer(doc)))
	if !ok {
		return nil
	}
	if e := v.(shared); e.doc.Value() == doc {
		return e.memo
	}
	return nil
}

// Collect returns graphql.CollectFields(oc, sel, satisfies), from the memo
// of oc's document when it is shared.
func Collect(oc *graphql.OperationContext, sel ast.SelectionSet, satisfies []string) []graphql.CollectedField {
	return For(oc.Doc).Collect(oc, sel, satisfies)
}

// Collect returns graphql.CollectFields(oc, sel, satisfies), kept in m (a
// nil m keeps nothing). The result is shared: callers must not modify it.
func (m *Memo) Collect(oc *graphql.OperationContext, sel ast.SelectionSet, satisfies []string) []graphql.CollectedField {
	if m == nil || len(sel) == 0 {
		return graphql.CollectFields(oc, sel, satisfies)
	}
	k := key{sel: unsafe.SliceData(sel), n: len(sel), sat: hashNames(satisfies)}
	v, ok := m.m.Load(k)
	if ok {
		if e := v.(*entry); slices.Equal(e.satisfies, satisfies) {
			return e.fields
		}
	}
	fields := graphql.CollectFields(oc, sel, satisfies)
	if ok || m.n.Load() >= MaxEntries { // (a collision, or full: not kept)
		return fields
	}
	if _, loaded := m.m.LoadOrStore(k, &entry{satisfies: slices.Clone(satisfies), fields: fields}); !loaded {
		m.n.Add(1)
	}
	return fields
}

func hashNames(names []string) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	for _, n := range names {
		h.WriteString(n)
		h.WriteByte(0)
	}
	return h.Sum64()
}

// plain reports whether no selection of doc has a directive.
func plain(doc *ast.QueryDocument) bool {
	for _, op := range doc.Operations {
		if !plainSet(op.SelectionSet) {
			return false
		}
	}
	for _, f := range doc.Fragments {
		if !plainSet(f.SelectionSet) {
			return false
		}
	}
	return true
}

func plainSet(set ast.SelectionSet) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if len(s.Directives) > 0 || !plainSet(s.SelectionSet) {
				return false
			}
		case *ast.InlineFragment:
			if len(s.Directives) > 0 || !plainSet(s.SelectionSet) {
				return false
			}
		case *ast.FragmentSpread:
			if len(s.Directives) > 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// Len returns how many selection sets m keeps.
func (m *Memo) Len() int {
	if m == nil {
		return 0
	}
	return int(m.n.Load())
}

// Kept returns how many selection sets all shared documents keep (what
// the tests read to tell that requests of a document add none).
func Kept() int {
	n := 0
	docs.Range(func(_, v any) bool {
		n += v.(shared).memo.Len()
		return true
	})
	return n
}

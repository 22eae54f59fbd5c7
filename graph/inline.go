package graph

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"custgraph/ent/entgql"
	"custgraph/graph/scalars"
	"custgraph/internal/gqlfields"
	"github.com/google/uuid"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// marshalSliceInline is graphql.MarshalSliceConcurrently (gqlgen v0.17.90)
// without its goroutine per element: graph/gqlgen.go makes the generated
// code call it instead. Below the root, every row of a page has been loaded
// with the page (field collection), so marshalling an element is CPU work
// only; a goroutine per element (and per nested element) cost its start,
// its stack growing as deep as a customer's fields go, and the scheduler.
// Same contract: each element gets a FieldContext with its Index, and a
// panic in one makes the whole list null with the panic reported. The
// elements' contexts, FieldContexts and indexes are one allocation a list
// (fieldctx.go) instead of three an element (a page of 20 customers with
// their products and addresses has some 80 elements).
func marshalSliceInline(
	ctx context.Context,
	length int,
	_ int64, // gqlgen's worker limit: one worker here
	omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler,
) (ret graphql.Array) {
	ret = make(graphql.Array, length)
	elems := elementContexts(ctx, length)
	for i := range length {
		childCtx := context.Context(&elems[i])
		if omitPanicHandler {
			ret[i] = marshalElement(childCtx, i)
			continue
		}
		failed := false
		func() {
			defer func() {
				if r := recover(); r != nil {
					graphql.AddError(childCtx, graphql.Recover(childCtx, r))
					failed = true
				}
			}()
			ret[i] = marshalElement(childCtx, i)
		}()
		if failed {
			return nil
		}
	}
	return ret
}

// unmarshalerMap is gqlgen's map of input unmarshalers (graph/gqlgen.go's
// unmarshalersOnce has the generated Exec take it from inputUnmarshalers).
type unmarshalerMap = map[reflect.Type]reflect.Value

// lastUnmarshalers is the map of the last schema that asked for one: a
// server has one schema, so it is built once; tests that make several
// rebuild it when they alternate.
var lastUnmarshalers atomic.Pointer[schemaUnmarshalers]

type schemaUnmarshalers struct {
	e *executableSchema
	m unmarshalerMap
}

// inputUnmarshalers returns e's map of input unmarshalers, built by build
// with an execution context of no request (the unmarshalers read none: the
// generator checks it) the first time.
func inputUnmarshalers(e *executableSchema, build func(*executionContext) unmarshalerMap) unmarshalerMap {
	if c := lastUnmarshalers.Load(); c != nil && c.e == e {
		return c.m
	}
	m := build(newExecutionContext(nil, e, nil))
	lastUnmarshalers.Store(&schemaUnmarshalers{e: e, m: m})
	return m
}

// responseSizes remembers, per operation, how long its last answer was,
// so that the next answer's buffer is allocated once at about the right
// size: gqlgen's Exec wrote each answer into an empty bytes.Buffer, which
// doubled its way up from 64 bytes (an 18 KB page: 10 allocations, 36 KB
// of garbage, 13% of a page's allocated bytes). An operation is known by
// its parsed definition, which gqlgen's query cache shares between the
// requests that send the same document. Each slot holds the definition's
// address bits and the size in one word: a collision or a reused address
// only gives a wrong first guess, and the buffer still grows as needed.
var responseSizes [1024]atomic.Uint64

const sizeBits = 21 // sizes up to 2 MiB are remembered; larger ones as 2 MiB

func sizeSlot(op *ast.OperationDefinition) (*atomic.Uint64, uint64) {
	key := uint64(uintptr(unsafe.Pointer(op))) >> 4 // definitions are at least 16-byte aligned
	h := key * 0x9E3779B97F4A7C15                   // Fibonacci hashing
	return &responseSizes[h>>(64-10)], key << sizeBits
}

// responseBuffer returns a buffer for op's answer, as large as its last
// answer and an eighth more: a written answer's buffer (releaseAnswer)
// when one is at hand and large enough.
func responseBuffer(op *ast.OperationDefinition) *bytes.Buffer {
	want := answerSize(op)
	if b, _ := writtenAnswers.Get().(*bytes.Buffer); b != nil {
		if b.Cap() >= want {
			return b
		}
		writtenAnswers.Put(b) // (for a smaller answer)
	}
	return bytes.NewBuffer(make([]byte, 0, want))
}

// answerSize is the room responseBuffer wants for op's answer: its last
// answer's length and an eighth more, 0 when none is remembered.
func answerSize(op *ast.OperationDefinition) int {
	if op == nil {
		return 0
	}
	slot, tag := sizeSlot(op)
	if v := slot.Load(); v&^(1<<sizeBits-1) == tag {
		n := int(v & (1<<sizeBits - 1))
		return n + n/8
	}
	return 0
}

// writtenAnswers holds the buffers of answers already written to their
// client, empty, for the next answers: an answer's buffer was a tenth of the
// bytes a request allocated (a page of customers: 17 KB of 300 KB).
var writtenAnswers sync.Pool // of *bytes.Buffer

// maxKeptAnswer is the largest buffer releaseAnswer keeps.
const maxKeptAnswer = 256 << 10

// releaseAnswer gives back the buffer of data, an answer's Data as the
// generated Exec made it (responseBuffer's), once it has been written and
// nothing refers to it any more: the next answer is written over it.
func releaseAnswer(data []byte) {
	if cap(data) == 0 || cap(data) > maxKeptAnswer {
		return
	}
	writtenAnswers.Put(bytes.NewBuffer(data[:0]))
}

// rememberResponseSize records the length of op's answer.
func rememberResponseSize(op *ast.OperationDefinition, n int) {
	if op == nil {
		return
	}
	slot, tag := sizeSlot(op)
	slot.Store(tag | uint64(min(n, 1<<sizeBits-1)))
}

// cursorMarshaler writes an entgql cursor exactly as entgql.Cursor's
// MarshalGQL does (MessagePack, unpadded standard base64, in quotes), with
// a pooled MessagePack encoder and buffers: entgql allocates a base64
// encoder (over 1 KB) and a MessagePack encoder for every cursor, one per
// edge of every page (5% of a page's allocated bytes). graph/gqlgen.go
// makes the generated marshallers of Cursor return it.
type cursorMarshaler entgql.Cursor[uuid.UUID]

type cursorBuffers struct {
	raw bytes.Buffer
	out []byte
}

var cursorPool = sync.Pool{New: func() any { return new(cursorBuffers) }}

func (c cursorMarshaler) MarshalGQL(w io.Writer) {
	b := cursorPool.Get().(*cursorBuffers)
	b.raw.Reset()
	enc := msgpack.GetEncoder()
	enc.Reset(&b.raw)
	_ = enc.Encode(entgql.Cursor[uuid.UUID](c))
	msgpack.PutEncoder(enc)
	b.out = append(b.out[:0], '"')
	b.out = base64.RawStdEncoding.AppendEncode(b.out, b.raw.Bytes())
	b.out = append(b.out, '"')
	_, _ = w.Write(b.out)
	if cap(b.out) <= 4<<10 && b.raw.Cap() <= 4<<10 { // a cursor with a huge value is not kept
		cursorPool.Put(b)
	}
}

// argsMemo holds the parsed arguments of an operation's fields below the
// root; the zero value is ready. graph/gqlgen.go (argsOnce) adds one to the
// generated executionContext, one per operation, and has the generated
// field contexts call its of.
type argsMemo struct {
	mu sync.Mutex
	m  map[argsKey]map[string]any
}

// argsKey is a field of the document on one type: a fragment on an
// interface is one AST field for every type that implements it, and each
// type parses its arguments its own way.
type argsKey struct {
	field  *ast.Field
	object string
}

// of returns what parse (a generated field_T_f_args) returns for field of
// type object, parsing once per field and type of the operation: the
// arguments depend on the field's AST and the operation's variables alone,
// so every row of a page has the same ones for its nested connection.
// Nothing changes the returned map (the generated resolvers only read it).
// An error is not kept: each row reports it at its own path, as before.
func (a *argsMemo) of(ctx context.Context, object string, field graphql.CollectedField, variables map[string]any,
	parse func(context.Context, map[string]any) (map[string]any, error),
) (map[string]any, error) {
	k := argsKey{field.Field, object}
	a.mu.Lock()
	args, ok := a.m[k]
	a.mu.Unlock()
	if ok {
		return args, nil
	}
	args, err := parse(ctx, field.ArgumentMap(variables))
	if err != nil {
		return args, err
	}
	a.mu.Lock()
	if a.m == nil {
		a.m = map[argsKey]map[string]any{}
	}
	a.m[k] = args
	a.mu.Unlock()
	return args, nil
}

// The leaf marshalers below are what graph/gqlgen.go (leafValues) has the
// fast-path leaf fields return: each holds a pointer to the entity's struct
// field, so it sits in a graphql.Marshaler without an allocation (a struct
// of one pointer is stored in the interface itself), and writes the value
// when the answer is written, straight into the answer's buffer. gqlgen's
// own marshallers allocate a closure per value, and for times, UUIDs and
// enums a formatted string and a quoted copy of it (together 12% of the
// objects a page allocated). They write exactly what gqlgen's (and ent's,
// for enums) write: TestLeafMarshalersWriteWhatGqlgenWrites. The entity
// is the resolver's result, which nothing changes once returned.

// stringLeaf writes a String as graphql.MarshalString does.
type stringLeaf struct{ p *string }

func (l stringLeaf) MarshalGQL(w io.Writer) { graphql.MarshalString(*l.p).MarshalGQL(w) }

// stringList writes a list of non-null Strings as the generated
// marshallers of [String!] did (a graphql.Array of graphql.MarshalString):
// graph/gqlgen.go has them return one, a single allocation where gqlgen's
// made the array and a closure per string.
type stringList []string

func (l stringList) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, "[")
	for i := range l {
		if i != 0 {
			_, _ = io.WriteString(w, ",")
		}
		stringLeaf{&l[i]}.MarshalGQL(w)
	}
	_, _ = io.WriteString(w, "]")
}

// timeLeaf writes a non-zero Time as graphql.MarshalTime does
// (scalars.WriteTime).
type timeLeaf struct{ p *time.Time }

func (l timeLeaf) MarshalGQL(w io.Writer) { scalars.WriteTime(w, *l.p) }

// uuidLeaf writes a non-nil UUID as graphql.MarshalUUID does (its
// canonical text, quoted).
type uuidLeaf struct{ p *uuid.UUID }

func (l uuidLeaf) MarshalGQL(w io.Writer) {
	const hex = "0123456789abcdef"
	var a [38]byte
	a[0], a[37] = '"', '"'
	j := 1
	for i, c := range l.p {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			a[j] = '-'
			j++
		}
		a[j], a[j+1] = hex[c>>4], hex[c&0xf]
		j += 2
	}
	writeBytes(w, a[:])
}

// enumLeaf writes an ent enum as its generated MarshalGQL does
// (strconv.Quote of its value), without the quoted copy when the value is
// a plain name, as an enum's value always is.
type enumLeaf[E ~string] struct{ p *E }

func (l enumLeaf[E]) MarshalGQL(w io.Writer) {
	s := string(*l.p)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			_, _ = io.WriteString(w, strconv.Quote(s))
			return
		}
	}
	_, _ = io.WriteString(w, `"`)
	_, _ = io.WriteString(w, s)
	_, _ = io.WriteString(w, `"`)
}

// writeBytes writes b, which lives on its caller's stack: into the answer's
// buffer directly, or as a copy to any other writer (which may keep it).
func writeBytes(w io.Writer, b []byte) {
	if buf, ok := w.(*bytes.Buffer); ok {
		buf.Write(b)
		return
	}
	_, _ = w.Write(bytes.Clone(b))
}

// fieldsMemo holds the fields an operation's objects collected, by
// selection set and implementors list; the zero value is ready.
// graph/gqlgen.go (fieldsOnce) adds one to the generated executionContext
// and has every object collect its fields through its of.
type fieldsMemo struct {
	mu sync.Mutex
	m  map[fieldsKey][]graphql.CollectedField
}

// fieldsKey is what graphql.CollectFields keys its own cache by (the
// selection set's address and length, the type's names), with the names
// as the address of the generated implementors list: one per type.
type fieldsKey struct {
	sel        *ast.Selection
	n          int
	implements *string
}

// of returns graphql.CollectFields(oc, sel, implementors), once per
// operation: a page's rows ask for the same selection set, each of them.
// The first time, it is taken from the memo that the requests of a shared
// document share (internal/gqlfields), or collected when there is none.
func (f *fieldsMemo) of(oc *graphql.OperationContext, sel ast.SelectionSet, implementors []string) []graphql.CollectedField {
	k := fieldsKey{unsafe.SliceData(sel), len(sel), unsafe.SliceData(implementors)}
	f.mu.Lock()
	fields, ok := f.m[k]
	f.mu.Unlock()
	if ok {
		return fields
	}
	fields = gqlfields.Collect(oc, sel, implementors)
	f.mu.Lock()
	if f.m == nil {
		f.m = map[fieldsKey][]graphql.CollectedField{}
	}
	f.m[k] = fields
	f.mu.Unlock()
	return fields
}

// fieldSet is graphql.FieldSet with its own MarshalGQL; graph/gqlgen.go
// (fieldSets) has every generated object build one instead of gqlgen's.
// gqlgen's MarshalGQL builds a map of the aliases it wrote, per object
// written, to skip a repeated alias (hashing every key: 6% of a page's CPU)
// and writes each key through its string escaper. Field collection merges
// fields by alias, so a repeat cannot occur; it is still skipped here, by
// comparing the aliases before it (a map past scanAliases fields). A key is
// a GraphQL name, which needs no escaping: it is written as it is.
type fieldSet struct {
	graphql.FieldSet
	fields []graphql.CollectedField
}

// withValues is a fieldSet and room for its values, allocated together.
type withValues[A any] struct {
	set    fieldSet
	values A
}

// newFieldSet returns a set for fields whose values live in the same
// allocation as the set, in the smallest of a few sizes that holds them:
// one object of an answer is one allocation, no larger than it needs. Most
// objects of a page are edges and connections of one or two fields, which
// a fixed room for 12 values made 320 bytes each (18% of the bytes a page
// of customers allocated); an edge's set is now 128 or 144 bytes.
func newFieldSet(fields []graphql.CollectedField) *fieldSet {
	type M = graphql.Marshaler
	switch n := len(fields); {
	case n <= 1:
		return sized(fields, func(a *[1]M) []M { return a[:] })
	case n <= 2:
		return sized(fields, func(a *[2]M) []M { return a[:] })
	case n <= 4:
		return sized(fields, func(a *[4]M) []M { return a[:] })
	case n <= 6:
		return sized(fields, func(a *[6]M) []M { return a[:] })
	case n <= 8:
		return sized(fields, func(a *[8]M) []M { return a[:] })
	case n <= 12:
		return sized(fields, func(a *[12]M) []M { return a[:] })
	case n <= 16:
		return sized(fields, func(a *[16]M) []M { return a[:] })
	default:
		return &fieldSet{FieldSet: graphql.FieldSet{Values: make([]M, n)}, fields: fields}
	}
}

// sized allocates a set with room A (an array of Marshalers, which all
// returns as a slice) for the values of fields, which fit in it.
func sized[A any](fields []graphql.CollectedField, all func(*A) []graphql.Marshaler) *fieldSet {
	x := new(withValues[A])
	x.set.fields = fields
	x.set.Values = all(&x.values)[:len(fields):len(fields)]
	return &x.set
}

// MarshalGQL writes what graphql.FieldSet's MarshalGQL writes.
func (m *fieldSet) MarshalGQL(w io.Writer) {
	buf, ok := w.(*bytes.Buffer)
	if !ok { // (the answer is written to a buffer; anything else gets a copy)
		buf = new(bytes.Buffer)
		defer func() { _, _ = w.Write(buf.Bytes()) }()
	}
	var written map[string]bool // (comparing with the aliases before is quadratic: a map for large objects)
	if len(m.fields) > scanAliases {
		written = make(map[string]bool, len(m.fields))
	}
	buf.WriteByte('{')
	for i, field := range m.fields {
		if written != nil {
			if written[field.Alias] {
				continue
			}
			written[field.Alias] = true
		} else if repeated(m.fields[:i], field.Alias) {
			continue
		}
		if i != 0 {
			buf.WriteByte(',')
		}
		buf.WriteByte('"')
		buf.WriteString(field.Alias)
		buf.WriteString(`":`)
		m.Values[i].MarshalGQL(buf)
	}
	buf.WriteByte('}')
}

// scanAliases is the most fields an object checks for a repeated alias by
// comparing with the aliases before (at most 120 comparisons); a larger
// one (a document may select thousands of aliases) uses a map, as gqlgen.
const scanAliases = 16

// repeated reports whether alias is the alias of one of before.
func repeated(before []graphql.CollectedField, alias string) bool {
	for _, f := range before {
		if f.Alias == alias {
			return true
		}
	}
	return false
}

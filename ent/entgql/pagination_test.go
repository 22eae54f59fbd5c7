package entgql_test

import (
	"bytes"
	"encoding/base64"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"custgraph/ent/entgql"
)

// cursorText is what the server writes for c, without the quotes.
func cursorText(c entgql.Cursor[uuid.UUID]) string {
	var buf bytes.Buffer
	c.MarshalGQL(&buf)
	return strings.Trim(buf.String(), `"`)
}

// TestCursorRoundTrip: what the server writes, it reads back: the id, no
// values, and an order's scalars at their longest (eight 255-byte texts:
// customers have eight orderable fields, four of them texts, and an order
// names a field at most once; it stays under MaxCursorLen).
func TestCursorRoundTrip(t *testing.T) {
	id := uuid.New()
	at := time.Date(2026, 12, 7, 8, 0, 0, 123456000, time.UTC)
	long := []any{}
	for range 8 {
		long = append(long, strings.Repeat("é", 127)+"x")
	}
	for _, v := range [][]any{nil, {"Walker", at}, {int64(7), nil, true, "x"}, long} {
		in := entgql.Cursor[uuid.UUID]{ID: id, Value: nil}
		if v != nil {
			in.Value = v
		}
		text := cursorText(in)
		if len(text) > entgql.MaxCursorLen {
			t.Fatalf("%v: the server writes a %d-byte cursor, over MaxCursorLen", v, len(text))
		}
		var out entgql.Cursor[uuid.UUID]
		if err := out.UnmarshalGQL(text); err != nil {
			t.Fatalf("%v: %v", v, err)
		}
		if out.ID != id {
			t.Fatalf("%v: id %v, want %v", v, out.ID, id)
		}
		if v == nil {
			if out.Value != nil {
				t.Fatalf("no values: read %#v", out.Value)
			}
			continue
		}
		got, ok := out.Value.([]any)
		if !ok || len(got) != len(v) {
			t.Fatalf("%v: read %#v", v, out.Value)
		}
		for i := range v {
			if tm, ok := v[i].(time.Time); ok {
				if g, ok := got[i].(time.Time); !ok || !g.Equal(tm) {
					t.Fatalf("value %d: %#v, want %v", i, got[i], tm)
				}
				continue
			}
			if g, w := got[i], v[i]; g != w && !(isInt(g) && isInt(w)) {
				t.Fatalf("value %d: %#v, want %#v", i, g, w)
			}
		}
	}
}

func isInt(v any) bool {
	switch v.(type) {
	case int8, int16, int32, int64, uint8, uint16, uint32, uint64:
		return true
	}
	return false
}

// TestForgedCursorIsRefusedCheaply: a cursor is the client's to send. One
// of deeply nested lists used to be decoded whole before the order refused
// it: 700,000 levels in 933 KB of base64 took about a second and 500 MB of
// heap. Now the shape is refused as it is read, and a cursor longer than any
// the server writes is refused unread; each costs a few kilobytes.
func TestForgedCursorIsRefusedCheaply(t *testing.T) {
	id := uuid.New()
	head := append([]byte{0x82, 0xa1, 'i', 0xc4, 0x10}, id[:]...)
	head = append(head, 0xa1, 'v')
	nested := func(depth int) string {
		b := append(append([]byte{}, head...), bytes.Repeat([]byte{0x91}, depth)...)
		return base64.RawStdEncoding.EncodeToString(append(b, 0x90))
	}
	many := func(n int) string { // a list of n values (array32)
		b := append(append([]byte{}, head...), 0xdd, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
		return base64.RawStdEncoding.EncodeToString(append(b, bytes.Repeat([]byte{0x01}, n)...))
	}
	for _, c := range []struct{ name, text string }{
		{"700,000 nested lists", nested(700_000)},
		{"3,000 nested lists, under the length bound", nested(3_000)},
		{"a map for a value", base64.RawStdEncoding.EncodeToString(append(append([]byte{}, head...), 0x91, 0x81, 0xa1, 'a', 0x01))},
		{"2,000 values", many(2_000)},
		{"a list claiming 4 billion values", base64.RawStdEncoding.EncodeToString(append(append([]byte{}, head...), 0xdd, 0xff, 0xff, 0xff, 0xff))},
		{"another key", base64.RawStdEncoding.EncodeToString([]byte{0x81, 0xa1, 'x', 0x01})},
		// Headers claiming lengths the cursor does not hold: the decoder
		// would allocate up to 1 MB for each before finding it short.
		{"a text claiming 4 GB", base64.RawStdEncoding.EncodeToString(append(append([]byte{}, head...), 0x91, 0xdb, 0xff, 0xff, 0xff, 0xff, 'a'))},
		{"bytes claiming 4 GB", base64.RawStdEncoding.EncodeToString(append(append([]byte{}, head...), 0x91, 0xc6, 0xff, 0xff, 0xff, 0xff, 'a'))},
		{"an extension claiming 4 GB", base64.RawStdEncoding.EncodeToString(append(append([]byte{}, head...), 0x91, 0xc9, 0xff, 0xff, 0xff, 0xff, 0x01, 'a'))},
		{"an id claiming 4 GB", base64.RawStdEncoding.EncodeToString([]byte{0x81, 0xa1, 'i', 0xc6, 0xff, 0xff, 0xff, 0xff, 'a'})},
		{"a key claiming 64 KB", base64.RawStdEncoding.EncodeToString([]byte{0x81, 0xda, 0xff, 0xff, 'i'})},
		{"not base64", "@@@@"},
		// Text no stored value holds: PostgreSQL refused it (an error without
		// the argument's name), SQLite paged on.
		{"a NUL in a value", base64.RawStdEncoding.EncodeToString(append(append([]byte{}, head...), 0x91, 0xa3, 'a', 0, 'b'))},
		{"invalid UTF-8 in a value", base64.RawStdEncoding.EncodeToString(append(append([]byte{}, head...), 0x91, 0xa2, 0xff, 'b'))},
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		var out entgql.Cursor[uuid.UUID]
		err := out.UnmarshalGQL(c.text)
		runtime.ReadMemStats(&after)
		if err == nil || err.Error() != "not a cursor" {
			t.Fatalf("%s: error %v, want \"not a cursor\"", c.name, err)
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > 64<<10 {
			t.Errorf("%s: refusing it allocated %d bytes, want at most 64 KiB", c.name, got)
		}
	}
}

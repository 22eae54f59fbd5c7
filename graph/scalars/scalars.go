// Package scalars implements the custom GraphQL scalars of custgraph.
package scalars

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/shopspring/decimal"

	"custgraph/internal/exact"
	"custgraph/internal/validate"
)

// MarshalDecimal writes an exact decimal as a JSON string with the digits
// and scale it was given ("2500.50"), so that no client parses it into a
// binary float.
func MarshalDecimal(d exact.Decimal) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(d.String()))
	})
}

// UnmarshalDecimal reads a decimal from a string ("10.12") or a JSON number,
// keeping its digits.
// Every form is held to exact's bounds (38 digits, 18 after the point).
func UnmarshalDecimal(v any) (exact.Decimal, error) {
	var d exact.Decimal
	switch v := v.(type) {
	case string:
		return exact.Parse(v)
	case json.Number:
		return exact.Parse(string(v))
	case int:
		d = exact.New(decimal.NewFromInt(int64(v)))
	case int64:
		d = exact.New(decimal.NewFromInt(v))
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return exact.Decimal{}, fmt.Errorf("a Decimal must be a finite number")
		}
		d = exact.New(decimal.NewFromFloat(v))
	default:
		return exact.Decimal{}, fmt.Errorf("a Decimal must be a string such as \"10.12\", got %T", v)
	}
	return d, d.Check()
}

// MarshalTime writes a time as gqlgen's Time scalar does: RFC 3339 with
// the fraction it has, and null for the zero time (no value). gqlgen's
// graphql.MarshalTime allocates a closure, the formatted text and a quoted
// copy of it for every value (a nullable time of every product of a page);
// a timeText is one allocation, and writes the text from its stack.
func MarshalTime(t time.Time) graphql.Marshaler {
	if t.IsZero() {
		return graphql.Null
	}
	return timeText(t)
}

// timeText is a non-zero time as MarshalTime writes it.
type timeText time.Time

func (t timeText) MarshalGQL(w io.Writer) { WriteTime(w, time.Time(t)) }

// WriteTime writes t as graphql.MarshalTime does: RFC 3339 with
// nanoseconds, quoted (nothing in it needs escaping). Into a *bytes.Buffer
// (the answer's) it writes from its stack; any other writer, which may keep
// what it is given, gets a copy.
func WriteTime(w io.Writer, t time.Time) {
	var a [64]byte
	b := append(t.AppendFormat(append(a[:0], '"'), time.RFC3339Nano), '"')
	if buf, ok := w.(*bytes.Buffer); ok {
		buf.Write(b)
		return
	}
	_, _ = w.Write(bytes.Clone(b))
}

// UnmarshalTime reads an RFC 3339 time and gives it in UTC. Every stored
// time is UTC: SQLite compares times as text, so a time kept with its
// offset (2030-06-02T02:00:00+14:00) sorted and filtered out of time order
// and cursor pages skipped records. gqlgen's own scalar also read "" as the
// zero time, which the answer shows as null but the database holds as a
// value; "" and 0001-01-01T00:00:00Z are refused (clear… removes a value).
func UnmarshalTime(v any) (time.Time, error) {
	const form = "a Time must be an RFC 3339 string such as \"2026-12-07T08:00:00Z\""
	s, ok := v.(string)
	if !ok {
		return time.Time{}, fmt.Errorf("%s, got %s", form, typeName(v))
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.IsZero() {
		return time.Time{}, fmt.Errorf("%s, got %q", form, clip(s))
	}
	// RFC 3339's offsets are -23:59 to +23:59 (Go also read +24:00), and
	// its years four digits: a time whose year in UTC is outside 0001-9999
	// has no RFC 3339 form to answer with (ent/schema: storableTimes).
	if !validate.RFC3339Offset(t) {
		return time.Time{}, fmt.Errorf("%s with an offset from -23:59 to +23:59, got %q", form, clip(s))
	}
	if !validate.StorableTime(t) {
		return time.Time{}, fmt.Errorf("a Time must lie between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z in UTC, got %q", clip(s))
	}
	return t.UTC(), nil
}

// typeName names a JSON value's kind for a message, not Go's type.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number, int, int64, float64:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// clip shortens what a client sent for quoting it back.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

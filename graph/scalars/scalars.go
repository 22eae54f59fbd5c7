// Package scalars implements the custom GraphQL scalars of custgraph.
package scalars

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/shopspring/decimal"

	"custgraph/internal/exact"
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

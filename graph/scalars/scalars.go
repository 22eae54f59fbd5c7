// Package scalars implements the custom GraphQL scalars of custgraph.
package scalars

import (
	"encoding/json"
	"fmt"
	"io"
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
func UnmarshalDecimal(v any) (exact.Decimal, error) {
	switch v := v.(type) {
	case string:
		return exact.Parse(v)
	case json.Number:
		return exact.Parse(string(v))
	case int:
		return exact.New(decimal.NewFromInt(int64(v))), nil
	case int64:
		return exact.New(decimal.NewFromInt(v)), nil
	case float64:
		return exact.New(decimal.NewFromFloat(v)), nil
	default:
		return exact.Decimal{}, fmt.Errorf("a Decimal must be a string such as \"10.12\", got %T", v)
	}
}

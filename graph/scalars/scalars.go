// Package scalars implements the custom GraphQL scalars of custgraph.
package scalars

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/shopspring/decimal"
)

// MarshalDecimal writes an exact decimal as a JSON string ("10.12"), so that
// no client parses it into a binary float.
func MarshalDecimal(d decimal.Decimal) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, strconv.Quote(d.String()))
	})
}

// UnmarshalDecimal reads a decimal from a string ("10.12") or a JSON number.
func UnmarshalDecimal(v any) (decimal.Decimal, error) {
	switch v := v.(type) {
	case string:
		d, err := decimal.NewFromString(v)
		if err != nil {
			return decimal.Decimal{}, fmt.Errorf("%q is not a decimal number", v)
		}
		return d, nil
	case json.Number:
		return decimal.NewFromString(string(v))
	case int:
		return decimal.NewFromInt(int64(v)), nil
	case int64:
		return decimal.NewFromInt(v), nil
	case float64:
		return decimal.NewFromFloat(v), nil
	default:
		return decimal.Decimal{}, fmt.Errorf("a Decimal must be a string such as \"10.12\", got %T", v)
	}
}

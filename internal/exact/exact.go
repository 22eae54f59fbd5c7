// Package exact holds Decimal, an exact decimal number that keeps the
// digits and the scale it was given: "2500.50" stays "2500.50" in storage
// (numeric on PostgreSQL keeps the scale, text on SQLite keeps the
// digits), in JSON and in GraphQL. Equal and Cmp compare numerically
// ("2500.5" equals "2500.50").
//
// It wraps github.com/shopspring/decimal, whose String drops trailing
// zeros (and whose Value, MarshalJSON and MarshalText use that String).
package exact

import (
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// Decimal is an exact decimal that keeps its scale. The zero value is 0.
type Decimal struct{ decimal.Decimal }

// The bounds of every decimal custgraph accepts: at most MaxDigits
// significant digits in all, at most MaxScale of them after the point
// (what PostgreSQL's numeric(38, 18) holds; amounts of money need far
// less). A value outside them is refused before any arithmetic on it.
const (
	MaxDigits = 38
	MaxScale  = 18
	// maxText bounds the text read: the digits, a sign, a point and some
	// leading or trailing zeros.
	maxText = 64
)

// Check reports whether d is within MaxDigits and MaxScale.
func (d Decimal) Check() error {
	scale := max(0, -int(d.Exponent()))
	if scale > MaxScale {
		return fmt.Errorf("at most %d digits after the decimal point are allowed, got %d", MaxScale, scale)
	}
	digits := len(d.Coefficient().Abs(d.Coefficient()).String())
	if e := int(d.Exponent()); e > 0 {
		digits += e
	}
	if digits > MaxDigits {
		return fmt.Errorf("at most %d digits are allowed, got %d", MaxDigits, digits)
	}
	return nil
}

// New wraps d, keeping its exponent as it is.
func New(d decimal.Decimal) Decimal { return Decimal{d} }

// Parse reads a plain decimal ("2500.50", "-3", "0.001"); exponent
// notation ("1e3") is refused, so that what is read is what is written back.
func Parse(s string) (Decimal, error) {
	if len(s) > maxText {
		return Decimal{}, fmt.Errorf("a decimal has at most %d digits (%d after the point), got %d characters", MaxDigits, MaxScale, len(s))
	}
	if strings.ContainsAny(s, "eE") {
		return Decimal{}, fmt.Errorf("%q is not a plain decimal number", s)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return Decimal{}, fmt.Errorf("%q is not a decimal number", s)
	}
	v := Decimal{d}
	if err := v.Check(); err != nil {
		return Decimal{}, err
	}
	return v, nil
}

// MustParse is Parse for constants; it panics on a bad value.
func MustParse(s string) Decimal {
	d, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// String writes the decimal with exactly the digits after the point it was
// given ("2500.50", not "2500.5").
func (d Decimal) String() string {
	if e := d.Exponent(); e < 0 {
		return d.StringFixed(-e)
	}
	return d.Decimal.String()
}

// Value stores the decimal as its String (numeric on PostgreSQL, text on SQLite).
func (d Decimal) Value() (driver.Value, error) { return d.String(), nil }

// Scan reads a stored decimal, keeping the scale the database returns.
func (d *Decimal) Scan(v any) error { return d.Decimal.Scan(v) }

// MarshalJSON writes the decimal as a JSON string ("2500.50").
func (d Decimal) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(d.String())), nil }

// UnmarshalJSON reads a JSON string or number, keeping its digits.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	s := string(b)
	if u, err := strconv.Unquote(s); err == nil {
		s = u
	}
	v, err := Parse(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalText writes the decimal as its String.
func (d Decimal) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a plain decimal.
func (d *Decimal) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Equal reports whether d and o are the same number, whatever their scales.
func (d Decimal) Equal(o Decimal) bool { return d.Decimal.Equal(o.Decimal) }

package entgql

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"
	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// OrderDirection defines the directions in which to order a list of items.
type OrderDirection string

const (
	// OrderDirectionAsc specifies an ascending order.
	OrderDirectionAsc OrderDirection = "ASC"
	// OrderDirectionDesc specifies a descending order.
	OrderDirectionDesc OrderDirection = "DESC"
)

// Validate the order direction value.
func (o OrderDirection) Validate() error {
	if o != OrderDirectionAsc && o != OrderDirectionDesc {
		return fmt.Errorf("%s is not a valid OrderDirection", o)
	}
	return nil
}

// String implements fmt.Stringer interface.
func (o OrderDirection) String() string {
	return string(o)
}

// OrderTermOption returns the OrderTermOption for setting the order direction.
func (o OrderDirection) OrderTermOption() sql.OrderTermOption {
	if o == OrderDirectionAsc {
		return sql.OrderAsc()
	}
	return sql.OrderDesc()
}

// MarshalGQL implements graphql.Marshaler interface.
func (o OrderDirection) MarshalGQL(w io.Writer) {
	io.WriteString(w, strconv.Quote(o.String()))
}

// UnmarshalGQL implements graphql.Unmarshaler interface.
func (o *OrderDirection) UnmarshalGQL(val interface{}) error {
	str, ok := val.(string)
	if !ok {
		return fmt.Errorf("order direction %T must be a string", val)
	}
	*o = OrderDirection(str)
	return o.Validate()
}

// Reverse the direction.
func (o OrderDirection) Reverse() OrderDirection {
	if o == OrderDirectionDesc {
		return OrderDirectionAsc
	}
	return OrderDirectionDesc
}

// PageInfo of a connection type.
type PageInfo[T any] struct {
	HasNextPage     bool       `json:"hasNextPage"`
	HasPreviousPage bool       `json:"hasPreviousPage"`
	StartCursor     *Cursor[T] `json:"startCursor"`
	EndCursor       *Cursor[T] `json:"endCursor"`
}

// Cursor of an edge type.
type Cursor[T any] struct {
	ID    T         `msgpack:"i"`
	Value ent.Value `msgpack:"v,omitempty"`
}

// MarshalGQL implements graphql.Marshaler interface.
func (c Cursor[T]) MarshalGQL(w io.Writer) {
	quote := []byte{'"'}
	w.Write(quote)
	defer w.Write(quote)
	wc := base64.NewEncoder(base64.RawStdEncoding, w)
	defer wc.Close()
	_ = msgpack.NewEncoder(wc).Encode(c)
}

// MaxCursorLen bounds the text of a cursor a client sends. The longest
// this server writes (an order by every orderable field of a type, each
// text at its longest, 255 bytes) is under 3 KB of base64.
const MaxCursorLen = 4096

// maxCursorValues bounds the values a cursor holds: one per term of the
// order, and no type has this many orderable fields.
const maxCursorValues = 16

// UnmarshalGQL implements graphql.Unmarshaler interface.
//
// Unlike upstream's, it reads only the shape this server writes, a map of
// "i" (the id) and "v" (a list of scalar values, one per term of the
// order), and refuses anything else before decoding it: a cursor is the
// client's to send, and a forged one of 700,000 nested lists in 1 MB used
// to be decoded whole (about a second of CPU and 500 MB of heap) before
// the order refused it.
func (c *Cursor[T]) UnmarshalGQL(v interface{}) error {
	s, ok := v.(string)
	if !ok {
		return errors.New("a cursor must be a string, as an edge's cursor or pageInfo's endCursor gave it")
	}
	if len(s) > MaxCursorLen {
		return errors.New("not a cursor")
	}
	dec := msgpack.NewDecoder(base64.NewDecoder(base64.RawStdEncoding, strings.NewReader(s)))
	if err := c.decode(dec); err != nil {
		// Not the decoder's text ("msgpack: unexpected code=…"): the
		// caller sent something else than a cursor this server wrote.
		return errors.New("not a cursor")
	}
	return nil
}

var errCursorShape = errors.New("not the shape of a cursor")

func (c *Cursor[T]) decode(dec *msgpack.Decoder) error {
	n, err := dec.DecodeMapLen()
	if err != nil {
		return err
	}
	if n < 1 || n > 2 {
		return errCursorShape
	}
	for range n {
		if err := small(dec); err != nil {
			return err
		}
		key, err := dec.DecodeString()
		if err != nil {
			return err
		}
		switch key {
		case "i":
			if err = small(dec); err == nil {
				err = dec.Decode(&c.ID)
			}
		case "v":
			c.Value, err = decodeCursorValues(dec)
		default:
			return errCursorShape
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// decodeCursorValues reads "v": nil, or a short list of scalars (no list or
// map inside it: an order's values are never one).
func decodeCursorValues(dec *msgpack.Decoder) (ent.Value, error) {
	code, err := dec.PeekCode()
	if err != nil {
		return nil, err
	}
	if code == msgpcode.Nil {
		return nil, dec.Skip()
	}
	n, err := dec.DecodeArrayLen()
	if err != nil {
		return nil, err
	}
	if n < 0 || n > maxCursorValues {
		return nil, errCursorShape
	}
	values := make([]any, n)
	for i := range values {
		if err := small(dec); err != nil {
			return nil, err
		}
		if values[i], err = dec.DecodeInterface(); err != nil {
			return nil, err
		}
		// No text the server stores holds a NUL or invalid UTF-8 (PostgreSQL
		// refuses both as a text value, SQLite compared them).
		if s, ok := values[i].(string); ok && (strings.ContainsRune(s, 0) || !utf8.ValidString(s)) {
			return nil, errCursorShape
		}
	}
	return values, nil
}

// small refuses the next value unless it is a scalar as the server writes
// them: no list or map, and no text, bytes or extension with a 16- or
// 32-bit length (every text a cursor holds is under 256 bytes, written
// with an 8-bit length). The decoder would allocate up to the length a
// header claims (at most 1 MB) before finding that the cursor is shorter.
func small(dec *msgpack.Decoder) error {
	code, err := dec.PeekCode()
	if err != nil {
		return err
	}
	switch {
	case msgpcode.IsFixedArray(code), msgpcode.IsFixedMap(code):
		return errCursorShape
	}
	switch code {
	case msgpcode.Array16, msgpcode.Array32, msgpcode.Map16, msgpcode.Map32,
		msgpcode.Str16, msgpcode.Str32, msgpcode.Bin16, msgpcode.Bin32, msgpcode.Ext16, msgpcode.Ext32:
		return errCursorShape
	}
	return nil
}

// LimitPerRow returns a query modifier that limits the number of (edges) rows returned
// by the given partition. This helper function is used mainly by the paginated API to
// override the default Limit behavior for limit returned per node and not limit for all query.
func LimitPerRow(partitionBy string, limit int, orderBy ...sql.Querier) func(s *sql.Selector) {
	return func(s *sql.Selector) {
		d := sql.Dialect(s.Dialect())
		s.SetDistinct(false)
		with := d.With("src_query").
			As(s.Clone()).
			With("limited_query").
			As(
				d.Select("*").
					AppendSelectExprAs(
						sql.RowNumber().PartitionBy(partitionBy).OrderExpr(orderBy...),
						"row_number",
					).
					From(d.Table("src_query")),
			)
		t := d.Table("limited_query").As(s.TableName())
		*s = *d.Select(s.UnqualifiedColumns()...).
			From(t).
			Where(sql.LTE(t.C("row_number"), limit)).
			Prefix(with)
	}
}

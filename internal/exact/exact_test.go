package exact

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/stretchr/testify/require"
)

func TestDecimalKeepsScale(t *testing.T) {
	for _, s := range []string{"2500.50", "2500.5", "0.00", "10", "-0.010", "12345678901234567890.123456789012345678"} {
		d := MustParse(s)
		require.Equal(t, s, d.String())
		v, err := d.Value()
		require.NoError(t, err)
		require.Equal(t, s, v)
		var back Decimal
		require.NoError(t, back.Scan(v))
		require.Equal(t, s, back.String())
		require.NoError(t, back.Scan([]byte(s)))
		require.Equal(t, s, back.String())
		j, err := json.Marshal(d)
		require.NoError(t, err)
		require.Equal(t, `"`+s+`"`, string(j))
		require.NoError(t, json.Unmarshal(j, &back))
		require.Equal(t, s, back.String())
	}
	require.True(t, MustParse("2500.5").Equal(MustParse("2500.50")), "compared numerically")
	for _, bad := range []string{"", "1e3", "abc", "1.2.3"} {
		_, err := Parse(bad)
		require.Error(t, err, bad)
	}
}

// TestDecimalBounds: at most MaxDigits digits, MaxScale of them after the
// point; anything longer is refused before it is parsed, so a stranger's
// million-digit amount costs no more than reading 64 characters.
func TestDecimalBounds(t *testing.T) {
	for _, ok := range []string{
		"12345678901234567890.123456789012345678", "-99999999999999999999999999999999999999",
		"0.000000000000000001", "00000000000000000000000000000000000001.5",
	} {
		_, err := Parse(ok)
		require.NoError(t, err, ok)
	}
	for _, bad := range []string{
		"123456789012345678901234567890123456789", // 39 digits
		"0.0000000000000000001",                   // 19 after the point
		"1e3000000", "1E5", strings.Repeat("9", 1_000_000), "1." + strings.Repeat("0", 70),
	} {
		_, err := Parse(bad)
		require.Error(t, err, bad[:min(len(bad), 40)])
	}
	require.Error(t, New(decimal.New(1, 3_000_000)).Check(), "built in Go, checked before use")
	require.NoError(t, New(decimal.New(15, 36)).Check())
}

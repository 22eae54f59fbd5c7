package exact

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDecimalKeepsScale(t *testing.T) {
	for _, s := range []string{"2500.50", "2500.5", "0.00", "10", "-0.010", "123456789012345678901234567890.123456789"} {
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

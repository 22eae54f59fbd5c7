package schema

import (
	"errors"
	"strings"
)

// noSeparator refuses OBP's internal separator in customer numbers.
func noSeparator(s string) error {
	if strings.Contains(s, "::::") {
		return errors.New(`must not contain "::::"`)
	}
	return nil
}

package schema

import (
	"errors"
	"fmt"
	"strings"

	"custgraph/internal/access"
)

// noSeparator refuses OBP's internal separator in customer numbers.
func noSeparator(s string) error {
	if strings.Contains(s, "::::") {
		return errors.New(`must not contain "::::"`)
	}
	return nil
}

// passwordHash refuses anything but an argon2id PHC string, so that a
// plain-text password or secret can never be stored by mistake.
func passwordHash(s string) error {
	if s != "" && !strings.HasPrefix(s, "$argon2id$") {
		return errors.New("must be an argon2id hash")
	}
	return nil
}

// knownRole refuses role names custgraph does not check.
func knownRole(s string) error {
	if !access.Known(access.Role(s)) {
		return fmt.Errorf("unknown role %q", s)
	}
	return nil
}

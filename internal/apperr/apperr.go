// Package apperr defines the typed errors that carry a client-facing code.
//
// Rules that live in ent (hooks, validators) return these errors, and every
// door (GraphQL, REST) maps them onto its own error format. The code is the
// one GraphQL clients see in extensions.code; REST families translate it into
// their status codes and bodies. Messages are written for API clients: they
// never contain SQL, driver text or stack traces.
package apperr

import (
	"errors"
	"fmt"
)

// Code classifies an error for clients.
type Code string

// Codes shared by every door.
const (
	BadUserInput    Code = "BAD_USER_INPUT"
	NotFound        Code = "NOT_FOUND"
	Conflict        Code = "CONFLICT"
	Unauthenticated Code = "UNAUTHENTICATED"
	Forbidden       Code = "FORBIDDEN"
	Timeout         Code = "TIMEOUT"
	Internal        Code = "INTERNAL"
	// Unavailable is the database being unreachable (stopped, restarting,
	// refusing or dropping connections, SQLite's write lock held past its
	// bound): not a fault of the request nor a bug, and a retry after a
	// while may succeed. Every door answers it 503 with Retry-After,
	// distinct from INTERNAL's 500. (When the connection died at the
	// commit, the change may or may not have been stored.)
	Unavailable Code = "UNAVAILABLE"
)

// Error is an error with a client-facing code, the offending field (in the
// storage's snake_case naming, empty when the error is not about one field)
// and a message safe to show to API clients.
type Error struct {
	Code    Code
	Field   string
	Message string
	// Roles and Bank describe a FORBIDDEN error: the roles of which the
	// caller holds none, and the code of the bank it lacks them at (empty
	// for a system role).
	Roles []string
	Bank  string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

// Invalid reports bad input in one field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: BadUserInput, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Conflictf reports a request that contradicts the current state of the data
// (a duplicate, an illegal state transition).
func Conflictf(field, format string, args ...any) *Error {
	return &Error{Code: Conflict, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFoundf reports a record that does not exist (or that the caller may not see).
func NotFoundf(field, format string, args ...any) *Error {
	return &Error{Code: NotFound, Field: field, Message: fmt.Sprintf(format, args...)}
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"runtime/debug"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"custgraph/internal/apperr"
	"custgraph/internal/store"
)

// presentError gives every error an extensions.code. Errors of the data layer
// (ent validators and hooks, constraint violations) become BAD_USER_INPUT,
// NOT_FOUND or CONFLICT with the offending GraphQL field name; errors gqlgen
// raised about the request keep their message; the database being
// unreachable is UNAVAILABLE (answered 503 with Retry-After: overHTTP);
// anything else is INTERNAL with a generic message, logged here with the
// request's id. SQL, driver text and stack traces never reach the client.
func presentError(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		var gqlErr *gqlerror.Error
		if errors.As(err, &gqlErr) && gqlErr.Err == nil {
			return variableKindError(gqlErr) // raised by gqlgen itself (parsing, validation, limits)
		}
		path := graphql.GetPath(ctx)
		if gqlErr != nil {
			// gqlgen wraps resolver errors (at the field's path) and what it
			// failed to coerce from the request's arguments (a malformed
			// UUID, Decimal…, at a path below the field's): only the latter
			// is the client's mistake by nature.
			argument := len(gqlErr.Path) > len(path)
			if len(gqlErr.Path) > 0 {
				path = gqlErr.Path
			}
			if argument && store.Classify(gqlErr.Err).Code == apperr.Internal {
				return argumentError(gqlErr.Message, path)
			}
			err = gqlErr.Err
		}
		// INTERNAL is logged here with the request's id; UNAVAILABLE (the
		// database unreachable) is noted for the request's one log line.
		e := store.Report(ctx, log, err, "graphql resolver error", "path", path.String())
		ext := map[string]any{"code": string(e.Code)}
		msg := e.Message
		if len(e.Roles) > 0 {
			ext["roles"] = e.Roles // FORBIDDEN: the caller needs one of these
			if e.Bank != "" {
				ext["bank"] = e.Bank
			}
		}
		if e.Field != "" {
			ext["field"] = camel(e.Field)
			msg = camel(e.Field) + ": " + e.Message
		}
		return &gqlerror.Error{Message: msg, Path: path, Extensions: ext}
	}
}

// kindRe is gqlparser's refusal of a variable's value of the wrong JSON
// kind: "cannot use bool as ID", in Go's words (reflect's kinds).
var kindRe = regexp.MustCompile(`^cannot use (bool|slice|map|string|float64|int64|int) as (\w+)$`)

// variableKindError rewrites gqlparser's refusal of a variable's value of
// the wrong JSON kind in graphql-js's form and JSON's words:
// `Variable "$id" got invalid value of kind boolean; ID cannot represent a
// boolean`, where gqlparser said "cannot use bool as ID". Other errors are
// e itself.
func variableKindError(e *gqlerror.Error) *gqlerror.Error {
	m := kindRe.FindStringSubmatch(e.Message)
	if m == nil || len(e.Path) < 2 || e.Path[0] != ast.PathName("variable") {
		return e
	}
	if _, ok := e.Path[1].(ast.PathName); !ok {
		return e
	}
	kind, article := "number", "a number"
	switch m[1] {
	case "bool":
		kind, article = "boolean", "a boolean"
	case "slice":
		kind, article = "list", "a list"
	case "map":
		kind, article = "object", "an object"
	case "string":
		kind, article = "string", "a string"
	}
	c := *e // gqlgen's own value: not changed in place
	c.Message = variableMessage(e.Path, "of kind "+kind, m[2]+" cannot represent "+article)
	return &c
}

// argumentError is the error for an argument gqlgen could not coerce (a
// malformed UUID, Decimal, Time or cursor, in an argument or anywhere in an
// input object): BAD_USER_INPUT with extensions.field, the GraphQL name of
// the offending input (the last name of its path: bankID in
// createCustomer.input.bankID, ids in nodes.ids.1), as the errors of the
// data layer have it.
func argumentError(msg string, path ast.Path) *gqlerror.Error {
	ext := map[string]any{"code": string(apperr.BadUserInput)}
	for i := len(path) - 1; i >= 0; i-- {
		if name, ok := path[i].(ast.PathName); ok {
			field := string(name)
			ext["field"] = field
			if strings.HasPrefix(msg, "invalid UUID") {
				msg = "must be a UUID (" + msg + ")"
			} else if goType, ok := strings.CutSuffix(msg, " is not a uuid"); ok {
				// gqlgen's UUID scalar names Go's type of what it got.
				msg = "must be a UUID string, not " + jsonKind(goType)
			}
			msg = field + ": " + msg
			break
		}
	}
	return &gqlerror.Error{Message: msg, Path: path, Extensions: ext}
}

// jsonKind names the JSON kind of a value gqlgen decoded into goType, for
// a message to the client (which sent JSON, not Go).
func jsonKind(goType string) string {
	switch goType {
	case "json.Number", "int", "int64", "float64":
		return "a number"
	case "bool":
		return "a boolean"
	case "[]interface {}":
		return "a list"
	case "map[string]interface {}":
		return "an object"
	}
	return "a " + goType
}

// recoverPanic turns a panic in a resolver into an INTERNAL error and logs it.
func recoverPanic(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in resolver", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return &apperr.Error{Code: apperr.Internal, Message: "internal error"}
	}
}

// camel turns a storage field name (dob_of_dependants, customer_id, line_1)
// into its GraphQL name (dobOfDependants, customerID, faceImageURL, line1).
func camel(s string) string {
	parts := strings.Split(s, "_")
	var b strings.Builder
	for i, p := range parts {
		switch {
		case i == 0:
			b.WriteString(p)
		case p == "id" || p == "url": // ent's acronyms, as in faceImageURL, bankID
			b.WriteString(strings.ToUpper(p))
		case p != "":
			b.WriteString(strings.ToUpper(p[:1]) + p[1:])
		}
	}
	return b.String()
}

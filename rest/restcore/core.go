// Package restcore is what the three REST families (rest/bsai,
// rest/tradevest, rest/obp) share: the Core every route holds (the ent
// client, authentication, limits, logging), reading JSON bodies
// (BodyError), writing JSON, transactions, the client-facing form of ent's
// errors, and the date and id formats. It has no routes and no business
// rule: those are ent's (ent/schema).
package restcore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"custgraph/ent"
	"custgraph/ent/bank"
	"custgraph/internal/apperr"
	"custgraph/internal/authn"
	"custgraph/internal/idempotency"
	"custgraph/internal/refusal"
	"custgraph/internal/store"
	"custgraph/internal/validate"
)

// BodyError is a request body that could not be read as the route's JSON:
// each family renders it in its own error format (always a 4xx).
type BodyError struct {
	Status  int    // 400, 408 (not sent in time), 413 (too large) or 415 (not JSON)
	Field   string // the JSON field at fault, dotted ("address.premise"); "" for the whole body
	Message string
}

func (e *BodyError) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

// DecodeJSON reads r's body, which must be one JSON value of dst's shape
// (unknown fields are ignored, as the original APIs do; a value of the
// wrong type is an error naming its field). raw, when not nil, gets the
// body's bytes.
func (a *Core) DecodeJSON(w http.ResponseWriter, r *http.Request, dst any, raw *[]byte) error {
	body, err := a.ReadBody(w, r)
	if err != nil {
		return err
	}
	if raw != nil {
		*raw = body
	}
	return Unmarshal(body, dst)
}

// ReadBody reads r's body, which must be JSON (by its Content-Type, when
// given) and at most MaxBodyBytes long.
func (a *Core) ReadBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, &BodyError{Status: http.StatusUnsupportedMediaType, Message: "the body must be JSON (Content-Type: application/json)"}
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &BodyError{Status: http.StatusRequestEntityTooLarge, Message: fmt.Sprintf("the body is larger than %d bytes", a.MaxBodyBytes)}
		}
		var netErr net.Error
		if errors.As(err, &netErr) && netErr.Timeout() {
			// The server's read deadline passed before the body arrived: the
			// client's doing (or its network's), not a malformed body.
			return nil, &BodyError{Status: http.StatusRequestTimeout, Message: "the body did not arrive in time"}
		}
		return nil, &BodyError{Status: http.StatusBadRequest, Message: "the body could not be read"}
	}
	return body, nil
}

// Unmarshal decodes one JSON value into dst, with errors for clients. A
// body that is not valid UTF-8 is refused (RFC 8259 §8.1): encoding/json
// would store U+FFFD in place of each bad byte.
func Unmarshal(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return &BodyError{Status: http.StatusBadRequest, Message: "the body is empty; a JSON object is required"}
	}
	if !utf8.Valid(body) {
		return &BodyError{Status: http.StatusBadRequest, Message: "the body is not valid UTF-8"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.As(err, &typeErr):
			field := typeErr.Field
			if field == "" {
				return &BodyError{Status: http.StatusBadRequest, Message: fmt.Sprintf("the body must be a JSON %s", kind(dst))}
			}
			got := "a JSON " + typeErr.Value
			if v, ok := strings.CutPrefix(typeErr.Value, "value "); ok {
				got = v
			}
			return &BodyError{Status: http.StatusBadRequest, Field: field,
				Message: fmt.Sprintf("must be a %s, not %s", typeName(typeErr), got)}
		case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
			return &BodyError{Status: http.StatusBadRequest, Message: "the body is not valid JSON"}
		default:
			return &BodyError{Status: http.StatusBadRequest, Message: "the body is not valid JSON: " + err.Error()}
		}
	}
	if dec.More() {
		return &BodyError{Status: http.StatusBadRequest, Message: "the body holds more than one JSON value"}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &BodyError{Status: http.StatusBadRequest, Message: "the body is not valid JSON"}
	}
	return nil
}

func kind(dst any) string {
	b, _ := json.Marshal(dst)
	if len(b) > 0 && b[0] == '[' {
		return "array"
	}
	return "object"
}

// TypeNames names, for clients, the request field types that check their
// own JSON (dates, UUIDs, enums); their UnmarshalJSON fails with a
// *json.UnmarshalTypeError of their type, which encoding/json fills with
// the field's name.
var TypeNames = map[reflect.Type]string{
	reflect.TypeFor[uuid.UUID](): "UUID string",
}

// BadValue is the error of a request field type's UnmarshalJSON.
func BadValue[T any](data []byte) error {
	return &json.UnmarshalTypeError{Value: "value " + string(data), Type: reflect.TypeFor[T]()}
}

func typeName(e *json.UnmarshalTypeError) string {
	if n, ok := TypeNames[e.Type]; ok {
		return n
	}
	switch e.Type.Kind().String() {
	case "string":
		return "string"
	case "int", "int64", "int32", "uint", "uint64":
		return "whole number"
	case "float64", "float32":
		return "number"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "JSON array"
	case "struct", "map", "ptr":
		return "JSON object"
	}
	return e.Type.String()
}

// WriteJSON writes v as the JSON answer with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v == nil {
		return
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// InTx runs fn in one transaction: everything it writes lands, or nothing.
// In a keyed request (an Idempotency-Key or a Tradevest Requestor-ID: see
// Keyed) the transaction is the request's, committed with the route's
// answer once the route has written it: a route reads what it needs for
// its answer in fn (through tx), not through a.Client after InTx, which
// would not see the change yet (and on SQLite would wait for its lock).
func (a *Core) InTx(ctx context.Context, fn func(tx *ent.Client) error) error {
	if q := idempotency.FromContext(ctx); q != nil {
		return q.InTx(ctx, fn)
	}
	tx, err := a.Client.Tx(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback() // never leave a transaction (SQLite's write lock) open
			panic(p)
		}
	}()
	if err := fn(tx.Client()); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}

// Classify turns an error of a data operation into its client-facing
// form, logging the faults (INTERNAL) and noting an outage (UNAVAILABLE,
// the database unreachable: the family answers it 503 with Retry-After,
// its WriteRefusal) for the request's log line (store.Report).
func (a *Core) Classify(r *http.Request, err error) *apperr.Error {
	return store.Report(r.Context(), a.Logger, err, "REST route failed", "method", r.Method, "path", r.URL.Path)
}

// BankByCode finds the bank with this code among those the caller may see
// (ent's privacy rules); another tenant's bank is not found. A code that no
// bank can have (ent's validator refuses it) is not found without a query:
// PostgreSQL would refuse a NUL in it, a 400 where SQLite found nothing.
func BankByCode(ctx context.Context, c *ent.Client, code string) (*ent.Bank, error) {
	if validate.BankCode(code) != nil {
		return nil, &ent.NotFoundError{}
	}
	return c.Bank.Query().Where(bank.Code(code)).Only(ctx)
}

// Storable reports whether s is text a database can hold: valid UTF-8
// without NUL. No stored value is anything else, so a lookup by such a
// value finds nothing, without a query (PostgreSQL refuses it in one,
// where SQLite matches nothing).
func Storable(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// ParseUUID reads a UUID from a path or query parameter.
func ParseUUID(s string) (uuid.UUID, bool) {
	id, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return uuid.Nil, false
	}
	return id, true
}

// RFC3339ms is the date-time format of bankingservice.ai and Tradevest:
// RFC 3339 in UTC with milliseconds (2024-09-25T12:01:00.103Z).
const RFC3339ms = "2006-01-02T15:04:05.000Z07:00"

// Stamp formats t as RFC3339ms in UTC.
func Stamp(t time.Time) string { return t.UTC().Format(RFC3339ms) }

// StampPtr is Stamp of an optional time: nil stays nil.
func StampPtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := Stamp(*t)
	return &s
}

// UUID is a UUID in a request body: a malformed one is an error naming its field.
type UUID uuid.UUID

func init() { TypeNames[reflect.TypeFor[UUID]()] = "UUID string" }

// UnmarshalJSON reads a canonical UUID string.
func (u *UUID) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return BadValue[UUID](data)
	}
	id, ok := ParseUUID(s)
	if !ok {
		return BadValue[UUID](data)
	}
	*u = UUID(id)
	return nil
}

func ReflectType[T any]() reflect.Type { return reflect.TypeFor[T]() }

// ApperrCode is the client-facing code of err, if it carries one.
func ApperrCode(err error) apperr.Code {
	if e, ok := apperr.As(err); ok {
		return e.Code
	}
	return ""
}

// Core is what every route of every family holds.
type Core struct {
	Client *ent.Client
	// Auth authenticates callers; nil lets requests through with whatever
	// viewer their context already holds (tests).
	Auth         *authn.Service
	MaxBodyBytes int64 // largest request body
	Logger       *slog.Logger
	// After are middlewares run after authentication (the request
	// timeout, the per-caller rate limit).
	After []func(http.Handler) http.Handler
}

// Authenticate puts the caller's viewer in the request's context; refused
// credentials are answered by unauthorized (the family's 401 or, when the
// database failed, its 500); the database unreachable is the family's 503
// (refusal.Write).
func (a *Core) Authenticate(unauthorized func(w http.ResponseWriter, r *http.Request, err error)) func(http.Handler) http.Handler {
	if a.Auth == nil {
		return func(h http.Handler) http.Handler { return h }
	}
	return a.Auth.Middleware(func(w http.ResponseWriter, r *http.Request, err error) {
		if e, ok := apperr.As(err); ok && e.Code == apperr.Unavailable {
			// The database could not be reached while checking the
			// credentials: the family's 503 (refusal.Door of its routes).
			refusal.Write(w, r, refusal.DatabaseUnavailable())
			return
		}
		// Refusals pass the rate limit too, so that a flood of bad tokens
		// meets it (keyed by IP, as for anonymous callers).
		var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { unauthorized(w, r, err) })
		for i := len(a.After) - 1; i >= 0; i-- {
			h = a.After[i](h)
		}
		h.ServeHTTP(w, r)
	})
}

// Challenge sets the WWW-Authenticate header of a 401 (RFC 6750): the
// authentication service's challenge, which names the error of a refused
// token (err; nil for a request without credentials).
func (a *Core) Challenge(w http.ResponseWriter, err error) {
	if a.Auth != nil {
		a.Auth.Challenge(w, err)
		return
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="custgraph"`)
}

// Refusal is what a family says of refused credentials, and whether the
// refusal is the server's failure to check them (a 500, logged by authn).
func Refusal(err error) (msg string, internal bool) {
	if e, ok := apperr.As(err); ok && e.Code == apperr.Internal {
		return "", true
	}
	msg = "the access token was refused"
	var ae *authn.AuthError
	if errors.As(err, &ae) && ae.Description != "" {
		msg += ": " + ae.Description
	}
	return msg, false
}

// Keyed makes a family's mutating routes (POST, PUT, PATCH, DELETE)
// answer a retried request with its stored answer (internal/idempotency):
// refuse writes the family's 400/409/422 for a malformed, in-flight or
// reused Idempotency-Key, fail its answer to a failure to store the answer,
// extra (nil for none) gives a request's other key (Tradevest's
// Requestor-ID). Used after authentication.
func (a *Core) Keyed(refuse func(w http.ResponseWriter, r *http.Request, e *idempotency.Refusal),
	fail func(w http.ResponseWriter, r *http.Request, err error),
	extra func(r *http.Request, caller string, body []byte) *idempotency.Key) func(http.Handler) http.Handler {
	return idempotency.Door{Client: a.Client, MaxBodyBytes: a.MaxBodyBytes, Refuse: refuse, Fail: fail, Extra: extra}.Middleware
}

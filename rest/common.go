package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/google/uuid"

	"custgraph/ent"
	"custgraph/ent/bank"
	"custgraph/internal/apperr"
	"custgraph/internal/store"
)

// BodyError is a request body that could not be read as the route's JSON:
// each family renders it in its own error format (always a 4xx).
type BodyError struct {
	Status  int    // 400, 413 (too large) or 415 (not JSON)
	Field   string // the JSON field at fault, dotted ("address.premise"); "" for the whole body
	Message string
}

func (e *BodyError) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

// decodeJSON reads r's body, which must be one JSON value of dst's shape
// (unknown fields are ignored, as the original APIs do; a value of the
// wrong type is an error naming its field). raw, when not nil, gets the
// body's bytes.
func (a *api) decodeJSON(w http.ResponseWriter, r *http.Request, dst any, raw *[]byte) error {
	body, err := a.readBody(w, r)
	if err != nil {
		return err
	}
	if raw != nil {
		*raw = body
	}
	return unmarshal(body, dst)
}

// readBody reads r's body, which must be JSON (by its Content-Type, when
// given) and at most MaxBodyBytes long.
func (a *api) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
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
		return nil, &BodyError{Status: http.StatusBadRequest, Message: "the body could not be read"}
	}
	return body, nil
}

// unmarshal decodes one JSON value into dst, with errors for clients.
func unmarshal(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return &BodyError{Status: http.StatusBadRequest, Message: "the body is empty; a JSON object is required"}
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

// typeNames names, for clients, the request field types that check their
// own JSON (dates, UUIDs, enums); their UnmarshalJSON fails with a
// *json.UnmarshalTypeError of their type, which encoding/json fills with
// the field's name.
var typeNames = map[reflect.Type]string{
	reflect.TypeFor[uuid.UUID](): "UUID string",
}

// badValue is the error of a request field type's UnmarshalJSON.
func badValue[T any](data []byte) error {
	return &json.UnmarshalTypeError{Value: "value " + string(data), Type: reflect.TypeFor[T]()}
}

func typeName(e *json.UnmarshalTypeError) string {
	if n, ok := typeNames[e.Type]; ok {
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

// writeJSON writes v as the JSON answer with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v == nil {
		return
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// inTx runs fn in one transaction: everything it writes lands, or nothing.
func (a *api) inTx(ctx context.Context, fn func(tx *ent.Client) error) error {
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

// classify turns an error of a data operation into its client-facing
// form, logging the ones that are not the client's doing.
func (a *api) classify(r *http.Request, err error) *apperr.Error {
	e := store.Classify(err)
	if e.Code == apperr.Internal {
		a.Logger.ErrorContext(r.Context(), "REST route failed", "err", err, "method", r.Method, "path", r.URL.Path)
	}
	return e
}

// bankByCode finds the bank with this code among those the caller may see
// (ent's privacy rules); another tenant's bank is not found.
func bankByCode(ctx context.Context, c *ent.Client, code string) (*ent.Bank, error) {
	return c.Bank.Query().Where(bank.Code(code)).Only(ctx)
}

// parseUUID reads a UUID from a path or query parameter.
func parseUUID(s string) (uuid.UUID, bool) {
	id, err := uuid.Parse(s)
	if err != nil || len(s) != 36 {
		return uuid.Nil, false
	}
	return id, true
}

// rfc3339ms is the date-time format of bankingservice.ai and Tradevest:
// RFC 3339 in UTC with milliseconds (2024-09-25T12:01:00.103Z).
const rfc3339ms = "2006-01-02T15:04:05.000Z07:00"

// stamp formats t as rfc3339ms in UTC.
func stamp(t time.Time) string { return t.UTC().Format(rfc3339ms) }

// stampPtr is stamp of an optional time: nil stays nil.
func stampPtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := stamp(*t)
	return &s
}

// UUID is a UUID in a request body: a malformed one is an error naming its field.
type UUID uuid.UUID

func init() { typeNames[reflect.TypeFor[UUID]()] = "UUID string" }

// UnmarshalJSON reads a canonical UUID string.
func (u *UUID) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return badValue[UUID](data)
	}
	id, ok := parseUUID(s)
	if !ok {
		return badValue[UUID](data)
	}
	*u = UUID(id)
	return nil
}

func reflectType[T any]() reflect.Type { return reflect.TypeFor[T]() }

// apperrCode is the client-facing code of err, if it carries one.
func apperrCode(err error) apperr.Code {
	if e, ok := apperr.As(err); ok {
		return e.Code
	}
	return ""
}

// Package tradevest serves the Tradevest-style BaaS routes: customers as
// roles of entities and their products (rest-compat §2, §5 items 4–9).
package tradevest

// The Tradevest-style BaaS family (rest-compat §2 and §5 items 4–9):
// customers as roles of entities (/roles/customers) and their products
// (/customers/{customerId}/products, /products/{customerProductId}).
//
// A Tradevest partner's token carries its bank: the caller is an API client
// bound to a bank (access.Viewer.Bank), and every read goes through ent's
// privacy rules, so the partner sees the customers and products of its
// bank only; another bank's records are simply not found (404). New
// customers are created at the caller's bound bank (see tvBank).
//
// Mutations carry a Requestor-ID header (a UUID) that ent records as the
// actor in the audit trail, and that makes them replayable: the same
// request sent again gets the first answer (tvRequestorKey), as does one
// with the same Idempotency-Key (every door: internal/idempotency).

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	entgo "entgo.io/ent"
	"entgo.io/ent/dialect/sql"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/google/uuid"

	"custgraph/ent"
	"custgraph/ent/customer"
	"custgraph/ent/product"
	"custgraph/ent/schema"
	"custgraph/internal/access"
	"custgraph/internal/apperr"
	"custgraph/internal/filters"
	"custgraph/internal/idempotency"
	"custgraph/internal/refusal"
	"custgraph/internal/store"
	"custgraph/internal/validate"
	"custgraph/rest/restcore"
)

// api is the state every route of the family shares.
type api struct{ *restcore.Core }

// Mount registers the Tradevest-style routes on r at the root (their paths
// are the provider's own, without a prefix), one subrouter a first path
// segment (/roles, /customers, /products, /entities-changelog): an unknown
// URL under one answers 404 and a method its route does not serve 405
// (with Allow), in the family's ErrorMessage.
func Mount(r chi.Router, core *restcore.Core) {
	a := &api{core}
	family := func(prefix string, routes func(r chi.Router), use ...func(http.Handler) http.Handler) {
		r.Route(prefix, func(r chi.Router) {
			r.Use(refusal.Door(WriteRefusal))
			r.Use(a.Authenticate(a.tvUnauthorized))
			r.Use(a.After...)
			r.Use(use...)
			r.NotFound(tvNoRoute)
			r.MethodNotAllowed(tvNoMethod(r))
			r.Group(func(r chi.Router) {
				r.Use(a.Keyed(tvRefuse, a.tvWriteErr, tvRequestorKey))
				routes(r)
			})
		})
	}
	family("/roles", func(r chi.Router) {
		r.Post("/customers", a.tvCreateCustomer)
		r.Get("/customers", a.tvListCustomers)
		r.Get("/customers/{customerId}", a.tvGetCustomer)
		r.Patch("/customers/{customerId}", a.tvUpdateCustomer)
	})
	family("/customers", func(r chi.Router) {
		r.Get("/{customerId}/products", a.tvListProducts)
		r.Post("/{customerId}/products", a.tvCreateProduct)
	})
	family("/products", func(r chi.Router) {
		r.Get("/{customerProductId}", a.tvGetProduct)
		r.Patch("/{customerProductId}", a.tvUpdateProduct)
	})
	// chi serves /entities-changelog and /entities-changelog/ both as the
	// subrouter's "/": the second is unknown.
	family("/entities-changelog", func(r chi.Router) {
		r.Get("/", a.tvChangelog) // changelog.go
	}, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/") {
				tvNoRoute(w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
}

// tvNoRoute answers a URL under the family's paths that no route serves:
// 404 NOT_FOUND, errorCode ROUTE_NOT_FOUND (a record not found has none).
func tvNoRoute(w http.ResponseWriter, r *http.Request) {
	(&tvFail{status: http.StatusNotFound, errorCode: "ROUTE_NOT_FOUND",
		message: fmt.Sprintf("path %q not found", r.URL.Path)}).write(w, r)
}

// tvNoMethod answers a method the route of the URL (in routes) does not
// serve: 405 METHOD_NOT_ALLOWED, its methods in the Allow header.
func tvNoMethod(routes chi.Routes) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		allowed := strings.Join(restcore.AllowedMethods(routes, r), ", ")
		w.Header().Set("Allow", allowed)
		(&tvFail{status: http.StatusMethodNotAllowed, errorCode: "METHOD_NOT_ALLOWED",
			message: fmt.Sprintf("method %s is not allowed on path %q (allowed: %s)", r.Method, r.URL.Path, allowed)}).write(w, r)
	}
}

// --- JSON shapes -------------------------------------------------------------

// TvCustomer is Tradevest's Customer (§2.4). Customers created through the
// other doors have no entity: entityId, entityType and customerType are
// then null. Signed documents and reference accounts are not kept by
// custgraph: always empty.
type tvCustomer struct {
	CustomerID                       string     `json:"customerId"`
	CustomerStatus                   string     `json:"customerStatus"`
	EntityID                         *string    `json:"entityId"`
	EntityType                       *string    `json:"entityType"`
	CustomerType                     *string    `json:"customerType"`
	Labels                           []string   `json:"labels"`
	CreatedOn                        string     `json:"createdOn"`
	ModifiedOn                       string     `json:"modifiedOn"`
	CancellationDate                 *string    `json:"cancellationDate"`
	SignedDocumentsRelatedToCustomer []struct{} `json:"signedDocumentsRelatedToCustomer"`
	RefAccounts                      []struct{} `json:"refAccounts"`
}

// tvCustomerColumns are the customer columns tvCustomerOf reads.
var tvCustomerColumns = []string{customer.FieldID, customer.FieldCustomerStatus, customer.FieldLabels,
	customer.FieldCreatedAt, customer.FieldUpdatedAt, customer.FieldEntityID, customer.FieldEntityType, customer.FieldCustomerType}

func tvCustomerOf(c *ent.Customer) tvCustomer {
	out := tvCustomer{
		CustomerID:                       c.ID.String(),
		CustomerStatus:                   string(c.CustomerStatus),
		Labels:                           c.Labels,
		CreatedOn:                        restcore.Stamp(c.CreatedAt),
		ModifiedOn:                       restcore.Stamp(c.UpdatedAt),
		SignedDocumentsRelatedToCustomer: []struct{}{},
		RefAccounts:                      []struct{}{},
	}
	if out.Labels == nil {
		out.Labels = []string{}
	}
	if c.EntityID != nil {
		s := c.EntityID.String()
		out.EntityID = &s
	}
	if c.EntityType != nil {
		s := string(*c.EntityType)
		out.EntityType = &s
	}
	if c.CustomerType != nil {
		s := string(*c.CustomerType)
		out.CustomerType = &s
	}
	return out
}

// tvCustomerProduct is Tradevest's CustomerProduct (§2.4), exactly its
// documented fields: the product's IBAN, when it has one, is in
// accountData (Tradevest's place for it; the list filters on it).
type tvCustomerProduct struct {
	CustomerProductID string         `json:"customerProductId"`
	ProductCode       string         `json:"productCode"`
	ProductType       string         `json:"productType"`
	Currency          *string        `json:"currency"`
	Status            string         `json:"status"`
	ProxyIDs          []uuid.UUID    `json:"proxyIds"`
	CreatedOn         string         `json:"createdOn"`
	ModifiedOn        string         `json:"modifiedOn"`
	OpenedOn          *string        `json:"openedOn"`
	ClosedOn          *string        `json:"closedOn"`
	AccountData       *tvAccountData `json:"accountData,omitempty"`
}

// tvAccountData is the account of a cash product (§2.4 accountData): its
// IBAN, and its BIC when known (custgraph keeps none yet: left out).
// Balances are not kept by custgraph and are left out.
type tvAccountData struct {
	IBAN string `json:"iban"`
	BIC  string `json:"bic,omitempty"`
}

func tvProductOf(p *ent.Product) tvCustomerProduct {
	out := tvCustomerProduct{
		CustomerProductID: p.ID.String(),
		ProductCode:       string(p.ProductCode),
		ProductType:       string(p.ProductType),
		Status:            string(p.Status),
		ProxyIDs:          p.ProxyIds,
		CreatedOn:         restcore.Stamp(p.CreatedAt),
		ModifiedOn:        restcore.Stamp(p.UpdatedAt),
		OpenedOn:          restcore.StampPtr(p.OpenedOn),
		ClosedOn:          restcore.StampPtr(p.ClosedOn),
	}
	if out.ProxyIDs == nil {
		out.ProxyIDs = []uuid.UUID{}
	}
	if p.Currency != "" {
		out.Currency = &p.Currency
	}
	if p.Iban != "" {
		out.AccountData = &tvAccountData{IBAN: p.Iban}
	}
	return out
}

// tvPage is the list envelope of §5.5.
type tvPage struct {
	Data       []tvCustomer `json:"data"`
	Pagination tvPagination `json:"pagination"`
}

type tvPagination struct {
	Cursor *string `json:"cursor"`
	Limit  int     `json:"limit"`
}

// --- errors ------------------------------------------------------------------

// tvError is Tradevest's ErrorMessage (§2.6).
type tvError struct {
	Message          string          `json:"message"`
	ResponseType     string          `json:"responseType"`
	RequestID        string          `json:"requestId"`
	ValidationString string          `json:"validationString,omitempty"`
	ErrorCode        string          `json:"errorCode,omitempty"`
	ErrorDetails     []tvErrorDetail `json:"errorDetails"`
}

type tvErrorDetail struct {
	Field  string         `json:"field"`
	Errors []tvFieldError `json:"errors"`
}

type tvFieldError struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Parameter string `json:"parameter,omitempty"`
}

// The codes of field errors (errorDetails[].errors[].code).
const (
	tvCodeRequired     = "REQUIRED"      // a required value is missing
	tvCodeInvalid      = "INVALID_VALUE" // the value is refused (format, enum, range, ent's validation)
	tvCodeNotFound     = "NOT_FOUND"     // the record the field names does not exist for the caller
	tvCodeConflict     = "CONFLICT"      // the value clashes with stored data (duplicate, state)
	tvCodeNotSupported = "NOT_SUPPORTED" // the value is valid but not accepted here
)

// responseTypes name each status in ErrorMessage.responseType.
var tvResponseTypes = map[int]string{
	http.StatusBadRequest:            "BAD_REQUEST",
	http.StatusUnauthorized:          "UNAUTHORIZED",
	http.StatusForbidden:             "FORBIDDEN",
	http.StatusNotFound:              "NOT_FOUND",
	http.StatusMethodNotAllowed:      "METHOD_NOT_ALLOWED",
	http.StatusRequestTimeout:        "REQUEST_TIMEOUT",
	http.StatusConflict:              "CONFLICT",
	http.StatusTooManyRequests:       "TOO_MANY_REQUESTS",
	http.StatusUnprocessableEntity:   "UNPROCESSABLE_ENTITY",
	http.StatusRequestEntityTooLarge: "PAYLOAD_TOO_LARGE",
	http.StatusUnsupportedMediaType:  "UNSUPPORTED_MEDIA_TYPE",
	http.StatusServiceUnavailable:    "SERVICE_UNAVAILABLE",
	http.StatusInternalServerError:   "INTERNAL_SERVER_ERROR",
}

// tvFail is one error answer: a status, a message and, for errors about
// one input, the field (JSON, query or header name) and its error code.
type tvFail struct {
	status  int
	message string
	field   string
	code    string
	param   string
	// errorCode is ErrorMessage.errorCode, for errors about no one field:
	// a refusal's code (RATE_LIMITED, UNAVAILABLE…), an Idempotency-Key's.
	errorCode string
}

// WriteRefusal is the family's refusal.Writer: an ErrorMessage whose
// responseType names the status (TOO_MANY_REQUESTS, PAYLOAD_TOO_LARGE,
// UNSUPPORTED_MEDIA_TYPE, SERVICE_UNAVAILABLE) and whose errorCode is the
// refusal's code (RATE_LIMITED, TOO_MANY_CONCURRENT_REQUESTS,
// REQUEST_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE, UNAVAILABLE).
func WriteRefusal(w http.ResponseWriter, r *http.Request, f *refusal.Refusal) {
	(&tvFail{status: f.Status, message: f.Message, errorCode: f.Code}).write(w, r)
}

func (f *tvFail) Error() string { return f.message }

func tvBad(field, code, format string, args ...any) *tvFail {
	return &tvFail{status: http.StatusBadRequest, field: field, code: code, message: fmt.Sprintf(format, args...)}
}

// write answers f in the ErrorMessage format.
func (f *tvFail) write(w http.ResponseWriter, r *http.Request) {
	body := tvError{
		Message:      f.message,
		ResponseType: tvResponseTypes[f.status],
		RequestID:    middleware.GetReqID(r.Context()),
		ErrorCode:    f.errorCode,
		ErrorDetails: []tvErrorDetail{},
	}
	if f.field != "" {
		body.ErrorDetails = append(body.ErrorDetails, tvErrorDetail{Field: f.field,
			Errors: []tvFieldError{{Code: f.code, Message: f.message, Parameter: f.param}}})
		body.ValidationString = f.field + ": " + f.message
	}
	restcore.WriteJSON(w, f.status, body)
}

// tvFieldNames maps ent's field names to this family's JSON names where
// the camelCase rule (tvJSONName) does not give them.
var tvFieldNames = map[string]string{
	"requestor_id": "Requestor-ID",
	"id":           "customerId",
}

// tvJSONName is the JSON name of an ent field: entity_id → entityId.
func tvJSONName(field string) string {
	if n, ok := tvFieldNames[field]; ok {
		return n
	}
	var b strings.Builder
	up := false
	for _, r := range field {
		switch {
		case r == '_':
			up = true
		case up:
			b.WriteRune(unicode.ToUpper(r))
			up = false
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// tvFailOf turns any error of a request (a *tvFail, a *restcore.BodyError, an
// error of ent) into its answer.
func (a *api) tvFailOf(r *http.Request, err error) *tvFail {
	var f *tvFail
	if errors.As(err, &f) {
		return f
	}
	var be *restcore.BodyError
	if errors.As(err, &be) {
		out := &tvFail{status: be.Status, message: be.Error()}
		switch be.Status { // as WriteRefusal answers them
		case http.StatusRequestEntityTooLarge:
			out.errorCode = refusal.TooLarge
		case http.StatusUnsupportedMediaType:
			out.errorCode = refusal.UnsupportedMediaType
		}
		if be.Field != "" {
			out.field, out.code, out.message = be.Field, tvCodeInvalid, be.Message
		}
		return out
	}
	e := a.Classify(r, err)
	out := &tvFail{message: e.Message}
	switch e.Code {
	case apperr.BadUserInput:
		out.status, out.code = http.StatusBadRequest, tvCodeInvalid
	case apperr.NotFound:
		out.status, out.code = http.StatusNotFound, tvCodeNotFound
	case apperr.Conflict:
		out.status, out.code = http.StatusConflict, tvCodeConflict
	case apperr.Unauthenticated:
		out.status = http.StatusUnauthorized
	case apperr.Forbidden:
		out.status = http.StatusForbidden
		if len(e.Roles) > 0 {
			out.message = "missing role: " + strings.Join(e.Roles, " or ")
			if e.Bank != "" {
				out.message += " at bank " + e.Bank
			}
		}
	case apperr.Timeout:
		out.status = http.StatusServiceUnavailable
	case apperr.Unavailable:
		f := refusal.DatabaseUnavailableBecause(e.Message)
		return &tvFail{status: f.Status, message: f.Message, errorCode: f.Code}
	default:
		return &tvFail{status: http.StatusInternalServerError, message: "internal error"}
	}
	if e.Field != "" && out.code != "" {
		out.field = tvJSONName(e.Field)
	}
	return out
}

func (a *api) tvWriteErr(w http.ResponseWriter, r *http.Request, err error) {
	f := a.tvFailOf(r, err)
	switch f.status {
	case http.StatusUnauthorized:
		a.Challenge(w, nil)
	case http.StatusServiceUnavailable:
		if f.errorCode == refusal.Unavailable {
			refusal.SetRetryAfter(w, refusal.DatabaseUnavailable())
		}
	}
	f.write(w, r)
}

// tvUnauthorized answers refused credentials: 401 with the challenge; 500
// when checking them failed.
func (a *api) tvUnauthorized(w http.ResponseWriter, r *http.Request, err error) {
	msg, internal := restcore.Refusal(err)
	if internal {
		(&tvFail{status: http.StatusInternalServerError, message: "internal error"}).write(w, r)
		return
	}
	a.Challenge(w, err)
	(&tvFail{status: http.StatusUnauthorized, message: msg}).write(w, r)
}

// --- request parts -----------------------------------------------------------

// tvViewer returns the logged-in caller, or answers 401.
func (a *api) tvViewer(w http.ResponseWriter, r *http.Request) *access.Viewer {
	v := access.FromContext(r.Context())
	if v == nil {
		a.Challenge(w, nil)
		(&tvFail{status: http.StatusUnauthorized,
			message: "authentication is required: send Authorization: Bearer <access token>"}).write(w, r)
	}
	return v
}

// tvCaller returns the logged-in caller (else answers 401) when it holds
// one of roles, the route's roles from ent's tables, at some bank (else
// answers 403 naming them): the README's order puts the roles (403) before
// the body, headers and path (400) and the record (404). Which banks' records
// the caller reaches, and the roles at the record's bank, ent decides when
// the work is done (its privacy rules and hooks ask the same tables).
func (a *api) tvCaller(w http.ResponseWriter, r *http.Request, roles []access.Role) *access.Viewer {
	v := a.tvViewer(w, r)
	if v == nil {
		return nil
	}
	if v.BanksWith(roles...).Empty() {
		a.tvWriteErr(w, r, access.Missing("", roles...))
		return nil
	}
	return v
}

// The roles of the routes, from ent's tables (schema.ReadRoles,
// WriteRoles, FieldRoles): reading customers and products, creating them,
// changing a customer's labels (FieldRoles has none of its own for them, so
// CanUpdateCustomer, as ent asks) and closing a product.
var (
	tvRolesReadCustomer   = schema.ReadRoles[ent.TypeCustomer]
	tvRolesCreateCustomer = schema.WriteRoles[ent.TypeCustomer][entgo.OpCreate]
	tvRolesUpdateLabels   = append(slices.Clone(schema.FieldRoles[customer.FieldLabels]), schema.WriteRoles[ent.TypeCustomer][entgo.OpUpdateOne]...)
	tvRolesReadProduct    = schema.ReadRoles[ent.TypeProduct]
	tvRolesCreateProduct  = schema.WriteRoles[ent.TypeProduct][entgo.OpCreate]
	tvRolesUpdateProduct  = schema.WriteRoles[ent.TypeProduct][entgo.OpUpdateOne]
)

const tvRequestorHeader = "Requestor-ID"

// tvRequestor reads the Requestor-ID header: a UUID, required or not.
// ent records it (authn put it on the viewer) as the actor of the change.
func tvRequestor(r *http.Request, required bool) (string, error) {
	vals := r.Header.Values(tvRequestorHeader)
	if len(vals) == 0 {
		if required {
			return "", tvBad(tvRequestorHeader, tvCodeRequired, "the Requestor-ID header (a UUID) is required")
		}
		return "", nil
	}
	if _, ok := restcore.ParseUUID(vals[0]); len(vals) > 1 || !ok {
		return "", tvBad(tvRequestorHeader, tvCodeInvalid, "the Requestor-ID header must be one UUID")
	}
	return vals[0], nil
}

// tvChangeRequest reads what every route changing a record named in the
// path needs, in the family's check order: the caller, its roles (one of
// roles at some bank: tvCaller), the path's id (param), the Requestor-ID
// and the JSON body into in. It writes the refusal and returns false when
// one of them is missing or bad.
func (a *api) tvChangeRequest(w http.ResponseWriter, r *http.Request, roles []access.Role, param string, in any) (uuid.UUID, bool) {
	if a.tvCaller(w, r, roles) == nil {
		return uuid.Nil, false
	}
	id, err := tvPathID(r, param)
	if err == nil {
		_, err = tvRequestor(r, true)
	}
	if err == nil {
		err = a.DecodeJSON(w, r, in, nil)
	}
	if err != nil {
		a.tvWriteErr(w, r, err)
		return uuid.Nil, false
	}
	return id, true
}

// tvPathID reads a UUID path parameter; a malformed one is 400.
func tvPathID(r *http.Request, name string) (uuid.UUID, error) {
	s := chi.URLParam(r, name)
	id, ok := restcore.ParseUUID(s)
	if !ok {
		return uuid.Nil, tvBad(name, tvCodeInvalid, "must be a UUID, not %q", s)
	}
	return id, nil
}

// tvQuery reads one query parameter that may appear at most once.
func tvQuery(r *http.Request, name string) (string, bool, error) {
	vals, ok := r.URL.Query()[name]
	if !ok {
		return "", false, nil
	}
	if len(vals) > 1 {
		return "", false, tvBad(name, tvCodeInvalid, "give %s once", name)
	}
	if !restcore.Storable(vals[0]) { // (no stored value is: restcore.Storable)
		return "", false, tvBad(name, tvCodeInvalid, "%s must be UTF-8 text without NUL characters", name)
	}
	return vals[0], true, nil
}

// tvEnum checks an enum query parameter with ent's own validator of the field.
func tvEnum[T ~string](r *http.Request, name string, check func(T) error, set func(T)) error {
	s, ok, err := tvQuery(r, name)
	if err != nil || !ok {
		return err
	}
	if err := check(T(s)); err != nil {
		return tvBad(name, tvCodeInvalid, "unknown value %q", s)
	}
	set(T(s))
	return nil
}

// --- replays -----------------------------------------------------------------

// tvAnswer is the answer of a mutation: status and body (nil for none).
type tvAnswer struct {
	status int
	body   []byte
}

func (ans tvAnswer) write(w http.ResponseWriter) {
	if ans.body == nil {
		w.WriteHeader(ans.status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(ans.status)
	_, _ = w.Write(ans.body)
}

// tvJSON is a JSON answer.
func tvJSON(status int, v any) (tvAnswer, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return tvAnswer{}, err
	}
	return tvAnswer{status: status, body: buf.Bytes()}, nil
}

// tvMutate runs work in one transaction and answers its result. A keyed
// request (an Idempotency-Key, or a Requestor-ID: tvKeyed) runs it in the
// request's transaction, committed with this answer (internal/idempotency).
func (a *api) tvMutate(w http.ResponseWriter, r *http.Request,
	work func(ctx context.Context, tx *ent.Client) (tvAnswer, error)) {
	ctx := r.Context()
	var ans tvAnswer
	err := a.InTx(ctx, func(tx *ent.Client) error {
		var err error
		ans, err = work(ctx, tx)
		return err
	})
	if err != nil {
		a.tvWriteErr(w, r, err)
		return
	}
	if len(ans.body) == 0 {
		ans.body = nil
	}
	ans.write(w)
}

// tvRequestorKey is the replay key of a request with a Requestor-ID (one
// UUID; tvRequestor refuses others): the same request (same caller,
// Requestor-ID, method, path and body) sent again within
// idempotency.TTL gets the first answer, also when the duplicates arrive
// at the same time (they wait for the first); another body under the same
// Requestor-ID is new work (rest-compat §5.6).
func tvRequestorKey(r *http.Request, caller string, body []byte) *idempotency.Key {
	requestor, err := tvRequestor(r, false)
	if err != nil || requestor == "" {
		return nil
	}
	k := idempotency.RequestorKey(caller, requestor, r, body)
	return &k
}

// tvRefuse answers a refused Idempotency-Key in the ErrorMessage format:
// 400 naming the header (INVALID_VALUE), 409 and 422 with errorCode
// IDEMPOTENCY_KEY_IN_USE or IDEMPOTENCY_KEY_REUSED.
func tvRefuse(w http.ResponseWriter, r *http.Request, e *idempotency.Refusal) {
	f := &tvFail{status: e.Status, message: e.Message}
	if e.Status == http.StatusBadRequest {
		f.field, f.code = idempotency.Header, tvCodeInvalid
	} else {
		f.errorCode = e.Code
	}
	f.write(w, r)
}

// --- customers ---------------------------------------------------------------

// tvCustomerInput is the body of POST /roles/customers (CustomerData).
// customerType is an extension: it defaults to entityType (ent's rule).
type tvCustomerInput struct {
	EntityID     *restcore.UUID `json:"entityId"`
	EntityType   *string        `json:"entityType"`
	CustomerType *string        `json:"customerType"`
	Labels       []string       `json:"labels"`
	// RefAccounts (the current docs' reference accounts) are not stored
	// here: a customer always answers "refAccounts": []. Sent, they are
	// refused rather than dropped while the answer says 200.
	RefAccounts []json.RawMessage `json:"refAccounts"`
}

// tvBank is the bank new customers of the caller belong to: the bank its
// client is bound to, or, for an unbound caller, the one bank where it may
// create customers (ent's role table). A caller that may create customers
// nowhere is 403 naming the role; one that may at several banks (or every
// bank) cannot say which one it means: 400.
func tvBank(v *access.Viewer) (uuid.UUID, error) {
	if v.Bank != nil {
		return *v.Bank, nil // ent checks the role at it
	}
	roles := tvRolesCreateCustomer
	switch b := v.BanksWith(roles...); {
	case b.Empty():
		return uuid.Nil, access.Missing("", roles...)
	case !b.All && len(b.IDs) == 1:
		return b.IDs[0], nil
	}
	return uuid.Nil, &tvFail{status: http.StatusBadRequest,
		message: "the caller is not bound to one bank: creating customers needs an API client bound to a bank (or the role to create customers at exactly one bank)"}
}

// tvCreateCustomer is POST /roles/customers: the entity becomes a customer
// of the caller's bank. 200 {"customerId"}; 409 when it already is one.
func (a *api) tvCreateCustomer(w http.ResponseWriter, r *http.Request) {
	v := a.tvCaller(w, r, tvRolesCreateCustomer)
	if v == nil {
		return
	}
	_, err := tvRequestor(r, false)
	if err != nil {
		a.tvWriteErr(w, r, err)
		return
	}
	var in tvCustomerInput
	if err := a.DecodeJSON(w, r, &in, nil); err != nil {
		a.tvWriteErr(w, r, err)
		return
	}
	switch {
	case in.EntityID == nil:
		err = tvBad("entityId", tvCodeRequired, "entityId (a UUID) is required")
	case in.EntityType == nil:
		err = tvBad("entityType", tvCodeRequired, "entityType is required")
	case len(in.RefAccounts) > 0:
		err = tvBad("refAccounts", tvCodeNotSupported, "reference accounts are not kept by this server: send none (or an empty list)")
	}
	if err != nil {
		a.tvWriteErr(w, r, err)
		return
	}
	bankID, err := tvBank(v)
	if err != nil {
		a.tvWriteErr(w, r, err)
		return
	}
	a.tvMutate(w, r, func(ctx context.Context, tx *ent.Client) (tvAnswer, error) {
		create := tx.Customer.Create().
			SetBankID(bankID).
			SetEntityID(uuid.UUID(*in.EntityID)).
			SetEntityType(customer.EntityType(*in.EntityType))
		if in.CustomerType != nil { // else ent makes it the entity's type
			create.SetCustomerType(customer.CustomerType(*in.CustomerType))
		}
		if in.Labels != nil {
			create.SetLabels(in.Labels)
		}
		c, err := create.Save(ctx)
		if err != nil {
			return tvAnswer{}, err
		}
		return tvJSON(http.StatusOK, map[string]string{"customerId": c.ID.String()})
	})
}

// tvCursor is the position after the last row of a page: its created_at
// (microseconds, ent's precision) and id. Clients see it as opaque
// base64url JSON.
type tvCursor struct {
	Micros int64     `json:"t"`
	ID     uuid.UUID `json:"id"`
}

func (c tvCursor) String() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// tvParseCursor reads a cursor this list gave, exactly as it wrote it: both
// parts, its time within the years a time is stored in (0001-9999);
// anything else is 400, not a page that looks like the last one.
func tvParseCursor(s string) (tvCursor, error) {
	var c struct {
		Micros *int64    `json:"t"`
		ID     uuid.UUID `json:"id"`
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.ID == uuid.Nil || c.Micros == nil ||
		!validate.StorableTime(time.UnixMicro(*c.Micros)) {
		return tvCursor{}, tvBad("cursor", tvCodeInvalid, "not a cursor of this list; pass pagination.cursor of the previous page as it is")
	}
	out := tvCursor{Micros: *c.Micros, ID: c.ID}
	if out.String() != s { // written otherwise than this list writes it (another field, the id's spelling)
		return tvCursor{}, tvBad("cursor", tvCodeInvalid, "not a cursor of this list; pass pagination.cursor of the previous page as it is")
	}
	return out, nil
}

const (
	tvDefaultLimit = 20
	tvMaxLimit     = 100
)

// tvListCustomers is GET /roles/customers: the caller's customers, newest
// first (createdOn, then id, both descending), one page at a time.
func (a *api) tvListCustomers(w http.ResponseWriter, r *http.Request) {
	if a.tvCaller(w, r, tvRolesReadCustomer) == nil {
		return
	}
	page, err := a.tvCustomerPage(r)
	if err != nil {
		a.tvWriteErr(w, r, err)
		return
	}
	restcore.WriteJSON(w, http.StatusOK, page)
}

func (a *api) tvCustomerPage(r *http.Request) (*tvPage, error) {
	ctx := r.Context()
	q := a.Client.Customer.Query()
	limit := tvDefaultLimit
	if s, ok, err := tvQuery(r, "limit"); err != nil {
		return nil, err
	} else if ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > tvMaxLimit {
			return nil, tvBad("limit", tvCodeInvalid, "limit must be a whole number from 1 to %d, not %q", tvMaxLimit, s)
		}
		limit = n
	}
	if s, ok, err := tvQuery(r, "cursor"); err != nil {
		return nil, err
	} else if ok {
		c, err := tvParseCursor(s)
		if err != nil {
			return nil, err
		}
		at := time.UnixMicro(c.Micros).UTC()
		q.Where(customer.CreatedAtLTE(at), customer.Or(customer.CreatedAtLT(at), customer.IDLT(c.ID)))
	}
	if s, ok, err := tvQuery(r, "entityId"); err != nil {
		return nil, err
	} else if ok {
		id, valid := restcore.ParseUUID(s)
		if !valid {
			return nil, tvBad("entityId", tvCodeInvalid, "must be a UUID, not %q", s)
		}
		q.Where(customer.EntityID(id))
	}
	if err := tvEnum(r, "customerStatus", customer.CustomerStatusValidator, func(s customer.CustomerStatus) {
		q.Where(customer.CustomerStatusEQ(s))
	}); err != nil {
		return nil, err
	}
	if err := tvEnum(r, "customerType", customer.CustomerTypeValidator, func(s customer.CustomerType) {
		q.Where(customer.CustomerTypeEQ(s))
	}); err != nil {
		return nil, err
	}
	if labels := r.URL.Query()["labels"]; len(labels) > 0 {
		// A label has minLength 1 (rest-compat §2.2), and no stored label is
		// blank (ent's rule): an empty labels= is a mistake, not "any".
		for _, l := range labels {
			if strings.TrimSpace(l) == "" {
				return nil, tvBad("labels", tvCodeInvalid, "a label must not be empty")
			}
		}
		if err := filters.Labels("labels", labels); err != nil {
			return nil, err
		}
		q.Where(filters.HasLabels(labels...))
	}
	// Only the columns tvCustomerOf renders: a customer has some thirty,
	// JSON ones among them, and reading and decoding all of them cost the
	// page as much as everything else (GraphQL selects what is asked too).
	rows, err := q.Order(customer.ByCreatedAt(sql.OrderDesc()), customer.ByID(sql.OrderDesc())).
		Limit(limit + 1).Select(tvCustomerColumns...).All(ctx)
	if err != nil {
		return nil, err
	}
	page := &tvPage{Data: []tvCustomer{}, Pagination: tvPagination{Limit: limit}}
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		s := tvCursor{Micros: last.CreatedAt.UnixMicro(), ID: last.ID}.String()
		page.Pagination.Cursor = &s
	}
	for _, c := range rows {
		page.Data = append(page.Data, tvCustomerOf(c))
	}
	return page, nil
}

// tvGetCustomer is GET /roles/customers/{customerId}.
func (a *api) tvGetCustomer(w http.ResponseWriter, r *http.Request) {
	if a.tvCaller(w, r, tvRolesReadCustomer) == nil {
		return
	}
	id, err := tvPathID(r, "customerId")
	if err != nil {
		a.tvWriteErr(w, r, err)
		return
	}
	c, err := a.Client.Customer.Get(r.Context(), id)
	if err != nil {
		a.tvWriteErr(w, r, tvNotFound(err, "customer"))
		return
	}
	restcore.WriteJSON(w, http.StatusOK, tvCustomerOf(c))
}

// tvNotFound words ent's not-found error of a path id for this family.
func tvNotFound(err error, what string) error {
	if ent.IsNotFound(err) || restcore.ApperrCode(err) == apperr.NotFound {
		return &tvFail{status: http.StatusNotFound, message: what + " not found"}
	}
	return err
}

// tvLabelsInput is the body of PATCH /roles/customers/{customerId}: the
// customer's labels, replaced as a whole (absent: unchanged).
type tvLabelsInput struct {
	Labels *[]string `json:"labels"`
}

// tvUpdateCustomer is PATCH /roles/customers/{customerId}: 202, no body.
func (a *api) tvUpdateCustomer(w http.ResponseWriter, r *http.Request) {
	var in tvLabelsInput
	id, ok := a.tvChangeRequest(w, r, tvRolesUpdateLabels, "customerId", &in)
	if !ok {
		return
	}
	a.tvMutate(w, r, func(ctx context.Context, tx *ent.Client) (tvAnswer, error) {
		update := tx.Customer.UpdateOneID(id)
		if in.Labels != nil {
			if len(*in.Labels) == 0 {
				update.ClearLabels()
			} else {
				update.SetLabels(*in.Labels)
			}
		}
		if err := update.Exec(ctx); err != nil {
			return tvAnswer{}, tvNotFound(err, "customer")
		}
		return tvAnswer{status: http.StatusAccepted}, nil
	})
}

// --- products ----------------------------------------------------------------

// tvListProducts is GET /customers/{customerId}/products: every product of
// the customer (a bare array, no paging), newest first.
func (a *api) tvListProducts(w http.ResponseWriter, r *http.Request) {
	if a.tvCaller(w, r, tvRolesReadProduct) == nil {
		return
	}
	list, err := a.tvProducts(r)
	if err != nil {
		a.tvWriteErr(w, r, err)
		return
	}
	restcore.WriteJSON(w, http.StatusOK, list)
}

// tvMaxProducts bounds the answer of GET /customers/{customerId}/products,
// a bare array with no paging (§2.2): products are closed, never deleted,
// so nothing else bounds a customer's list.
const tvMaxProducts = 1000

func (a *api) tvProducts(r *http.Request) ([]tvCustomerProduct, error) {
	ctx := r.Context()
	id, err := tvPathID(r, "customerId")
	if err != nil {
		return nil, err
	}
	q := a.Client.Product.Query().Where(product.CustomerID(id))
	if err := tvEnum(r, "productType", product.ProductTypeValidator, func(s product.ProductType) {
		q.Where(product.ProductTypeEQ(s))
	}); err != nil {
		return nil, err
	}
	if err := tvEnum(r, "productCode", product.ProductCodeValidator, func(s product.ProductCode) {
		q.Where(product.ProductCodeEQ(s))
	}); err != nil {
		return nil, err
	}
	if err := tvEnum(r, "status", product.StatusValidator, func(s product.Status) {
		q.Where(product.StatusEQ(s))
	}); err != nil {
		return nil, err
	}
	if s, ok, err := tvQuery(r, "iban"); err != nil {
		return nil, err
	} else if ok {
		q.Where(product.Iban(s))
	}
	// ent refuses the read to a caller without CanGetCustomerProduct (403).
	rows, err := q.Order(product.ByCreatedAt(sql.OrderDesc()), product.ByID(sql.OrderDesc())).
		Limit(tvMaxProducts + 1).All(ctx)
	if err != nil {
		return nil, err
	}
	if len(rows) > tvMaxProducts {
		return nil, &tvFail{status: http.StatusBadRequest, errorCode: "TOO_MANY_RESULTS", message: fmt.Sprintf(
			"more than %d products match: narrow the list with productType, productCode, status or iban (GraphQL's products connection pages them all)",
			tvMaxProducts)}
	}
	// No products: the customer must exist for the caller, an unknown one
	// (or another bank's) is 404, not an empty list. ent's CustomerRef
	// answers that without CanGetCustomer: reading products needs
	// CanGetCustomerProduct only.
	if len(rows) == 0 {
		if _, err := schema.CustomerRef(ctx, a.Client, id); err != nil {
			return nil, tvNotFound(err, "customer")
		}
	}
	out := make([]tvCustomerProduct, len(rows))
	for i, p := range rows {
		out[i] = tvProductOf(p)
	}
	return out, nil
}

// tvProductInput is the body of POST /customers/{customerId}/products.
// currency is an extension (ISO 4217; ent makes EUR the default of a
// BALANCE_ACCOUNT).
type tvProductInput struct {
	ProductCode *string `json:"productCode"`
	Currency    *string `json:"currency"`
}

// tvCreateProduct is POST /customers/{customerId}/products: 200
// {"customerProductId"}; the product starts RECEIVED, its type follows
// from its code (ent).
func (a *api) tvCreateProduct(w http.ResponseWriter, r *http.Request) {
	var in tvProductInput
	id, ok := a.tvChangeRequest(w, r, tvRolesCreateProduct, "customerId", &in)
	if !ok {
		return
	}
	if in.ProductCode == nil {
		a.tvWriteErr(w, r, tvBad("productCode", tvCodeRequired, "productCode is required"))
		return
	}
	// The body (400) before the customer (404), the README's order: ent's
	// own validators of the two fields, which its save would run only
	// after its rules had looked the customer up.
	if product.ProductCodeValidator(product.ProductCode(*in.ProductCode)) != nil {
		a.tvWriteErr(w, r, tvBad("productCode", tvCodeInvalid, "unknown value %q", *in.ProductCode))
		return
	}
	if in.Currency != nil && product.CurrencyValidator != nil {
		if err := product.CurrencyValidator(*in.Currency); err != nil {
			a.tvWriteErr(w, r, store.InvalidValue(product.FieldCurrency, err))
			return
		}
	}
	a.tvMutate(w, r, func(ctx context.Context, tx *ent.Client) (tvAnswer, error) {
		create := tx.Product.Create().SetCustomerID(id).SetProductCode(product.ProductCode(*in.ProductCode))
		if in.Currency != nil {
			create.SetCurrency(*in.Currency)
		}
		p, err := create.Save(ctx)
		if err != nil {
			return tvAnswer{}, err
		}
		return tvJSON(http.StatusOK, map[string]string{"customerProductId": p.ID.String()})
	})
}

// tvGetProduct is GET /products/{customerProductId}.
func (a *api) tvGetProduct(w http.ResponseWriter, r *http.Request) {
	if a.tvCaller(w, r, tvRolesReadProduct) == nil {
		return
	}
	id, err := tvPathID(r, "customerProductId")
	if err != nil {
		a.tvWriteErr(w, r, err)
		return
	}
	p, err := a.Client.Product.Get(r.Context(), id)
	if err != nil {
		a.tvWriteErr(w, r, tvNotFound(err, "product"))
		return
	}
	restcore.WriteJSON(w, http.StatusOK, tvProductOf(p))
}

// tvProductStatusInput is the body of PATCH /products/{customerProductId}
// (CustomerProductStatusUpdate): CLOSED is the only status a partner sets.
type tvProductStatusInput struct {
	Status *string `json:"status"`
}

// tvUpdateProduct is PATCH /products/{customerProductId}: closes the
// product (as GraphQL's closeProduct does); 200, no body.
func (a *api) tvUpdateProduct(w http.ResponseWriter, r *http.Request) {
	var in tvProductStatusInput
	id, ok := a.tvChangeRequest(w, r, tvRolesUpdateProduct, "customerProductId", &in)
	if !ok {
		return
	}
	var err error
	switch {
	case in.Status == nil:
		err = tvBad("status", tvCodeRequired, "status is required")
	case *in.Status != string(product.StatusCLOSED):
		err = tvBad("status", tvCodeNotSupported, "status can only be set to CLOSED, not %q", *in.Status)
		err.(*tvFail).param = string(product.StatusCLOSED)
	}
	if err != nil {
		a.tvWriteErr(w, r, err)
		return
	}
	a.tvMutate(w, r, func(ctx context.Context, tx *ent.Client) (tvAnswer, error) {
		if _, err := tx.Product.UpdateOneID(id).SetStatus(product.StatusCLOSED).Save(ctx); err != nil {
			return tvAnswer{}, tvNotFound(err, "product")
		}
		return tvAnswer{status: http.StatusOK}, nil
	})
}

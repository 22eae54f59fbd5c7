// Package bsai serves bankingservice.ai's customer routes,
// /v1/profiles/{profileId}/customers (rest-compat §1, §5 items 1–3).
package bsai

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"

	entgo "entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"custgraph/ent"
	"custgraph/ent/address"
	"custgraph/ent/customer"
	"custgraph/ent/schema"
	"custgraph/internal/access"
	"custgraph/internal/apperr"
	"custgraph/internal/entbatch"
	"custgraph/internal/idempotency"
	"custgraph/internal/refusal"
	"custgraph/rest/restcore"
)

// This file serves bankingservice.ai's customer routes (rest-compat §1, §5
// items 1–3): /v1/profiles/{profileId}/customers[/{customerId}], where
// profileId is the bank's code. A bankingservice.ai customer is an ent
// Customer (phone = mobile_phone_number) plus its primary Address
// (is_primary = true), embedded as "address". Every read and write goes
// through ent with the caller's context, so ent's validation, access rules
// and audit trail apply as they do to GraphQL; this file only translates
// names, shapes and errors.

// Paging limits of the list (rest-compat §5.1).
const (
	bsaiDefaultSize = 20
	bsaiMaxSize     = 100
)

// bsaiCustomer is bankingservice.ai's Customer. Every key is always
// present: text fields are "" when empty and address is null when the
// customer has no primary address (the seed shows the key in every
// customer, so clients can rely on it).
type bsaiCustomer struct {
	ID        string       `json:"id"`
	Company   string       `json:"company"`
	FirstName string       `json:"first_name"`
	LastName  string       `json:"last_name"`
	Email     string       `json:"email"`
	Phone     string       `json:"phone"`
	Address   *bsaiAddress `json:"address"`
	Created   string       `json:"created"`
}

// bsaiAddress is the embedded address, in requests and answers. premise is
// a JSON integer (null or absent when the address has none).
type bsaiAddress struct {
	Premise      *int   `json:"premise"`
	SubPremise   string `json:"sub_premise"`
	Building     string `json:"building"`
	PostalCode   string `json:"postal_code"`
	Thoroughfare string `json:"thoroughfare"`
	Locality     string `json:"locality"`
	State        string `json:"state"`
	Country      string `json:"country"`
}

// bsaiCustomerInput is the body of POST and PUT ("PSU creation customer
// type"): every field optional; an absent (or null) field is empty, an
// absent (or null) address is no address.
type bsaiCustomerInput struct {
	Company   string       `json:"company"`
	FirstName string       `json:"first_name"`
	LastName  string       `json:"last_name"`
	Email     string       `json:"email"`
	Phone     string       `json:"phone"`
	Address   *bsaiAddress `json:"address"`
}

// bsaiPage is the list envelope.
type bsaiPage struct {
	Page  int            `json:"page"`
	Pages int            `json:"pages"`
	Size  int            `json:"size"`
	Count int            `json:"count"`
	Data  []bsaiCustomer `json:"data"`
}

// bsaiErrorBody is the error body of every bankingservice.ai answer that is
// not a success (rest-compat §5.2).
type bsaiErrorBody struct {
	Status  int    `json:"status"`
	Error   string `json:"error"`
	Message string `json:"message"`
}

// bsaiCustomerFields and bsaiAddressFields name ent's fields the way the
// client wrote them, so that an ent error points at the client's JSON.
// line_1 and line_2 are derived by ent from thoroughfare, premise,
// sub_premise and building (line_1, "<thoroughfare> <premise><sub_premise>",
// is bounded as a whole); legal_name, derived on create from first_name
// and last_name (or company), is named by bsaiLegalName.
var (
	bsaiCustomerFields = map[string]string{
		customer.FieldMobilePhoneNumber: "phone",
		customer.FieldFirstName:         "first_name",
		customer.FieldLastName:          "last_name",
		customer.FieldCompany:           "company",
		customer.FieldEmail:             "email",
	}
	bsaiAddressFields = map[string]string{
		address.FieldPremise:      "address.premise",
		address.FieldSubPremise:   "address.sub_premise",
		address.FieldBuilding:     "address.building",
		address.FieldPostcode:     "address.postal_code",
		address.FieldThoroughfare: "address.thoroughfare",
		address.FieldCity:         "address.locality",
		address.FieldState:        "address.state",
		address.FieldCountryCode:  "address.country",
		address.FieldLine1:        "address.thoroughfare, address.premise, address.sub_premise",
		address.FieldLine2:        "address.building",
	}
)

// bsaiFieldsOf marks an error of an ent operation with the JSON names of
// the operation's fields.
type bsaiFieldsOf struct {
	err   error
	names map[string]string
}

func (e *bsaiFieldsOf) Error() string { return e.err.Error() }
func (e *bsaiFieldsOf) Unwrap() error { return e.err }

func bsaiNamed(err error, names map[string]string) error {
	if err == nil {
		return nil
	}
	return &bsaiFieldsOf{err: err, names: names}
}

// api is the state every route of the family shares.
type api struct{ *restcore.Core }

// Mount registers the five customer routes on r, under /v1: an unknown URL
// there answers 404 not_found and a method its route does not serve 405
// method_not_allowed (with Allow), in the family's error body.
func Mount(r chi.Router, core *restcore.Core) {
	a := &api{core}
	r.Route("/v1", func(r chi.Router) {
		r.Use(refusal.Door(WriteRefusal))
		r.Use(a.Authenticate(a.bsaiUnauthorized))
		r.Use(a.After...)
		r.NotFound(bsaiNoRoute)
		r.MethodNotAllowed(bsaiNoMethod(r))
		r.Group(func(r chi.Router) {
			r.Use(a.Keyed(bsaiRefuse, a.bsaiFail, nil))
			r.Get("/profiles/{profileId}/customers", a.bsaiList)
			r.Post("/profiles/{profileId}/customers", a.bsaiCreate)
			r.Get("/profiles/{profileId}/customers/{customerId}", a.bsaiGet)
			r.Put("/profiles/{profileId}/customers/{customerId}", a.bsaiReplace)
			r.Delete("/profiles/{profileId}/customers/{customerId}", a.bsaiDelete)
		})
	})
}

// bsaiNoRoute answers a URL under /v1 that no route serves: 404 not_found.
func bsaiNoRoute(w http.ResponseWriter, r *http.Request) {
	bsaiWriteError(w, http.StatusNotFound, "not_found", fmt.Sprintf("path %q not found", r.URL.Path))
}

// bsaiNoMethod answers a method the route of the URL (in routes) does not
// serve: 405 method_not_allowed, its methods in the Allow header.
func bsaiNoMethod(routes chi.Routes) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		allowed := strings.Join(restcore.AllowedMethods(routes, r), ", ")
		w.Header().Set("Allow", allowed)
		bsaiWriteError(w, http.StatusMethodNotAllowed, "method_not_allowed",
			fmt.Sprintf("method %s is not allowed on path %q (allowed: %s)", r.Method, r.URL.Path, allowed))
	}
}

// --- errors -----------------------------------------------------------------

func bsaiWriteError(w http.ResponseWriter, status int, code, msg string) {
	restcore.WriteJSON(w, status, bsaiErrorBody{Status: status, Error: code, Message: msg})
}

// bsaiRefuse answers a refused Idempotency-Key: 400 invalid_request (a
// malformed key), 409 idempotency_key_in_use, 422 idempotency_key_reused.
func bsaiRefuse(w http.ResponseWriter, _ *http.Request, e *idempotency.Refusal) {
	code := "invalid_request"
	if e.Status != http.StatusBadRequest {
		code = strings.ToLower(e.Code)
	}
	bsaiWriteError(w, e.Status, code, e.Message)
}

// WriteRefusal is the family's refusal.Writer: the error body of §5.2 with
// error "rate_limited" or "too_many_concurrent_requests" (429),
// "payload_too_large" (413), "unsupported_media_type" (415) or
// "service_unavailable" (503, the database unreachable).
func WriteRefusal(w http.ResponseWriter, _ *http.Request, f *refusal.Refusal) {
	code := strings.ToLower(f.Code)
	switch f.Status {
	case http.StatusRequestEntityTooLarge:
		code = "payload_too_large"
	case http.StatusUnsupportedMediaType:
		code = "unsupported_media_type"
	case http.StatusServiceUnavailable:
		code = "service_unavailable"
	}
	bsaiWriteError(w, f.Status, code, f.Message)
}

// bsaiUnauthorized answers refused credentials (a garbage, expired or
// revoked token): 401 with the challenge; 500 when checking them failed.
func (a *api) bsaiUnauthorized(w http.ResponseWriter, r *http.Request, err error) {
	msg, internal := restcore.Refusal(err)
	if internal {
		bsaiWriteError(w, http.StatusInternalServerError, "internal_error", "internal error")
		return
	}
	a.Challenge(w, err)
	bsaiWriteError(w, http.StatusUnauthorized, "unauthorized", msg)
}

// bsaiFail answers the error of a data operation (or of reading the body)
// in bankingservice.ai's format. ent's field names become the client's.
func (a *api) bsaiFail(w http.ResponseWriter, r *http.Request, err error) {
	var be *restcore.BodyError
	if errors.As(err, &be) {
		code := "invalid_request"
		switch be.Status {
		case http.StatusRequestEntityTooLarge:
			code = "payload_too_large"
		case http.StatusUnsupportedMediaType:
			code = "unsupported_media_type"
		case http.StatusRequestTimeout:
			code = "request_timeout"
		}
		bsaiWriteError(w, be.Status, code, be.Error())
		return
	}
	e := a.Classify(r, err)
	field := e.Field
	var named *bsaiFieldsOf
	if field != "" && errors.As(err, &named) {
		if n, ok := named.names[field]; ok {
			field = n
		}
	}
	msg := e.Message
	if field != "" {
		msg = field + ": " + msg
	}
	switch e.Code {
	case apperr.BadUserInput:
		bsaiWriteError(w, http.StatusBadRequest, "invalid_request", msg)
	case apperr.NotFound:
		bsaiWriteError(w, http.StatusNotFound, "not_found", msg)
	case apperr.Conflict:
		bsaiWriteError(w, http.StatusConflict, "conflict", msg)
	case apperr.Unauthenticated:
		a.Challenge(w, nil)
		bsaiWriteError(w, http.StatusUnauthorized, "unauthorized", msg)
	case apperr.Forbidden:
		if len(e.Roles) > 0 {
			msg = "missing role: " + strings.Join(e.Roles, " or ")
			if e.Bank != "" {
				msg += " at bank " + e.Bank
			}
		}
		bsaiWriteError(w, http.StatusForbidden, "forbidden", msg)
	case apperr.Timeout:
		bsaiWriteError(w, http.StatusServiceUnavailable, "timeout", msg)
	case apperr.Unavailable:
		refusal.Write(w, r, refusal.DatabaseUnavailableBecause(e.Message))
	default:
		bsaiWriteError(w, http.StatusInternalServerError, "internal_error", "internal error")
	}
}

// --- the request's profile, customer and body ---------------------------------

// bsaiProfile checks the caller's credentials, finds the profile's bank
// (banks are public: only an unknown code is 404) and checks that the
// caller holds, at that bank, one role of each of roles (ent's role
// tables; 403 naming them otherwise), in that order, as OBP does. It
// writes the error and returns nil when it fails.
func (a *api) bsaiProfile(w http.ResponseWriter, r *http.Request, roles ...[]access.Role) *ent.Bank {
	if access.FromContext(r.Context()) == nil {
		a.Challenge(w, nil)
		bsaiWriteError(w, http.StatusUnauthorized, "unauthorized",
			"authentication is required: send Authorization: Bearer <access token>")
		return nil
	}
	code := chi.URLParam(r, "profileId")
	b, err := restcore.BankByCode(r.Context(), a.Client, code)
	if ent.IsNotFound(err) {
		bsaiWriteError(w, http.StatusNotFound, "not_found", fmt.Sprintf("profile %q not found", code))
		return nil
	}
	if err != nil {
		a.bsaiFail(w, r, err)
		return nil
	}
	v := access.FromContext(r.Context())
	for _, set := range roles {
		if !v.HasAny(b.ID, set...) {
			a.bsaiFail(w, r, access.Missing(b.Code, set...))
			return nil
		}
	}
	return b
}

// The roles of the routes, from ent's tables: reading a customer (and
// its embedded address, an Address), creating and deleting one (a PUT's
// update roles depend on the fields and the address it changes: ent checks
// them, after the read).
var (
	bsaiRead        = schema.ReadRoles[ent.TypeCustomer]
	bsaiReadAddress = schema.ReadRoles[ent.TypeAddress]
	bsaiCreate      = schema.WriteRoles[ent.TypeCustomer][entgo.OpCreate]
	bsaiDelete      = schema.WriteRoles[ent.TypeCustomer][entgo.OpDeleteOne]
)

// bsaiCustomerID reads the customerId path parameter: a malformed id names
// no customer, so it is 404 like an unknown one.
func bsaiCustomerID(w http.ResponseWriter, r *http.Request) (uuid.UUID, bool) {
	s := chi.URLParam(r, "customerId")
	id, ok := restcore.ParseUUID(s)
	if !ok {
		bsaiWriteError(w, http.StatusNotFound, "not_found", fmt.Sprintf("customer %q not found", s))
	}
	return id, ok
}

// bsaiDecode reads a CustomerInput body; it must be a JSON object.
func (a *api) bsaiDecode(w http.ResponseWriter, r *http.Request) (*bsaiCustomerInput, bool) {
	var in bsaiCustomerInput
	var raw []byte
	err := a.DecodeJSON(w, r, &in, &raw)
	if err == nil && bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		err = &restcore.BodyError{Status: http.StatusBadRequest, Message: "the body must be a JSON object"}
	}
	if err != nil {
		a.bsaiFail(w, r, err)
		return nil, false
	}
	return &in, true
}

// bsaiPrimary restricts an address query to the primary address.
func bsaiPrimary(q *ent.AddressQuery) { q.Where(address.IsPrimary(true)) }

// bsaiLoad reads a customer of bank bankID with its primary address; a
// customer of another bank is not found.
func bsaiLoad(ctx context.Context, c *ent.Client, bankID, id uuid.UUID) (*ent.Customer, error) {
	return bsaiFetch(ctx, c, bankID, id, false)
}

// bsaiLoadForChange is bsaiLoad inside a transaction that goes on to change
// the customer from what it read (PUT's diff, DELETE's answer): the
// customer's row, then its primary address's, are locked (FOR NO KEY UPDATE
// on PostgreSQL; the order every writer of a customer's addresses keeps)
// until the transaction ends. So a PUT and another change of the customer
// or of its primary address, through any door, run one after the other, the
// PUT diffing against the other's result, not against the rows before it
// (which answered 200 twice and stored a mix of the two, or 404 for the
// primary address another request had just removed: a locking read skips a
// row deleted meanwhile). SQLite runs one write at a time.
func bsaiLoadForChange(ctx context.Context, tx *ent.Client, bankID, id uuid.UUID) (*ent.Customer, error) {
	return bsaiFetch(ctx, tx, bankID, id, tx.Dialect() == dialect.Postgres)
}

// bsaiFetch is bsaiLoad, with both rows locked when lock is set.
func bsaiFetch(ctx context.Context, c *ent.Client, bankID, id uuid.UUID, lock bool) (*ent.Customer, error) {
	q := c.Customer.Query().ReadsID(id).Where(customer.BankID(bankID)) // (its address in the same round trip)
	primary := bsaiPrimary
	if lock {
		l := sql.WithLockClause("FOR NO KEY UPDATE")
		q.ForUpdate(l)
		primary = func(aq *ent.AddressQuery) { bsaiPrimary(aq); aq.ForUpdate(l) }
	}
	cu, err := q.WithAddresses(primary).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apperr.NotFoundf("", "customer %s not found", id)
	}
	return cu, err
}

// primaryOf is the loaded primary address of c, or nil.
func primaryOf(c *ent.Customer) *ent.Address {
	for _, ad := range c.Edges.Addresses {
		if ad.IsPrimary {
			return ad
		}
	}
	return nil
}

// bsaiView is c (with its primary address ad, nil for none) in
// bankingservice.ai's shape.
func bsaiView(c *ent.Customer, ad *ent.Address) bsaiCustomer {
	out := bsaiCustomer{
		ID:        c.ID.String(),
		Company:   c.Company,
		FirstName: c.FirstName,
		LastName:  c.LastName,
		Email:     c.Email,
		Phone:     c.MobilePhoneNumber,
		Created:   restcore.Stamp(c.CreatedAt),
	}
	if ad != nil {
		out.Address = &bsaiAddress{
			Premise:      ad.Premise,
			SubPremise:   ad.SubPremise,
			Building:     ad.Building,
			PostalCode:   ad.Postcode,
			Thoroughfare: ad.Thoroughfare,
			Locality:     ad.City,
			State:        ad.State,
			Country:      ad.CountryCode,
		}
	}
	return out
}

// --- routes -----------------------------------------------------------------

// bsaiList answers GET …/customers: one page of the profile's customers in
// (created, id) order, which the (bank_id, created_at, id) index serves; the
// bank's maintained count (ent/schema CustomerCount) and one LIMIT/OFFSET
// query (plus the eager load of the page's primary addresses).
func (a *api) bsaiList(w http.ResponseWriter, r *http.Request) {
	b := a.bsaiProfile(w, r, bsaiRead, bsaiReadAddress)
	if b == nil {
		return
	}
	q := r.URL.Query()
	page, ok := bsaiParam(w, q.Get("page"), q.Has("page"), "page", 0, 0, 0)
	if !ok {
		return
	}
	size, ok := bsaiParam(w, q.Get("size"), q.Has("size"), "size", bsaiDefaultSize, 1, bsaiMaxSize)
	if !ok {
		return
	}
	query := a.Client.Customer.Query().Where(customer.BankID(b.ID))
	counter := query.Clone()
	var (
		count int
		list  []*ent.Customer
	)
	countAll := func(ctx context.Context) (err error) {
		var counted bool
		count, counted, err = schema.BankCustomerTotal(ctx, a.Client, b.ID) // the bank's maintained count
		if err == nil && !counted {
			count, err = counter.Count(ctx)
		}
		return err
	}
	read := func(ctx context.Context) (err error) {
		list, err = query.
			Order(customer.ByCreatedAt(), customer.ByID()).
			Offset(page * size).Limit(size).
			WithAddresses(bsaiPrimary).
			All(ctx)
		return err
	}
	// The first page is read with the count (one round trip on PostgreSQL:
	// internal/entbatch); a later one once the count says it is there
	// (beyond the last page there is nothing to read).
	var err error
	if ctx := r.Context(); page == 0 {
		err = entbatch.Run(ctx, a.Client, countAll, read)
	} else if err = countAll(ctx); err == nil && page < (count+size-1)/size {
		err = read(ctx)
	}
	if err != nil {
		a.bsaiFail(w, r, err)
		return
	}
	out := bsaiPage{Page: page, Size: size, Count: count, Pages: (count + size - 1) / size, Data: []bsaiCustomer{}}
	if page < out.Pages {
		for _, c := range list {
			out.Data = append(out.Data, bsaiView(c, primaryOf(c)))
		}
	}
	restcore.WriteJSON(w, http.StatusOK, out)
}

// bsaiParam reads a paging parameter: digits only, at least low and (when
// high > 0) at most high; def when absent.
func bsaiParam(w http.ResponseWriter, s string, given bool, name string, def, low, high int) (int, bool) {
	if !given {
		return def, true
	}
	n, err := strconv.Atoi(s)
	valid := err == nil && s != "" && strings.Trim(s, "0123456789") == "" && n >= low && (high == 0 || n <= high)
	if !valid {
		msg := fmt.Sprintf("%s must be a whole number of at least %d", name, low)
		if high > 0 {
			msg = fmt.Sprintf("%s must be a whole number from %d to %d", name, low, high)
		}
		bsaiWriteError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("%s (got %q)", msg, s))
		return 0, false
	}
	return n, true
}

// bsaiCreate answers POST …/customers: the customer and its primary
// address are created in one transaction; 200 with the new Customer.
func (a *api) bsaiCreate(w http.ResponseWriter, r *http.Request) {
	b := a.bsaiProfile(w, r, bsaiCreate)
	if b == nil {
		return
	}
	in, ok := a.bsaiDecode(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	var out bsaiCustomer
	err := a.InTx(ctx, func(tx *ent.Client) error {
		create := tx.Customer.Create().SetBankID(b.ID)
		for _, f := range []struct {
			v   string
			set func(string) *ent.CustomerCreate
		}{
			{in.Company, create.SetCompany},
			{in.FirstName, create.SetFirstName},
			{in.LastName, create.SetLastName},
			{in.Email, create.SetEmail},
			{in.Phone, create.SetMobilePhoneNumber},
		} {
			if f.v != "" {
				f.set(f.v)
			}
		}
		c, err := create.Save(ctx)
		if err != nil {
			return bsaiNamed(err, bsaiLegalName(in))
		}
		var ad *ent.Address
		if in.Address != nil {
			if ad, err = bsaiCreateAddress(ctx, tx, c.ID, in.Address); err != nil {
				return err
			}
		}
		out = bsaiView(c, ad)
		return nil
	})
	if err != nil {
		a.bsaiFail(w, r, err)
		return
	}
	restcore.WriteJSON(w, http.StatusOK, out)
}

// bsaiLegalName is bsaiCustomerFields for a write of in: ent derives
// legal_name from first_name and last_name, or else from company (on create,
// and on update while it is still derived), so an error of legal_name (too
// long) is about the fields it was made of.
func bsaiLegalName(in *bsaiCustomerInput) map[string]string {
	var from []string
	if in.FirstName != "" {
		from = append(from, "first_name")
	}
	if in.LastName != "" {
		from = append(from, "last_name")
	}
	if len(from) == 0 {
		from = []string{"company"}
	}
	names := maps.Clone(bsaiCustomerFields)
	names[customer.FieldLegalName] = strings.Join(from, ", ")
	return names
}

// bsaiCreateAddress creates the primary address of customer id.
func bsaiCreateAddress(ctx context.Context, tx *ent.Client, id uuid.UUID, in *bsaiAddress) (*ent.Address, error) {
	create := tx.Address.Create().SetCustomerID(id).SetIsPrimary(true).SetNillablePremise(in.Premise)
	for _, f := range []struct {
		v   string
		set func(string) *ent.AddressCreate
	}{
		{in.SubPremise, create.SetSubPremise},
		{in.Building, create.SetBuilding},
		{in.PostalCode, create.SetPostcode},
		{in.Thoroughfare, create.SetThoroughfare},
		{in.Locality, create.SetCity},
		{in.State, create.SetState},
		{in.Country, create.SetCountryCode},
	} {
		if f.v != "" {
			f.set(f.v)
		}
	}
	ad, err := create.Save(ctx)
	return ad, bsaiNamed(err, bsaiAddressFields)
}

// bsaiGet answers GET …/customers/{customerId}.
func (a *api) bsaiGet(w http.ResponseWriter, r *http.Request) {
	b := a.bsaiProfile(w, r, bsaiRead, bsaiReadAddress)
	if b == nil {
		return
	}
	id, ok := bsaiCustomerID(w, r)
	if !ok {
		return
	}
	c, err := bsaiLoad(r.Context(), a.Client, b.ID, id)
	if err != nil {
		a.bsaiFail(w, r, err)
		return
	}
	restcore.WriteJSON(w, http.StatusOK, bsaiView(c, primaryOf(c)))
}

// bsaiReplace answers PUT …/customers/{customerId}: the body replaces the
// customer's bankingservice.ai fields (an absent one becomes empty) and its
// primary address (an absent address removes it, a given one replaces its
// fields or creates it), in one transaction. Only the values that differ
// are written, so the audit trail names what changed and ent asks for the
// roles of those fields (CanUpdateCustomer covers them all). Fields
// bankingservice.ai does not show (customer_number, tags, …) are kept;
// a legal name and address lines that ent derived follow the new names
// and street (ent's rule), ones set through OBP are kept.
func (a *api) bsaiReplace(w http.ResponseWriter, r *http.Request) {
	b := a.bsaiProfile(w, r, bsaiRead, bsaiReadAddress)
	if b == nil {
		return
	}
	in, ok := a.bsaiDecode(w, r)
	if !ok {
		return
	}
	id, ok := bsaiCustomerID(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	var out bsaiCustomer
	err := a.InTx(ctx, func(tx *ent.Client) error {
		old, err := bsaiLoadForChange(ctx, tx, b.ID, id)
		if err != nil {
			return err
		}
		update := tx.Customer.UpdateOneID(id)
		for _, f := range []struct {
			old, v string
			set    func(string) *ent.CustomerUpdateOne
			clear  func() *ent.CustomerUpdateOne
		}{
			{old.Company, in.Company, update.SetCompany, update.ClearCompany},
			{old.FirstName, in.FirstName, update.SetFirstName, update.ClearFirstName},
			{old.LastName, in.LastName, update.SetLastName, update.ClearLastName},
			{old.Email, in.Email, update.SetEmail, update.ClearEmail},
			{old.MobilePhoneNumber, in.Phone, update.SetMobilePhoneNumber, update.ClearMobilePhoneNumber},
		} {
			switch {
			case f.v == f.old:
			case f.v == "":
				f.clear()
			default:
				f.set(f.v)
			}
		}
		c, err := update.Save(ctx)
		if err != nil {
			return bsaiNamed(err, bsaiLegalName(in))
		}
		prim := primaryOf(old)
		var ad *ent.Address
		switch {
		case in.Address == nil && prim != nil:
			if err := tx.Address.DeleteOneID(prim.ID).Exec(ctx); err != nil {
				return err
			}
		case in.Address != nil && prim == nil:
			if ad, err = bsaiCreateAddress(ctx, tx, id, in.Address); err != nil {
				return err
			}
		case in.Address != nil:
			if ad, err = bsaiReplaceAddress(ctx, tx, prim, in.Address); err != nil {
				return err
			}
		}
		out = bsaiView(c, ad)
		return nil
	})
	if err != nil {
		a.bsaiFail(w, r, err)
		return
	}
	restcore.WriteJSON(w, http.StatusOK, out)
}

// bsaiReplaceAddress gives the primary address old the values of in,
// writing only the fields that differ (nothing when none does).
func bsaiReplaceAddress(ctx context.Context, tx *ent.Client, old *ent.Address, in *bsaiAddress) (*ent.Address, error) {
	update := tx.Address.UpdateOneID(old.ID)
	changed := false
	switch {
	case in.Premise == nil && old.Premise != nil:
		update.ClearPremise()
		changed = true
	case in.Premise != nil && (old.Premise == nil || *old.Premise != *in.Premise):
		update.SetPremise(*in.Premise)
		changed = true
	}
	for _, f := range []struct {
		old, v string
		set    func(string) *ent.AddressUpdateOne
		clear  func() *ent.AddressUpdateOne
	}{
		{old.SubPremise, in.SubPremise, update.SetSubPremise, update.ClearSubPremise},
		{old.Building, in.Building, update.SetBuilding, update.ClearBuilding},
		{old.Postcode, in.PostalCode, update.SetPostcode, update.ClearPostcode},
		{old.Thoroughfare, in.Thoroughfare, update.SetThoroughfare, update.ClearThoroughfare},
		{old.City, in.Locality, update.SetCity, update.ClearCity},
		{old.State, in.State, update.SetState, update.ClearState},
		{old.CountryCode, in.Country, update.SetCountryCode, update.ClearCountryCode},
	} {
		switch {
		case f.v == f.old:
			continue
		case f.v == "":
			f.clear()
		default:
			f.set(f.v)
		}
		changed = true
	}
	if !changed {
		return old, nil
	}
	ad, err := update.Save(ctx)
	return ad, bsaiNamed(err, bsaiAddressFields)
}

// bsaiDelete answers DELETE …/customers/{customerId}: 200 with the customer
// as it was. Its addresses and other records go with it (ent's cascade);
// ent refuses to delete a customer holding products (409 conflict).
func (a *api) bsaiDelete(w http.ResponseWriter, r *http.Request) {
	b := a.bsaiProfile(w, r, bsaiRead, bsaiReadAddress, bsaiDelete)
	if b == nil {
		return
	}
	id, ok := bsaiCustomerID(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	var out bsaiCustomer
	err := a.InTx(ctx, func(tx *ent.Client) error {
		old, err := bsaiLoadForChange(ctx, tx, b.ID, id)
		if err != nil {
			return err
		}
		out = bsaiView(old, primaryOf(old))
		return tx.Customer.DeleteOneID(id).Exec(ctx)
	})
	if err != nil {
		a.bsaiFail(w, r, err)
		return
	}
	restcore.WriteJSON(w, http.StatusOK, out)
}

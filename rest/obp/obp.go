// Package obp serves the Open Bank Project's customer routes under
// /obp/v3.1.0 and /obp/v5.1.0 (rest-compat §3, §5 items 10–15) and OBP's
// discovery routes (root, banks, users/current).
package obp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"custgraph/ent"
	"custgraph/ent/customer"
	"custgraph/internal/access"
	"custgraph/internal/apperr"
	"custgraph/internal/idempotency"
	"custgraph/internal/refusal"
	"custgraph/internal/validate"
	"custgraph/rest/restcore"
)

// This file is what every Open Bank Project route shares: OBP's error
// messages and statuses (rest-compat §3.2), the checks in OBP's order
// (§3.4: A auth, B bank, R role, J JSON, C customer) and OBP's dates.

// OBP's error texts (obp-api util/ErrorMessages.scala). Clients match on the
// "OBP-NNNNN" prefix; some call sites append context after the text.
const (
	obpNotLoggedIn              = "OBP-20001: User not logged in. Authentication is required!"
	obpMissingRoles             = "OBP-20006: User is missing one or more roles: "
	obpUserNotFoundByID         = "OBP-20005: User not found. Please specify a valid value for USER_ID."
	obpUserNotFoundByUserID     = "OBP-20057: User not found by userId."
	obpBankNotFound             = "OBP-30001: Bank not found. Please specify a valid value for BANK_ID."
	obpInvalidJSONFormat        = "OBP-10001: Incorrect json format."
	obpInvalidJSONContent       = "OBP-10020: Incorrect json."
	obpInvalidFilter            = "OBP-10016: Incorrect filter Parameters in URL. "
	obpSortDirection            = "OBP-10023: obp_sort_direction parameter can only take two values: DESC or ASC!"
	obpOffset                   = "OBP-10024: wrong value for obp_offset parameter. Please send a positive integer (=>0)!"
	obpLimit                    = "OBP-10025: wrong value for obp_limit parameter. Please send a positive integer (=>1)!"
	obpDateFormat               = "OBP-10026: Failed to parse date string. Please use this format yyyy-MM-dd'T'HH:mm:ss.SSS'Z'!"
	obpCustomerNotFoundByID     = "OBP-30046: Customer not found. Please specify a valid value for CUSTOMER_ID."
	obpCustomerNotFound         = "OBP-30002: Customer not found. Please specify a valid value for CUSTOMER_NUMBER."
	obpCustomerNumberTaken      = "OBP-30006: Customer Number already exists. Please specify a different value for BANK_ID or CUSTOMER_NUMBER."
	obpUserAlreadyLinked        = "OBP-30007: The User is already linked to a Customer at the bank specified by BANK_ID"
	obpUserCustomerLinkNotFound = "OBP-30008: User Customer Link not found by USER_ID"
	obpCreateUserCustomerLink   = "OBP-30025: Could not create user_customer_links "
	obpCreateCustomer           = "OBP-30051: Cannot create Customer"
	obpUpdateCustomer           = "OBP-30058: Cannot update the Customer"
	obpInvalidBankID            = "OBP-30111: Invalid Bank Id. The BANK_ID should only contain 0-9/a-z/A-Z/'-'/'.'/'_', the length should be smaller than 255."
	obpTaxResidenceNotFound     = "OBP-30300: Tax Residence not found by TAX_RESIDENCE_ID. "
	obpAddressNotFound          = "OBP-30310: Customer's Address not found by CUSTOMER_ADDRESS_ID. "
	obpConnector                = "OBP-50200: Connector cannot return the data we requested."
	obpFirehoseNotAllowed       = "OBP-00012: Customer firehose is not allowed on this instance. Please set allow_customer_firehose = true in props files. "
	obpUnknownError             = "OBP-50000: Unknown Error."
	obpUnexpected               = "OBP-50015: The server encountered an unexpected condition which prevented it from fulfilling the request."
	obpTooManyRequests          = "OBP-10018: Too Many Requests."
	obpDatabaseUnavailable      = "OBP-50019: Cannot connect to the OBP database."
	obpNotFoundURL              = "OBP-10404: 404 Not Found. The server could not find the requested URI. Please double check your URL, headers and body. Note: the Content-Type header MUST be application/json for POST and PUT requests."
)

// obpChallenge is OBP's WWW-Authenticate header of a 401.
const obpChallenge = `OAuth realm="custgraph", Bearer realm="custgraph", DirectLogin realm="custgraph"`

// obpChain joins OBP failures the way OBP does, outermost first.
func obpChain(msgs ...string) string { return strings.Join(msgs, " <- ") }

// obpErrorBody is OBP's error body: code is the HTTP status.
type obpErrorBody struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// writeOBPError writes an OBP error. As OBP does, a message with OBP-20001
// is a 401 (with the challenge) and one with OBP-20006 a 403.
func writeOBPError(w http.ResponseWriter, status int, msg string) {
	switch {
	case strings.Contains(msg, "OBP-20001"):
		status = http.StatusUnauthorized
		if len(w.Header().Values("WWW-Authenticate")) == 0 {
			w.Header().Set("WWW-Authenticate", obpChallenge)
		}
	case strings.Contains(msg, "OBP-20006"):
		status = http.StatusForbidden
	}
	restcore.WriteJSON(w, status, obpErrorBody{Code: status, Message: msg})
}

// obpRefuse answers a refused Idempotency-Key (400, 409, 422). OBP has no
// such header, so no OBP-NNNNN code: the message starts with custgraph's
// code (IDEMPOTENCY_KEY_INVALID, _IN_USE, _REUSED).
func obpRefuse(w http.ResponseWriter, _ *http.Request, e *idempotency.Refusal) {
	writeOBPError(w, e.Status, e.Code+": "+e.Message)
}

// WriteRefusal is the family's refusal.Writer, and DirectLogin's: OBP's
// error body with OBP's texts: 429 OBP-10018 (too many requests, or too
// many at once), 413 OBP-10001 (the body too large), 400 OBP-10001 for a
// body that is not JSON (as OBP answers it: it has no 415), 503 OBP-50019
// (the database unreachable). The refusal's message follows the text.
func WriteRefusal(w http.ResponseWriter, _ *http.Request, f *refusal.Refusal) {
	status, msg := f.Status, ""
	switch f.Status {
	case http.StatusTooManyRequests:
		msg = obpTooManyRequests
	case http.StatusRequestEntityTooLarge, http.StatusRequestTimeout:
		msg = obpInvalidJSONFormat
	case http.StatusUnsupportedMediaType:
		status, msg = http.StatusBadRequest, obpInvalidJSONFormat
	case http.StatusServiceUnavailable:
		msg = obpDatabaseUnavailable
	default:
		msg = obpUnknownError
	}
	writeOBPError(w, status, msg+" "+upperFirst(f.Message)+".")
}

// upperFirst is s with its first letter upper-case.
func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// obpUnauthorized answers refused credentials on OBP routes.
func (a *api) obpUnauthorized(w http.ResponseWriter, r *http.Request, err error) {
	msg, internal := restcore.Refusal(err)
	if internal {
		writeOBPError(w, http.StatusInternalServerError, obpUnexpected)
		return
	}
	w.Header().Set("WWW-Authenticate", obpChallenge)
	writeOBPError(w, http.StatusUnauthorized, obpNotLoggedIn+" "+msg)
}

// obpCall is one OBP request on its way through OBP's checks. Each check
// writes OBP's error and returns false when it fails; the handler then
// returns at once.
type obpCall struct {
	a      *api
	w      http.ResponseWriter
	r      *http.Request
	ctx    context.Context
	viewer *access.Viewer
	bankID string    // the BANK_ID path parameter
	bank   *ent.Bank // set by findBank; nil when no bank has the code

	body     []byte // the request body, once read (rawBody)
	bodyErr  error
	bodyRead bool
}

// rawBody reads the request's body once (size and Content-Type checked).
func (o *obpCall) rawBody() ([]byte, error) {
	if !o.bodyRead {
		o.body, o.bodyErr = o.a.ReadBody(o.w, o.r)
		o.bodyRead = true
	}
	return o.body, o.bodyErr
}

// decodeBody decodes the request's body into dst.
func (o *obpCall) decodeBody(dst any) error {
	raw, err := o.rawBody()
	if err != nil {
		return err
	}
	return restcore.Unmarshal(raw, dst)
}

func (a *api) obp(w http.ResponseWriter, r *http.Request) *obpCall {
	return &obpCall{a: a, w: w, r: r, ctx: r.Context(), viewer: access.FromContext(r.Context()), bankID: chi.URLParam(r, "bankId")}
}

// fail writes an OBP error and returns false.
func (o *obpCall) fail(status int, msg string) bool {
	writeOBPError(o.w, status, msg)
	return false
}

// auth (A): the request must be logged in.
func (o *obpCall) auth() bool {
	if o.viewer == nil {
		return o.fail(http.StatusUnauthorized, obpNotLoggedIn)
	}
	return true
}

// bankFormat checks BANK_ID's characters (OBP-30111).
func (o *obpCall) bankFormat() bool {
	if validate.BankCode(o.bankID) != nil {
		return o.fail(http.StatusBadRequest, obpInvalidBankID)
	}
	return true
}

// findBank looks BANK_ID up. Banks are public (ent's privacy rules show
// every bank to every authenticated caller), so only a code no bank has
// is not found. It does not fail: see requireBank.
func (o *obpCall) findBank() bool {
	if o.bank != nil {
		return true
	}
	b, err := restcore.BankByCode(o.ctx, o.a.Client, o.bankID)
	switch {
	case ent.IsNotFound(err), err != nil && restcore.ApperrCode(err) == apperr.Forbidden:
		return true
	case err != nil:
		return o.err(err, "")
	}
	o.bank = b
	return true
}

// requireBank (B): BANK_ID must name a bank (OBP-30001). It comes before
// the role check, as in OBP: a client learns from the 403 which
// entitlement to ask for at a bank that exists.
func (o *obpCall) requireBank() bool {
	if !o.findBank() {
		return false
	}
	if o.bank == nil {
		return o.fail(http.StatusNotFound, obpBankNotFound+" Current BankId is "+o.bankID)
	}
	return true
}

// bankUUID is the bank's id, uuid.Nil when it was not found.
func (o *obpCall) bankUUID() uuid.UUID {
	if o.bank == nil {
		return uuid.Nil
	}
	return o.bank.ID
}

// need (R): the caller must hold one of roles at BANK_ID (each role is also
// satisfied by its AtAnyBank variant, as ent checks). The roles come from
// ent's tables (schema.WriteRoles, ReadRoles, FieldRoles) wherever ent has
// the operation; ent checks them again when the work is done. listed are
// the names OBP's message shows: OBP's documented "A or B" list, or nil for
// the first role alone.
func (o *obpCall) need(roles []access.Role, listed ...access.Role) bool {
	if !o.findBank() {
		return false
	}
	if o.viewer.HasAny(o.bankUUID(), roles...) {
		return true
	}
	return o.fail(http.StatusForbidden, obpMissingRoles+rolesText(o.bankID, roles, listed))
}

// rolesText is OBP's text of missing roles: "CanGetCustomer at
// Bank(gh.29.uk)" for one bank role, "A or B for BankId(gh.29.uk)." for a
// list, the bare name for a system role.
func rolesText(bankID string, roles, listed []access.Role) string {
	if len(listed) == 0 {
		listed = roles[:1]
	}
	names := make([]string, len(listed))
	system := true
	for i, r := range listed {
		names[i] = string(r)
		system = system && access.IsSystem(r)
	}
	switch {
	case system && len(names) == 1:
		return names[0]
	case len(names) == 1:
		return names[0] + " at Bank(" + bankID + ")"
	default:
		return strings.Join(names, " or ") + " for BankId(" + bankID + ")."
	}
}

// decode (J): the body must be the JSON of dst (OBP-10001, naming OBP's
// case class of the body as OBP does).
func (o *obpCall) decode(dst any, caseClass string) bool {
	if err := o.decodeBody(dst); err != nil {
		be, _ := err.(*restcore.BodyError)
		status, msg := http.StatusBadRequest, obpInvalidJSONFormat+" The Json body should be the "+caseClass+" "
		if be != nil {
			if be.Status == http.StatusRequestEntityTooLarge || be.Status == http.StatusRequestTimeout {
				status = be.Status
			}
			msg += "(" + be.Error() + ")"
		}
		return o.fail(status, msg)
	}
	return true
}

// customer (C): CUSTOMER_ID must name a customer of BANK_ID that the
// caller may see (OBP-30046): a customer of another bank is not found
// under this one; c is the caller's client or a transaction's.
func (o *obpCall) customer(c *ent.Client, id string) (*ent.Customer, bool) {
	notFound := func() (*ent.Customer, bool) {
		return nil, o.fail(http.StatusNotFound, obpCustomerNotFoundByID+". Current CustomerId("+id+")")
	}
	cid, ok := restcore.ParseUUID(id)
	if !ok || o.bank == nil {
		return notFound()
	}
	cu, err := c.Customer.Query().Where(customer.ID(cid), customer.BankID(o.bank.ID)).Only(o.ctx)
	if ent.IsNotFound(err) {
		return notFound()
	}
	if err != nil {
		return nil, o.err(err, "")
	}
	return cu, true
}

// err writes the OBP error of a failed data operation: ent's rules map onto
// OBP's codes (duplicate customer number → OBP-30006, missing role →
// OBP-20006, not found → 404, other bad input → 400 with fallback's code),
// anything else is OBP-50015 (500, logged).
func (o *obpCall) err(err error, fallback string) bool {
	e := o.a.Classify(o.r, err)
	if fallback == "" {
		fallback = obpUnknownError
	}
	switch e.Code {
	case apperr.Unauthenticated:
		return o.fail(http.StatusUnauthorized, obpNotLoggedIn)
	case apperr.Forbidden:
		if len(e.Roles) > 0 {
			roles := make([]access.Role, 0, len(e.Roles))
			for _, r := range e.Roles {
				if access.AtAnyBank(access.Role(r)) != access.Role(r) || access.IsSystem(access.Role(r)) && !strings.HasSuffix(r, "AtAnyBank") {
					roles = append(roles, access.Role(r))
				}
			}
			if len(roles) == 0 {
				roles = []access.Role{access.Role(e.Roles[0])}
			}
			return o.fail(http.StatusForbidden, obpMissingRoles+rolesText(o.bankID, roles, nil))
		}
		return o.fail(http.StatusForbidden, obpMissingRoles+e.Message)
	case apperr.NotFound:
		return o.fail(http.StatusNotFound, fallback+" "+e.Error())
	case apperr.Conflict:
		if e.Field == customer.FieldCustomerNumber {
			return o.fail(http.StatusBadRequest, obpCustomerNumberTaken)
		}
		return o.fail(http.StatusBadRequest, fallback+" "+e.Error())
	case apperr.BadUserInput:
		return o.fail(http.StatusBadRequest, obpInvalidJSONContent+" "+e.Error())
	case apperr.Timeout:
		return o.fail(http.StatusRequestTimeout, obpUnknownError+" "+e.Message)
	case apperr.Unavailable:
		refusal.Write(o.w, o.r, refusal.DatabaseUnavailableBecause(e.Message))
		return false
	default:
		return o.fail(http.StatusInternalServerError, obpUnexpected)
	}
}

// OBP's body date-time format (lift-json's DefaultFormats): UTC, no
// milliseconds.
const obpDateTime = "2006-01-02T15:04:05Z"

// obpStamp formats a time as OBP writes dates in bodies.
func obpStamp(t time.Time) string { return t.UTC().Format(obpDateTime) }

// obpStampPtr is obpStamp of an optional time; nil is OBP's null.
func obpStampPtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := obpStamp(*t)
	return &s
}

// obpDay formats an optional time as yyyy-MM-dd ("" when nil), as the V300
// shapes write dates of birth.
func obpDay(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

// OBPDate is a date in an OBP request body: accepted as
// yyyy-MM-dd'T'HH:mm:ss'Z', RFC 3339 (with milliseconds) or yyyy-MM-dd
// (rest-compat §5.13); null or absent is the zero OBPDate.
type OBPDate struct {
	time.Time
	Set bool
}

func init() {
	restcore.TypeNames[restcore.ReflectType[OBPDate]()] = "date (yyyy-MM-dd'T'HH:mm:ss'Z' or yyyy-MM-dd)"
}

// UnmarshalJSON reads one of the accepted date forms.
func (d *OBPDate) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		*d = OBPDate{}
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return restcore.BadValue[OBPDate](data)
	}
	t, ok := parseOBPDate(s)
	if !ok {
		return restcore.BadValue[OBPDate](data)
	}
	*d = OBPDate{Time: t, Set: true}
	return nil
}

// Ptr is the date as an optional time.
func (d OBPDate) Ptr() *time.Time {
	if !d.Set {
		return nil
	}
	t := d.Time
	return &t
}

// parseOBPDate reads yyyy-MM-dd'T'HH:mm:ss'Z', RFC 3339 with or without
// fractions, or yyyy-MM-dd; the result is in UTC.
func parseOBPDate(s string) (time.Time, bool) {
	for _, layout := range []string{obpDateTime, time.RFC3339Nano, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), validate.RFC3339Offset(t)
		}
	}
	return time.Time{}, false
}

// api is the state every route of the family shares.
type api struct {
	*restcore.Core
	// customerFirehose allows OBP's customer firehose (OBP's
	// allow_customer_firehose); off answers OBP-00012.
	customerFirehose bool
}

// Mount registers the OBP routes on r under /obp, whose unknown URLs answer
// OBP's 404 (OBP-10404); firehose is OBP's allow_customer_firehose.
func Mount(r chi.Router, core *restcore.Core, firehose bool) {
	a := &api{Core: core, customerFirehose: firehose}
	r.Route("/obp", func(r chi.Router) {
		r.Use(refusal.Door(WriteRefusal))
		r.Use(obpCorrelationID)
		r.Use(a.Authenticate(a.obpUnauthorized))
		r.Use(a.After...)
		r.Use(a.Keyed(obpRefuse, func(w http.ResponseWriter, r *http.Request, err error) { a.obp(w, r).err(err, "") }, nil))
		notFound := func(w http.ResponseWriter, r *http.Request) {
			writeOBPError(w, http.StatusNotFound, obpNotFoundURL+" Current Url is ("+r.URL.String()+
				"), Current Content-Type Header is ("+r.Header.Get("Content-Type")+")")
		}
		r.NotFound(notFound)
		r.MethodNotAllowed(notFound)
		a.obpDiscoveryRoutes(r)
		a.obpCustomerRoutes(r)
		a.obpRecordRoutes(r)
	})
}

// obpIDFields are the body fields OBP checks as OBP ids before anything
// else of a POST body (APIUtil.getAllObpIdKeyValuePairs, v4.0.0 and later).
var obpIDFields = map[string]bool{
	"id": true, "user_id": true, "bank_id": true, "account_id": true, "customer_id": true, "branch_id": true,
	"atm_id": true, "transaction_id": true, "transaction_request_id": true, "card_id": true, "view_id": true,
}

// obpIDChars are the characters of an OBP id (APIUtil.checkObpId).
var obpIDChars = regexp.MustCompile(`^[A-Za-z0-9\-._]+$`)

// obpIDMaxLen is the longest OBP id (a UUID's length).
const obpIDMaxLen = 36

// ids is OBP's check of the ids in a POST body (v4.0.0 and later: after
// authentication, before the bank): every string field named as an id
// (obpIDFields), at any depth, must be empty or OBP id characters, at most
// 36 long; else 400 "OBP-10001: Incorrect json format. Here are all
// invalid values: List((branch_id,a b))". A body that is not JSON is left
// to the J check.
func (o *obpCall) ids() bool {
	raw, err := o.rawBody()
	if be := (*restcore.BodyError)(nil); errors.As(err, &be) && be.Status == http.StatusRequestTimeout {
		// (The request's context has expired: the bank cannot be read.)
		return o.fail(be.Status, obpInvalidJSONFormat+" ("+be.Error()+")")
	}
	if err != nil {
		return true
	}
	bad, ok := badIDs(raw)
	if !ok || len(bad) == 0 {
		return true
	}
	return o.fail(http.StatusBadRequest, obpInvalidJSONFormat+" Here are all invalid values: List("+strings.Join(bad, ", ")+")")
}

// badIDs returns the "(key,value)" of every id field of body (obpIDFields,
// at any depth) whose value is not an OBP id; ok is false when body is not
// one JSON value nested at most maxIDsDepth deep, which is left to the J
// check (json.Decode, which refuses a depth over 10000 as well). It reads
// the tokens in a loop with a stack of its own: a walk that recursed once
// per level held ~140 MB of stack for a 1 MiB body of brackets, and a
// larger body overflowed the goroutine's stack and ended the process.
func badIDs(body []byte) (bad []string, ok bool) {
	type level struct {
		object  bool   // an object: its tokens alternate between a key and its value
		wantKey bool   // (objects) the next token is a key or the closing brace
		key     string // (objects) the key of the value being read
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var stack []level
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		if top := len(stack) - 1; top >= 0 && stack[top].wantKey {
			if k, isKey := tok.(string); isKey {
				stack[top].key, stack[top].wantKey = k, false
				continue
			}
			stack = stack[:top] // (the closing brace)
		} else {
			key := ""
			if top >= 0 && stack[top].object {
				key, stack[top].wantKey = stack[top].key, true
			}
			switch t := tok.(type) {
			case json.Delim:
				switch {
				case t == ']':
					stack = stack[:top]
				case len(stack) == maxIDsDepth:
					return nil, false
				default:
					stack = append(stack, level{object: t == '{', wantKey: t == '{'})
				}
			case string:
				if obpIDFields[key] && t != "" && (!obpIDChars.MatchString(t) || len(t) > obpIDMaxLen) {
					bad = append(bad, "("+key+","+t+")")
				}
			}
		}
		if len(stack) == 0 {
			return bad, true
		}
	}
}

// maxIDsDepth is the deepest nesting badIDs reads, encoding/json's.
const maxIDsDepth = 10000

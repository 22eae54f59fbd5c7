package obp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	entgo "entgo.io/ent"
	"entgo.io/ent/dialect/sql"
	"github.com/go-chi/chi/v5"

	"custgraph/ent"
	"custgraph/ent/customer"
	"custgraph/ent/customerattribute"
	"custgraph/ent/predicate"
	"custgraph/ent/schema"
	"custgraph/ent/usercustomerlink"
	"custgraph/internal/access"
	"custgraph/internal/apperr"
	"custgraph/internal/exact"
	"custgraph/rest/restcore"
)

// This file serves the Open Bank Project's customer routes (rest-compat
// §3.4 #1–#7 and #19–#26, §5 items 10–15): create, read, list, the
// firehose and the field-by-field updates of a customer. Each handler runs
// OBP's checks in OBP's order through obpCall (obp.go) and then calls the
// same ent operations GraphQL calls, with the caller's context, so ent's
// validation, privacy rules, role checks and audit trail apply unchanged;
// this file only translates OBP's JSON and OBP's error texts. The only
// early role checks are obpCall.need's, with the roles read from ent's own
// tables (schema.WriteRoles, ReadRoles, FieldRoles).

// obpCustomerRoutes registers the customer routes inside /obp. Each route
// is served under the version of the seed that documents it (§5.14):
// v3.1.0 (seed 003), and v5.1.0 for the v5 create (seed 004). chi prefers
// the static segments (customer-number) to the {customerId} pattern.
func (a *api) obpCustomerRoutes(r chi.Router) {
	r.Post("/v3.1.0/banks/{bankId}/customers", a.obpCreateCustomerV310)
	r.Post("/v5.1.0/banks/{bankId}/customers", a.obpCreateCustomerV510)
	r.Get("/v3.1.0/banks/{bankId}/customers", a.obpCustomersOfUserAtBank)
	r.Post("/v3.1.0/banks/{bankId}/customers/customer-number", a.obpCustomerByNumber)
	r.Get("/v3.1.0/banks/{bankId}/customers/{customerId}", a.obpGetCustomer)
	r.Get("/v3.1.0/users/current/customers", a.obpCustomersOfUser)
	r.Get("/v3.1.0/banks/{bankId}/firehose/customers", a.obpFirehoseCustomers)
	for _, u := range obpCustomerUpdates {
		r.Put("/v3.1.0/banks/{bankId}/customers/{customerId}/"+u.path, a.obpUpdateCustomer(u))
	}
}

// --- answers -------------------------------------------------------------

// obpFaceImage is OBP's face_image; date is null when the customer has none.
type obpFaceImage struct {
	URL  string  `json:"url"`
	Date *string `json:"date"`
}

// obpCreditRating is OBP's credit_rating (rating and source).
type obpCreditRating struct {
	Rating string `json:"rating"`
	Source string `json:"source"`
}

// obpCreditLimit is OBP's AmountOfMoney: amount is a decimal string, ""
// when the customer has no credit limit.
type obpCreditLimit struct {
	Currency string `json:"currency"`
	Amount   string `json:"amount"`
}

// obpCustomerAttribute is one entry of customer_attributes.
type obpCustomerAttribute struct {
	CustomerAttributeID string `json:"customer_attribute_id"`
	Name                string `json:"name"`
	Type                string `json:"type"`
	Value               string `json:"value"`
}

// obpCustomerCore holds the fields every OBP customer shape shares
// (CustomerJsonV210); bank_id is the bank's code, as OBP's BANK_ID.
type obpCustomerCore struct {
	BankID                   string          `json:"bank_id"`
	CustomerID               string          `json:"customer_id"`
	CustomerNumber           string          `json:"customer_number"`
	LegalName                string          `json:"legal_name"`
	MobilePhoneNumber        string          `json:"mobile_phone_number"`
	Email                    string          `json:"email"`
	FaceImage                obpFaceImage    `json:"face_image"`
	DateOfBirth              any             `json:"date_of_birth"`
	RelationshipStatus       string          `json:"relationship_status"`
	Dependants               int             `json:"dependants"`
	DobOfDependants          []string        `json:"dob_of_dependants"`
	CreditRating             obpCreditRating `json:"credit_rating"`
	CreditLimit              obpCreditLimit  `json:"credit_limit"`
	HighestEducationAttained string          `json:"highest_education_attained"`
	EmploymentStatus         string          `json:"employment_status"`
	KycStatus                bool            `json:"kyc_status"`
	LastOkDate               *string         `json:"last_ok_date"`
}

// obpCustomerJSON is CustomerJsonV310 / CustomerJsonV300 (the V210 fields
// plus title, branch_id, name_suffix), with customer_attributes in the
// "WithAttributes" shapes.
type obpCustomerJSON struct {
	obpCustomerCore
	Title              string                  `json:"title"`
	BranchID           string                  `json:"branch_id"`
	NameSuffix         string                  `json:"name_suffix"`
	CustomerAttributes *[]obpCustomerAttribute `json:"customer_attributes,omitempty"`
}

// obpCustomersJSON is the list envelope of #5, #6 and #7.
type obpCustomersJSON[T any] struct {
	Customers []T `json:"customers"`
}

// obpCustomerBase fills the shared fields; day selects the V300 date form
// of date_of_birth and dob_of_dependants (yyyy-MM-dd, "" when unknown)
// instead of OBP's body date-time (null when unknown).
func obpCustomerBase(bankCode string, c *ent.Customer, day bool) obpCustomerCore {
	out := obpCustomerCore{
		BankID:                   bankCode,
		CustomerID:               c.ID.String(),
		CustomerNumber:           c.CustomerNumber,
		LegalName:                c.LegalName,
		MobilePhoneNumber:        c.MobilePhoneNumber,
		Email:                    c.Email,
		FaceImage:                obpFaceImage{URL: c.FaceImageURL, Date: obpStampPtr(c.FaceImageDate)},
		RelationshipStatus:       c.RelationshipStatus,
		Dependants:               c.Dependants,
		DobOfDependants:          make([]string, 0, len(c.DobOfDependants)),
		CreditRating:             obpCreditRating{Rating: c.CreditRating, Source: c.CreditSource},
		CreditLimit:              obpCreditLimit{Currency: c.CreditLimitCurrency},
		HighestEducationAttained: c.HighestEducationAttained,
		EmploymentStatus:         c.EmploymentStatus,
		KycStatus:                c.KycStatus,
		LastOkDate:               obpStampPtr(c.LastOkDate),
	}
	if c.CreditLimitAmount != nil {
		out.CreditLimit.Amount = c.CreditLimitAmount.String()
	}
	if day {
		out.DateOfBirth = obpDay(c.DateOfBirth)
	} else {
		out.DateOfBirth = obpStampPtr(c.DateOfBirth)
	}
	for _, d := range c.DobOfDependants {
		if day {
			out.DobOfDependants = append(out.DobOfDependants, obpDay(&d))
		} else {
			out.DobOfDependants = append(out.DobOfDependants, obpStamp(d))
		}
	}
	return out
}

// obpCustomerV310 is CustomerJsonV310, or CustomerWithAttributesJsonV310
// when attrs is not nil.
func obpCustomerV310(bankCode string, c *ent.Customer, attrs []*ent.CustomerAttribute) obpCustomerJSON {
	return obpCustomerFull(obpCustomerBase(bankCode, c, false), c, attrs)
}

// obpCustomerV300 is CustomerJsonV300, or CustomerWithAttributesJsonV300
// when attrs is not nil: dates of birth as yyyy-MM-dd.
func obpCustomerV300(bankCode string, c *ent.Customer, attrs []*ent.CustomerAttribute) obpCustomerJSON {
	return obpCustomerFull(obpCustomerBase(bankCode, c, true), c, attrs)
}

// obpCustomerV210 is CustomerJsonV210: no title, branch_id, name_suffix.
func obpCustomerV210(bankCode string, c *ent.Customer) obpCustomerCore {
	return obpCustomerBase(bankCode, c, false)
}

func obpCustomerFull(core obpCustomerCore, c *ent.Customer, attrs []*ent.CustomerAttribute) obpCustomerJSON {
	out := obpCustomerJSON{obpCustomerCore: core, Title: c.Title, BranchID: c.BranchID, NameSuffix: c.NameSuffix}
	if attrs != nil {
		list := make([]obpCustomerAttribute, len(attrs))
		for i, at := range attrs {
			list[i] = obpCustomerAttribute{CustomerAttributeID: at.ID.String(), Name: at.Name, Type: string(at.Type), Value: at.Value}
		}
		out.CustomerAttributes = &list
	}
	return out
}

// obpCustomerBankCode is the code of c's bank, which the query loaded
// (WithBank).
func obpCustomerBankCode(c *ent.Customer) string {
	if c.Edges.Bank != nil {
		return c.Edges.Bank.Code
	}
	return ""
}

// --- requests ------------------------------------------------------------

// obpAmount is credit_limit.amount: a decimal written as a JSON string
// ("10.12"); "" is no amount. Anything else is OBP-10001 naming the field.
type obpAmount struct {
	Value *exact.Decimal
}

func init() {
	restcore.TypeNames[restcore.ReflectType[obpAmount]()] = `decimal number written as a string (e.g. "10.12")`
}

// UnmarshalJSON reads the decimal string.
func (a *obpAmount) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return restcore.BadValue[obpAmount](data)
	}
	if s = strings.TrimSpace(s); s == "" {
		*a = obpAmount{}
		return nil
	}
	d, err := exact.Parse(s)
	if err != nil {
		return restcore.BadValue[obpAmount](data)
	}
	*a = obpAmount{Value: &d}
	return nil
}

type obpFaceImageIn struct {
	URL  *string  `json:"url"`
	Date *OBPDate `json:"date"`
}

type obpCreditRatingIn struct {
	Rating *string `json:"rating"`
	Source *string `json:"source"`
}

type obpCreditLimitIn struct {
	Currency *string    `json:"currency"`
	Amount   *obpAmount `json:"amount"`
}

// obpCustomerIn is the body of both creates: PostCustomerJsonV310 (every
// field required, no customer_number) and PostCustomerJsonV500 (legal_name
// and mobile_phone_number required). Absent fields are nil; which ones
// must be present is checked by obpDecodeRequired, as OBP's JSON
// extraction (OBP-10001) does.
type obpCustomerIn struct {
	CustomerNumber           *string            `json:"customer_number"`
	LegalName                *string            `json:"legal_name"`
	MobilePhoneNumber        *string            `json:"mobile_phone_number"`
	Email                    *string            `json:"email"`
	FaceImage                *obpFaceImageIn    `json:"face_image"`
	DateOfBirth              *OBPDate           `json:"date_of_birth"`
	RelationshipStatus       *string            `json:"relationship_status"`
	Dependants               *int               `json:"dependants"`
	DobOfDependants          []OBPDate          `json:"dob_of_dependants"`
	CreditRating             *obpCreditRatingIn `json:"credit_rating"`
	CreditLimit              *obpCreditLimitIn  `json:"credit_limit"`
	HighestEducationAttained *string            `json:"highest_education_attained"`
	EmploymentStatus         *string            `json:"employment_status"`
	KycStatus                *bool              `json:"kyc_status"`
	LastOkDate               *OBPDate           `json:"last_ok_date"`
	Title                    *string            `json:"title"`
	BranchID                 *string            `json:"branch_id"`
	NameSuffix               *string            `json:"name_suffix"`
}

// obpSet calls set with *v when the request has the field.
func obpSet[T any](set func(T), v *T) {
	if v != nil {
		set(*v)
	}
}

// obpSetDate sets a date field the request has.
func obpSetDate(set func(time.Time), d *OBPDate) {
	if d != nil && d.Set {
		set(d.Time)
	}
}

// apply copies the fields the request has onto the mutation; ent then
// checks and stores them.
func (in *obpCustomerIn) apply(m *ent.CustomerMutation) {
	if in.CustomerNumber != nil {
		m.SetCustomerNumber(*in.CustomerNumber)
	}
	obpSet(m.SetLegalName, in.LegalName)
	obpSet(m.SetMobilePhoneNumber, in.MobilePhoneNumber)
	obpSet(m.SetEmail, in.Email)
	if in.FaceImage != nil {
		obpSet(m.SetFaceImageURL, in.FaceImage.URL)
		obpSetDate(m.SetFaceImageDate, in.FaceImage.Date)
	}
	obpSetDate(m.SetDateOfBirth, in.DateOfBirth)
	obpSet(m.SetRelationshipStatus, in.RelationshipStatus)
	obpSet(m.SetDependants, in.Dependants)
	if in.DobOfDependants != nil {
		m.SetDobOfDependants(obpTimes(in.DobOfDependants))
	}
	if in.CreditRating != nil {
		obpSet(m.SetCreditRating, in.CreditRating.Rating)
		obpSet(m.SetCreditSource, in.CreditRating.Source)
	}
	if in.CreditLimit != nil {
		obpSet(m.SetCreditLimitCurrency, in.CreditLimit.Currency)
		if in.CreditLimit.Amount != nil {
			if v := in.CreditLimit.Amount.Value; v != nil {
				m.SetCreditLimitAmount(*v)
			} else {
				m.ClearCreditLimitAmount()
			}
		}
	}
	obpSet(m.SetHighestEducationAttained, in.HighestEducationAttained)
	obpSet(m.SetEmploymentStatus, in.EmploymentStatus)
	obpSet(m.SetKycStatus, in.KycStatus)
	obpSetDate(m.SetLastOkDate, in.LastOkDate)
	obpSet(m.SetTitle, in.Title)
	obpSet(m.SetBranchID, in.BranchID)
	obpSet(m.SetNameSuffix, in.NameSuffix)
}

func obpTimes(ds []OBPDate) []time.Time {
	out := make([]time.Time, len(ds))
	for i, d := range ds {
		out[i] = d.Time
	}
	return out
}

// obpDecodeRequired is the J check of a body whose fields OBP's case class
// requires: the body must decode (obpCall.decode) and hold every field not
// named in optional (dotted names; a nested object's fields are required
// when the object is present). Like OBP's JSON extraction, a missing or
// null required field is 400 OBP-10001 naming the case class.
func obpDecodeRequired(o *obpCall, dst any, caseClass string, optional ...string) bool {
	if !o.decode(dst, caseClass) {
		return false
	}
	var missing []string
	obpMissing(reflect.ValueOf(dst).Elem(), "", optional, &missing)
	if len(missing) > 0 {
		return o.fail(http.StatusBadRequest, obpInvalidJSONFormat+" The Json body should be the "+caseClass+
			" (missing or null: "+strings.Join(missing, ", ")+")")
	}
	return true
}

var jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()

// obpMissing appends the names of v's required fields that are nil.
func obpMissing(v reflect.Value, prefix string, optional []string, out *[]string) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name := prefix + strings.Split(f.Tag.Get("json"), ",")[0]
		fv := v.Field(i)
		opt := false
		for _, o := range optional {
			opt = opt || o == name
		}
		switch fv.Kind() {
		case reflect.Pointer:
			if fv.IsNil() {
				if !opt {
					*out = append(*out, name)
				}
				continue
			}
			if d, ok := fv.Interface().(*OBPDate); ok && !d.Set && !opt {
				*out = append(*out, name)
			}
			e := fv.Elem()
			if e.Kind() == reflect.Struct && !reflect.PointerTo(e.Type()).Implements(jsonUnmarshaler) {
				obpMissing(e, name+".", optional, out)
			}
		case reflect.Slice:
			if fv.IsNil() {
				if !opt {
					*out = append(*out, name)
				}
				continue
			}
			for j := range fv.Len() {
				if d, ok := fv.Index(j).Interface().(OBPDate); ok && !d.Set {
					*out = append(*out, fmt.Sprintf("%s[%d]", name, j))
				}
			}
		}
	}
}

// dependants is the body's dependants (0 when absent, as ent's default).
func (in *obpCustomerIn) dependants() int {
	if in.Dependants == nil {
		return 0
	}
	return *in.Dependants
}

// --- errors --------------------------------------------------------------

// obpCustomerWriteError writes the OBP error of a failed create or update
// of a customer. ent's rules decide; this only picks OBP's text: the
// dependants rule (ent's error on dob_of_dependants) is OBP-10020 with
// OBP's wording, a customer number ent refuses on the v5 create is
// OBP-10001, a taken number OBP-30006, a customer that is not there under
// BANK_ID OBP-30046, any other refused value fallback (OBP-30051 on
// create, OBP-30058 on update) with ent's detail; missing roles and server
// failures as obpCall.err.
func obpCustomerWriteError(o *obpCall, e *apperr.Error, fallback string, in *obpCustomerIn, customerID string) {
	switch {
	case e.Code == apperr.BadUserInput && in != nil && (e.Field == customer.FieldDobOfDependants || e.Field == customer.FieldDependants) &&
		in.dependants() != len(in.DobOfDependants):
		// (dependants: -1 with no dates is this rule too, OBP's first check)
		n := in.dependants()
		o.fail(http.StatusBadRequest, fmt.Sprintf("%s The field dependants(%d) not equal the length(%d) of dob_of_dependants array",
			obpInvalidJSONContent, n, len(in.DobOfDependants)))
	case e.Code == apperr.BadUserInput && e.Field == customer.FieldCustomerNumber && in != nil:
		if in.CustomerNumber != nil && strings.Contains(*in.CustomerNumber, "::::") {
			o.fail(http.StatusBadRequest, obpInvalidJSONFormat+" customer_number can not contain `::::` characters")
			return
		}
		o.fail(http.StatusBadRequest, obpInvalidJSONFormat+" "+e.Error())
	case e.Code == apperr.Conflict && e.Field == customer.FieldCustomerNumber:
		o.fail(http.StatusBadRequest, obpCustomerNumberTaken)
	case e.Code == apperr.NotFound && customerID != "":
		o.fail(http.StatusNotFound, obpCustomerNotFoundByID+". Current CustomerId("+customerID+")")
	case e.Code == apperr.BadUserInput, e.Code == apperr.Conflict, e.Code == apperr.NotFound:
		o.fail(http.StatusBadRequest, fallback+" "+e.Error())
	case e.Code == apperr.Internal:
		o.fail(http.StatusInternalServerError, obpUnexpected)
	default:
		o.err(e, fallback)
	}
}

// --- #1, #2 create -------------------------------------------------------

// obpCreateRoles are the roles of a customer create (ent's table) and the
// list OBP's message names.
func obpCreateRoles() ([]access.Role, []access.Role) {
	return schema.WriteRoles[ent.TypeCustomer][entgo.OpCreate],
		[]access.Role{access.CanCreateCustomer, access.AtAnyBank(access.CanCreateCustomer)}
}

// obpCreateCustomerV310 is #1, POST /v3.1.0/banks/{bankId}/customers:
// A→R→B→J as OBP (rest-compat §3.4: the role before the bank, so a caller
// without CanCreateCustomerAtAnyBank is 403 at a bank that does not exist),
// then ent's create (201 CustomerJsonV310). The number is always generated
// by ent.
func (a *api) obpCreateCustomerV310(w http.ResponseWriter, r *http.Request) {
	o := a.obp(w, r)
	roles, listed := obpCreateRoles()
	if !o.auth() || !o.need(roles, listed...) || !o.requireBank() {
		return
	}
	var in obpCustomerIn
	if !obpDecodeRequired(o, &in, "PostCustomerJsonV310", "customer_number") {
		return
	}
	in.CustomerNumber = nil // not part of PostCustomerJsonV310: set by the backend
	a.obpCreateCustomer(o, &in)
}

// obpCreateCustomerV510 is #2, POST /v5.1.0/banks/{bankId}/customers (the
// v5.0.0 create): A → the body's ids (branch_id: OBP id characters, 400
// OBP-10001) → B→R→J; legal_name and mobile_phone_number required (400
// OBP-10001), customer_number optional (with "::::" 400 OBP-10001; a taken
// one is OBP-30006, §5.10).
func (a *api) obpCreateCustomerV510(w http.ResponseWriter, r *http.Request) {
	o := a.obp(w, r)
	roles, listed := obpCreateRoles()
	if !o.auth() || !o.ids() || !o.requireBank() || !o.need(roles, listed...) {
		return
	}
	var in obpCustomerIn
	if !obpDecodeRequired(o, &in, "PostCustomerJsonV500", "customer_number", "email", "face_image", "date_of_birth",
		"relationship_status", "dependants", "dob_of_dependants", "credit_rating", "credit_limit",
		"highest_education_attained", "employment_status", "kyc_status", "last_ok_date", "title", "branch_id", "name_suffix") {
		return
	}
	a.obpCreateCustomer(o, &in)
}

func (a *api) obpCreateCustomer(o *obpCall, in *obpCustomerIn) {
	var cu *ent.Customer
	err := a.InTx(o.ctx, func(tx *ent.Client) error {
		b := tx.Customer.Create().SetBankID(o.bank.ID)
		in.apply(b.Mutation())
		var err error
		cu, err = b.Save(o.ctx)
		return err
	})
	if err != nil {
		obpCustomerWriteError(o, a.Classify(o.r, err), obpCreateCustomer, in, "")
		return
	}
	restcore.WriteJSON(o.w, http.StatusCreated, obpCustomerV310(o.bank.Code, cu, nil))
}

// --- #3, #4 read one -----------------------------------------------------

// obpAttributes are the customer's attributes, by name.
func (o *obpCall) obpAttributes(c *ent.Customer) ([]*ent.CustomerAttribute, bool) {
	attrs, err := c.QueryAttributes().Order(customerattribute.ByName(), customerattribute.ByID()).All(o.ctx)
	if err != nil {
		return nil, o.err(err, "")
	}
	return attrs, true
}

// obpGetCustomer is #3, GET /v3.1.0/banks/{bankId}/customers/{customerId}:
// A→B→R→C, 200 CustomerWithAttributesJsonV310. Unlike upstream, the
// customer must be BANK_ID's (tenancy).
func (a *api) obpGetCustomer(w http.ResponseWriter, r *http.Request) {
	o := a.obp(w, r)
	if !o.auth() || !o.requireBank() || !o.need(schema.ReadRoles[ent.TypeCustomer]) {
		return
	}
	cu, ok := o.customer(a.Client, chi.URLParam(r, "customerId"))
	if !ok {
		return
	}
	attrs, ok := o.obpAttributes(cu)
	if !ok {
		return
	}
	restcore.WriteJSON(w, http.StatusOK, obpCustomerV310(o.bank.Code, cu, attrs))
}

// obpCustomerNumberIn is PostCustomerNumberJsonV310.
type obpCustomerNumberIn struct {
	CustomerNumber *string `json:"customer_number"`
}

// obpCustomerByNumber is #4, POST /v3.1.0/banks/{bankId}/customers/customer-number
// (a read): A→B→R→J→ 404 OBP-30002 when BANK_ID has no such number.
func (a *api) obpCustomerByNumber(w http.ResponseWriter, r *http.Request) {
	o := a.obp(w, r)
	if !o.auth() || !o.requireBank() || !o.need(schema.ReadRoles[ent.TypeCustomer]) {
		return
	}
	var in obpCustomerNumberIn
	if !obpDecodeRequired(o, &in, "PostCustomerNumberJsonV310") {
		return
	}
	var cu *ent.Customer
	var err error = &ent.NotFoundError{} // (a number with a NUL is no customer's: restcore.Storable)
	if restcore.Storable(*in.CustomerNumber) {
		cu, err = a.Client.Customer.Query().
			Where(customer.BankID(o.bank.ID), customer.CustomerNumber(*in.CustomerNumber)).Only(o.ctx)
	}
	if ent.IsNotFound(err) {
		o.fail(http.StatusNotFound, obpCustomerNotFound)
		return
	}
	if err != nil {
		o.err(err, "")
		return
	}
	attrs, ok := o.obpAttributes(cu)
	if !ok {
		return
	}
	restcore.WriteJSON(w, http.StatusOK, obpCustomerV310(o.bank.Code, cu, attrs))
}

// --- #5, #6 the current user's customers ---------------------------------

// obpLinkedCustomers is the query of the customers linked to the logged-in
// user (UserCustomerLink), oldest first. ent's privacy lets a user read
// these without any role in a context marked schema.OwnCustomers (the
// handlers of #5 and #6 mark theirs). nil for a caller that is not a user (an API
// client has no linked customers).
func (o *obpCall) obpLinkedCustomers() *ent.CustomerQuery {
	if o.viewer.Kind != access.KindUser {
		return nil
	}
	return o.a.Client.Customer.Query().
		Where(customer.HasUserLinksWith(usercustomerlink.UserID(o.viewer.ID))).
		Order(customer.ByCreatedAt(), customer.ByID())
}

// obpCustomersOfUser is #5, GET /v3.1.0/users/current/customers: every
// customer linked to the logged-in user, at any bank, with its attributes
// ({"customers":[CustomerWithAttributesJsonV300]}). No role is needed; an
// API client (not a user) gets an empty list.
func (a *api) obpCustomersOfUser(w http.ResponseWriter, r *http.Request) {
	o := a.obp(w, r.WithContext(schema.OwnCustomers(r.Context())))
	if !o.auth() {
		return
	}
	page, ok := o.pagingUpTo(obpMaxCustomersWithAttributes, "customers")
	if !ok {
		return
	}
	out := obpCustomersJSON[obpCustomerJSON]{Customers: []obpCustomerJSON{}}
	if q := o.obpLinkedCustomers(); q != nil {
		list, ok := readPage[*ent.Customer](o, page, q.WithBank().WithAttributes(func(q *ent.CustomerAttributeQuery) {
			q.Order(customerattribute.ByName(), customerattribute.ByID())
		}))
		if !ok {
			return
		}
		for _, c := range list {
			attrs := c.Edges.Attributes
			if attrs == nil {
				attrs = []*ent.CustomerAttribute{}
			}
			out.Customers = append(out.Customers, obpCustomerV300(obpCustomerBankCode(c), c, attrs))
		}
	}
	restcore.WriteJSON(w, http.StatusOK, out)
}

// obpCustomersOfUserAtBank is #6, GET /v3.1.0/banks/{bankId}/customers:
// A→B, then the logged-in user's linked customers at BANK_ID
// ({"customers":[CustomerJsonV210]}). An API client is not a user and has
// no linked customers: it gets an empty list (it reads a bank's customers
// through the firehose or GraphQL).
func (a *api) obpCustomersOfUserAtBank(w http.ResponseWriter, r *http.Request) {
	o := a.obp(w, r.WithContext(schema.OwnCustomers(r.Context())))
	if !o.auth() || !o.requireBank() {
		return
	}
	page, ok := o.paging()
	if !ok {
		return
	}
	out := obpCustomersJSON[obpCustomerCore]{Customers: []obpCustomerCore{}}
	if q := o.obpLinkedCustomers(); q != nil {
		list, ok := readPage[*ent.Customer](o, page, q.Where(customer.BankID(o.bank.ID)))
		if !ok {
			return
		}
		for _, c := range list {
			out.Customers = append(out.Customers, obpCustomerV210(o.bank.Code, c))
		}
	}
	restcore.WriteJSON(w, http.StatusOK, out)
}

// --- #7 firehose ---------------------------------------------------------

// OBP's firehose query date format (yyyy-MM-dd'T'HH:mm:ss.SSS'Z'); the
// layout also reads the …SSSZ form with a numeric zone (+0000).
const obpQueryDate = "2006-01-02T15:04:05.000Z0700"

// obpFirehoseParams are the paging, sorting and date parameters of the
// firehose; every other query parameter filters on customer attributes.
var obpFirehoseParams = []string{"limit", "offset", "sort_direction", "from_date", "to_date"}

// obpFirehoseMaxFilters bounds the attribute filters of one firehose
// request: each is a subquery, and 4,000 of them made SQLite refuse the
// statement (a 500) after seconds of work.
const obpFirehoseMaxFilters = 16

// obpParam is the value of an OBP query parameter, under its name or its
// obp_-prefixed alias (the alias wins).
func obpParam(r *http.Request, name string) (string, bool) {
	q := r.URL.Query()
	if v, ok := q["obp_"+name]; ok && len(v) > 0 {
		return v[0], true
	}
	if v, ok := q[name]; ok && len(v) > 0 {
		return v[0], true
	}
	return "", false
}

// obpFirehoseCustomers is #7, GET /v3.1.0/banks/{bankId}/firehose/customers:
// A → the instance flag (400 OBP-00012, §5.10) → R (the system role
// CanUseCustomerFirehoseAtAnyBank) → B → the parameters (400 OBP-10016
// chained with OBP-10023/24/25/26), then one page of BANK_ID's customers
// ({"customers":[CustomerJsonV300]}), ordered by last_ok_date (then id;
// customers without one last), filtered on updated_at by from_date/to_date
// and on attributes by the other parameters. The reads run in a context
// marked schema.Firehose, the only place ent lets the role read customers.
func (a *api) obpFirehoseCustomers(w http.ResponseWriter, r *http.Request) {
	o := a.obp(w, r)
	if !o.auth() {
		return
	}
	if !a.customerFirehose {
		o.fail(http.StatusBadRequest, obpFirehoseNotAllowed)
		return
	}
	o.ctx = schema.Firehose(o.ctx)
	// The (system) role before the bank, as OBP (§3.4 #7: A→flag→R→B).
	if !o.need([]access.Role{access.CanUseCustomerFirehoseAtAnyBank}) || !o.requireBank() {
		return
	}
	bad := func(msg string) { o.fail(http.StatusBadRequest, obpChain(strings.TrimSpace(obpInvalidFilter), msg)) }
	desc := true
	if v, ok := obpParam(r, "sort_direction"); ok {
		switch strings.ToUpper(v) {
		case "ASC":
			desc = false
		case "DESC":
		default:
			bad(obpSortDirection)
			return
		}
	}
	var preds []predicate.Customer
	for _, d := range []struct {
		name string
		pred func(time.Time) predicate.Customer
	}{
		{"from_date", customer.UpdatedAtGTE},
		{"to_date", customer.UpdatedAtLTE},
	} {
		if v, ok := obpParam(r, d.name); ok {
			t, err := time.Parse(obpQueryDate, v)
			if err != nil {
				bad(obpDateFormat)
				return
			}
			preds = append(preds, d.pred(t.UTC()))
		}
	}
	page, ok := o.paging()
	if !ok {
		return
	}
	if page.limit == 0 {
		page.limit = 50
	}
	q := a.Client.Customer.Query().Where(customer.BankID(o.bank.ID)).Where(preds...)
	filters := 0
	for name, values := range r.URL.Query() {
		if name == "" || obpIsFirehoseParam(name) {
			continue
		}
		for _, v := range values {
			if !restcore.Storable(name) || !restcore.Storable(v) {
				// (no attribute holds one: restcore.Storable)
				bad("An attribute filter must be UTF-8 text without NUL characters.")
				return
			}
			if filters++; filters > obpFirehoseMaxFilters {
				bad("At most " + strconv.Itoa(obpFirehoseMaxFilters) + " customer attribute filters are allowed.")
				return
			}
			q.Where(customer.HasAttributesWith(customerattribute.Name(name), customerattribute.Value(v)))
		}
	}
	dir := sql.OrderAsc()
	if desc {
		dir = sql.OrderDesc()
	}
	list, err := q.Order(customer.ByLastOkDate(dir, sql.OrderNullsLast()), customer.ByID(dir)).
		Limit(page.limit).Offset(page.offset).All(o.ctx)
	if err != nil {
		o.err(err, "")
		return
	}
	out := obpCustomersJSON[obpCustomerJSON]{Customers: make([]obpCustomerJSON, 0, len(list))}
	for _, c := range list {
		out.Customers = append(out.Customers, obpCustomerV300(o.bank.Code, c, nil))
	}
	restcore.WriteJSON(w, http.StatusOK, out)
}

func obpIsFirehoseParam(name string) bool {
	name = strings.TrimPrefix(name, "obp_")
	for _, p := range obpFirehoseParams {
		if p == name {
			return true
		}
	}
	return false
}

// --- #19–#26 updates -----------------------------------------------------

// obpCustomerUpdate is one of OBP's field-by-field updates: PUT
// …/customers/{customerId}/<path> with OBP's body (caseClass), needing the
// roles ent's FieldRoles give for fields (or CanUpdateCustomer); listed is
// the role text OBP's 403 shows.
type obpCustomerUpdate struct {
	path      string
	caseClass string
	fields    []string
	listed    []access.Role
	body      func() any
	apply     func(body any, m *ent.CustomerMutation)
}

// The bodies of the updates (OBP's PutUpdateCustomer…JsonV310).
type (
	obpEmailIn struct {
		Email *string `json:"email"`
	}
	obpNumberIn struct {
		CustomerNumber *string `json:"customer_number"`
	}
	obpMobileIn struct {
		MobilePhoneNumber *string `json:"mobile_phone_number"`
	}
	obpIdentityIn struct {
		LegalName   *string  `json:"legal_name"`
		DateOfBirth *OBPDate `json:"date_of_birth"`
		Title       *string  `json:"title"`
		NameSuffix  *string  `json:"name_suffix"`
	}
	obpCreditLimitUpdateIn struct {
		CreditLimit *obpCreditLimitIn `json:"credit_limit"`
	}
	obpCreditRatingUpdateIn struct {
		CreditRating *string `json:"credit_rating"`
		CreditSource *string `json:"credit_source"`
	}
	obpBranchIn struct {
		BranchID *string `json:"branch_id"`
	}
	obpDataIn struct {
		FaceImage                *obpFaceImageIn `json:"face_image"`
		RelationshipStatus       *string         `json:"relationship_status"`
		Dependants               *int            `json:"dependants"`
		HighestEducationAttained *string         `json:"highest_education_attained"`
		EmploymentStatus         *string         `json:"employment_status"`
	}
)

var obpCustomerUpdates = []obpCustomerUpdate{
	{
		path: "email", caseClass: "PutUpdateCustomerEmailJsonV310",
		fields: []string{customer.FieldEmail}, listed: []access.Role{access.CanUpdateCustomerEmail},
		body:  func() any { return &obpEmailIn{} },
		apply: func(b any, m *ent.CustomerMutation) { m.SetEmail(*b.(*obpEmailIn).Email) },
	},
	{
		path: "number", caseClass: "PutUpdateCustomerNumberJsonV310",
		fields: []string{customer.FieldCustomerNumber}, listed: []access.Role{access.CanUpdateCustomerNumber},
		body:  func() any { return &obpNumberIn{} },
		apply: func(b any, m *ent.CustomerMutation) { m.SetCustomerNumber(*b.(*obpNumberIn).CustomerNumber) },
	},
	{
		path: "mobile-number", caseClass: "PutUpdateCustomerMobilePhoneNumberJsonV310",
		fields: []string{customer.FieldMobilePhoneNumber}, listed: []access.Role{access.CanUpdateCustomerMobilePhoneNumber},
		body:  func() any { return &obpMobileIn{} },
		apply: func(b any, m *ent.CustomerMutation) { m.SetMobilePhoneNumber(*b.(*obpMobileIn).MobilePhoneNumber) },
	},
	{
		path: "identity", caseClass: "PutUpdateCustomerIdentityJsonV310",
		fields: []string{customer.FieldLegalName, customer.FieldDateOfBirth, customer.FieldTitle, customer.FieldNameSuffix},
		listed: []access.Role{access.CanUpdateCustomerIdentity},
		body:   func() any { return &obpIdentityIn{} },
		apply: func(b any, m *ent.CustomerMutation) {
			in := b.(*obpIdentityIn)
			m.SetLegalName(*in.LegalName)
			m.SetDateOfBirth(in.DateOfBirth.Time)
			m.SetTitle(*in.Title)
			m.SetNameSuffix(*in.NameSuffix)
		},
	},
	{
		path: "credit-limit", caseClass: "PutUpdateCustomerCreditLimitJsonV310",
		fields: []string{customer.FieldCreditLimitCurrency, customer.FieldCreditLimitAmount},
		listed: []access.Role{access.CanUpdateCustomerCreditLimit},
		body:   func() any { return &obpCreditLimitUpdateIn{} },
		apply: func(b any, m *ent.CustomerMutation) {
			cl := b.(*obpCreditLimitUpdateIn).CreditLimit
			m.SetCreditLimitCurrency(*cl.Currency)
			if v := cl.Amount.Value; v != nil {
				m.SetCreditLimitAmount(*v)
			} else {
				m.ClearCreditLimitAmount()
			}
		},
	},
	{
		path: "credit-rating-and-source", caseClass: "PutUpdateCustomerCreditRatingAndSourceJsonV310",
		fields: []string{customer.FieldCreditRating, customer.FieldCreditSource},
		listed: []access.Role{access.CanUpdateCustomerCreditRatingAndSource, access.AtAnyBank(access.CanUpdateCustomerCreditRatingAndSource)},
		body:   func() any { return &obpCreditRatingUpdateIn{} },
		apply: func(b any, m *ent.CustomerMutation) {
			in := b.(*obpCreditRatingUpdateIn)
			m.SetCreditRating(*in.CreditRating)
			m.SetCreditSource(*in.CreditSource)
		},
	},
	{
		path: "branch", caseClass: "PutUpdateCustomerBranchJsonV310",
		fields: []string{customer.FieldBranchID},
		listed: []access.Role{access.CanUpdateCustomerBranch, access.CanUpdateCustomerIdentity},
		body:   func() any { return &obpBranchIn{} },
		apply:  func(b any, m *ent.CustomerMutation) { m.SetBranchID(*b.(*obpBranchIn).BranchID) },
	},
	{
		path: "data", caseClass: "PutUpdateCustomerDataJsonV310",
		fields: []string{customer.FieldFaceImageURL, customer.FieldFaceImageDate, customer.FieldRelationshipStatus,
			customer.FieldDependants, customer.FieldHighestEducationAttained, customer.FieldEmploymentStatus},
		listed: []access.Role{access.CanUpdateCustomerData, access.CanUpdateCustomerIdentity},
		body:   func() any { return &obpDataIn{} },
		apply: func(b any, m *ent.CustomerMutation) {
			in := b.(*obpDataIn)
			m.SetFaceImageURL(*in.FaceImage.URL)
			m.SetFaceImageDate(in.FaceImage.Date.Time)
			m.SetRelationshipStatus(*in.RelationshipStatus)
			m.SetDependants(*in.Dependants) // dob_of_dependants is not touched: ent checks the count against it
			m.SetHighestEducationAttained(*in.HighestEducationAttained)
			m.SetEmploymentStatus(*in.EmploymentStatus)
		},
	},
}

// roles are the roles that allow the update: for each field, ent's
// FieldRoles or CanUpdateCustomer. The fields of one route share their
// roles, so any one of the first field's will do (ent checks every field
// again).
func (u obpCustomerUpdate) roles() []access.Role {
	return append(append([]access.Role{}, schema.FieldRoles[u.fields[0]]...), access.CanUpdateCustomer)
}

// errOBPOwnNumber marks PUT …/number with the customer's own number.
var errOBPOwnNumber = errors.New("the customer already has this number")

// obpUpdateCustomer serves one of #19–#26: A→B→R→J→C, then ent's update
// in one transaction (200 CustomerJsonV310). C is the update itself: ent
// finds no customer with this id at BANK_ID (or none the caller may
// reach), which is OBP-30046, so a caller that holds only the field's role
// (not CanGetCustomer) can update, as in OBP. Refused values are 400
// OBP-30058 with ent's detail.
//
// PUT …/number (#20): a number another customer of the bank has is 400
// OBP-30006 (ent's unique index); as OBP checks availability, the
// customer's own current number is taken too. That is found without a
// read the caller may lack the role for: the update is tried only on a
// customer whose number differs; when that finds nothing, the same update
// without that condition tells whether the customer exists (then the
// number is its own) or not (OBP-30046), and the transaction is rolled
// back either way.
func (a *api) obpUpdateCustomer(u obpCustomerUpdate) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		o := a.obp(w, r)
		if !o.auth() || !o.requireBank() || !o.need(u.roles(), u.listed...) {
			return
		}
		body := u.body()
		if !obpDecodeRequired(o, body, u.caseClass) {
			return
		}
		id := chi.URLParam(r, "customerId")
		cid, ok := restcore.ParseUUID(id)
		if !ok {
			o.fail(http.StatusNotFound, obpCustomerNotFoundByID+". Current CustomerId("+id+")")
			return
		}
		var cu *ent.Customer
		number, isNumber := body.(*obpNumberIn)
		err := a.InTx(o.ctx, func(tx *ent.Client) error {
			upd := tx.Customer.UpdateOneID(cid).Where(customer.BankID(o.bank.ID))
			if isNumber {
				upd.Where(customer.CustomerNumberNEQ(*number.CustomerNumber))
			}
			u.apply(body, upd.Mutation())
			var err error
			cu, err = upd.Save(o.ctx)
			if isNumber && ent.IsNotFound(err) {
				again := tx.Customer.UpdateOneID(cid).Where(customer.BankID(o.bank.ID))
				u.apply(body, again.Mutation())
				if _, err2 := again.Save(o.ctx); err2 == nil {
					return errOBPOwnNumber
				}
			}
			return err
		})
		if err == nil {
			restcore.WriteJSON(w, http.StatusOK, obpCustomerV310(o.bank.Code, cu, nil))
			return
		}
		var e *apperr.Error
		if !errors.Is(err, errOBPOwnNumber) {
			e = a.Classify(r, err)
		}
		if isNumber && (e == nil || e.Code == apperr.Conflict && e.Field == customer.FieldCustomerNumber) {
			o.fail(http.StatusBadRequest, obpCustomerNumberTaken+" Current customer_number("+*number.CustomerNumber+
				") and Current bank_id("+o.bank.Code+")")
			return
		}
		obpCustomerWriteError(o, e, obpUpdateCustomer, nil, id)
	}
}

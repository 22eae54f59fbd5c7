package rest

import (
	"net/http"
	"reflect"
	"strings"

	"entgo.io/ent"
	"github.com/go-chi/chi/v5"

	gen "custgraph/ent"
	"custgraph/ent/address"
	"custgraph/ent/crmevent"
	"custgraph/ent/customermessage"
	"custgraph/ent/schema"
	"custgraph/ent/socialhandle"
	"custgraph/ent/taxresidence"
	"custgraph/ent/usercustomerlink"
	"custgraph/internal/access"
	"custgraph/internal/apperr"
)

// This file serves the Open Bank Project routes of the records that hang off
// a customer (rest-compat §3.4 #8–#18, #27, #28; §5 items 10–15): addresses,
// tax residences, social media handles, user–customer links, CRM events and
// customer messages. Each route runs OBP's checks in the row's order
// (obpCall), then the same ent operation GraphQL runs, in one transaction;
// ent's validators, role tables and privacy rules decide, and their errors
// are rendered as OBP's.

// obpRecordRoutes registers the record routes inside /obp. The static
// segments (/address next to /addresses, /tax-residence, /tax-residences
// and /tax_residencies, singular /customer next to /customers) are distinct
// literal paths, so chi never confuses them.
func (a *api) obpRecordRoutes(r chi.Router) {
	const c = "/v3.1.0/banks/{bankId}/customers/{customerId}"
	r.Post(c+"/address", a.obpRecCreateAddress)
	r.Get(c+"/addresses", a.obpRecListAddresses)
	r.Put(c+"/addresses/{customerAddressId}", a.obpRecUpdateAddress)
	r.Delete(c+"/addresses/{customerAddressId}", a.obpRecDeleteAddress)
	r.Post(c+"/tax-residence", a.obpRecCreateTaxResidence)
	r.Get(c+"/tax-residences", a.obpRecListTaxResidences)
	r.Delete(c+"/tax_residencies/{taxResidenceId}", a.obpRecDeleteTaxResidence)
	r.Post(c+"/social_media_handles", a.obpRecCreateSocialHandle)
	r.Get(c+"/social_media_handles", a.obpRecListSocialHandles)
	r.Post("/v3.1.0/banks/{bankId}/user_customer_links", a.obpRecCreateUserCustomerLink)
	r.Get("/v3.1.0/banks/{bankId}/crm-events", a.obpRecListCrmEvents)
	r.Post("/v5.1.0/banks/{bankId}/customer/{customerId}/messages", a.obpRecAddCustomerMessage)
	r.Post("/v5.1.0/banks/{bankId}/customers/{customerId}/messages", a.obpRecCreateCustomerMessage)
	r.Get("/v5.1.0/banks/{bankId}/customers/{customerId}/messages", a.obpRecListCustomerMessages)
}

// --- shared pieces of this file --------------------------------------------

// obpRecCustomer is OBP's customer check (C, OBP-30046) for the record
// routes: CUSTOMER_ID must name a customer of BANK_ID (a customer of another
// bank does not exist here). OBP makes it without CanGetCustomer, so it asks
// ent's schema.CustomerRef (the existence a writer may learn: id, bank and
// number only); the ent operation that follows checks the caller's roles.
func (a *api) obpRecCustomer(o *obpCall, id string) (*gen.Customer, bool) {
	notFound := func() (*gen.Customer, bool) {
		return nil, o.fail(http.StatusNotFound, obpCustomerNotFoundByID+". Current CustomerId("+id+")")
	}
	cid, ok := parseUUID(id)
	if !ok || o.bank == nil {
		return notFound()
	}
	cu, err := schema.CustomerRef(o.ctx, a.Client, cid)
	if apperrCode(err) == apperr.NotFound || (err == nil && cu.BankID != o.bank.ID) {
		return notFound()
	}
	if err != nil {
		return nil, o.err(err, "")
	}
	return cu, true
}

// obpRecDecodeBare is OBP v2.0.0's JSON check: the bare
// "OBP-10001: Incorrect json format." without the case class.
func (o *obpCall) obpRecDecodeBare(dst any) bool {
	if err := o.decodeBody(dst); err != nil {
		status := http.StatusBadRequest
		if be, ok := err.(*BodyError); ok && be.Status == http.StatusRequestEntityTooLarge {
			status = be.Status
		}
		return o.fail(status, obpInvalidJSONFormat)
	}
	return true
}

// obpRecRequired is OBP's extraction of a case class whose fields are all
// required: a missing field (a nil pointer in body) is OBP-10001 naming the
// case class and the field. It reads the fields' json tags.
func (o *obpCall) obpRecRequired(body any, caseClass string) bool {
	v := reflect.ValueOf(body).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.Kind() == reflect.Pointer && f.IsNil() {
			name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
			return o.fail(http.StatusBadRequest, obpInvalidJSONFormat+" The Json body should be the "+caseClass+" ("+name+": is required)")
		}
	}
	return true
}

// obpRecFailData answers a failed ent operation of a record route: a
// record that is not there (or not the customer's, or of another tenant)
// is OBP's chained not-found (notFound, under OBP-50200) when notFound is
// set; ent's refusals of values are OBP-10020 and missing roles OBP-20006
// (obpCall.err); a unique-index conflict is OBP-50200 (the connector's
// failure, as OBP reports a duplicate tax residence).
func (o *obpCall) obpRecFailData(err error, notFound string) bool {
	e := o.a.classify(o.r, err)
	switch {
	case e.Code == apperr.NotFound && notFound != "":
		return o.fail(http.StatusBadRequest, obpChain(obpConnector, notFound))
	case e.Code == apperr.Conflict:
		return o.fail(http.StatusBadRequest, obpConnector+" "+e.Error())
	}
	return o.err(err, obpConnector)
}

// writeOBPTrue answers a successful OBP delete: 200 with the JSON body true.
func writeOBPTrue(w http.ResponseWriter) { writeJSON(w, http.StatusOK, true) }

// obpRecSuccess is OBP's {"success":"Success"}.
type obpRecSuccess struct {
	Success string `json:"success"`
}

// --- addresses (#8–#11) ------------------------------------------------------

// obpRecAddressBody is PostCustomerAddressJsonV310 (every field required).
// status is stored as sent (rest-compat §5.11; upstream stores state).
type obpRecAddressBody struct {
	Line1       *string   `json:"line_1"`
	Line2       *string   `json:"line_2"`
	Line3       *string   `json:"line_3"`
	City        *string   `json:"city"`
	County      *string   `json:"county"`
	State       *string   `json:"state"`
	Postcode    *string   `json:"postcode"`
	CountryCode *string   `json:"country_code"`
	Tags        *[]string `json:"tags"`
	Status      *string   `json:"status"`
}

const obpRecAddressCaseClass = "PostCustomerAddressJsonV310"

// obpRecAddress is CustomerAddressJsonV310.
type obpRecAddress struct {
	CustomerAddressID string   `json:"customer_address_id"`
	CustomerID        string   `json:"customer_id"`
	Line1             string   `json:"line_1"`
	Line2             string   `json:"line_2"`
	Line3             string   `json:"line_3"`
	City              string   `json:"city"`
	County            string   `json:"county"`
	State             string   `json:"state"`
	Postcode          string   `json:"postcode"`
	CountryCode       string   `json:"country_code"`
	Tags              []string `json:"tags"`
	Status            string   `json:"status"`
	InsertDate        string   `json:"insert_date"`
}

func obpRecAddressJSON(ad *gen.Address) obpRecAddress {
	tags := ad.Tags
	if tags == nil {
		tags = []string{}
	}
	return obpRecAddress{
		CustomerAddressID: ad.ID.String(), CustomerID: ad.CustomerID.String(),
		Line1: ad.Line1, Line2: ad.Line2, Line3: ad.Line3, City: ad.City, County: ad.County, State: ad.State,
		Postcode: ad.Postcode, CountryCode: ad.CountryCode, Tags: tags, Status: ad.Status,
		InsertDate: obpStamp(ad.CreatedAt),
	}
}

// decodeAddress is J for #8 and #10.
func (o *obpCall) obpRecDecodeAddress(body *obpRecAddressBody) bool {
	return o.decode(body, obpRecAddressCaseClass) && o.obpRecRequired(body, obpRecAddressCaseClass)
}

// obpRecCreateAddress is #8: POST …/customers/{customerId}/address, 201.
// Order A→B→R→J→C.
func (a *api) obpRecCreateAddress(w http.ResponseWriter, r *http.Request) {
	o := a.obp(w, r)
	var body obpRecAddressBody
	if !o.auth() || !o.requireBank() || !o.need(schema.WriteRoles[gen.TypeAddress][ent.OpCreate]) ||
		!o.obpRecDecodeAddress(&body) {
		return
	}
	cu, ok := a.obpRecCustomer(o, chi.URLParam(r, "customerId"))
	if !ok {
		return
	}
	var ad *gen.Address
	err := a.inTx(o.ctx, func(tx *gen.Client) (err error) {
		ad, err = tx.Address.Create().SetCustomerID(cu.ID).
			SetLine1(*body.Line1).SetLine2(*body.Line2).SetLine3(*body.Line3).
			SetCity(*body.City).SetCounty(*body.County).SetState(*body.State).
			SetPostcode(*body.Postcode).SetCountryCode(*body.CountryCode).
			SetTags(*body.Tags).SetStatus(*body.Status).
			Save(o.ctx)
		return err
	})
	if err != nil {
		o.obpRecFailData(err, "")
		return
	}
	writeJSON(w, http.StatusCreated, obpRecAddressJSON(ad))
}

// obpRecListAddresses is #9: GET …/customers/{customerId}/addresses.
// Order A→B→R→C.
func (a *api) obpRecListAddresses(w http.ResponseWriter, r *http.Request) {
	o := a.obp(w, r)
	if !o.auth() || !o.requireBank() || !o.need(schema.ReadRoles[gen.TypeAddress]) {
		return
	}
	cu, ok := a.obpRecCustomer(o, chi.URLParam(r, "customerId"))
	if !ok {
		return
	}
	ads, err := a.Client.Address.Query().Where(address.CustomerID(cu.ID)).
		Order(gen.Asc(address.FieldCreatedAt), gen.Asc(address.FieldID)).All(o.ctx)
	if err != nil {
		o.err(err, "")
		return
	}
	out := struct {
		Addresses []obpRecAddress `json:"addresses"`
	}{Addresses: make([]obpRecAddress, len(ads))}
	for i, ad := range ads {
		out.Addresses[i] = obpRecAddressJSON(ad)
	}
	writeJSON(w, http.StatusOK, out)
}

// obpRecUpdateAddress is #10: PUT …/addresses/{customerAddressId}, 200.
// Roles: CanCreateCustomerAddress or CanCreateCustomer (§5.10, ent's
// WriteRoles). Order A→B→R→J→C→ unknown address (400 chained OBP-30310).
func (a *api) obpRecUpdateAddress(w http.ResponseWriter, r *http.Request) {
	o := a.obp(w, r)
	roles := schema.WriteRoles[gen.TypeAddress][ent.OpUpdateOne]
	var body obpRecAddressBody
	if !o.auth() || !o.requireBank() || !o.need(roles, roles...) || !o.obpRecDecodeAddress(&body) {
		return
	}
	cu, ok := a.obpRecCustomer(o, chi.URLParam(r, "customerId"))
	if !ok {
		return
	}
	aid, ok := parseUUID(chi.URLParam(r, "customerAddressId"))
	if !ok {
		o.fail(http.StatusBadRequest, obpChain(obpConnector, obpAddressNotFound))
		return
	}
	var ad *gen.Address
	err := a.inTx(o.ctx, func(tx *gen.Client) (err error) {
		ad, err = tx.Address.UpdateOneID(aid).Where(address.CustomerID(cu.ID)).
			SetLine1(*body.Line1).SetLine2(*body.Line2).SetLine3(*body.Line3).
			SetCity(*body.City).SetCounty(*body.County).SetState(*body.State).
			SetPostcode(*body.Postcode).SetCountryCode(*body.CountryCode).
			SetTags(*body.Tags).SetStatus(*body.Status).
			Save(o.ctx)
		return err
	})
	if err != nil {
		o.obpRecFailData(err, obpAddressNotFound)
		return
	}
	writeJSON(w, http.StatusOK, obpRecAddressJSON(ad))
}

// obpRecDeleteAddress is #11: DELETE …/addresses/{customerAddressId}, 200
// true. Order A→B→R→C→ unknown address (400 chained OBP-30310).
func (a *api) obpRecDeleteAddress(w http.ResponseWriter, r *http.Request) {
	o := a.obp(w, r)
	if !o.auth() || !o.requireBank() || !o.need(schema.WriteRoles[gen.TypeAddress][ent.OpDeleteOne]) {
		return
	}
	cu, ok := a.obpRecCustomer(o, chi.URLParam(r, "customerId"))
	if !ok {
		return
	}
	aid, ok := parseUUID(chi.URLParam(r, "customerAddressId"))
	if !ok {
		o.fail(http.StatusBadRequest, obpChain(obpConnector, obpAddressNotFound))
		return
	}
	err := a.inTx(o.ctx, func(tx *gen.Client) error {
		return tx.Address.DeleteOneID(aid).Where(address.CustomerID(cu.ID)).Exec(o.ctx)
	})
	if err != nil {
		o.obpRecFailData(err, obpAddressNotFound)
		return
	}
	writeOBPTrue(w)
}

// --- tax residences (#12–#14) ------------------------------------------------

// obpRecTaxResidenceBody is PostTaxResidenceJsonV310.
type obpRecTaxResidenceBody struct {
	Domain    *string `json:"domain"`
	TaxNumber *string `json:"tax_number"`
}

const obpRecTaxResidenceCaseClass = "PostTaxResidenceJsonV310"

// obpRecTaxResidence is TaxResidenceV310.
type obpRecTaxResidence struct {
	Domain         string `json:"domain"`
	TaxNumber      string `json:"tax_number"`
	TaxResidenceID string `json:"tax_residence_id"`
}

func obpRecTaxResidenceJSON(t *gen.TaxResidence) obpRecTaxResidence {
	return obpRecTaxResidence{Domain: t.Domain, TaxNumber: t.TaxNumber, TaxResidenceID: t.ID.String()}
}

// obpRecCreateTaxResidence is #12: POST …/tax-residence, 201. Order
// A→B→R→J→C; a duplicate (ent's unique (customer, domain, tax_number)) is
// 400 OBP-50200.
func (a *api) obpRecCreateTaxResidence(w http.ResponseWriter, r *http.Request) {
	o := a.obp(w, r)
	var body obpRecTaxResidenceBody
	if !o.auth() || !o.requireBank() || !o.need(schema.WriteRoles[gen.TypeTaxResidence][ent.OpCreate]) ||
		!o.decode(&body, obpRecTaxResidenceCaseClass) || !o.obpRecRequired(&body, obpRecTaxResidenceCaseClass) {
		return
	}
	cu, ok := a.obpRecCustomer(o, chi.URLParam(r, "customerId"))
	if !ok {
		return
	}
	var t *gen.TaxResidence
	err := a.inTx(o.ctx, func(tx *gen.Client) (err error) {
		t, err = tx.TaxResidence.Create().SetCustomerID(cu.ID).SetDomain(*body.Domain).SetTaxNumber(*body.TaxNumber).Save(o.ctx)
		return err
	})
	if err != nil {
		o.obpRecFailData(err, "")
		return
	}
	writeJSON(w, http.StatusCreated, obpRecTaxResidenceJSON(t))
}

// obpRecListTaxResidences is #13: GET …/tax-residences, role
// CanGetTaxResidence (§5.10). Order A→B→R→C.
func (a *api) obpRecListTaxResidences(w http.ResponseWriter, r *http.Request) {
	o := a.obp(w, r)
	if !o.auth() || !o.requireBank() || !o.need(schema.ReadRoles[gen.TypeTaxResidence]) {
		return
	}
	cu, ok := a.obpRecCustomer(o, chi.URLParam(r, "customerId"))
	if !ok {
		return
	}
	ts, err := a.Client.TaxResidence.Query().Where(taxresidence.CustomerID(cu.ID)).
		Order(gen.Asc(taxresidence.FieldCreatedAt), gen.Asc(taxresidence.FieldID)).All(o.ctx)
	if err != nil {
		o.err(err, "")
		return
	}
	out := struct {
		TaxResidence []obpRecTaxResidence `json:"tax_residence"`
	}{TaxResidence: make([]obpRecTaxResidence, len(ts))}
	for i, t := range ts {
		out.TaxResidence[i] = obpRecTaxResidenceJSON(t)
	}
	writeJSON(w, http.StatusOK, out)
}

// obpRecDeleteTaxResidence is #14: DELETE …/tax_residencies/{taxResidenceId},
// 200 true, role CanDeleteTaxResidence (§5.10). Order A→B→R→C→ unknown id
// (400 chained OBP-30300).
func (a *api) obpRecDeleteTaxResidence(w http.ResponseWriter, r *http.Request) {
	o := a.obp(w, r)
	if !o.auth() || !o.requireBank() || !o.need(schema.WriteRoles[gen.TypeTaxResidence][ent.OpDeleteOne]) {
		return
	}
	cu, ok := a.obpRecCustomer(o, chi.URLParam(r, "customerId"))
	if !ok {
		return
	}
	tid, ok := parseUUID(chi.URLParam(r, "taxResidenceId"))
	if !ok {
		o.fail(http.StatusBadRequest, obpChain(obpConnector, obpTaxResidenceNotFound))
		return
	}
	err := a.inTx(o.ctx, func(tx *gen.Client) error {
		return tx.TaxResidence.DeleteOneID(tid).Where(taxresidence.CustomerID(cu.ID)).Exec(o.ctx)
	})
	if err != nil {
		o.obpRecFailData(err, obpTaxResidenceNotFound)
		return
	}
	writeOBPTrue(w)
}

// --- social media handles (#15, #16) ----------------------------------------

// obpRecSocialHandleBody is SocialMediaJSON (v2.0.0). customer_number may be
// left out; when given it must be the path customer's (§5.11).
type obpRecSocialHandleBody struct {
	CustomerNumber *string `json:"customer_number"`
	Type           *string `json:"type"`
	Handle         *string `json:"handle"`
	DateAdded      OBPDate `json:"date_added"`
	DateActivated  OBPDate `json:"date_activated"`
}

// complete is OBP's extraction of SocialMediaJSON: type and handle are
// required (a missing one is the bare OBP-10001, as bad JSON); the dates
// may be left out (date_added is then now).
func (b *obpRecSocialHandleBody) complete(o *obpCall) bool {
	if b.Type == nil || b.Handle == nil {
		return o.fail(http.StatusBadRequest, obpInvalidJSONFormat)
	}
	return true
}

// obpRecSocialHandle is SocialMediaJSON in the list.
type obpRecSocialHandle struct {
	CustomerNumber string  `json:"customer_number"`
	Type           string  `json:"type"`
	Handle         string  `json:"handle"`
	DateAdded      string  `json:"date_added"`
	DateActivated  *string `json:"date_activated"`
}

// obpRecCreateSocialHandle is #15: POST …/social_media_handles, 201
// {"success":"Success"}. Order A → BANK_ID format (OBP-30111) →B→R→ J
// (v2.0.0's bare OBP-10001) →C→ body customer_number of another customer
// (400 OBP-10001) → save (ent's rules).
func (a *api) obpRecCreateSocialHandle(w http.ResponseWriter, r *http.Request) {
	o := a.obp(w, r)
	var body obpRecSocialHandleBody
	if !o.auth() || !o.bankFormat() || !o.requireBank() || !o.need(schema.WriteRoles[gen.TypeSocialHandle][ent.OpCreate]) ||
		!o.obpRecDecodeBare(&body) || !body.complete(o) {
		return
	}
	cu, ok := a.obpRecCustomer(o, chi.URLParam(r, "customerId"))
	if !ok {
		return
	}
	if body.CustomerNumber != nil && *body.CustomerNumber != "" && *body.CustomerNumber != cu.CustomerNumber {
		o.fail(http.StatusBadRequest, obpInvalidJSONFormat+" The customer_number ("+*body.CustomerNumber+
			") is not the number of the customer specified by CUSTOMER_ID("+cu.ID.String()+")")
		return
	}
	err := a.inTx(o.ctx, func(tx *gen.Client) error {
		c := tx.SocialHandle.Create().SetCustomerID(cu.ID).SetType(*body.Type).SetHandle(*body.Handle).
			SetNillableDateActivated(body.DateActivated.Ptr())
		if body.DateAdded.Set {
			c.SetDateAdded(body.DateAdded.Time)
		}
		return c.Exec(o.ctx)
	})
	if err != nil {
		o.obpRecFailData(err, "")
		return
	}
	writeJSON(w, http.StatusCreated, obpRecSuccess{Success: "Success"})
}

// obpRecListSocialHandles is #16: GET …/social_media_handles, newest first
// (date_added, then creation). Order A→B→R→C.
func (a *api) obpRecListSocialHandles(w http.ResponseWriter, r *http.Request) {
	o := a.obp(w, r)
	if !o.auth() || !o.requireBank() || !o.need(schema.ReadRoles[gen.TypeSocialHandle]) {
		return
	}
	cu, ok := a.obpRecCustomer(o, chi.URLParam(r, "customerId"))
	if !ok {
		return
	}
	hs, err := a.Client.SocialHandle.Query().Where(socialhandle.CustomerID(cu.ID)).
		Order(gen.Desc(socialhandle.FieldDateAdded), gen.Desc(socialhandle.FieldCreatedAt), gen.Desc(socialhandle.FieldID)).
		All(o.ctx)
	if err != nil {
		o.err(err, "")
		return
	}
	out := struct {
		Checks []obpRecSocialHandle `json:"checks"`
	}{Checks: make([]obpRecSocialHandle, len(hs))}
	for i, h := range hs {
		out.Checks[i] = obpRecSocialHandle{CustomerNumber: cu.CustomerNumber, Type: h.Type, Handle: h.Handle,
			DateAdded: obpStamp(h.DateAdded), DateActivated: obpStampPtr(h.DateActivated)}
	}
	writeJSON(w, http.StatusOK, out)
}

// --- user–customer links (#17) ------------------------------------------------

// obpRecUserCustomerLinkBody is CreateUserCustomerLinkJson.
type obpRecUserCustomerLinkBody struct {
	UserID     string `json:"user_id"`
	CustomerID string `json:"customer_id"`
}

// obpRecUserCustomerLink is UserCustomerLinkJson.
type obpRecUserCustomerLink struct {
	UserCustomerLinkID string `json:"user_customer_link_id"`
	CustomerID         string `json:"customer_id"`
	UserID             string `json:"user_id"`
	DateInserted       string `json:"date_inserted"`
	IsActive           bool   `json:"is_active"`
}

// obpRecCreateUserCustomerLink is #17: POST /banks/{bankId}/user_customer_links,
// 201 (§5.10: login and CanCreateUserCustomerLink or …AtAnyBank). Order:
// A → BANK_ID format (OBP-30111) → B → R → J → user_id (OBP-20057) → missing
// customer_id → C (OBP-30046; a customer of a bank the caller cannot see
// does not exist) → the customer's bank is not BANK_ID (400) → create:
// an existing link of the user at the bank (ent's unique (user_id,
// bank_id)) is OBP-30007, anything else OBP-30025.
//
// Whether a well-formed user_id names a user is answered by the database
// when the link is written (ent lets only caller managers look users up),
// so an unknown user is reported after the customer checks, not before.
func (a *api) obpRecCreateUserCustomerLink(w http.ResponseWriter, r *http.Request) {
	o := a.obp(w, r)
	roles := schema.WriteRoles[gen.TypeUserCustomerLink][ent.OpCreate]
	listed := []access.Role{roles[0], access.AtAnyBank(roles[0])}
	var body obpRecUserCustomerLinkBody
	if !o.auth() || !o.bankFormat() || !o.requireBank() || !o.need(roles, listed...) || !o.decode(&body, "CreateUserCustomerLinkJson") {
		return
	}
	uid, ok := parseUUID(body.UserID)
	if !ok {
		o.fail(http.StatusNotFound, obpUserNotFoundByUserID+" Current UserId("+body.UserID+")")
		return
	}
	if body.CustomerID == "" {
		o.fail(http.StatusBadRequest, "Field customer_id is not defined in the posted json!")
		return
	}
	notFound := func() {
		o.fail(http.StatusNotFound, obpCustomerNotFoundByID+". Current CustomerId("+body.CustomerID+")")
	}
	cid, ok := parseUUID(body.CustomerID)
	if !ok {
		notFound()
		return
	}
	cu, err := schema.CustomerRef(o.ctx, a.Client, cid)
	switch {
	case apperrCode(err) == apperr.NotFound:
		notFound()
		return
	case err != nil:
		o.err(err, "")
		return
	}
	if cu.BankID != o.bank.ID {
		o.fail(http.StatusBadRequest, "Bank of the customer specified by the CUSTOMER_ID("+body.CustomerID+
			") has to matches BANK_ID("+o.bankID+") in URL")
		return
	}
	var l *gen.UserCustomerLink
	err = a.inTx(o.ctx, func(tx *gen.Client) (err error) {
		l, err = tx.UserCustomerLink.Create().SetUserID(uid).SetCustomerID(cu.ID).Save(o.ctx)
		return err
	})
	if err != nil {
		e := a.classify(r, err)
		switch {
		case e.Code == apperr.Conflict && e.Field == usercustomerlink.FieldUserID:
			o.fail(http.StatusBadRequest, obpUserAlreadyLinked)
		case e.Code == apperr.Conflict && e.Field == "": // the user_id references no user
			o.fail(http.StatusNotFound, obpUserNotFoundByUserID+" Current UserId("+body.UserID+")")
		case e.Code == apperr.Forbidden || e.Code == apperr.Unauthenticated || e.Code == apperr.Timeout || e.Code == apperr.Internal:
			o.err(err, "")
		default:
			o.fail(http.StatusBadRequest, obpCreateUserCustomerLink+e.Error())
		}
		return
	}
	writeJSON(w, http.StatusCreated, obpRecUserCustomerLink{
		UserCustomerLinkID: l.ID.String(), CustomerID: l.CustomerID.String(), UserID: l.UserID.String(),
		DateInserted: obpStamp(l.CreatedAt), IsActive: l.IsActive,
	})
}

// --- CRM events (#18) ---------------------------------------------------------

// obpRecCrmEvent is CrmEventJson (v1.4.0).
type obpRecCrmEvent struct {
	ID             string  `json:"id"`
	BankID         string  `json:"bank_id"`
	CustomerName   string  `json:"customer_name"`
	CustomerNumber string  `json:"customer_number"`
	Category       string  `json:"category"`
	Detail         string  `json:"detail"`
	Channel        string  `json:"channel"`
	ScheduledDate  *string `json:"scheduled_date"`
	ActualDate     *string `json:"actual_date"`
	Result         string  `json:"result"`
}

// obpRecListCrmEvents is #18: GET /banks/{bankId}/crm-events, the bank's
// events, oldest first. Order A→B. No events is 200 with an empty list (the
// spec's "an empty list is 200"; OBP's 404 "No CRM Events available." is
// only its connector returning nothing at all).
func (a *api) obpRecListCrmEvents(w http.ResponseWriter, r *http.Request) {
	o := a.obp(w, r)
	if !o.auth() || !o.requireBank() {
		return
	}
	es, err := a.Client.CrmEvent.Query().Where(crmevent.BankID(o.bank.ID)).
		Order(gen.Asc(crmevent.FieldCreatedAt), gen.Asc(crmevent.FieldID)).All(o.ctx)
	if err != nil {
		o.err(err, "")
		return
	}
	out := struct {
		CrmEvents []obpRecCrmEvent `json:"crm_events"`
	}{CrmEvents: make([]obpRecCrmEvent, len(es))}
	for i, e := range es {
		out.CrmEvents[i] = obpRecCrmEvent{ID: e.ID.String(), BankID: o.bank.Code, CustomerName: e.CustomerName,
			CustomerNumber: e.CustomerNumber, Category: e.Category, Detail: e.Detail, Channel: e.Channel,
			ScheduledDate: obpStampPtr(e.ScheduledDate), ActualDate: obpStampPtr(e.ActualDate), Result: e.Result}
	}
	writeJSON(w, http.StatusOK, out)
}

// --- customer messages (#27, #28) ---------------------------------------------

// obpRecMessageBody is AddCustomerMessageJson (#27, no transport) and
// CreateMessageJsonV400 (#28).
type obpRecMessageBody struct {
	Message        string `json:"message"`
	Transport      string `json:"transport"`
	FromDepartment string `json:"from_department"`
	FromPerson     string `json:"from_person"`
}

// obpRecMessage is CustomerMessageJsonV400.
type obpRecMessage struct {
	ID             string `json:"id"`
	Date           string `json:"date"`
	Transport      string `json:"transport"`
	Message        string `json:"message"`
	FromDepartment string `json:"from_department"`
	FromPerson     string `json:"from_person"`
}

// obpRecSaveMessage writes a message of cu in one transaction and answers
// 201 {"success":"Success"}; ent checks CanCreateCustomerMessage and the
// message's fields.
func (a *api) obpRecSaveMessage(o *obpCall, cu *gen.Customer, body obpRecMessageBody) {
	err := a.inTx(o.ctx, func(tx *gen.Client) error {
		return tx.CustomerMessage.Create().SetCustomerID(cu.ID).SetMessage(body.Message).SetTransport(body.Transport).
			SetFromDepartment(body.FromDepartment).SetFromPerson(body.FromPerson).Exec(o.ctx)
	})
	if err != nil {
		o.obpRecFailData(err, "")
		return
	}
	writeJSON(o.w, http.StatusCreated, obpRecSuccess{Success: "Success"})
}

// obpRecAddCustomerMessage is #27: POST /v5.1.0/banks/{bankId}/customer/
// {customerId}/messages (v1.4.0 addCustomerMessage). Order A→B→R (ent's
// role for a message, CanCreateCustomerMessage) →J→C→ the customer has no
// linked user (400 OBP-30008) → create (ent: the fields; other failures
// 400 OBP-50200). The message is the customer's (ent's CustomerMessage
// belongs to a customer).
func (a *api) obpRecAddCustomerMessage(w http.ResponseWriter, r *http.Request) {
	o := a.obp(w, r)
	var body obpRecMessageBody
	if !o.auth() || !o.requireBank() || !o.need(schema.WriteRoles[gen.TypeCustomerMessage][ent.OpCreate]) ||
		!o.decode(&body, "AddCustomerMessageJson") {
		return
	}
	cu, ok := a.obpRecCustomer(o, chi.URLParam(r, "customerId"))
	if !ok {
		return
	}
	linked, err := schema.CustomerHasUser(o.ctx, a.Client, cu.ID)
	if err != nil {
		o.err(err, "")
		return
	}
	if !linked {
		o.fail(http.StatusBadRequest, obpUserCustomerLinkNotFound+" Current customerId ("+cu.ID.String()+")")
		return
	}
	body.Transport = "" // v1.4.0's message has no transport
	a.obpRecSaveMessage(o, cu, body)
}

// obpRecCreateCustomerMessage is #28: POST /v5.1.0/banks/{bankId}/customers/
// {customerId}/messages (v4.0.0), role CanCreateCustomerMessage. Order
// A→B→R→J→C→ create (400 OBP-50200).
func (a *api) obpRecCreateCustomerMessage(w http.ResponseWriter, r *http.Request) {
	o := a.obp(w, r)
	var body obpRecMessageBody
	if !o.auth() || !o.requireBank() || !o.need(schema.WriteRoles[gen.TypeCustomerMessage][ent.OpCreate]) ||
		!o.decode(&body, "CreateMessageJsonV400") {
		return
	}
	cu, ok := a.obpRecCustomer(o, chi.URLParam(r, "customerId"))
	if !ok {
		return
	}
	a.obpRecSaveMessage(o, cu, body)
}

// obpRecListCustomerMessages is GET /v5.1.0/banks/{bankId}/customers/
// {customerId}/messages, role CanGetCustomerMessages, newest first. Order
// A→B→R→C.
func (a *api) obpRecListCustomerMessages(w http.ResponseWriter, r *http.Request) {
	o := a.obp(w, r)
	if !o.auth() || !o.requireBank() || !o.need(schema.ReadRoles[gen.TypeCustomerMessage]) {
		return
	}
	cu, ok := a.obpRecCustomer(o, chi.URLParam(r, "customerId"))
	if !ok {
		return
	}
	ms, err := a.Client.CustomerMessage.Query().Where(customermessage.CustomerID(cu.ID)).
		Order(gen.Desc(customermessage.FieldCreatedAt), gen.Desc(customermessage.FieldID)).All(o.ctx)
	if err != nil {
		o.err(err, "")
		return
	}
	out := struct {
		Messages []obpRecMessage `json:"messages"`
	}{Messages: make([]obpRecMessage, len(ms))}
	for i, m := range ms {
		out.Messages[i] = obpRecMessage{ID: m.ID.String(), Date: obpStamp(m.CreatedAt), Transport: m.Transport,
			Message: m.Message, FromDepartment: m.FromDepartment, FromPerson: m.FromPerson}
	}
	writeJSON(w, http.StatusOK, out)
}

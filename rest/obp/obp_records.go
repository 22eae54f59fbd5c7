package obp

import (
	"net/http"
	"reflect"
	"strings"

	"entgo.io/ent"
	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

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
	"custgraph/rest/restcore"
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
	r.Post(c+"/address", obpRecord(a, obpRecCreateAddress))
	r.Get(c+"/addresses", obpRecord(a, obpRecListAddresses))
	r.Put(c+"/addresses/{customerAddressId}", obpRecord(a, obpRecUpdateAddress))
	r.Delete(c+"/addresses/{customerAddressId}", obpRecord(a, obpRecDeleteAddress))
	r.Post(c+"/tax-residence", obpRecord(a, obpRecCreateTaxResidence))
	r.Get(c+"/tax-residences", obpRecord(a, obpRecListTaxResidences))
	r.Delete(c+"/tax_residencies/{taxResidenceId}", obpRecord(a, obpRecDeleteTaxResidence))
	r.Post(c+"/social_media_handles", obpRecord(a, obpRecCreateSocialHandle))
	r.Get(c+"/social_media_handles", obpRecord(a, obpRecListSocialHandles))
	r.Post("/v3.1.0/banks/{bankId}/user_customer_links", obpRecord(a, obpRecCreateUserCustomerLink))
	r.Get("/v3.1.0/banks/{bankId}/crm-events", obpRecord(a, obpRecListCrmEvents))
	r.Post("/v5.1.0/banks/{bankId}/customer/{customerId}/messages", obpRecord(a, obpRecAddCustomerMessage))
	r.Post("/v5.1.0/banks/{bankId}/customers/{customerId}/messages", obpRecord(a, obpRecCreateCustomerMessage))
	r.Get("/v5.1.0/banks/{bankId}/customers/{customerId}/messages", obpRecord(a, obpRecListCustomerMessages))
}

// obpRecRoute is the shape every record route shares: OBP's checks in
// OBP's order, A (auth) → [the BANK_ID's characters] → B (the bank) → R
// (roles) → J (the body, of type B) → C (the path's customer), then do, the
// ent operation, which writes the answer. A route with bodyFirst checks J
// right after A: A → J → B → R → C.
type obpRecRoute[B any] struct {
	bankFormat bool                        // check BANK_ID's characters before the bank (OBP-30111; v2.0.0's routes)
	bodyFirst  bool                        // J before B (v1.4.0's addCustomerMessage, v2.0.0's social media handle)
	roles      []access.Role               // R: any one of them at BANK_ID (ent's tables); nil for none
	listed     []access.Role               // OBP's role text (nil: the first role alone)
	body       func(o *obpCall, b *B) bool // J; nil for a route without a body
	customer   bool                        // C: the path's customerId must be a customer of BANK_ID
	do         func(o *obpCall, cu *gen.Customer, b *B)
}

// obpRecord serves route rt.
func obpRecord[B any](a *api, rt obpRecRoute[B]) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		o := a.obp(w, r)
		if !o.auth() {
			return
		}
		var body B
		if rt.bodyFirst && rt.body != nil && !rt.body(o, &body) {
			return
		}
		if (rt.bankFormat && !o.bankFormat()) || !o.requireBank() {
			return
		}
		if rt.roles != nil && !o.need(rt.roles, rt.listed...) {
			return
		}
		if !rt.bodyFirst && rt.body != nil && !rt.body(o, &body) {
			return
		}
		var cu *gen.Customer
		if rt.customer {
			var ok bool
			if cu, ok = a.obpRecCustomer(o, chi.URLParam(r, "customerId")); !ok {
				return
			}
		}
		rt.do(o, cu, &body)
	}
}

// obpRecDecode is J of a body whose fields OBP's case class requires.
func obpRecDecode[B any](caseClass string) func(o *obpCall, b *B) bool {
	return func(o *obpCall, b *B) bool { return o.decode(b, caseClass) && o.obpRecRequired(b, caseClass) }
}

// obpRecDecodeOptional is J of a body whose fields may be left out.
func obpRecDecodeOptional[B any](caseClass string) func(o *obpCall, b *B) bool {
	return func(o *obpCall, b *B) bool { return o.decode(b, caseClass) }
}

// obpRecNoBody is the body type of a route without one.
type obpRecNoBody struct{}

// obpRecPathID reads a record id of the path: one that is not a UUID names
// no record, OBP's chained not-found (400 OBP-50200 <- notFound).
func obpRecPathID(o *obpCall, name, notFound string) (uuid.UUID, bool) {
	id, ok := restcore.ParseUUID(chi.URLParam(o.r, name))
	if !ok {
		return uuid.Nil, o.fail(http.StatusBadRequest, obpChain(obpConnector, notFound))
	}
	return id, true
}

// obpRecWrite runs write in one transaction; a failure is answered by
// obpRecFailData (notFound: the chained not-found of the route's record).
func obpRecWrite(o *obpCall, notFound string, write func(tx *gen.Client) error) bool {
	if err := o.a.InTx(o.ctx, write); err != nil {
		return o.obpRecFailData(err, notFound)
	}
	return true
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
	cid, ok := restcore.ParseUUID(id)
	if !ok || o.bank == nil {
		return notFound()
	}
	cu, err := schema.CustomerRef(o.ctx, a.Client, cid)
	if restcore.ApperrCode(err) == apperr.NotFound || (err == nil && cu.BankID != o.bank.ID) {
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
		if be, ok := err.(*restcore.BodyError); ok && (be.Status == http.StatusRequestEntityTooLarge || be.Status == http.StatusRequestTimeout) {
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
	e := o.a.Classify(o.r, err)
	switch {
	case e.Code == apperr.NotFound && notFound != "":
		return o.fail(http.StatusBadRequest, obpChain(obpConnector, notFound))
	case e.Code == apperr.Conflict:
		return o.fail(http.StatusBadRequest, obpConnector+" "+e.Error())
	}
	return o.err(err, obpConnector)
}

// writeOBPTrue answers a successful OBP delete: 200 with the JSON body true.
func writeOBPTrue(w http.ResponseWriter) { restcore.WriteJSON(w, http.StatusOK, true) }

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

// obpRecCreateAddress is #8: POST …/customers/{customerId}/address, 201.
// Order A→B→R→J→C.
var obpRecCreateAddress = obpRecRoute[obpRecAddressBody]{
	roles: schema.WriteRoles[gen.TypeAddress][ent.OpCreate], body: obpRecDecode[obpRecAddressBody](obpRecAddressCaseClass), customer: true,
	do: func(o *obpCall, cu *gen.Customer, body *obpRecAddressBody) {
		var ad *gen.Address
		if obpRecWrite(o, "", func(tx *gen.Client) (err error) {
			ad, err = tx.Address.Create().SetCustomerID(cu.ID).
				SetLine1(*body.Line1).SetLine2(*body.Line2).SetLine3(*body.Line3).
				SetCity(*body.City).SetCounty(*body.County).SetState(*body.State).
				SetPostcode(*body.Postcode).SetCountryCode(*body.CountryCode).
				SetTags(*body.Tags).SetStatus(*body.Status).
				Save(o.ctx)
			return err
		}) {
			restcore.WriteJSON(o.w, http.StatusCreated, obpRecAddressJSON(ad))
		}
	},
}

// obpRecListAddresses is #9: GET …/customers/{customerId}/addresses.
// Order A→B→R→C.
var obpRecListAddresses = obpRecRoute[obpRecNoBody]{
	roles: schema.ReadRoles[gen.TypeAddress], customer: true,
	do: func(o *obpCall, cu *gen.Customer, _ *obpRecNoBody) {
		ads, ok := readWhole[*gen.Address](o, o.a.Client.Address.Query().Where(address.CustomerID(cu.ID)).
			Order(gen.Asc(address.FieldCreatedAt), gen.Asc(address.FieldID)))
		if !ok {
			return
		}
		out := struct {
			Addresses []obpRecAddress `json:"addresses"`
		}{Addresses: make([]obpRecAddress, len(ads))}
		for i, ad := range ads {
			out.Addresses[i] = obpRecAddressJSON(ad)
		}
		restcore.WriteJSON(o.w, http.StatusOK, out)
	},
}

// obpRecUpdateAddress is #10: PUT …/addresses/{customerAddressId}, 200.
// Roles: CanCreateCustomerAddress or CanCreateCustomer (§5.10, ent's
// WriteRoles). Order A→B→R→J→C→ unknown address (400 chained OBP-30310).
var obpRecUpdateAddress = obpRecRoute[obpRecAddressBody]{
	roles: schema.WriteRoles[gen.TypeAddress][ent.OpUpdateOne], listed: schema.WriteRoles[gen.TypeAddress][ent.OpUpdateOne],
	body: obpRecDecode[obpRecAddressBody](obpRecAddressCaseClass), customer: true,
	do: func(o *obpCall, cu *gen.Customer, body *obpRecAddressBody) {
		aid, ok := obpRecPathID(o, "customerAddressId", obpAddressNotFound)
		if !ok {
			return
		}
		var ad *gen.Address
		if obpRecWrite(o, obpAddressNotFound, func(tx *gen.Client) (err error) {
			ad, err = tx.Address.UpdateOneID(aid).Where(address.CustomerID(cu.ID)).
				SetLine1(*body.Line1).SetLine2(*body.Line2).SetLine3(*body.Line3).
				SetCity(*body.City).SetCounty(*body.County).SetState(*body.State).
				SetPostcode(*body.Postcode).SetCountryCode(*body.CountryCode).
				SetTags(*body.Tags).SetStatus(*body.Status).
				Save(o.ctx)
			return err
		}) {
			restcore.WriteJSON(o.w, http.StatusOK, obpRecAddressJSON(ad))
		}
	},
}

// obpRecDeleteAddress is #11: DELETE …/addresses/{customerAddressId}, 200
// true. Order A→B→R→C→ unknown address (400 chained OBP-30310).
var obpRecDeleteAddress = obpRecRoute[obpRecNoBody]{
	roles: schema.WriteRoles[gen.TypeAddress][ent.OpDeleteOne], customer: true,
	do: func(o *obpCall, cu *gen.Customer, _ *obpRecNoBody) {
		aid, ok := obpRecPathID(o, "customerAddressId", obpAddressNotFound)
		if ok && obpRecWrite(o, obpAddressNotFound, func(tx *gen.Client) error {
			return tx.Address.DeleteOneID(aid).Where(address.CustomerID(cu.ID)).Exec(o.ctx)
		}) {
			writeOBPTrue(o.w)
		}
	},
}

// --- tax residences (#12–#14) ------------------------------------------------

// obpRecTaxResidenceBody is PostTaxResidenceJsonV310.
type obpRecTaxResidenceBody struct {
	Domain    *string `json:"domain"`
	TaxNumber *string `json:"tax_number"`
}

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
var obpRecCreateTaxResidence = obpRecRoute[obpRecTaxResidenceBody]{
	roles: schema.WriteRoles[gen.TypeTaxResidence][ent.OpCreate], body: obpRecDecode[obpRecTaxResidenceBody]("PostTaxResidenceJsonV310"),
	customer: true,
	do: func(o *obpCall, cu *gen.Customer, body *obpRecTaxResidenceBody) {
		var t *gen.TaxResidence
		if obpRecWrite(o, "", func(tx *gen.Client) (err error) {
			t, err = tx.TaxResidence.Create().SetCustomerID(cu.ID).SetDomain(*body.Domain).SetTaxNumber(*body.TaxNumber).Save(o.ctx)
			return err
		}) {
			restcore.WriteJSON(o.w, http.StatusCreated, obpRecTaxResidenceJSON(t))
		}
	},
}

// obpRecListTaxResidences is #13: GET …/tax-residences, role
// CanGetTaxResidence (§5.10). Order A→B→R→C.
var obpRecListTaxResidences = obpRecRoute[obpRecNoBody]{
	roles: schema.ReadRoles[gen.TypeTaxResidence], customer: true,
	do: func(o *obpCall, cu *gen.Customer, _ *obpRecNoBody) {
		ts, ok := readWhole[*gen.TaxResidence](o, o.a.Client.TaxResidence.Query().Where(taxresidence.CustomerID(cu.ID)).
			Order(gen.Asc(taxresidence.FieldCreatedAt), gen.Asc(taxresidence.FieldID)))
		if !ok {
			return
		}
		out := struct {
			TaxResidence []obpRecTaxResidence `json:"tax_residence"`
		}{TaxResidence: make([]obpRecTaxResidence, len(ts))}
		for i, t := range ts {
			out.TaxResidence[i] = obpRecTaxResidenceJSON(t)
		}
		restcore.WriteJSON(o.w, http.StatusOK, out)
	},
}

// obpRecDeleteTaxResidence is #14: DELETE …/tax_residencies/{taxResidenceId},
// 200 true, role CanDeleteTaxResidence (§5.10). Order A→B→R→C→ unknown id
// (400 chained OBP-30300).
var obpRecDeleteTaxResidence = obpRecRoute[obpRecNoBody]{
	roles: schema.WriteRoles[gen.TypeTaxResidence][ent.OpDeleteOne], customer: true,
	do: func(o *obpCall, cu *gen.Customer, _ *obpRecNoBody) {
		tid, ok := obpRecPathID(o, "taxResidenceId", obpTaxResidenceNotFound)
		if ok && obpRecWrite(o, obpTaxResidenceNotFound, func(tx *gen.Client) error {
			return tx.TaxResidence.DeleteOneID(tid).Where(taxresidence.CustomerID(cu.ID)).Exec(o.ctx)
		}) {
			writeOBPTrue(o.w)
		}
	},
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

// obpRecDecodeSocialHandle is v2.0.0's J of SocialMediaJSON: bare
// OBP-10001 for a body that is not the JSON, and for one without type or
// handle (the dates may be left out: date_added is then now).
func obpRecDecodeSocialHandle(o *obpCall, b *obpRecSocialHandleBody) bool {
	if !o.obpRecDecodeBare(b) {
		return false
	}
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
// {"success":"Success"}. Order as OBP's v2.0.0 (rest-compat §3.4): A → J
// (v2.0.0's bare OBP-10001) → BANK_ID format (OBP-30111) →B→R→C→ body
// customer_number of another customer (400 OBP-10001) → save (ent's rules).
var obpRecCreateSocialHandle = obpRecRoute[obpRecSocialHandleBody]{
	bodyFirst: true, bankFormat: true, roles: schema.WriteRoles[gen.TypeSocialHandle][ent.OpCreate], body: obpRecDecodeSocialHandle, customer: true,
	do: func(o *obpCall, cu *gen.Customer, body *obpRecSocialHandleBody) {
		if body.CustomerNumber != nil && *body.CustomerNumber != "" && *body.CustomerNumber != cu.CustomerNumber {
			o.fail(http.StatusBadRequest, obpInvalidJSONFormat+" The customer_number ("+*body.CustomerNumber+
				") is not the number of the customer specified by CUSTOMER_ID("+cu.ID.String()+")")
			return
		}
		if obpRecWrite(o, "", func(tx *gen.Client) error {
			c := tx.SocialHandle.Create().SetCustomerID(cu.ID).SetType(*body.Type).SetHandle(*body.Handle).
				SetNillableDateActivated(body.DateActivated.Ptr())
			if body.DateAdded.Set {
				c.SetDateAdded(body.DateAdded.Time)
			}
			return c.Exec(o.ctx)
		}) {
			restcore.WriteJSON(o.w, http.StatusCreated, obpRecSuccess{Success: "Success"})
		}
	},
}

// obpRecListSocialHandles is #16: GET …/social_media_handles, newest first
// (date_added, then creation). Order A→B→R→C.
var obpRecListSocialHandles = obpRecRoute[obpRecNoBody]{
	roles: schema.ReadRoles[gen.TypeSocialHandle], customer: true,
	do: func(o *obpCall, cu *gen.Customer, _ *obpRecNoBody) {
		hs, ok := readWhole[*gen.SocialHandle](o, o.a.Client.SocialHandle.Query().Where(socialhandle.CustomerID(cu.ID)).
			Order(gen.Desc(socialhandle.FieldDateAdded), gen.Desc(socialhandle.FieldCreatedAt), gen.Desc(socialhandle.FieldID)))
		if !ok {
			return
		}
		out := struct {
			Checks []obpRecSocialHandle `json:"checks"`
		}{Checks: make([]obpRecSocialHandle, len(hs))}
		for i, h := range hs {
			out.Checks[i] = obpRecSocialHandle{CustomerNumber: cu.CustomerNumber, Type: h.Type, Handle: h.Handle,
				DateAdded: obpStamp(h.DateAdded), DateActivated: obpStampPtr(h.DateActivated)}
		}
		restcore.WriteJSON(o.w, http.StatusOK, out)
	},
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
// the same user and customer twice (ent's unique (user_id, customer_id))
// is OBP-30007, anything else OBP-30025.
//
// Whether a well-formed user_id names a user is answered by ent's rule when
// the link is written (ent lets only caller managers look users up), so an
// unknown user is reported after the customer checks, not before.
var obpRecCreateUserCustomerLink = obpRecRoute[obpRecUserCustomerLinkBody]{
	bankFormat: true,
	roles:      schema.WriteRoles[gen.TypeUserCustomerLink][ent.OpCreate],
	listed: []access.Role{schema.WriteRoles[gen.TypeUserCustomerLink][ent.OpCreate][0],
		access.AtAnyBank(schema.WriteRoles[gen.TypeUserCustomerLink][ent.OpCreate][0])},
	body: obpRecDecodeOptional[obpRecUserCustomerLinkBody]("CreateUserCustomerLinkJson"),
	do: func(o *obpCall, _ *gen.Customer, body *obpRecUserCustomerLinkBody) {
		uid, ok := restcore.ParseUUID(body.UserID)
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
		cid, ok := restcore.ParseUUID(body.CustomerID)
		if !ok {
			notFound()
			return
		}
		cu, err := schema.CustomerRef(o.ctx, o.a.Client, cid)
		switch {
		case restcore.ApperrCode(err) == apperr.NotFound:
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
		err = o.a.InTx(o.ctx, func(tx *gen.Client) (err error) {
			l, err = tx.UserCustomerLink.Create().SetUserID(uid).SetCustomerID(cu.ID).Save(o.ctx)
			return err
		})
		if err != nil {
			e := o.a.Classify(o.r, err)
			switch {
			case e.Code == apperr.Conflict && e.Field == usercustomerlink.FieldUserID:
				o.fail(http.StatusBadRequest, obpUserAlreadyLinked)
			case e.Code == apperr.NotFound && e.Field == usercustomerlink.FieldUserID: // the user_id names no user
				o.fail(http.StatusNotFound, obpUserNotFoundByUserID+" Current UserId("+body.UserID+")")
			case e.Code == apperr.Forbidden || e.Code == apperr.Unauthenticated || e.Code == apperr.Timeout ||
				e.Code == apperr.Internal || e.Code == apperr.Unavailable:
				o.err(err, "")
			default:
				o.fail(http.StatusBadRequest, obpCreateUserCustomerLink+e.Error())
			}
			return
		}
		restcore.WriteJSON(o.w, http.StatusCreated, obpRecUserCustomerLink{
			UserCustomerLinkID: l.ID.String(), CustomerID: l.CustomerID.String(), UserID: l.UserID.String(),
			DateInserted: obpStamp(l.CreatedAt), IsActive: l.IsActive,
		})
	},
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
// events the caller may see (ent's rules), oldest first. Order A→B: no
// role, as in OBP. No events is 200 with an empty list (the spec's "an
// empty list is 200"; OBP's 404 "No CRM Events available." is only its
// connector returning nothing at all).
var obpRecListCrmEvents = obpRecRoute[obpRecNoBody]{
	do: func(o *obpCall, _ *gen.Customer, _ *obpRecNoBody) {
		es, ok := readWhole[*gen.CrmEvent](o, o.a.Client.CrmEvent.Query().Where(crmevent.BankID(o.bank.ID)).
			Order(gen.Asc(crmevent.FieldCreatedAt), gen.Asc(crmevent.FieldID)))
		if !ok {
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
		restcore.WriteJSON(o.w, http.StatusOK, out)
	},
}

// --- customer messages (#27, #28) ---------------------------------------------

// obpRecAddMessageBody is AddCustomerMessageJson (#27): every field
// required, as OBP extracts it (400 OBP-10001 naming the missing one).
type obpRecAddMessageBody struct {
	Message        *string `json:"message"`
	FromDepartment *string `json:"from_department"`
	FromPerson     *string `json:"from_person"`
}

// obpRecMessageBody is CreateMessageJsonV400 (#28): every field required.
type obpRecMessageBody struct {
	Message        *string `json:"message"`
	Transport      *string `json:"transport"`
	FromDepartment *string `json:"from_department"`
	FromPerson     *string `json:"from_person"`
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
func obpRecSaveMessage(o *obpCall, cu *gen.Customer, body *obpRecMessageBody) {
	if obpRecWrite(o, "", func(tx *gen.Client) error {
		return tx.CustomerMessage.Create().SetCustomerID(cu.ID).SetMessage(*body.Message).SetTransport(*body.Transport).
			SetFromDepartment(*body.FromDepartment).SetFromPerson(*body.FromPerson).Exec(o.ctx)
	}) {
		restcore.WriteJSON(o.w, http.StatusCreated, obpRecSuccess{Success: "Success"})
	}
}

// obpRecAddCustomerMessage is #27: POST /v5.1.0/banks/{bankId}/customer/
// {customerId}/messages (v1.4.0 addCustomerMessage). Order A→J (OBP's,
// §3.4) →B→R (ent's role for a message, CanCreateCustomerMessage, which
// OBP's v1.4.0 route does not ask: custgraph's tenancy) →C→ the customer
// has no linked user (400 OBP-30008) → create (ent: the fields; other
// failures 400 OBP-50200). The message is the customer's (ent's
// CustomerMessage belongs to a customer).
var obpRecAddCustomerMessage = obpRecRoute[obpRecAddMessageBody]{
	bodyFirst: true,
	roles:     schema.WriteRoles[gen.TypeCustomerMessage][ent.OpCreate],
	body:      obpRecDecode[obpRecAddMessageBody]("AddCustomerMessageJson"), customer: true,
	do: func(o *obpCall, cu *gen.Customer, in *obpRecAddMessageBody) {
		linked, err := schema.CustomerHasUser(o.ctx, o.a.Client, cu.ID)
		if err != nil {
			o.err(err, "")
			return
		}
		if !linked {
			o.fail(http.StatusBadRequest, obpUserCustomerLinkNotFound+" Current customerId ("+cu.ID.String()+")")
			return
		}
		none := "" // v1.4.0's message has no transport
		obpRecSaveMessage(o, cu, &obpRecMessageBody{Message: in.Message, Transport: &none,
			FromDepartment: in.FromDepartment, FromPerson: in.FromPerson})
	},
}

// obpRecCreateCustomerMessage is #28: POST /v5.1.0/banks/{bankId}/customers/
// {customerId}/messages (v4.0.0), role CanCreateCustomerMessage. Order
// A→B→R→J→C→ create (400 OBP-50200).
var obpRecCreateCustomerMessage = obpRecRoute[obpRecMessageBody]{
	roles: schema.WriteRoles[gen.TypeCustomerMessage][ent.OpCreate],
	body:  obpRecDecode[obpRecMessageBody]("CreateMessageJsonV400"), customer: true,
	do: obpRecSaveMessage,
}

// obpRecListCustomerMessages is GET /v5.1.0/banks/{bankId}/customers/
// {customerId}/messages, role CanGetCustomerMessages, newest first. Order
// A→B→R→C.
var obpRecListCustomerMessages = obpRecRoute[obpRecNoBody]{
	roles: schema.ReadRoles[gen.TypeCustomerMessage], customer: true,
	do: func(o *obpCall, cu *gen.Customer, _ *obpRecNoBody) {
		ms, ok := readWhole[*gen.CustomerMessage](o, o.a.Client.CustomerMessage.Query().Where(customermessage.CustomerID(cu.ID)).
			Order(gen.Desc(customermessage.FieldCreatedAt), gen.Desc(customermessage.FieldID)))
		if !ok {
			return
		}
		out := struct {
			Messages []obpRecMessage `json:"messages"`
		}{Messages: make([]obpRecMessage, len(ms))}
		for i, m := range ms {
			out.Messages[i] = obpRecMessage{ID: m.ID.String(), Date: obpStamp(m.CreatedAt), Transport: m.Transport,
				Message: m.Message, FromDepartment: m.FromDepartment, FromPerson: m.FromPerson}
		}
		restcore.WriteJSON(o.w, http.StatusOK, out)
	},
}

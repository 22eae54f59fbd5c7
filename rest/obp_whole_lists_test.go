package rest_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"custgraph/ent"
	"custgraph/internal/access"
)

// The lists OBP serves whole (a customer's addresses, tax residences,
// social media handles and messages, a bank's CRM events, the logged-in
// user's customers) are bounded: one answer holds at most 1,000 records.
// A longer list is 400 OBP-10016 asking for pages, never an answer of any
// size (1,500 messages of 4 KB made 6.4 MB, and a bank's CRM events grow
// without end) nor a list cut short without saying so. The firehose's
// limit and offset (and their obp_ aliases) page every one of them, with
// the firehose's errors, checked after the route's own checks.

const obpTooLong = "OBP-10016: Incorrect filter Parameters in URL. <- This list holds more than 1000 records: " +
	"ask for it in pages, with limit (at most 1000) and offset."

func TestObpWholeListsAreBounded(t *testing.T) {
	e := newEnv(t)
	full := e.client(t, e.A, allBankRoles(e.A)...)
	cust := obpRecCustomer(t, e, e.A, "Alice")
	messages := obpRecV5 + bankA + "/customers/" + cust.ID.String() + "/messages"
	crm := obpRecV3 + bankA + "/crm-events"

	// 1,001 of each, in bulk (ent's hooks and rules run for each).
	msgs := make([]*ent.CustomerMessageCreate, 1001)
	events := make([]*ent.CrmEventCreate, 1001)
	for i := range msgs {
		msgs[i] = e.db.Client.CustomerMessage.Create().SetCustomerID(cust.ID).SetMessage(fmt.Sprintf("m%04d", i)).
			SetTransport("SMS").SetFromDepartment("Cards").SetFromPerson("Bob")
		events[i] = e.db.Client.CrmEvent.Create().SetBankID(e.A.ID).SetCategory(fmt.Sprintf("c%04d", i))
	}
	require.NoError(t, e.db.Client.CustomerMessage.CreateBulk(msgs...).Exec(e.sys))
	require.NoError(t, e.db.Client.CrmEvent.CreateBulk(events...).Exec(e.sys))

	for _, path := range []string{messages, crm} {
		statements := e.statements.Load()
		obpRecErr(t, e.call(t, http.MethodGet, path, full, nil), http.StatusBadRequest, obpTooLong)
		require.LessOrEqual(t, e.statements.Load()-statements, int64(8), "%s: a bounded read", path)
	}

	type msgList struct {
		Messages []struct{ Message string } `json:"messages"`
	}
	var page msgList
	res := e.call(t, http.MethodGet, messages+"?limit=1000", full, nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	res.decode(t, &page)
	require.Len(t, page.Messages, 1000)
	require.Equal(t, "m1000", page.Messages[0].Message, "newest first")
	res = e.call(t, http.MethodGet, messages+"?obp_limit=2&obp_offset=1000", full, nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	page = msgList{}
	res.decode(t, &page)
	require.Len(t, page.Messages, 1)
	require.Equal(t, "m0000", page.Messages[0].Message)
	res = e.call(t, http.MethodGet, crm+"?offset=999", full, nil) // (limit: 1,000)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var events2 struct {
		CrmEvents []struct{ Category string } `json:"crm_events"`
	}
	res.decode(t, &events2)
	require.Len(t, events2.CrmEvents, 2)
	require.Equal(t, "c0999", events2.CrmEvents[0].Category, "oldest first")
}

// TestObpWholeListsPaging: every bounded list takes limit and offset, and
// refuses bad ones as the firehose does, after its own checks (a caller
// without the role is 403 whatever it asks).
func TestObpWholeListsPaging(t *testing.T) {
	e := newEnv(t)
	full := e.client(t, e.A, allBankRoles(e.A)...)
	noRole := e.client(t, e.A, at(e.A, access.CanGetCustomer)...)
	_, user := e.user(t, "paging.user", at(e.A, access.CanGetCustomer)...)
	cust := obpRecCustomer(t, e, e.A, "Alice")
	c := obpRecV3 + bankA + "/customers/" + cust.ID.String()
	for _, r := range []struct {
		path, token string
		roleNeeded  bool
		max         int
	}{
		{c + "/addresses", full, true, 1000},
		{c + "/tax-residences", full, true, 1000},
		{c + "/social_media_handles", full, true, 1000},
		{obpRecV5 + bankA + "/customers/" + cust.ID.String() + "/messages", full, true, 1000},
		{obpRecV3 + bankA + "/crm-events", full, false, 1000},
		{obpRecV3 + bankA + "/customers", user, false, 1000},
		{"/obp/v3.1.0/users/current/customers", user, false, 100}, // (each with all its attributes)
	} {
		for q, msg := range map[string]string{
			"limit=0":     "OBP-10025: wrong value for obp_limit parameter. Please send a positive integer (=>1)!",
			"obp_limit=x": "OBP-10025: wrong value for obp_limit parameter. Please send a positive integer (=>1)!",
			fmt.Sprintf("limit=%d", r.max+1): fmt.Sprintf(
				"OBP-10025: wrong value for obp_limit parameter. Please send a positive integer (=>1)! The largest limit is %d.", r.max),
			"offset=-1":          "OBP-10024: wrong value for obp_offset parameter. Please send a positive integer (=>0)!",
			"limit=5&offset=1e3": "OBP-10024: wrong value for obp_offset parameter. Please send a positive integer (=>0)!",
		} {
			obpRecErr(t, e.call(t, http.MethodGet, r.path+"?"+q, r.token, nil), http.StatusBadRequest,
				"OBP-10016: Incorrect filter Parameters in URL. <- "+msg)
		}
		res := e.call(t, http.MethodGet, r.path+"?limit=1&offset=0", r.token, nil)
		require.Equal(t, http.StatusOK, res.status, "%s: %s", r.path, res.body)
		if r.roleNeeded {
			res := e.call(t, http.MethodGet, r.path+"?limit=0", noRole, nil)
			require.Equal(t, http.StatusForbidden, res.status, "%s: %s", r.path, res.body)
		}
	}
}

// TestObpCurrentUsersCustomersAreBoundedTighter: the current user's
// customers carry all their attributes, so a page of them holds at most
// 100 (1,000 customers of 100 attributes made some 60 MB).
func TestObpCurrentUsersCustomersAreBoundedTighter(t *testing.T) {
	e := newEnv(t)
	u, tok := e.user(t, "many.customers", at(e.A, access.CanGetCustomer)...)
	cs := make([]*ent.CustomerCreate, 101)
	for i := range cs {
		cs[i] = e.db.Client.Customer.Create().SetBankID(e.A.ID).SetLegalName(fmt.Sprintf("Linked %03d", i))
	}
	created, err := e.db.Client.Customer.CreateBulk(cs...).Save(e.sys)
	require.NoError(t, err)
	links := make([]*ent.UserCustomerLinkCreate, len(created))
	for i, c := range created {
		links[i] = e.db.Client.UserCustomerLink.Create().SetUserID(u.ID).SetCustomerID(c.ID)
	}
	require.NoError(t, e.db.Client.UserCustomerLink.CreateBulk(links...).Exec(e.sys))

	path := "/obp/v3.1.0/users/current/customers"
	obpRecErr(t, e.call(t, http.MethodGet, path, tok, nil), http.StatusBadRequest,
		"OBP-10016: Incorrect filter Parameters in URL. <- This list holds more than 100 customers: ask for it in pages, with limit (at most 100) and offset.")
	var page struct{ Customers []map[string]any }
	res := e.call(t, http.MethodGet, path+"?limit=100&offset=100", tok, nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	res.decode(t, &page)
	require.Len(t, page.Customers, 1)
	// The bank's list of them carries no attributes: 1,000.
	res = e.call(t, http.MethodGet, obpRecV3+bankA+"/customers", tok, nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
}

package rest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"custgraph/internal/access"
)

// OBP keeps an address's tags joined with "," in one 20-character column
// (rest-compat §3.4 #8: "tags joined by "," into 20 chars";
// MappedCustomerAddress.mTags is a MappedString(this, 20)), so a longer
// list cannot be stored there. ent refuses it (every door): on the OBP
// address routes it is 400 OBP-10020 naming tags, like a postcode over
// OBP's 20 characters, after OBP's A→B→R→J→C checks, and nothing is
// written.
func TestObpAddressTagsFitOBPsColumn(t *testing.T) {
	e := newEnv(t)
	full := e.client(t, e.A, allBankRoles(e.A)...)
	getOnly := e.client(t, e.A, at(e.A, access.CanGetCustomer)...)
	cust := obpRecCustomer(t, e, e.A, "Alice")
	base := obpRecV3 + bankA + "/customers/" + cust.ID.String()
	count := func() int { return e.db.Client.Address.Query().CountX(e.sys) }
	withTags := func(tags ...string) map[string]any {
		body := obpRecSeedAddress()
		body["tags"] = tags
		return body
	}
	tooLong := []string{"mailing", "home", "holidays"} // "mailing,home,holidays": 21 characters
	refused := func(t *testing.T, res reply) {
		t.Helper()
		obpRecErrPrefix(t, res, http.StatusBadRequest, "OBP-10020: Incorrect json. tags: ")
		require.Contains(t, res.object(t)["message"], "at most 20 characters")
	}

	// 20 characters joined is the most OBP's column holds: accepted.
	res := e.call(t, http.MethodPost, base+"/address", full, withTags("mailing", "home", "holiday"))
	require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
	require.Equal(t, []any{"mailing", "home", "holiday"}, res.object(t)["tags"])
	addrID := res.object(t)["customer_address_id"].(string)

	t.Run("create", func(t *testing.T) {
		before := count()
		refused(t, e.call(t, http.MethodPost, base+"/address", full, withTags(tooLong...)))
		refused(t, e.call(t, http.MethodPost, base+"/address", full, withTags(strings.Repeat("t", 21))))
		// Characters, not bytes: 20 "ä" fit, 21 do not.
		res := e.call(t, http.MethodPost, base+"/address", full, withTags(strings.Repeat("ä", 20)))
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		refused(t, e.call(t, http.MethodPost, base+"/address", full, withTags(strings.Repeat("ä", 21))))
		require.Equal(t, before+1, count())

		// OBP's order holds: the role (R) and the customer (C) come first.
		obpRecErr(t, e.call(t, http.MethodPost, base+"/address", getOnly, withTags(tooLong...)),
			http.StatusForbidden, obpRecMissing("CanCreateCustomerAddress at Bank(gh.29.uk)"))
		unknown := uuid.NewString()
		obpRecErr(t, e.call(t, http.MethodPost, obpRecV3+bankA+"/customers/"+unknown+"/address", full, withTags(tooLong...)),
			http.StatusNotFound, obpRecCustomerNotFound(unknown))
		require.Equal(t, before+1, count())
	})

	t.Run("update", func(t *testing.T) {
		path := base + "/addresses/" + addrID
		body := withTags(tooLong...)
		body["line_1"] = "should not land"
		refused(t, e.call(t, http.MethodPut, path, full, body))
		ad := e.db.Client.Address.GetX(e.sys, uuid.MustParse(addrID))
		require.Equal(t, []string{"mailing", "home", "holiday"}, ad.Tags)
		require.Equal(t, "No 1 the Road", ad.Line1)

		res := e.call(t, http.MethodPut, path, full, withTags("work"))
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.Equal(t, []any{"work"}, res.object(t)["tags"])
	})
}

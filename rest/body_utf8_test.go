package rest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"custgraph/internal/access"
)

// TestBodyMustBeUTF8: a JSON body that is not valid UTF-8 (RFC 8259 §8.1)
// is refused with the family's 400 by the shared body decoding, in every
// family, rather than stored with U+FFFD in place of the bad bytes; nothing
// is written.
func TestBodyMustBeUTF8(t *testing.T) {
	e := newEnv(t)
	tok := e.client(t, e.A, allBankRoles(e.A)...)
	const bad = "\xff\xfe" // not UTF-8
	// withBad is body (JSON) with the string value "<marker>" replaced by
	// one holding the bad bytes (json.Marshal would replace them).
	withBad := func(body any, marker string) string {
		j, err := json.Marshal(body)
		require.NoError(t, err)
		s := strings.Replace(string(j), `"`+marker+`"`, `"`+marker+bad+`"`, 1)
		require.NotEqual(t, string(j), s, "marker %q not in the body", marker)
		return s
	}
	countUnchanged := func(t *testing.T, before [2]int) {
		t.Helper()
		require.Equal(t, before, e.bsaiCounts(t), "nothing written")
	}

	t.Run("bankingservice.ai", func(t *testing.T) {
		before := e.bsaiCounts(t)
		res := e.call(t, http.MethodPost, bsaiPath, tok, `{"first_name":"`+bad+`"}`)
		bsaiRequireError(t, res, http.StatusBadRequest, "invalid_request", "the body is not valid UTF-8")
		countUnchanged(t, before)

		created := e.call(t, http.MethodPost, bsaiPath, tok, bsaiSeedBody())
		require.Equal(t, http.StatusOK, created.status, "%s", created.body)
		id := created.object(t)["id"].(string)
		before = e.bsaiCounts(t)
		res = e.call(t, http.MethodPut, bsaiPath+"/"+id, tok, withBad(bsaiSeedBody(), "John"))
		bsaiRequireError(t, res, http.StatusBadRequest, "invalid_request", "the body is not valid UTF-8")
		countUnchanged(t, before)
		res = e.call(t, http.MethodGet, bsaiPath+"/"+id, tok, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.Equal(t, "John", res.object(t)["first_name"], "unchanged")
	})

	t.Run("Tradevest", func(t *testing.T) {
		before := e.bsaiCounts(t)
		body := map[string]any{"entityId": uuid.New(), "entityType": "NATURAL_PERSON", "labels": []string{"vip"}}
		res := e.call(t, http.MethodPost, "/roles/customers", tok, withBad(body, "vip"), "Requestor-ID", uuid.NewString())
		require.Equal(t, "the body is not valid UTF-8", tvErr(t, res, http.StatusBadRequest, "BAD_REQUEST", "", ""))
		countUnchanged(t, before)

		id := e.tvCreate(t, tok, body)
		res = e.call(t, http.MethodPatch, "/roles/customers/"+id, tok, withBad(map[string]any{"labels": []string{"gold"}}, "gold"),
			"Requestor-ID", uuid.NewString())
		tvErr(t, res, http.StatusBadRequest, "BAD_REQUEST", "", "")
		c, err := e.db.Client.Customer.Get(e.sys, uuid.MustParse(id))
		require.NoError(t, err)
		require.Equal(t, []string{"vip"}, c.Labels, "unchanged")
	})

	t.Run("OBP", func(t *testing.T) {
		before := e.bsaiCounts(t)
		obp := e.client(t, e.A, at(e.A, access.CanCreateCustomer, access.CanGetCustomer, access.CanUpdateCustomer)...)
		res := e.call(t, http.MethodPost, obpCustV3+bankA+"/customers", obp, withBad(obpCustSeedBody(), "Eveline Tripman"))
		obpCustErrPrefix(t, res, http.StatusBadRequest, "OBP-10001: Incorrect json format.")
		require.Contains(t, res.object(t)["message"], "the body is not valid UTF-8")
		res = e.call(t, http.MethodPost, obpCustV5+bankA+"/customers", obp,
			withBad(map[string]any{"legal_name": "Eveline Tripman", "mobile_phone_number": "+49 30 901820"}, "Eveline Tripman"))
		obpCustErrPrefix(t, res, http.StatusBadRequest, "OBP-10001: Incorrect json format.")
		countUnchanged(t, before)

		created := e.call(t, http.MethodPost, obpCustV3+bankA+"/customers", obp, obpCustSeedBody())
		require.Equal(t, http.StatusCreated, created.status, "%s", created.body)
		id := created.object(t)["customer_id"].(string)
		res = e.call(t, http.MethodPut, obpCustV3+bankA+"/customers/"+id+"/identity", obp,
			withBad(map[string]any{"legal_name": "Eveline Tripman", "date_of_birth": "2018-03-09", "title": "Dr.", "name_suffix": "Sr"}, "Eveline Tripman"))
		obpCustErrPrefix(t, res, http.StatusBadRequest, "OBP-10001: Incorrect json format.")
		c, err := e.db.Client.Customer.Get(e.sys, uuid.MustParse(id))
		require.NoError(t, err)
		require.Equal(t, "Eveline Tripman", c.LegalName, "unchanged")
		// A record route.
		msg := e.client(t, e.A, at(e.A, access.CanCreateCustomerMessage)...)
		res = e.call(t, http.MethodPost, obpCustV5+bankA+"/customers/"+id+"/messages", msg,
			withBad(map[string]any{"message": "hello", "transport": "SMS", "from_department": "Cards", "from_person": "Bob"}, "hello"))
		obpCustErrPrefix(t, res, http.StatusBadRequest, "OBP-10001: Incorrect json format. The Json body should be the CreateMessageJsonV400")
		require.Zero(t, e.db.Client.CustomerMessage.Query().CountX(e.sys))
	})
}

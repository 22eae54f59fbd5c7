package rest_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// TestCrossDoor creates a customer through each REST family and reads it
// back, with the same id and the same substance, through the other two
// families and GraphQL; then changes it through one door and sees the
// change through the others.
func TestCrossDoor(t *testing.T) {
	e := newEnv(t)
	tok := e.client(t, e.A, allBankRoles(e.A)...)
	const profile = "/v1/profiles/" + bankA + "/customers/"
	const obp = "/obp/v3.1.0/banks/" + bankA + "/customers/"

	// readAll reads customer id through every door and checks what each
	// shows of it.
	type view struct {
		email, phone, legalName string
		labels                  []string
		first, last, company    string // bankingservice.ai's names (the name mapping)
	}
	readAll := func(t *testing.T, id string, want view) {
		t.Helper()
		res := e.call(t, http.MethodGet, profile+id, tok, nil)
		require.Equal(t, http.StatusOK, res.status, "bankingservice.ai: %s", res.body)
		bs := res.object(t)
		require.Equal(t, id, bs["id"])
		require.Equal(t, want.email, bs["email"])
		require.Equal(t, want.phone, bs["phone"])
		require.Equal(t, []any{want.first, want.last, want.company}, []any{bs["first_name"], bs["last_name"], bs["company"]},
			"bankingservice.ai's names")

		res = e.call(t, http.MethodGet, "/roles/customers/"+id, tok, nil)
		require.Equal(t, http.StatusOK, res.status, "Tradevest: %s", res.body)
		tv := res.object(t)
		require.Equal(t, id, tv["customerId"])
		labels := []string{}
		for _, l := range tv["labels"].([]any) {
			labels = append(labels, l.(string))
		}
		if want.labels == nil {
			want.labels = []string{}
		}
		require.Equal(t, want.labels, labels)

		res = e.call(t, http.MethodGet, obp+id, tok, nil)
		require.Equal(t, http.StatusOK, res.status, "OBP: %s", res.body)
		ob := res.object(t)
		require.Equal(t, id, ob["customer_id"])
		require.Equal(t, bankA, ob["bank_id"])
		require.Equal(t, want.email, ob["email"])
		require.Equal(t, want.legalName, ob["legal_name"])

		data := e.gql(t, tok, `query($id: ID!) { node(id: $id) { ... on Customer { id email mobilePhoneNumber legalName labels customerNumber } } }`,
			map[string]any{"id": id})
		var g struct {
			ID, Email, MobilePhoneNumber, LegalName, CustomerNumber string
			Labels                                                  []string
		}
		require.NoError(t, json.Unmarshal(data["node"], &g))
		require.Equal(t, id, g.ID)
		require.Equal(t, want.email, g.Email)
		require.Equal(t, want.legalName, g.LegalName)
		require.Equal(t, ob["customer_number"], g.CustomerNumber)
		if len(want.labels) == 0 {
			require.Empty(t, g.Labels)
		} else {
			require.Equal(t, want.labels, g.Labels)
		}
	}

	var viaBS, viaTV, viaOBP string
	t.Run("created through bankingservice.ai", func(t *testing.T) {
		res := e.call(t, http.MethodPost, "/v1/profiles/"+bankA+"/customers", tok, map[string]any{
			"first_name": "John", "last_name": "Doe", "email": "john@example.com", "phone": "318000201068",
			"address": map[string]any{"premise": 58, "sub_premise": "A", "postal_code": "2132 JK", "thoroughfare": "Kruisweg",
				"locality": "Hoofddorp", "state": "Noord-Holland", "country": "NL"},
		})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		viaBS = res.object(t)["id"].(string)
		readAll(t, viaBS, view{email: "john@example.com", phone: "318000201068", legalName: "John Doe", first: "John", last: "Doe"})

		// The embedded address is an address of the customer everywhere.
		res = e.call(t, http.MethodGet, obp+viaBS+"/addresses", tok, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		var addrs struct {
			Addresses []map[string]any `json:"addresses"`
		}
		res.decode(t, &addrs)
		require.Len(t, addrs.Addresses, 1)
		require.Equal(t, "Hoofddorp", addrs.Addresses[0]["city"])
		require.Equal(t, "2132 JK", addrs.Addresses[0]["postcode"])
		require.Equal(t, "NL", addrs.Addresses[0]["country_code"])
		require.Equal(t, "Kruisweg 58A", addrs.Addresses[0]["line_1"])
	})

	entity := uuid.NewString()
	t.Run("created through Tradevest", func(t *testing.T) {
		res := e.call(t, http.MethodPost, "/roles/customers", tok, map[string]any{
			"entityId": entity, "entityType": "NATURAL_PERSON", "labels": []string{"vip", "berlin"},
		}, "Requestor-ID", uuid.NewString())
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		viaTV = res.object(t)["customerId"].(string)
		readAll(t, viaTV, view{labels: []string{"vip", "berlin"}})
	})

	t.Run("created through OBP", func(t *testing.T) {
		res := e.call(t, http.MethodPost, "/obp/v5.1.0/banks/"+bankA+"/customers", tok, map[string]any{
			"legal_name": "Eveline Tripman", "mobile_phone_number": "+44 07972 444 876", "email": "eveline@example.com",
		})
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		viaOBP = res.object(t)["customer_id"].(string)
		// Only a legal_name: bankingservice.ai shows it as first and last name.
		readAll(t, viaOBP, view{email: "eveline@example.com", phone: "+44 07972 444 876", legalName: "Eveline Tripman",
			first: "Eveline", last: "Tripman"})
	})

	t.Run("a change through one door shows through the others", func(t *testing.T) {
		res := e.call(t, http.MethodPut, obp+viaBS+"/email", tok, map[string]any{"email": "john.doe@example.com"})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		readAll(t, viaBS, view{email: "john.doe@example.com", phone: "318000201068", legalName: "John Doe", first: "John", last: "Doe"})

		res = e.call(t, http.MethodPatch, "/roles/customers/"+viaOBP, tok, map[string]any{"labels": []string{"gold"}},
			"Requestor-ID", uuid.NewString())
		require.Equal(t, http.StatusAccepted, res.status, "%s", res.body)
		readAll(t, viaOBP, view{email: "eveline@example.com", phone: "+44 07972 444 876", legalName: "Eveline Tripman", labels: []string{"gold"},
			first: "Eveline", last: "Tripman"})

		// An OBP identity update renames the customer for bankingservice.ai.
		res = e.call(t, http.MethodPut, obp+viaOBP+"/identity", tok, map[string]any{"legal_name": "Eveline Maria  Tripman-Smith",
			"date_of_birth": "1980-03-09", "title": "Dr.", "name_suffix": ""})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		readAll(t, viaOBP, view{email: "eveline@example.com", phone: "+44 07972 444 876", legalName: "Eveline Maria  Tripman-Smith",
			labels: []string{"gold"}, first: "Eveline Maria", last: "Tripman-Smith"})
		// …and a bankingservice.ai rename renames it for OBP (the two agree).
		res = e.call(t, http.MethodPut, profile+viaOBP, tok, map[string]any{"first_name": "Eve", "last_name": "Tripman",
			"email": "eveline@example.com", "phone": "+44 07972 444 876"})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		readAll(t, viaOBP, view{email: "eveline@example.com", phone: "+44 07972 444 876", legalName: "Eve Tripman",
			labels: []string{"gold"}, first: "Eve", last: "Tripman"})

		// A legal entity's legal name is its company.
		res = e.call(t, http.MethodPost, "/roles/customers", tok, map[string]any{"entityId": uuid.NewString(), "entityType": "LEGAL_ENTITY"})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		company := res.object(t)["customerId"].(string)
		res = e.call(t, http.MethodPut, obp+company+"/identity", tok, map[string]any{"legal_name": "Acme Trading GmbH",
			"date_of_birth": "1999-01-01", "title": "", "name_suffix": ""})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		readAll(t, company, view{legalName: "Acme Trading GmbH", company: "Acme Trading GmbH"})

		// A bankingservice.ai rename renames the customer for OBP and
		// GraphQL (a derived legal name follows the names).
		res = e.call(t, http.MethodPut, profile+viaTV, tok, map[string]any{"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		readAll(t, viaTV, view{email: "ada@example.com", legalName: "Ada Lovelace", labels: []string{"vip", "berlin"}, first: "Ada", last: "Lovelace"})

		// A legal name and names set each on their own (GraphQL) are kept
		// as set: a rename through one side leaves the other.
		d := e.gql(t, tok, `mutation($b: ID!) { createCustomer(input: {bankID: $b, legalName: "Lovelace Holdings Ltd",
			firstName: "Ada", lastName: "Lovelace"}) { id } }`, map[string]any{"b": e.A.ID})
		var own struct{ ID string }
		require.NoError(t, json.Unmarshal(d["createCustomer"], &own))
		res = e.call(t, http.MethodPut, profile+own.ID, tok, map[string]any{"first_name": "Augusta", "last_name": "King"})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		readAll(t, own.ID, view{legalName: "Lovelace Holdings Ltd", first: "Augusta", last: "King"})

		// …and a new street shows in OBP's address lines.
		res = e.call(t, http.MethodPut, profile+viaBS, tok, map[string]any{
			"first_name": "John", "last_name": "Doe", "email": "john.doe@example.com", "phone": "318000201068",
			"address": map[string]any{"premise": 7, "building": "Tower B", "postal_code": "2132 JK", "thoroughfare": "Raadhuisplein",
				"locality": "Hoofddorp", "state": "Noord-Holland", "country": "NL"},
		})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		res = e.call(t, http.MethodGet, obp+viaBS+"/addresses", tok, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		var addrs struct {
			Addresses []map[string]any `json:"addresses"`
		}
		res.decode(t, &addrs)
		require.Len(t, addrs.Addresses, 1)
		require.Equal(t, "Raadhuisplein 7", addrs.Addresses[0]["line_1"])
		require.Equal(t, "Tower B", addrs.Addresses[0]["line_2"])

		res = e.call(t, http.MethodDelete, profile+viaBS, tok, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		for _, path := range []string{profile + viaBS, "/roles/customers/" + viaBS, obp + viaBS} {
			res := e.call(t, http.MethodGet, path, tok, nil)
			require.Equal(t, http.StatusNotFound, res.status, "%s after the delete: %s", path, res.body)
		}
	})
}

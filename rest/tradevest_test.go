package rest_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"custgraph/ent/customer"
	"custgraph/ent/product"
	"custgraph/ent/requestreplay"
	"custgraph/internal/access"
)

// tvCounts is how many customers, products and request replays exist: a
// refused request must leave them unchanged.
type tvCounts struct{ customers, products, replays int }

func (e *env) tvCounts(t *testing.T) tvCounts {
	t.Helper()
	c, err := e.db.Client.Customer.Query().Count(e.sys)
	require.NoError(t, err)
	p, err := e.db.Client.Product.Query().Count(e.sys)
	require.NoError(t, err)
	r, err := e.db.Client.RequestReplay.Query().Count(e.sys)
	require.NoError(t, err)
	return tvCounts{c, p, r}
}

// tvErr checks a Tradevest ErrorMessage: status, responseType, the
// request id, and (when field is not "") the one errorDetails entry with
// its code. It returns the message.
func tvErr(t *testing.T, res reply, status int, responseType, field, code string) string {
	t.Helper()
	require.Equal(t, status, res.status, "body: %s", res.body)
	require.Equal(t, "application/json", res.header.Get("Content-Type"))
	var body struct {
		Message      string `json:"message"`
		ResponseType string `json:"responseType"`
		RequestID    string `json:"requestId"`
		ErrorDetails []struct {
			Field  string `json:"field"`
			Errors []struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"errors"`
		} `json:"errorDetails"`
	}
	res.decode(t, &body)
	require.NotEmpty(t, body.Message)
	require.Equal(t, responseType, body.ResponseType)
	require.NotEmpty(t, body.RequestID)
	require.Equal(t, res.header.Get("X-Request-Id"), body.RequestID)
	if field == "" {
		require.Empty(t, body.ErrorDetails, "body: %s", res.body)
	} else {
		require.Len(t, body.ErrorDetails, 1, "body: %s", res.body)
		require.Equal(t, field, body.ErrorDetails[0].Field)
		require.Len(t, body.ErrorDetails[0].Errors, 1)
		require.Equal(t, code, body.ErrorDetails[0].Errors[0].Code)
		require.NotEmpty(t, body.ErrorDetails[0].Errors[0].Message)
	}
	return body.Message
}

// tvCreate creates a customer through the API and returns its id.
func (e *env) tvCreate(t *testing.T, tok string, body any) string {
	t.Helper()
	res := e.call(t, http.MethodPost, "/roles/customers", tok, body)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var out struct {
		CustomerID string `json:"customerId"`
	}
	res.decode(t, &out)
	require.Len(t, res.object(t), 1)
	return out.CustomerID
}

// tvProduct creates a product through the API and returns its id.
func (e *env) tvProduct(t *testing.T, tok, customerID string, body any) string {
	t.Helper()
	res := e.call(t, http.MethodPost, "/customers/"+customerID+"/products", tok, body, "Requestor-ID", uuid.NewString())
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var out struct {
		ID string `json:"customerProductId"`
	}
	res.decode(t, &out)
	require.Len(t, res.object(t), 1)
	return out.ID
}

func tvStamp(t *testing.T, v any) time.Time {
	t.Helper()
	s, ok := v.(string)
	require.True(t, ok, "%v is not a date-time string", v)
	require.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`, s)
	ts, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return ts
}

// TestTradevestCustomers covers POST, GET and PATCH of /roles/customers
// with the seed's example requests, every documented error, and the
// customer's visibility in GraphQL.
func TestTradevestCustomers(t *testing.T) {
	e := newEnv(t)
	tok := e.client(t, e.A, allBankRoles(e.A)...)
	entity := uuid.New()

	var id string
	t.Run("create", func(t *testing.T) {
		rid := uuid.NewString()
		res := e.call(t, http.MethodPost, "/roles/customers", tok,
			map[string]any{"entityId": entity, "entityType": "NATURAL_PERSON", "labels": []string{"vip", "berlin"}, "refAccounts": []any{}}, // (an empty list is no account)
			"Requestor-ID", rid)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		obj := res.object(t)
		require.Len(t, obj, 1)
		id = obj["customerId"].(string)
		c, err := e.db.Client.Customer.Get(e.sys, uuid.MustParse(id))
		require.NoError(t, err)
		require.Equal(t, e.A.ID, c.BankID)
		require.Equal(t, entity, *c.EntityID)
		require.Equal(t, customer.EntityTypeNATURAL_PERSON, *c.EntityType)
		require.Equal(t, customer.CustomerTypeNATURAL_PERSON, *c.CustomerType)
		require.Equal(t, customer.CustomerStatusCREATED, c.CustomerStatus)
		require.Equal(t, []string{"vip", "berlin"}, c.Labels)
		// The Requestor-ID is the actor in the audit trail.
		ev, err := e.db.Client.AuditEvent.Query().All(e.sys)
		require.NoError(t, err)
		found := false
		for _, x := range ev {
			if x.EntityID == c.ID {
				found = true
				require.Equal(t, rid, x.RequestorID)
			}
		}
		require.True(t, found, "an audit event of the new customer")
	})

	t.Run("create with customerType and without labels or Requestor-ID", func(t *testing.T) {
		cid := e.tvCreate(t, tok, map[string]any{"entityId": uuid.New(), "entityType": "JOINT_PERSON", "customerType": "NATURAL_PERSON"})
		c, err := e.db.Client.Customer.Get(e.sys, uuid.MustParse(cid))
		require.NoError(t, err)
		require.Equal(t, customer.EntityTypeJOINT_PERSON, *c.EntityType)
		require.Equal(t, customer.CustomerTypeNATURAL_PERSON, *c.CustomerType)
		require.Empty(t, c.Labels)
		res := e.call(t, http.MethodGet, "/roles/customers/"+cid, tok, nil)
		require.Equal(t, http.StatusOK, res.status)
		require.Equal(t, []any{}, res.object(t)["labels"])
	})

	t.Run("get", func(t *testing.T) {
		res := e.call(t, http.MethodGet, "/roles/customers/"+id, tok, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		c, err := e.db.Client.Customer.Get(e.sys, uuid.MustParse(id))
		require.NoError(t, err)
		obj := res.object(t)
		require.Len(t, obj, 11)
		require.Equal(t, id, obj["customerId"])
		require.Equal(t, "CREATED", obj["customerStatus"])
		require.Equal(t, entity.String(), obj["entityId"])
		require.Equal(t, "NATURAL_PERSON", obj["entityType"])
		require.Equal(t, "NATURAL_PERSON", obj["customerType"])
		require.Equal(t, []any{"vip", "berlin"}, obj["labels"])
		require.True(t, c.CreatedAt.Truncate(time.Millisecond).Equal(tvStamp(t, obj["createdOn"])))
		require.True(t, c.UpdatedAt.Truncate(time.Millisecond).Equal(tvStamp(t, obj["modifiedOn"])))
		require.Nil(t, obj["cancellationDate"])
		require.Contains(t, obj, "cancellationDate")
		require.Equal(t, []any{}, obj["signedDocumentsRelatedToCustomer"])
		require.Equal(t, []any{}, obj["refAccounts"])
	})

	t.Run("customer of another door", func(t *testing.T) {
		c, err := e.db.Client.Customer.Create().SetBankID(e.A.ID).SetLegalName("Obp Person").Save(e.sys)
		require.NoError(t, err)
		res := e.call(t, http.MethodGet, "/roles/customers/"+c.ID.String(), tok, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		obj := res.object(t)
		require.Nil(t, obj["entityId"])
		require.Nil(t, obj["entityType"])
		require.Nil(t, obj["customerType"])
	})

	t.Run("patch labels", func(t *testing.T) {
		res := e.call(t, http.MethodPatch, "/roles/customers/"+id, tok, map[string]any{"labels": []string{"gold"}},
			"Requestor-ID", uuid.NewString())
		require.Equal(t, http.StatusAccepted, res.status, "%s", res.body)
		require.Empty(t, res.body)
		c, err := e.db.Client.Customer.Get(e.sys, uuid.MustParse(id))
		require.NoError(t, err)
		require.Equal(t, []string{"gold"}, c.Labels)
		// Absent labels leave them unchanged; [] clears them.
		res = e.call(t, http.MethodPatch, "/roles/customers/"+id, tok, map[string]any{}, "Requestor-ID", uuid.NewString())
		require.Equal(t, http.StatusAccepted, res.status, "%s", res.body)
		c, _ = e.db.Client.Customer.Get(e.sys, uuid.MustParse(id))
		require.Equal(t, []string{"gold"}, c.Labels)
		res = e.call(t, http.MethodPatch, "/roles/customers/"+id, tok, map[string]any{"labels": []string{}}, "Requestor-ID", uuid.NewString())
		require.Equal(t, http.StatusAccepted, res.status, "%s", res.body)
		c, _ = e.db.Client.Customer.Get(e.sys, uuid.MustParse(id))
		require.Empty(t, c.Labels)
		res = e.call(t, http.MethodPatch, "/roles/customers/"+id, tok, map[string]any{"labels": []string{"vip", "berlin"}}, "Requestor-ID", uuid.NewString())
		require.Equal(t, http.StatusAccepted, res.status, "%s", res.body)
	})

	t.Run("graphql sees the same customer", func(t *testing.T) {
		data := e.gql(t, tok, `query($id: ID!) { node(id: $id) { ... on Customer { id entityID entityType labels customerStatus } } }`,
			map[string]any{"id": id})
		require.JSONEq(t, fmt.Sprintf(`{"id":%q,"entityID":%q,"entityType":"NATURAL_PERSON","labels":["vip","berlin"],"customerStatus":"CREATED"}`,
			id, entity), string(data["node"]))
	})

	t.Run("refused", func(t *testing.T) {
		before := e.tvCounts(t)
		good := func() map[string]any {
			return map[string]any{"entityId": uuid.New(), "entityType": "LEGAL_ENTITY"}
		}
		post := func(body any, headers ...string) reply {
			return e.call(t, http.MethodPost, "/roles/customers", tok, body, headers...)
		}
		// Authentication and roles.
		res := e.call(t, http.MethodPost, "/roles/customers", "", good())
		tvErr(t, res, http.StatusUnauthorized, "UNAUTHORIZED", "", "")
		require.NotEmpty(t, res.header.Get("WWW-Authenticate"))
		res = e.call(t, http.MethodPost, "/roles/customers", "Bearer garbage", good())
		tvErr(t, res, http.StatusUnauthorized, "UNAUTHORIZED", "", "")
		require.NotEmpty(t, res.header.Get("WWW-Authenticate"))
		tvErr(t, e.call(t, http.MethodGet, "/roles/customers", "", nil), http.StatusUnauthorized, "UNAUTHORIZED", "", "")
		reader := e.client(t, e.A, at(e.A, access.CanGetCustomer)...)
		msg := tvErr(t, e.call(t, http.MethodPost, "/roles/customers", reader, good()), http.StatusForbidden, "FORBIDDEN", "", "")
		require.Contains(t, msg, "CanCreateCustomer")
		nobody := e.client(t, e.A, at(e.A, access.CanCreateCustomer)...)
		msg = tvErr(t, e.call(t, http.MethodGet, "/roles/customers", nobody, nil), http.StatusForbidden, "FORBIDDEN", "", "")
		require.Contains(t, msg, "CanGetCustomer")
		tvErr(t, e.call(t, http.MethodGet, "/roles/customers/"+id, nobody, nil), http.StatusForbidden, "FORBIDDEN", "", "")
		tvErr(t, e.call(t, http.MethodPatch, "/roles/customers/"+id, reader, map[string]any{"labels": []string{"x"}},
			"Requestor-ID", uuid.NewString()), http.StatusForbidden, "FORBIDDEN", "", "")

		// Bodies.
		tvErr(t, post(`{"entityId":`), http.StatusBadRequest, "BAD_REQUEST", "", "")
		tvErr(t, post(`[1]`), http.StatusBadRequest, "BAD_REQUEST", "", "")
		tvErr(t, post(map[string]any{"entityType": "LEGAL_ENTITY"}), http.StatusBadRequest, "BAD_REQUEST", "entityId", "REQUIRED")
		tvErr(t, post(map[string]any{"entityId": uuid.New()}), http.StatusBadRequest, "BAD_REQUEST", "entityType", "REQUIRED")
		tvErr(t, post(map[string]any{"entityId": "not-a-uuid", "entityType": "LEGAL_ENTITY"}), http.StatusBadRequest, "BAD_REQUEST", "entityId", "INVALID_VALUE")
		msg = tvErr(t, post(map[string]any{"entityId": uuid.New(), "entityType": "ROBOT"}), http.StatusBadRequest, "BAD_REQUEST", "entityType", "INVALID_VALUE")
		require.Equal(t, `unknown value "ROBOT"`, msg, "in the API's words, not ent's")
		msg = tvErr(t, post(map[string]any{"entityId": uuid.New(), "entityType": "ROBOT: A: B"}), http.StatusBadRequest, "BAD_REQUEST", "entityType", "INVALID_VALUE")
		require.Equal(t, `unknown value "ROBOT: A: B"`, msg)
		msg = tvErr(t, post(map[string]any{"entityId": uuid.Nil, "entityType": "LEGAL_ENTITY"}), http.StatusBadRequest, "BAD_REQUEST", "entityId", "INVALID_VALUE")
		require.Equal(t, "must not be the nil UUID", msg)
		tvErr(t, post(map[string]any{"entityId": uuid.New(), "entityType": 7}), http.StatusBadRequest, "BAD_REQUEST", "entityType", "INVALID_VALUE")
		tvErr(t, post(map[string]any{"entityId": uuid.New(), "entityType": "LEGAL_ENTITY", "customerType": "ROBOT"}), http.StatusBadRequest, "BAD_REQUEST", "customerType", "INVALID_VALUE")
		tvErr(t, post(map[string]any{"entityId": uuid.New(), "entityType": "LEGAL_ENTITY", "labels": "vip"}), http.StatusBadRequest, "BAD_REQUEST", "labels", "INVALID_VALUE")
		many := make([]string, 17)
		for i := range many {
			many[i] = fmt.Sprintf("l%d", i)
		}
		for _, labels := range [][]string{many, {"a", ""}, {"a", "a"}} {
			tvErr(t, post(map[string]any{"entityId": uuid.New(), "entityType": "LEGAL_ENTITY", "labels": labels}),
				http.StatusBadRequest, "BAD_REQUEST", "labels", "INVALID_VALUE")
		}
		// Reference accounts are not kept: refused, not dropped behind a 200.
		tvErr(t, post(map[string]any{"entityId": uuid.New(), "entityType": "LEGAL_ENTITY",
			"refAccounts": []any{map[string]any{"iban": "DE89370400440532013000", "ownerName": "Ada", "type": "PRIMARY"}}}),
			http.StatusBadRequest, "BAD_REQUEST", "refAccounts", "NOT_SUPPORTED")
		tvErr(t, post(good(), "Requestor-ID", "clerk-7"), http.StatusBadRequest, "BAD_REQUEST", "Requestor-ID", "INVALID_VALUE")
		res = e.call(t, http.MethodPost, "/roles/customers", tok, "entityId=x", "Content-Type", "text/plain")
		tvErr(t, res, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "", "")
		big := `{"entityType":"LEGAL_ENTITY","x":"` + strings.Repeat("a", 2<<20) + `"}`
		tvErr(t, post(big), http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", "", "")

		// The entity already is a customer of this bank.
		tvErr(t, post(map[string]any{"entityId": entity, "entityType": "NATURAL_PERSON"}, "Requestor-ID", uuid.NewString()),
			http.StatusConflict, "CONFLICT", "entityId", "CONFLICT")

		// Unbound callers: several banks (or every bank) cannot say which.
		two := e.client(t, nil, append(at(e.A, access.CanCreateCustomer), at(e.B, access.CanCreateCustomer)...)...)
		msg = tvErr(t, e.call(t, http.MethodPost, "/roles/customers", two, good()), http.StatusBadRequest, "BAD_REQUEST", "", "")
		require.Contains(t, msg, "bound to a bank")
		every := e.client(t, nil, anyBank(access.CanCreateCustomer)...)
		tvErr(t, e.call(t, http.MethodPost, "/roles/customers", every, good()), http.StatusBadRequest, "BAD_REQUEST", "", "")

		// PATCH.
		patch := func(path string, body any, headers ...string) reply {
			return e.call(t, http.MethodPatch, path, tok, body, headers...)
		}
		rid := []string{"Requestor-ID", uuid.NewString()}
		tvErr(t, patch("/roles/customers/"+id, map[string]any{"labels": []string{"x"}}), http.StatusBadRequest, "BAD_REQUEST", "Requestor-ID", "REQUIRED")
		tvErr(t, patch("/roles/customers/"+id, map[string]any{"labels": []string{"x"}}, "Requestor-ID", "nope"), http.StatusBadRequest, "BAD_REQUEST", "Requestor-ID", "INVALID_VALUE")
		tvErr(t, patch("/roles/customers/"+id, map[string]any{"labels": []string{"x", "x"}}, rid...), http.StatusBadRequest, "BAD_REQUEST", "labels", "INVALID_VALUE")
		tvErr(t, patch("/roles/customers/"+id, map[string]any{"labels": many}, rid...), http.StatusBadRequest, "BAD_REQUEST", "labels", "INVALID_VALUE")
		tvErr(t, patch("/roles/customers/"+id, map[string]any{"labels": 3}, rid...), http.StatusBadRequest, "BAD_REQUEST", "labels", "INVALID_VALUE")
		tvErr(t, patch("/roles/customers/"+id, `{`, rid...), http.StatusBadRequest, "BAD_REQUEST", "", "")
		tvErr(t, patch("/roles/customers/nope", map[string]any{}, rid...), http.StatusBadRequest, "BAD_REQUEST", "customerId", "INVALID_VALUE")
		tvErr(t, patch("/roles/customers/"+uuid.NewString(), map[string]any{"labels": []string{"x"}}, rid...), http.StatusNotFound, "NOT_FOUND", "", "")

		// GET one.
		tvErr(t, e.call(t, http.MethodGet, "/roles/customers/nope", tok, nil), http.StatusBadRequest, "BAD_REQUEST", "customerId", "INVALID_VALUE")
		tvErr(t, e.call(t, http.MethodGet, "/roles/customers/"+uuid.NewString(), tok, nil), http.StatusNotFound, "NOT_FOUND", "", "")

		require.Equal(t, before, e.tvCounts(t), "refused requests wrote nothing")
		c, _ := e.db.Client.Customer.Get(e.sys, uuid.MustParse(id))
		require.Equal(t, []string{"vip", "berlin"}, c.Labels)
	})

	t.Run("unbound caller with one bank", func(t *testing.T) {
		one := e.client(t, nil, at(e.B, access.CanCreateCustomer, access.CanGetCustomer)...)
		cid := e.tvCreate(t, one, map[string]any{"entityId": uuid.New(), "entityType": "LEGAL_ENTITY"})
		c, err := e.db.Client.Customer.Get(e.sys, uuid.MustParse(cid))
		require.NoError(t, err)
		require.Equal(t, e.B.ID, c.BankID)
		require.Equal(t, customer.CustomerTypeLEGAL_ENTITY, *c.CustomerType)
	})
}

// TestTradevestCustomerList pages forward through multi-page lists, with
// each filter, and checks the parameters' errors.
func TestTradevestCustomerList(t *testing.T) {
	e := newEnv(t)
	tok := e.client(t, e.A, allBankRoles(e.A)...)
	type made struct {
		id     uuid.UUID
		entity uuid.UUID
		typ    string
		status customer.CustomerStatus
		labels []string
	}
	var all []made // newest first, as the list orders them
	for i := range 27 {
		typ := []string{"NATURAL_PERSON", "LEGAL_ENTITY", "JOINT_PERSON"}[i%3]
		labels := []string{"all"}
		if i%2 == 0 {
			labels = append(labels, "even")
		}
		if i%3 == 0 {
			labels = append(labels, "three")
		}
		status := customer.CustomerStatusCREATED
		if i%4 == 0 {
			status = customer.CustomerStatusACTIVE
		}
		ent := uuid.New()
		c, err := e.db.Client.Customer.Create().SetBankID(e.A.ID).SetEntityID(ent).
			SetEntityType(customer.EntityType(typ)).SetCustomerType(customer.CustomerType(typ)).
			SetCustomerStatus(status).SetLabels(labels).Save(e.sys)
		require.NoError(t, err)
		all = append([]made{{c.ID, ent, typ, status, labels}}, all...)
	}
	// A customer of the other bank is never listed.
	_, err := e.db.Client.Customer.Create().SetBankID(e.B.ID).SetEntityID(uuid.New()).
		SetEntityType(customer.EntityTypeLEGAL_ENTITY).SetLabels([]string{"all"}).Save(e.sys)
	require.NoError(t, err)

	// walk pages through the list with query and returns the ids in order.
	walk := func(t *testing.T, query string, limit int) []uuid.UUID {
		t.Helper()
		var ids []uuid.UUID
		cursor := ""
		for pages := 0; ; pages++ {
			require.Less(t, pages, 50)
			path := "/roles/customers?" + query
			if limit > 0 {
				path += fmt.Sprintf("&limit=%d", limit)
			}
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			res := e.call(t, http.MethodGet, path, tok, nil)
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			var page struct {
				Data []struct {
					CustomerID string `json:"customerId"`
				} `json:"data"`
				Pagination struct {
					Cursor *string `json:"cursor"`
					Limit  int     `json:"limit"`
				} `json:"pagination"`
			}
			res.decode(t, &page)
			want := limit
			if want == 0 {
				want = 20
			}
			require.Equal(t, want, page.Pagination.Limit)
			require.LessOrEqual(t, len(page.Data), want)
			for _, c := range page.Data {
				ids = append(ids, uuid.MustParse(c.CustomerID))
			}
			if page.Pagination.Cursor == nil {
				return ids
			}
			require.Len(t, page.Data, want, "only the last page is short")
			cursor = *page.Pagination.Cursor
		}
	}
	expect := func(keep func(m made) bool) []uuid.UUID {
		var ids []uuid.UUID
		for _, m := range all {
			if keep(m) {
				ids = append(ids, m.id)
			}
		}
		return ids
	}

	t.Run("all, default limit", func(t *testing.T) {
		require.Equal(t, expect(func(made) bool { return true }), walk(t, "", 0))
	})
	t.Run("all, limit 4", func(t *testing.T) {
		require.Equal(t, expect(func(made) bool { return true }), walk(t, "", 4))
	})
	t.Run("limit 1 and 100", func(t *testing.T) {
		require.Len(t, walk(t, "", 1), 27)
		require.Len(t, walk(t, "", 100), 27)
	})
	t.Run("customerType", func(t *testing.T) {
		got := walk(t, "customerType=LEGAL_ENTITY", 4)
		require.Len(t, got, 9)
		require.Equal(t, expect(func(m made) bool { return m.typ == "LEGAL_ENTITY" }), got)
	})
	t.Run("customerStatus", func(t *testing.T) {
		got := walk(t, "customerStatus=ACTIVE", 3)
		require.Len(t, got, 7)
		require.Equal(t, expect(func(m made) bool { return m.status == customer.CustomerStatusACTIVE }), got)
		require.Empty(t, walk(t, "customerStatus=ARCHIVED", 3))
	})
	t.Run("entityId", func(t *testing.T) {
		require.Equal(t, []uuid.UUID{all[5].id}, walk(t, "entityId="+all[5].entity.String(), 2))
	})
	t.Run("labels has all", func(t *testing.T) {
		has := func(m made, l string) bool {
			for _, x := range m.labels {
				if x == l {
					return true
				}
			}
			return false
		}
		got := walk(t, "labels=even&labels=three", 2)
		require.Len(t, got, 5) // i = 0, 6, 12, 18, 24
		require.Equal(t, expect(func(m made) bool { return has(m, "even") && has(m, "three") }), got)
		require.Len(t, walk(t, "labels=even", 5), 14)
		require.Empty(t, walk(t, "labels=even&labels=nowhere", 5))
	})
	t.Run("filters combined", func(t *testing.T) {
		got := walk(t, "labels=even&customerType=NATURAL_PERSON&customerStatus=ACTIVE", 1)
		require.Equal(t, expect(func(m made) bool {
			return m.typ == "NATURAL_PERSON" && m.status == customer.CustomerStatusACTIVE && len(m.labels) > 1 && m.labels[1] == "even"
		}), got)
		require.NotEmpty(t, got)
	})
	t.Run("a listed customer is the customer read alone", func(t *testing.T) {
		// The list reads only the columns it renders; the single read reads
		// them all: every field of every row must agree.
		res := e.call(t, http.MethodGet, "/roles/customers?limit=100", tok, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		var page struct{ Data []map[string]any }
		res.decode(t, &page)
		require.Len(t, page.Data, len(all))
		for _, row := range page.Data {
			one := e.call(t, http.MethodGet, "/roles/customers/"+row["customerId"].(string), tok, nil)
			require.Equal(t, http.StatusOK, one.status, "%s", one.body)
			require.Equal(t, one.object(t), row)
		}
	})
	t.Run("refused parameters", func(t *testing.T) {
		get := func(query string) reply { return e.call(t, http.MethodGet, "/roles/customers?"+query, tok, nil) }
		for _, q := range []string{"limit=0", "limit=101", "limit=ten", "limit=1&limit=2"} {
			tvErr(t, get(q), http.StatusBadRequest, "BAD_REQUEST", "limit", "INVALID_VALUE")
		}
		// Cursors this list never gives: garbage, empty JSON, no time, a
		// negative time and one past the year 9999.
		forged := func(j string) string { return "cursor=" + base64.RawURLEncoding.EncodeToString([]byte(j)) }
		id := uuid.NewString()
		for _, q := range []string{"cursor=garbage", "cursor=e30", "cursor=%7B%7D", forged(`{"id":"` + id + `"}`),
			forged(`{"t":-62135596800000001,"id":"` + id + `"}`), forged(`{"t":253402300800000000,"id":"` + id + `"}`),
			forged(`{"t":null,"id":"` + id + `"}`), forged(`{"t":5,"id":"` + id + `","x":1}`),
			forged(`{"t":5,"id":"` + strings.ToUpper(id) + `"}`), forged(`{"id":"` + id + `","t":5}`)} {
			tvErr(t, get(q), http.StatusBadRequest, "BAD_REQUEST", "cursor", "INVALID_VALUE")
		}
		tvErr(t, get("customerStatus=GONE"), http.StatusBadRequest, "BAD_REQUEST", "customerStatus", "INVALID_VALUE")
		tvErr(t, get("customerType=ROBOT"), http.StatusBadRequest, "BAD_REQUEST", "customerType", "INVALID_VALUE")
		tvErr(t, get("entityId=123"), http.StatusBadRequest, "BAD_REQUEST", "entityId", "INVALID_VALUE")
		many := make([]string, 17)
		for i := range many {
			many[i] = fmt.Sprintf("labels=l%d", i)
		}
		tvErr(t, get(strings.Join(many, "&")), http.StatusBadRequest, "BAD_REQUEST", "labels", "INVALID_VALUE")
		// A label has minLength 1 (rest-compat §2.2): an empty one is refused,
		// alone or among others, not read as "no filter".
		for _, q := range []string{"labels=&limit=1", "labels=", "labels=even&labels=", "labels=%20"} {
			tvErr(t, get(q), http.StatusBadRequest, "BAD_REQUEST", "labels", "INVALID_VALUE")
		}
	})
}

// TestTradevestProducts covers the product routes: create, read, list with
// each filter, close, their errors, and the closed product in GraphQL.
func TestTradevestProducts(t *testing.T) {
	e := newEnv(t)
	tok := e.client(t, e.A, allBankRoles(e.A)...)
	cid := e.tvCreate(t, tok, map[string]any{"entityId": uuid.New(), "entityType": "NATURAL_PERSON"})

	var balance, wallet, depository, legacy string
	t.Run("create", func(t *testing.T) {
		rid := uuid.NewString()
		res := e.call(t, http.MethodPost, "/customers/"+cid+"/products", tok, map[string]any{"productCode": "BALANCE_ACCOUNT"}, "Requestor-ID", rid)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		obj := res.object(t)
		require.Len(t, obj, 1)
		balance = obj["customerProductId"].(string)
		p, err := e.db.Client.Product.Get(e.sys, uuid.MustParse(balance))
		require.NoError(t, err)
		require.Equal(t, cid, p.CustomerID.String())
		require.Equal(t, product.ProductCodeBALANCE_ACCOUNT, p.ProductCode)
		require.Equal(t, product.ProductTypeCASH, p.ProductType)
		require.Equal(t, product.StatusRECEIVED, p.Status)
		require.Equal(t, "EUR", p.Currency)
		require.Nil(t, p.OpenedOn)
		require.Nil(t, p.ClosedOn)

		wallet = e.tvProduct(t, tok, cid, map[string]any{"productCode": "CURRENCY_WALLET", "currency": "USD"})
		depository = e.tvProduct(t, tok, cid, map[string]any{"productCode": "DEPOSITORY_ACCOUNT"})
		legacy = e.tvProduct(t, tok, cid, map[string]any{"productCode": "WALLET"})
		p, err = e.db.Client.Product.Get(e.sys, uuid.MustParse(legacy))
		require.NoError(t, err)
		require.Equal(t, product.ProductTypeWALLET, p.ProductType)
		require.Empty(t, p.Currency)
		// An IBAN for the iban filter (set by the bank's back office).
		_, err = e.db.Client.Product.UpdateOneID(uuid.MustParse(balance)).SetIban("DE89370400440532013000").Save(e.sys)
		require.NoError(t, err)
	})

	t.Run("get", func(t *testing.T) {
		res := e.call(t, http.MethodGet, "/products/"+wallet, tok, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		p, err := e.db.Client.Product.Get(e.sys, uuid.MustParse(wallet))
		require.NoError(t, err)
		obj := res.object(t)
		require.Len(t, obj, 10, "exactly the fields of §2.4; accountData only with an IBAN")
		require.Equal(t, wallet, obj["customerProductId"])
		require.Equal(t, "CURRENCY_WALLET", obj["productCode"])
		require.Equal(t, "WALLET", obj["productType"])
		require.Equal(t, "USD", obj["currency"])
		require.Equal(t, "RECEIVED", obj["status"])
		require.Equal(t, []any{}, obj["proxyIds"])
		require.NotContains(t, obj, "iban")
		require.NotContains(t, obj, "accountData")
		require.True(t, p.CreatedAt.Truncate(time.Millisecond).Equal(tvStamp(t, obj["createdOn"])))
		require.True(t, p.UpdatedAt.Truncate(time.Millisecond).Equal(tvStamp(t, obj["modifiedOn"])))
		require.Nil(t, obj["openedOn"])
		require.Nil(t, obj["closedOn"])

		obj = e.call(t, http.MethodGet, "/products/"+balance, tok, nil).object(t)
		require.NotContains(t, obj, "iban", "the IBAN is in accountData only")
		require.Equal(t, map[string]any{"iban": "DE89370400440532013000"}, obj["accountData"])
		require.Equal(t, "EUR", obj["currency"])
		require.Equal(t, "CASH", obj["productType"])
		obj = e.call(t, http.MethodGet, "/products/"+legacy, tok, nil).object(t)
		require.Nil(t, obj["currency"])
	})

	list := func(t *testing.T, query string) []string {
		t.Helper()
		res := e.call(t, http.MethodGet, "/customers/"+cid+"/products?"+query, tok, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		var out []map[string]any
		res.decode(t, &out)
		ids := make([]string, len(out))
		for i, p := range out {
			ids[i] = p["customerProductId"].(string)
		}
		return ids
	}

	t.Run("list", func(t *testing.T) {
		res := e.call(t, http.MethodGet, "/customers/"+cid+"/products", tok, nil)
		require.Equal(t, http.StatusOK, res.status)
		require.True(t, strings.HasPrefix(string(res.body), "["), "a bare array")
		require.Equal(t, []string{legacy, depository, wallet, balance}, list(t, ""))
		require.Equal(t, []string{legacy, wallet}, list(t, "productType=WALLET"))
		require.Equal(t, []string{depository}, list(t, "productCode=DEPOSITORY_ACCOUNT"))
		require.Equal(t, []string{legacy, depository, wallet, balance}, list(t, "status=RECEIVED"))
		require.Empty(t, list(t, "status=ACTIVE"))
		require.Equal(t, []string{balance}, list(t, "iban=DE89370400440532013000"))
		require.Empty(t, list(t, "iban=DE00000000000000000000"))
		require.Equal(t, []string{balance}, list(t, "productType=CASH&productCode=BALANCE_ACCOUNT&status=RECEIVED"))
		other := e.tvCreate(t, tok, map[string]any{"entityId": uuid.New(), "entityType": "LEGAL_ENTITY"})
		res = e.call(t, http.MethodGet, "/customers/"+other+"/products", tok, nil)
		require.Equal(t, http.StatusOK, res.status)
		require.Equal(t, "[]\n", string(res.body))
	})

	t.Run("close", func(t *testing.T) {
		res := e.call(t, http.MethodPatch, "/products/"+depository, tok, map[string]any{"status": "CLOSED"}, "Requestor-ID", uuid.NewString())
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.Empty(t, res.body)
		p, err := e.db.Client.Product.Get(e.sys, uuid.MustParse(depository))
		require.NoError(t, err)
		require.Equal(t, product.StatusCLOSED, p.Status)
		require.NotNil(t, p.ClosedOn)
		obj := e.call(t, http.MethodGet, "/products/"+depository, tok, nil).object(t)
		require.Equal(t, "CLOSED", obj["status"])
		require.True(t, p.ClosedOn.Truncate(time.Millisecond).Equal(tvStamp(t, obj["closedOn"])))
		require.Equal(t, []string{depository}, list(t, "status=CLOSED"))

		data := e.gql(t, tok, `query($id: ID!) { node(id: $id) { ... on Product { id status closedOn } } }`, map[string]any{"id": depository})
		var node struct {
			ID       string    `json:"id"`
			Status   string    `json:"status"`
			ClosedOn time.Time `json:"closedOn"`
		}
		require.NoError(t, json.Unmarshal(data["node"], &node))
		require.Equal(t, depository, node.ID)
		require.Equal(t, "CLOSED", node.Status)
		require.True(t, p.ClosedOn.Equal(node.ClosedOn))
	})

	t.Run("refused", func(t *testing.T) {
		before := e.tvCounts(t)
		rid := []string{"Requestor-ID", uuid.NewString()}
		post := func(customerID string, body any, headers ...string) reply {
			return e.call(t, http.MethodPost, "/customers/"+customerID+"/products", tok, body, headers...)
		}
		tvErr(t, post(cid, map[string]any{"productCode": "WALLET"}), http.StatusBadRequest, "BAD_REQUEST", "Requestor-ID", "REQUIRED")
		tvErr(t, post(cid, map[string]any{"productCode": "WALLET"}, "Requestor-ID", "123"), http.StatusBadRequest, "BAD_REQUEST", "Requestor-ID", "INVALID_VALUE")
		tvErr(t, post(cid, map[string]any{}, rid...), http.StatusBadRequest, "BAD_REQUEST", "productCode", "REQUIRED")
		tvErr(t, post(cid, map[string]any{"productCode": "GOLD_BAR"}, rid...), http.StatusBadRequest, "BAD_REQUEST", "productCode", "INVALID_VALUE")
		tvErr(t, post(cid, map[string]any{"productCode": 1}, rid...), http.StatusBadRequest, "BAD_REQUEST", "productCode", "INVALID_VALUE")
		tvErr(t, post(cid, map[string]any{"productCode": "WALLET", "currency": "EURO"}, rid...), http.StatusBadRequest, "BAD_REQUEST", "currency", "INVALID_VALUE")
		tvErr(t, post(cid, `{"productCode":`, rid...), http.StatusBadRequest, "BAD_REQUEST", "", "")
		tvErr(t, post("nope", map[string]any{"productCode": "WALLET"}, rid...), http.StatusBadRequest, "BAD_REQUEST", "customerId", "INVALID_VALUE")
		tvErr(t, post(uuid.NewString(), map[string]any{"productCode": "WALLET"}, rid...), http.StatusNotFound, "NOT_FOUND", "customerId", "NOT_FOUND")
		// The body (400) before the customer (404).
		tvErr(t, post(uuid.NewString(), map[string]any{"productCode": "GOLD_BAR"}, rid...), http.StatusBadRequest, "BAD_REQUEST", "productCode", "INVALID_VALUE")
		unknown := tvErr(t, post(uuid.NewString(), map[string]any{"productCode": "WALLET", "currency": "EURO"}, rid...), http.StatusBadRequest, "BAD_REQUEST", "currency", "INVALID_VALUE")
		require.Equal(t, "value is too long (or too large)", unknown, "ent's validator, worded as every door words it")
		noRole := e.client(t, e.A, at(e.A, access.CanGetCustomer, access.CanGetCustomerProduct)...)
		msg := tvErr(t, e.call(t, http.MethodPost, "/customers/"+cid+"/products", noRole, map[string]any{"productCode": "WALLET"}, rid...),
			http.StatusForbidden, "FORBIDDEN", "", "")
		require.Contains(t, msg, "CanCreateCustomerProduct")
		tvErr(t, e.call(t, http.MethodPatch, "/products/"+balance, noRole, map[string]any{"status": "CLOSED"}, rid...),
			http.StatusForbidden, "FORBIDDEN", "", "")

		patch := func(id string, body any, headers ...string) reply {
			return e.call(t, http.MethodPatch, "/products/"+id, tok, body, headers...)
		}
		tvErr(t, patch(balance, map[string]any{"status": "CLOSED"}), http.StatusBadRequest, "BAD_REQUEST", "Requestor-ID", "REQUIRED")
		tvErr(t, patch(balance, map[string]any{"status": "ACTIVE"}, rid...), http.StatusBadRequest, "BAD_REQUEST", "status", "NOT_SUPPORTED")
		tvErr(t, patch(balance, map[string]any{"status": "BROKEN"}, rid...), http.StatusBadRequest, "BAD_REQUEST", "status", "NOT_SUPPORTED")
		tvErr(t, patch(balance, map[string]any{}, rid...), http.StatusBadRequest, "BAD_REQUEST", "status", "REQUIRED")
		tvErr(t, patch(balance, map[string]any{"status": true}, rid...), http.StatusBadRequest, "BAD_REQUEST", "status", "INVALID_VALUE")
		tvErr(t, patch("nope", map[string]any{"status": "CLOSED"}, rid...), http.StatusBadRequest, "BAD_REQUEST", "customerProductId", "INVALID_VALUE")
		tvErr(t, patch(uuid.NewString(), map[string]any{"status": "CLOSED"}, rid...), http.StatusNotFound, "NOT_FOUND", "", "")
		tvErr(t, patch(depository, map[string]any{"status": "CLOSED"}, "Requestor-ID", uuid.NewString()), http.StatusConflict, "CONFLICT", "status", "CONFLICT")

		tvErr(t, e.call(t, http.MethodGet, "/products/nope", tok, nil), http.StatusBadRequest, "BAD_REQUEST", "customerProductId", "INVALID_VALUE")
		tvErr(t, e.call(t, http.MethodGet, "/products/"+uuid.NewString(), tok, nil), http.StatusNotFound, "NOT_FOUND", "", "")
		tvErr(t, e.call(t, http.MethodGet, "/products/"+balance, "", nil), http.StatusUnauthorized, "UNAUTHORIZED", "", "")
		tvErr(t, e.call(t, http.MethodGet, "/customers/"+uuid.NewString()+"/products", tok, nil), http.StatusNotFound, "NOT_FOUND", "", "")
		tvErr(t, e.call(t, http.MethodGet, "/customers/nope/products", tok, nil), http.StatusBadRequest, "BAD_REQUEST", "customerId", "INVALID_VALUE")
		for _, q := range []string{"productType=GOLD", "productCode=GOLD", "status=GONE"} {
			name := strings.Split(q, "=")[0]
			tvErr(t, e.call(t, http.MethodGet, "/customers/"+cid+"/products?"+q, tok, nil), http.StatusBadRequest, "BAD_REQUEST", name, "INVALID_VALUE")
		}
		require.Equal(t, before, e.tvCounts(t), "refused requests wrote nothing")
		p, _ := e.db.Client.Product.Get(e.sys, uuid.MustParse(balance))
		require.Equal(t, product.StatusRECEIVED, p.Status)
	})
	t.Run("an empty currency is none", func(t *testing.T) {
		// (after the list: this customer's products are counted above)
		id := e.tvProduct(t, tok, cid, map[string]any{"productCode": "BALANCE_ACCOUNT", "currency": ""})
		p, err := e.db.Client.Product.Get(e.sys, uuid.MustParse(id))
		require.NoError(t, err)
		require.Equal(t, "EUR", p.Currency, "a balance account's default")
		require.Equal(t, "EUR", e.call(t, http.MethodGet, "/products/"+id, tok, nil).object(t)["currency"])
	})
}

// TestTradevestReplay checks Requestor-ID replays: a repeated request gets
// the first answer without the work being done twice, also when the
// duplicates arrive at the same time; another body is new work; an
// expired replay is not answered.
func TestTradevestReplay(t *testing.T) {
	e := newEnv(t)
	tok := e.client(t, e.A, allBankRoles(e.A)...)

	t.Run("customer twice", func(t *testing.T) {
		rid := uuid.NewString()
		body := map[string]any{"entityId": uuid.New(), "entityType": "LEGAL_ENTITY", "labels": []string{"r"}}
		before := e.tvCounts(t)
		first := e.call(t, http.MethodPost, "/roles/customers", tok, body, "Requestor-ID", rid)
		second := e.call(t, http.MethodPost, "/roles/customers", tok, body, "Requestor-ID", rid)
		require.Equal(t, http.StatusOK, first.status, "%s", first.body)
		require.Equal(t, first.status, second.status)
		require.Equal(t, string(first.body), string(second.body))
		after := e.tvCounts(t)
		require.Equal(t, before.customers+1, after.customers)
		require.Equal(t, before.replays+1, after.replays)

		// The same body under another Requestor-ID is a new request: the
		// entity already is a customer.
		res := e.call(t, http.MethodPost, "/roles/customers", tok, body, "Requestor-ID", uuid.NewString())
		tvErr(t, res, http.StatusConflict, "CONFLICT", "entityId", "CONFLICT")
		// Another body under the same Requestor-ID is new work.
		other := map[string]any{"entityId": uuid.New(), "entityType": "LEGAL_ENTITY"}
		res = e.call(t, http.MethodPost, "/roles/customers", tok, other, "Requestor-ID", rid)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.NotEqual(t, string(first.body), string(res.body))
		require.Equal(t, after.customers+1, e.tvCounts(t).customers)
		// Another caller with the same Requestor-ID and body is another request.
		tok2 := e.client(t, e.A, allBankRoles(e.A)...)
		res = e.call(t, http.MethodPost, "/roles/customers", tok2, body, "Requestor-ID", rid)
		tvErr(t, res, http.StatusConflict, "CONFLICT", "entityId", "CONFLICT")
	})

	cid := e.tvCreate(t, tok, map[string]any{"entityId": uuid.New(), "entityType": "NATURAL_PERSON"})

	t.Run("product twice, close twice, patch twice", func(t *testing.T) {
		rid := uuid.NewString()
		before := e.tvCounts(t)
		first := e.call(t, http.MethodPost, "/customers/"+cid+"/products", tok, map[string]any{"productCode": "WALLET"}, "Requestor-ID", rid)
		second := e.call(t, http.MethodPost, "/customers/"+cid+"/products", tok, map[string]any{"productCode": "WALLET"}, "Requestor-ID", rid)
		require.Equal(t, http.StatusOK, first.status, "%s", first.body)
		require.Equal(t, http.StatusOK, second.status)
		require.Equal(t, string(first.body), string(second.body))
		require.Equal(t, before.products+1, e.tvCounts(t).products)
		pid := first.object(t)["customerProductId"].(string)

		close1 := e.call(t, http.MethodPatch, "/products/"+pid, tok, map[string]any{"status": "CLOSED"}, "Requestor-ID", rid)
		close2 := e.call(t, http.MethodPatch, "/products/"+pid, tok, map[string]any{"status": "CLOSED"}, "Requestor-ID", rid)
		require.Equal(t, http.StatusOK, close1.status, "%s", close1.body)
		require.Equal(t, http.StatusOK, close2.status, "the repeat is answered, not refused as already closed: %s", close2.body)
		require.Empty(t, close2.body)
		tvErr(t, e.call(t, http.MethodPatch, "/products/"+pid, tok, map[string]any{"status": "CLOSED"}, "Requestor-ID", uuid.NewString()),
			http.StatusConflict, "CONFLICT", "status", "CONFLICT")

		p1 := e.call(t, http.MethodPatch, "/roles/customers/"+cid, tok, map[string]any{"labels": []string{"one"}}, "Requestor-ID", rid)
		require.Equal(t, http.StatusAccepted, p1.status)
		c, _ := e.db.Client.Customer.Get(e.sys, uuid.MustParse(cid))
		modified := c.UpdatedAt
		p2 := e.call(t, http.MethodPatch, "/roles/customers/"+cid, tok, map[string]any{"labels": []string{"one"}}, "Requestor-ID", rid)
		require.Equal(t, http.StatusAccepted, p2.status)
		require.Empty(t, p2.body)
		c, _ = e.db.Client.Customer.Get(e.sys, uuid.MustParse(cid))
		require.True(t, modified.Equal(c.UpdatedAt), "the repeat changed nothing")
	})

	t.Run("concurrent duplicates", func(t *testing.T) {
		const n = 8
		run := func(t *testing.T, method, path string, body any) []reply {
			rid := uuid.NewString()
			b, err := json.Marshal(body)
			require.NoError(t, err)
			out := make([]reply, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					out[i] = e.call(t, method, path, tok, b, "Requestor-ID", rid)
				}()
			}
			wg.Wait()
			for _, r := range out {
				assert.Equal(t, http.StatusOK, r.status, "%s", r.body)
				assert.Equal(t, string(out[0].body), string(r.body))
			}
			n, err := e.db.Client.RequestReplay.Query().Where(requestreplay.RequestorID(rid)).Count(e.sys)
			require.NoError(t, err)
			require.Equal(t, 1, n, "one replay record")
			return out
		}
		entity := uuid.New()
		out := run(t, http.MethodPost, "/roles/customers", map[string]any{"entityId": entity, "entityType": "LEGAL_ENTITY"})
		n1, err := e.db.Client.Customer.Query().Where(customer.EntityID(entity)).Count(e.sys)
		require.NoError(t, err)
		require.Equal(t, 1, n1, "one customer")
		newID := out[0].object(t)["customerId"].(string)

		out = run(t, http.MethodPost, "/customers/"+newID+"/products", map[string]any{"productCode": "BALANCE_ACCOUNT"})
		n2, err := e.db.Client.Product.Query().Where(product.CustomerID(uuid.MustParse(newID))).Count(e.sys)
		require.NoError(t, err)
		require.Equal(t, 1, n2, "one product")
		require.Equal(t, newID, func() string {
			p, err := e.db.Client.Product.Get(e.sys, uuid.MustParse(out[0].object(t)["customerProductId"].(string)))
			require.NoError(t, err)
			return p.CustomerID.String()
		}())
	})

	t.Run("expired replay", func(t *testing.T) {
		// The caller's own replay of this request, 25 hours old (written
		// as the caller: replays are created by their caller only).
		data := e.gql(t, tok, `{ viewer { id } }`, nil)
		var viewer struct {
			ID uuid.UUID `json:"id"`
		}
		require.NoError(t, json.Unmarshal(data["viewer"], &viewer))
		ctx := access.NewContext(e.sys, access.NewViewer(access.KindClient, viewer.ID, "", &e.A.ID, nil))
		rid := uuid.NewString()
		body := []byte(fmt.Sprintf(`{"entityId":%q,"entityType":"NATURAL_PERSON"}`, uuid.New()))
		h := sha256.New()
		for _, part := range []string{"client:" + viewer.ID.String(), rid, http.MethodPost, "/roles/customers"} {
			h.Write([]byte(part))
			h.Write([]byte{0})
		}
		h.Write(body)
		stale := `{"customerId":"00000000-0000-0000-0000-000000000000"}` + "\n"
		// created_at follows the UUIDv7 id (ent): an id of 25 hours ago.
		old := uuid.Must(uuid.NewV7())
		ms := time.Now().Add(-25 * time.Hour).UnixMilli()
		for i := range 6 {
			old[i] = byte(ms >> (8 * (5 - i)))
		}
		_, err := e.db.Client.RequestReplay.Create().SetID(old).SetCaller("client:" + viewer.ID.String()).
			SetKey(hex.EncodeToString(h.Sum(nil))).SetRequestorID(rid).SetStatus(http.StatusOK).
			SetResponse([]byte(stale)).Save(ctx)
		require.NoError(t, err)

		first := e.call(t, http.MethodPost, "/roles/customers", tok, body, "Requestor-ID", rid)
		require.Equal(t, http.StatusOK, first.status, "%s", first.body)
		require.NotEqual(t, stale, string(first.body), "an expired replay is not answered")
		newID := first.object(t)["customerId"].(string)
		_, err = e.db.Client.Customer.Get(e.sys, uuid.MustParse(newID))
		require.NoError(t, err, "the request was done")
		second := e.call(t, http.MethodPost, "/roles/customers", tok, body, "Requestor-ID", rid)
		require.Equal(t, string(first.body), string(second.body), "the new answer is replayed")
		gone, err := e.db.Client.RequestReplay.Query().Where(requestreplay.ID(old)).Exist(e.sys)
		require.NoError(t, err)
		require.False(t, gone, "expired replays are deleted")

		// Another caller deletes none of this caller's replays (ent
		// confines a delete of replays to the deleter's own).
		other := access.NewContext(e.sys, access.NewViewer(access.KindClient, uuid.New(), "", &e.A.ID, nil))
		n, err := e.db.Client.RequestReplay.Delete().Exec(other)
		require.NoError(t, err)
		require.Zero(t, n)
		left, err := e.db.Client.RequestReplay.Query().Where(requestreplay.Caller("client:" + viewer.ID.String())).Count(e.sys)
		require.NoError(t, err)
		require.NotZero(t, left)
	})
}

// TestTradevestTenancy checks that a partner bound to bank B neither sees
// nor changes bank A's customers and products.
func TestTradevestTenancy(t *testing.T) {
	e := newEnv(t)
	tokA := e.client(t, e.A, allBankRoles(e.A)...)
	tokB := e.client(t, e.B, allBankRoles(e.B)...)
	// A client bound to B holding AtAnyBank roles is still confined to B.
	tokBAny := e.client(t, e.B, anyBank(access.CanGetCustomer, access.CanGetCustomerProduct, access.CanUpdateCustomer, access.CanUpdateCustomerProduct, access.CanCreateCustomerProduct)...)
	entity := uuid.New()
	cidA := e.tvCreate(t, tokA, map[string]any{"entityId": entity, "entityType": "NATURAL_PERSON", "labels": []string{"shared"}})
	pidA := e.tvProduct(t, tokA, cidA, map[string]any{"productCode": "BALANCE_ACCOUNT"})
	// The same entity may be a customer of bank B too: one per entity per bank.
	cidB := e.tvCreate(t, tokB, map[string]any{"entityId": entity, "entityType": "NATURAL_PERSON", "labels": []string{"shared"}})
	require.NotEqual(t, cidA, cidB)
	cB, err := e.db.Client.Customer.Get(e.sys, uuid.MustParse(cidB))
	require.NoError(t, err)
	require.Equal(t, e.B.ID, cB.BankID)

	before := e.tvCounts(t)
	for _, tok := range []string{tokB, tokBAny} {
		rid := []string{"Requestor-ID", uuid.NewString()}
		tvErr(t, e.call(t, http.MethodGet, "/roles/customers/"+cidA, tok, nil), http.StatusNotFound, "NOT_FOUND", "", "")
		tvErr(t, e.call(t, http.MethodGet, "/products/"+pidA, tok, nil), http.StatusNotFound, "NOT_FOUND", "", "")
		tvErr(t, e.call(t, http.MethodGet, "/customers/"+cidA+"/products", tok, nil), http.StatusNotFound, "NOT_FOUND", "", "")
		tvErr(t, e.call(t, http.MethodPatch, "/roles/customers/"+cidA, tok, map[string]any{"labels": []string{"stolen"}}, rid...), http.StatusNotFound, "NOT_FOUND", "", "")
		tvErr(t, e.call(t, http.MethodPatch, "/products/"+pidA, tok, map[string]any{"status": "CLOSED"}, rid...), http.StatusNotFound, "NOT_FOUND", "", "")
		tvErr(t, e.call(t, http.MethodPost, "/customers/"+cidA+"/products", tok, map[string]any{"productCode": "WALLET"}, rid...), http.StatusNotFound, "NOT_FOUND", "customerId", "NOT_FOUND")

		for _, q := range []string{"", "?labels=shared", "?entityId=" + entity.String()} {
			res := e.call(t, http.MethodGet, "/roles/customers"+q, tok, nil)
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			var page struct {
				Data []struct {
					CustomerID string `json:"customerId"`
				} `json:"data"`
			}
			res.decode(t, &page)
			require.Len(t, page.Data, 1)
			require.Equal(t, cidB, page.Data[0].CustomerID, "only bank B's customer")
		}
	}
	require.Equal(t, before, e.tvCounts(t), "nothing written")
	c, _ := e.db.Client.Customer.Get(e.sys, uuid.MustParse(cidA))
	require.Equal(t, []string{"shared"}, c.Labels)
	p, _ := e.db.Client.Product.Get(e.sys, uuid.MustParse(pidA))
	require.Equal(t, product.StatusRECEIVED, p.Status)

	// And bank A's partner does not see B's customer.
	tvErr(t, e.call(t, http.MethodGet, "/roles/customers/"+cidB, tokA, nil), http.StatusNotFound, "NOT_FOUND", "", "")
}

// TestTradevestRolesBeforeInput: the README's check order, authentication
// (401) → roles (403) → body, headers and path (400) → record (404), on
// every Tradevest route: a caller that holds the route's role at no bank is
// 403 naming the role whatever its request holds, and nothing is written;
// one that holds it gets to the input checks.
func TestTradevestRolesBeforeInput(t *testing.T) {
	e := newEnv(t)
	full := e.client(t, e.A, allBankRoles(e.A)...)
	cid := e.tvCreate(t, full, map[string]any{"entityId": uuid.New(), "entityType": "NATURAL_PERSON"})
	pid := e.tvProduct(t, full, cid, map[string]any{"productCode": "BALANCE_ACCOUNT"})
	noRolesBound := e.client(t, e.A)
	noRolesUnbound := e.client(t, nil)
	// Reading roles only: every write route is still 403, naming its role.
	readerOnly := e.client(t, e.A, at(e.A, access.CanGetCustomer, access.CanGetCustomerProduct)...)

	cases := []struct {
		name, method, path string
		body               any
		headers            []string
		role               string // the role the 403 names
		write              bool   // a write route: readerOnly is refused too
		field              string // the 400 of a caller holding the role
	}{
		{"create customer, empty body", http.MethodPost, "/roles/customers", `{}`, nil, "CanCreateCustomer", true, "entityId"},
		{"create customer, bad Requestor-ID", http.MethodPost, "/roles/customers", `{bad`, []string{"Requestor-ID", "nope"}, "CanCreateCustomer", true, "Requestor-ID"},
		{"list customers, bad limit", http.MethodGet, "/roles/customers?limit=ten", nil, nil, "CanGetCustomer", false, "limit"},
		{"list customers, empty label", http.MethodGet, "/roles/customers?labels=&limit=1", nil, nil, "CanGetCustomer", false, "labels"},
		{"get customer, bad id", http.MethodGet, "/roles/customers/not-a-uuid", nil, nil, "CanGetCustomer", false, "customerId"},
		{"update customer, no Requestor-ID", http.MethodPatch, "/roles/customers/" + cid, map[string]any{"labels": []string{"x"}}, nil, "CanUpdateCustomer", true, "Requestor-ID"},
		{"update customer, bad id", http.MethodPatch, "/roles/customers/not-a-uuid", `{bad`, nil, "CanUpdateCustomer", true, "customerId"},
		{"list products, bad filter", http.MethodGet, "/customers/" + cid + "/products?productType=GOLD", nil, nil, "CanGetCustomerProduct", false, "productType"},
		{"create product, bad body", http.MethodPost, "/customers/" + cid + "/products", `{bad`, []string{"Requestor-ID", uuid.NewString()}, "CanCreateCustomerProduct", true, ""},
		{"create product, no Requestor-ID", http.MethodPost, "/customers/" + cid + "/products", map[string]any{"productCode": "WALLET"}, nil, "CanCreateCustomerProduct", true, "Requestor-ID"},
		{"get product, bad id", http.MethodGet, "/products/not-a-uuid", nil, nil, "CanGetCustomerProduct", false, "customerProductId"},
		{"close product, bad body", http.MethodPatch, "/products/" + pid, `{bad`, []string{"Requestor-ID", uuid.NewString()}, "CanUpdateCustomerProduct", true, ""},
		{"close product, bad status", http.MethodPatch, "/products/" + pid, map[string]any{"status": "ACTIVE"}, []string{"Requestor-ID", uuid.NewString()}, "CanUpdateCustomerProduct", true, "status"},
	}
	before := e.tvCounts(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			callers := []string{noRolesBound, noRolesUnbound}
			if tc.write {
				callers = append(callers, readerOnly)
			}
			for i, tok := range callers {
				res := e.call(t, tc.method, tc.path, tok, tc.body, tc.headers...)
				msg := tvErr(t, res, http.StatusForbidden, "FORBIDDEN", "", "")
				require.Equal(t, "missing role: "+tc.role+" or "+tc.role+"AtAnyBank", msg, "caller %d", i)
			}
			// With the role, the input is checked: 400.
			res := e.call(t, tc.method, tc.path, full, tc.body, tc.headers...)
			code := "INVALID_VALUE"
			switch tc.field {
			case "entityId", "Requestor-ID":
				code = "REQUIRED"
				if tc.headers != nil {
					code = "INVALID_VALUE"
				}
			case "status":
				code = "NOT_SUPPORTED"
			}
			tvErr(t, res, http.StatusBadRequest, "BAD_REQUEST", tc.field, code)
		})
	}
	require.Equal(t, before, e.tvCounts(t), "nothing written")
	c, err := e.db.Client.Customer.Get(e.sys, uuid.MustParse(cid))
	require.NoError(t, err)
	require.Empty(t, c.Labels)
	p, err := e.db.Client.Product.Get(e.sys, uuid.MustParse(pid))
	require.NoError(t, err)
	require.Equal(t, product.StatusRECEIVED, p.Status)
}

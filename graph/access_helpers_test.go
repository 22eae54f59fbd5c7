package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"custgraph/ent"
	"custgraph/ent/auditevent"
	"custgraph/ent/product"
	"custgraph/graph"
	"custgraph/internal/access"
	"custgraph/internal/testdb"
)

// This file holds the helpers of the access tests (access_test.go): an API
// whose every request can come from a different viewer, viewers built from
// roles, a two-bank world of records, and a dump of the whole database that
// a refused request must leave unchanged.

// acEnv is the GraphQL API over a fresh database. Requests go straight to
// the handler with the caller in the request's context, as the
// authentication middleware leaves it; a nil viewer is nobody logged in.
type acEnv struct {
	c   *ent.Client
	h   http.Handler
	sys context.Context // custgraph itself, for set-up and checks
	seq atomic.Int64
}

func newACEnv(t *testing.T) *acEnv {
	t.Helper()
	db, _ := testdb.Open(t)
	h := graph.NewHandler(db.Client, db.Dialect, graph.Options{
		Limits: graph.Limits{MaxDepth: 15, MaxAliases: 30, MaxComplexity: 100000},
	})
	return &acEnv{c: db.Client, h: h, sys: access.System(context.Background())}
}

// uniq returns a name no other call returns: prefix-n.
func (x *acEnv) uniq(prefix string) string { return fmt.Sprintf("%s-%d", prefix, x.seq.Add(1)) }

// acResp is one HTTP answer of the GraphQL endpoint.
type acResp struct {
	Status int
	Header http.Header
	Body   string
	Data   map[string]json.RawMessage
	Errors []gqlError
}

// post sends a query as v (nil: nobody logged in) and decodes the answer.
func (x *acEnv) post(t *testing.T, v *access.Viewer, query string, vars map[string]any) acResp {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if v != nil {
		req = req.WithContext(access.NewContext(req.Context(), v))
	}
	rec := httptest.NewRecorder()
	x.h.ServeHTTP(rec, req)
	var out struct {
		Data   map[string]json.RawMessage `json:"data"`
		Errors []gqlError                 `json:"errors"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out), rec.Body.String())
	return acResp{Status: rec.Code, Header: rec.Header(), Body: rec.Body.String(), Data: out.Data, Errors: out.Errors}
}

// ok sends a query that must succeed and returns its data.
func (x *acEnv) ok(t *testing.T, v *access.Viewer, query string, vars map[string]any) map[string]json.RawMessage {
	t.Helper()
	r := x.post(t, v, query, vars)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	require.Empty(t, r.Errors, "%s\n%s", query, r.Body)
	return r.Data
}

// refused sends a query that must fail, with no data at any root field (a
// list of nulls for a list), and returns its first error: every error is
// the same but for its path (nodes answers one per id).
func (x *acEnv) refused(t *testing.T, v *access.Viewer, query string, vars map[string]any) gqlError {
	t.Helper()
	r := x.post(t, v, query, vars)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	require.NotEmpty(t, r.Errors, "%s\n%s", query, r.Body)
	for _, e := range r.Errors[1:] {
		require.Equal(t, r.Errors[0].Extensions, e.Extensions, r.Body)
		require.Equal(t, r.Errors[0].Message, e.Message, r.Body)
	}
	for field, raw := range r.Data {
		var l []any
		if string(raw) != "null" && json.Unmarshal(raw, &l) == nil {
			require.Equal(t, make([]any, len(l)), l, "no data at %s when refused: %s", field, r.Body)
			continue
		}
		require.Equal(t, "null", string(raw), "no data at %s when refused: %s", field, r.Body)
	}
	return r.Errors[0]
}

// unauthenticated sends a query without a viewer: it must be answered 401
// with the challenge and UNAUTHENTICATED, before anything runs.
func (x *acEnv) unauthenticated(t *testing.T, query string, vars map[string]any) {
	t.Helper()
	r := x.post(t, nil, query, vars)
	require.Equal(t, http.StatusUnauthorized, r.Status, r.Body)
	require.Equal(t, graph.Challenge, r.Header.Get("WWW-Authenticate"))
	require.Len(t, r.Errors, 1, r.Body)
	require.Equal(t, "UNAUTHENTICATED", r.Errors[0].Extensions["code"], r.Body)
	require.Nil(t, r.Data, r.Body)
}

// requireForbidden checks a FORBIDDEN error: it names exactly roles (each
// followed by its AtAnyBank variant, as access.Missing lists them) and, for a
// change at a bank, the bank's code.
func requireForbidden(t *testing.T, e gqlError, bankCode string, roles ...access.Role) {
	t.Helper()
	require.Equal(t, "FORBIDDEN", e.Extensions["code"], "%+v", e)
	require.Equal(t, access.Missing("", roles...).Roles, acStrings(e.Extensions["roles"]), "%+v", e)
	if bankCode == "" {
		require.NotContains(t, e.Extensions, "bank", "%+v", e)
	} else {
		require.Equal(t, bankCode, e.Extensions["bank"], "%+v", e)
	}
}

// requireNotFound checks a NOT_FOUND error that tells nothing of the record.
func requireNotFound(t *testing.T, e gqlError, leaks ...string) {
	t.Helper()
	require.Equal(t, "NOT_FOUND", e.Extensions["code"], "%+v", e)
	require.NotContains(t, e.Extensions, "roles", "%+v", e)
	for _, l := range leaks {
		require.NotContains(t, e.Message, l, "a NOT_FOUND error tells nothing of the record")
	}
}

func acStrings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, len(l))
	for i, s := range l {
		out[i], _ = s.(string)
	}
	return out
}

// --- viewers ----------------------------------------------------------------

// acClient is an API client calling with grants; bank, when set, binds it.
func acClient(name string, bank *uuid.UUID, grants ...[]access.Grant) *access.Viewer {
	return access.NewViewer(access.KindClient, uuid.New(), name, bank, slices.Concat(grants...))
}

// acAt grants roles at a bank (uuid.Nil for system roles).
func acAt(bank uuid.UUID, roles ...access.Role) []access.Grant {
	out := make([]access.Grant, len(roles))
	for i, r := range roles {
		out[i] = access.Grant{Role: r, Bank: bank}
	}
	return out
}

// acGrant grants one role where it applies: a bank role at bank, a system
// role (or an AtAnyBank variant) system-wide.
func acGrant(r access.Role, bank uuid.UUID) []access.Grant {
	if access.IsSystem(r) {
		return acAt(uuid.Nil, r)
	}
	return acAt(bank, r)
}

// acAnyBank grants the AtAnyBank variants of roles, system-wide.
func acAnyBank(roles ...access.Role) []access.Grant {
	out := make([]access.Grant, len(roles))
	for i, r := range roles {
		out[i] = access.Grant{Role: access.AtAnyBank(r)}
	}
	return out
}

// acAllBut is every role but except (and their AtAnyBank variants): each
// bank role at bank and system-wide (its AtAnyBank variant), each system
// role.
func acAllBut(bank uuid.UUID, except ...access.Role) []access.Grant {
	var out []access.Grant
	for _, r := range access.BankRoles() {
		if !slices.Contains(except, r) {
			out = append(out, access.Grant{Role: r, Bank: bank}, access.Grant{Role: access.AtAnyBank(r)})
		}
	}
	for _, r := range access.SystemRoles() {
		if !slices.Contains(except, r) {
			out = append(out, access.Grant{Role: r})
		}
	}
	return out
}

// acEveryBankRole is every bank role at bank.
func acEveryBankRole(bank uuid.UUID) []access.Grant { return acAt(bank, access.BankRoles()...) }

// --- the world ----------------------------------------------------------------

// fakeHash passes the argon2id-hash validator: seeded clients never log in.
const fakeHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA"

// acBank is one bank with a record of every kind, in creation order.
type acBank struct {
	Bank                                                         *ent.Bank
	Customers, Products, Addresses, TaxResidences, SocialHandles []uuid.UUID
	Attributes, Messages, CrmEvents, Links, Users, Entitlements  []uuid.UUID
	Client                                                       uuid.UUID // an API client bound to the bank
	VIP                                                          []uuid.UUID
	Name                                                         string // "Alpha": in every customer's legal name
}

// acWorld is two banks, A and B, and the callers around them.
type acWorld struct {
	A, B acBank
	// Shared is a user linked to a customer at each bank.
	Shared uuid.UUID
	// Staff is an unbound API client with an entitlement at A; Clients
	// and Users are every API client and user.
	Staff, StaffEntitlement uuid.UUID
	Clients, Users          []uuid.UUID
}

// both returns the values of f at A, then at B.
func (w *acWorld) both(f func(acBank) []uuid.UUID) []uuid.UUID {
	return slices.Concat(f(w.A), f(w.B))
}

func (x *acEnv) seedWorld(t *testing.T) *acWorld {
	t.Helper()
	w := &acWorld{}
	shared := x.c.User.Create().SetUsername("shared").SaveX(x.sys)
	w.Shared = shared.ID
	w.Users = []uuid.UUID{shared.ID}
	w.A = x.seedBankWorld(t, "Alpha", shared.ID)
	w.B = x.seedBankWorld(t, "Bravo", shared.ID)
	w.Users = append(w.Users, w.A.Users[1], w.B.Users[1])
	staff := x.c.APIClient.Create().SetClientID("staff").SetName("Staff").SetSecretHash(fakeHash).SaveX(x.sys)
	se := x.c.Entitlement.Create().SetAPIClientID(staff.ID).SetRoleName(string(access.CanGetCustomer)).SetBankID(w.A.Bank.ID).SaveX(x.sys)
	w.Staff, w.StaffEntitlement = staff.ID, se.ID
	w.Clients = []uuid.UUID{w.A.Client, w.B.Client, staff.ID}
	return w
}

func (x *acEnv) seedBankWorld(t *testing.T, name string, shared uuid.UUID) acBank {
	t.Helper()
	ctx, c := x.sys, x.c
	lower := strings.ToLower(name)
	b := acBank{Name: name, Bank: c.Bank.Create().SetCode("bank." + lower).SetName("Bank " + name).SaveX(ctx)}
	for i, labels := range [][]string{{"vip"}, {"vip", "retail"}, nil} {
		cu := c.Customer.Create().SetBankID(b.Bank.ID).
			SetLegalName(fmt.Sprintf("%s Customer %d", name, i)).
			SetEmail(fmt.Sprintf("%s%d@example.com", lower, i)).
			SetLabels(labels).SaveX(ctx)
		b.Customers = append(b.Customers, cu.ID)
		if len(labels) > 0 {
			b.VIP = append(b.VIP, cu.ID)
		}
	}
	c0, c1 := b.Customers[0], b.Customers[1]
	for _, cu := range []uuid.UUID{c0, c1} {
		b.Products = append(b.Products, c.Product.Create().SetCustomerID(cu).SetProductCode(product.ProductCodeBALANCE_ACCOUNT).SaveX(ctx).ID)
	}
	b.Addresses = []uuid.UUID{c.Address.Create().SetCustomerID(c0).SetCity(name + "ville").SetCountryCode("DE").SaveX(ctx).ID}
	b.TaxResidences = []uuid.UUID{c.TaxResidence.Create().SetCustomerID(c0).SetDomain("DE").SetTaxNumber(lower + "-tax").SaveX(ctx).ID}
	b.SocialHandles = []uuid.UUID{c.SocialHandle.Create().SetCustomerID(c0).SetType("twitter").SetHandle("@" + lower).SaveX(ctx).ID}
	b.Attributes = []uuid.UUID{c.CustomerAttribute.Create().SetCustomerID(c0).SetName("SEGMENT").SetType("STRING").SetValue(lower).SaveX(ctx).ID}
	b.Messages = []uuid.UUID{c.CustomerMessage.Create().SetCustomerID(c0).SetMessage("Hello " + name).SaveX(ctx).ID}
	b.CrmEvents = []uuid.UUID{
		c.CrmEvent.Create().SetBankID(b.Bank.ID).SetCustomerID(c0).SetCategory("call").SetDetail(name + " call").SaveX(ctx).ID,
		c.CrmEvent.Create().SetBankID(b.Bank.ID).SetCategory("campaign").SaveX(ctx).ID,
	}
	u := c.User.Create().SetUsername(lower + "-user").SaveX(ctx)
	b.Users = []uuid.UUID{shared, u.ID}
	b.Links = []uuid.UUID{
		c.UserCustomerLink.Create().SetUserID(shared).SetCustomerID(c1).SaveX(ctx).ID,
		c.UserCustomerLink.Create().SetUserID(u.ID).SetCustomerID(c0).SaveX(ctx).ID,
	}
	cl := c.APIClient.Create().SetClientID(lower + "-client").SetName(name + " app").SetBankID(b.Bank.ID).SetSecretHash(fakeHash).SaveX(ctx)
	b.Client = cl.ID
	b.Entitlements = []uuid.UUID{
		c.Entitlement.Create().SetAPIClientID(cl.ID).SetRoleName(string(access.CanGetCustomer)).SetBankID(b.Bank.ID).SaveX(ctx).ID,
	}
	return b
}

// auditIDs are the ids of the audit events at bank (uuid.Nil: all events).
func (x *acEnv) auditIDs(t *testing.T, bank uuid.UUID) []uuid.UUID {
	t.Helper()
	q := x.c.AuditEvent.Query()
	if bank != uuid.Nil {
		q.Where(auditevent.BankID(bank))
	}
	ids, err := q.IDs(x.sys)
	require.NoError(t, err)
	return ids
}

// --- the whole database -------------------------------------------------------

// dump is every row of every table, with the hashes ent leaves out of JSON:
// a refused request must leave it exactly as it was.
func (x *acEnv) dump(t *testing.T) string {
	t.Helper()
	ctx, c := x.sys, x.c
	var b strings.Builder
	add := func(name string, v any, err error) {
		require.NoError(t, err)
		j, err := json.Marshal(v)
		require.NoError(t, err)
		fmt.Fprintf(&b, "%s %s\n", name, j)
	}
	byID := ent.Asc("id")
	banks, err := c.Bank.Query().Order(byID).All(ctx)
	add("banks", banks, err)
	customers, err := c.Customer.Query().Order(byID).All(ctx)
	add("customers", customers, err)
	products, err := c.Product.Query().Order(byID).All(ctx)
	add("products", products, err)
	addresses, err := c.Address.Query().Order(byID).All(ctx)
	add("addresses", addresses, err)
	taxes, err := c.TaxResidence.Query().Order(byID).All(ctx)
	add("tax residences", taxes, err)
	handles, err := c.SocialHandle.Query().Order(byID).All(ctx)
	add("social handles", handles, err)
	attrs, err := c.CustomerAttribute.Query().Order(byID).All(ctx)
	add("attributes", attrs, err)
	msgs, err := c.CustomerMessage.Query().Order(byID).All(ctx)
	add("messages", msgs, err)
	crm, err := c.CrmEvent.Query().Order(byID).All(ctx)
	add("crm events", crm, err)
	links, err := c.UserCustomerLink.Query().Order(byID).All(ctx)
	add("links", links, err)
	ents, err := c.Entitlement.Query().Order(byID).All(ctx)
	add("entitlements", ents, err)
	audit, err := c.AuditEvent.Query().Order(byID).All(ctx)
	add("audit events", audit, err)
	users, err := c.User.Query().Order(byID).All(ctx)
	add("users", users, err)
	for _, u := range users {
		fmt.Fprintf(&b, "password %s %s\n", u.ID, u.PasswordHash)
	}
	clients, err := c.APIClient.Query().Order(byID).All(ctx)
	add("clients", clients, err)
	for _, cl := range clients {
		fmt.Fprintf(&b, "secret %s %s\n", cl.ID, cl.SecretHash)
	}
	return b.String()
}

// --- answers --------------------------------------------------------------------

// acConn is a connection's total and ids.
type acConn struct {
	TotalCount int
	Edges      []struct {
		Node struct{ ID uuid.UUID }
	}
}

func (c acConn) ids() []uuid.UUID {
	out := make([]uuid.UUID, len(c.Edges))
	for i, e := range c.Edges {
		out[i] = e.Node.ID
	}
	return out
}

// acDecode decodes raw into out.
func acDecode(t *testing.T, raw json.RawMessage, out any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(raw, out), string(raw))
}

// connIDs returns the ids of a connection, checking its totalCount counts
// exactly them.
func connIDs(t *testing.T, raw json.RawMessage) []uuid.UUID {
	t.Helper()
	var c acConn
	acDecode(t, raw, &c)
	require.Equal(t, len(c.Edges), c.TotalCount, "totalCount counts what the viewer sees: %s", raw)
	return c.ids()
}

// createdID returns the id a mutation answered with ({ id }).
func createdID(t *testing.T, data map[string]json.RawMessage, field string) uuid.UUID {
	t.Helper()
	var r struct{ ID uuid.UUID }
	acDecode(t, data[field], &r)
	require.NotEqual(t, uuid.Nil, r.ID)
	return r.ID
}

// acSame checks two id lists hold the same ids (each list once).
func acSame(t *testing.T, want, got []uuid.UUID, msg ...any) {
	t.Helper()
	if want == nil {
		want = []uuid.UUID{}
	}
	if got == nil {
		got = []uuid.UUID{}
	}
	require.ElementsMatch(t, want, got, msg...)
}

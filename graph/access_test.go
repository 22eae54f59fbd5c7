package graph_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"custgraph/ent"
	"custgraph/ent/address"
	"custgraph/ent/apiclient"
	"custgraph/ent/auditevent"
	"custgraph/ent/bank"
	"custgraph/ent/crmevent"
	"custgraph/ent/customer"
	"custgraph/ent/customerattribute"
	"custgraph/ent/customermessage"
	"custgraph/ent/entitlement"
	"custgraph/ent/product"
	"custgraph/ent/socialhandle"
	"custgraph/ent/taxresidence"
	"custgraph/ent/user"
	"custgraph/ent/usercustomerlink"
	"custgraph/internal/access"
)

// The access tests: who may run each GraphQL operation (the role matrix),
// that a caller of one bank never sees or changes another bank's records
// (cross-tenant), and the audit trail of changes. Their helpers are in
// access_helpers_test.go.

// schemaFields returns the names of the fields of the Query and Mutation
// types, by introspection, which needs no credentials.
func schemaFields(t *testing.T, x *acEnv) (queries, mutations []string) {
	t.Helper()
	r := x.post(t, nil, `{ __schema { queryType { fields { name } } mutationType { fields { name } } } }`, nil)
	require.Equal(t, 200, r.Status, r.Body)
	require.Empty(t, r.Errors, r.Body)
	var s struct {
		Schema struct {
			QueryType, MutationType struct{ Fields []struct{ Name string } }
		} `json:"__schema"`
	}
	acDecode(t, r.Data["__schema"], &s.Schema)
	for _, f := range s.Schema.QueryType.Fields {
		queries = append(queries, f.Name)
	}
	for _, f := range s.Schema.MutationType.Fields {
		mutations = append(mutations, f.Name)
	}
	return queries, mutations
}

// requireRows checks that the rows (named field or field/variant) cover
// exactly the schema's fields: a new operation without a row fails here.
func requireRows(t *testing.T, kind string, schema []string, rows []string) {
	t.Helper()
	covered := map[string]bool{}
	for _, r := range rows {
		f, _, _ := strings.Cut(r, "/")
		covered[f] = true
	}
	var missing, unknown []string
	for _, f := range schema {
		if !covered[f] {
			missing = append(missing, f)
		}
		delete(covered, f)
	}
	for f := range covered {
		unknown = append(unknown, f)
	}
	sort.Strings(unknown)
	require.Empty(t, missing, "%s fields without a row in the access matrix: add one", kind)
	require.Empty(t, unknown, "rows for %s fields the schema does not have", kind)
}

// --- the read matrix ----------------------------------------------------------

// readRow is one root query field and who may read what through it.
type readRow struct {
	name  string // the Query field, then /variant where a field has several rows
	query string
	vars  map[string]any
	// allow are the roles that let a viewer read A's records (any one of
	// them); none: anyone with an entitlement at A reads them.
	allow []access.Role
	// got returns the ids in the answer.
	got func(t *testing.T, data map[string]json.RawMessage) []uuid.UUID
	// sees returns the ids a holder of r sees: at A, or everywhere.
	sees func(r access.Role, everywhere bool) []uuid.UUID
	// denied is what a viewer holding every other role gets (one without
	// any entitlement for rows without roles): FORBIDDEN, NOT_FOUND, or ""
	// when it sees deniedSees.
	denied     string
	deniedSees []uuid.UUID
}

// scopeRole is an arbitrary entitlement: what a viewer needs at a bank to
// see the records read by scope (banks, CRM events).
const scopeRole = access.CanCreateCrmEvent

func TestAccessReadMatrix(t *testing.T) {
	x := newACEnv(t)
	w := x.seedWorld(t)
	A := w.A.Bank.ID
	queries, _ := schemaFields(t, x)

	list := func(field string) string {
		return fmt.Sprintf(`{ %s(first: 100) { totalCount edges { node { id } } } }`, field)
	}
	conn := func(field string) func(*testing.T, map[string]json.RawMessage) []uuid.UUID {
		return func(t *testing.T, d map[string]json.RawMessage) []uuid.UUID { return connIDs(t, d[field]) }
	}
	perBank := func(f func(acBank) []uuid.UUID) func(access.Role, bool) []uuid.UUID {
		return func(_ access.Role, everywhere bool) []uuid.UUID {
			if everywhere {
				return w.both(f)
			}
			return f(w.A)
		}
	}
	fixed := func(ids ...uuid.UUID) func(access.Role, bool) []uuid.UUID {
		return func(access.Role, bool) []uuid.UUID { return ids }
	}
	node := func(t *testing.T, d map[string]json.RawMessage) []uuid.UUID {
		var n *struct{ ID uuid.UUID }
		acDecode(t, d["node"], &n)
		if n == nil {
			return nil
		}
		return []uuid.UUID{n.ID}
	}
	nodes := func(t *testing.T, d map[string]json.RawMessage) []uuid.UUID {
		var ns []*struct{ ID uuid.UUID }
		acDecode(t, d["nodes"], &ns)
		var out []uuid.UUID
		for _, n := range ns {
			if n != nil {
				out = append(out, n.ID)
			}
		}
		return out
	}
	nodeRow := func(typ string, id uuid.UUID, denied string, allow ...access.Role) readRow {
		return readRow{name: "node/" + typ, query: `query($id: ID!) { node(id: $id) { id } }`, vars: map[string]any{"id": id},
			allow: allow, got: node, sees: fixed(id), denied: denied}
	}
	allEntitlements := slices.Concat(w.A.Entitlements, w.B.Entitlements, []uuid.UUID{w.StaffEntitlement})
	// Banks are public reference data: every authenticated caller sees
	// every bank, whatever it holds (the viewer without the role holds nothing).
	banks := []uuid.UUID{A, w.B.Bank.ID}
	public := func(row readRow) readRow {
		row.sees = fixed(row.deniedSees...)
		return row
	}

	rows := []readRow{
		nodeRow("Customer", w.A.Customers[0], "NOT_FOUND", access.CanGetCustomer),
		nodeRow("Product", w.A.Products[0], "NOT_FOUND", access.CanGetCustomerProduct),
		nodeRow("Address", w.A.Addresses[0], "NOT_FOUND", access.CanGetCustomerAddress),
		nodeRow("TaxResidence", w.A.TaxResidences[0], "NOT_FOUND", access.CanGetTaxResidence),
		nodeRow("SocialHandle", w.A.SocialHandles[0], "NOT_FOUND", access.CanGetSocialMediaHandles),
		nodeRow("CustomerAttribute", w.A.Attributes[0], "NOT_FOUND", access.CanGetCustomerAttributeAtOneBank, access.CanGetCustomer),
		nodeRow("CustomerMessage", w.A.Messages[0], "NOT_FOUND", access.CanGetCustomerMessages),
		nodeRow("UserCustomerLink", w.A.Links[1], "NOT_FOUND", access.CanGetUserCustomerLink),
		public(readRow{name: "node/Bank", query: `query($id: ID!) { node(id: $id) { id } }`, vars: map[string]any{"id": A},
			got: node, deniedSees: []uuid.UUID{A}}),
		nodeRow("CrmEvent", w.A.CrmEvents[0], "NOT_FOUND"),
		nodeRow("User", w.A.Users[1], "NOT_FOUND", access.CanGetUserCustomerLink, access.CanManageCallers),
		nodeRow("APIClient", w.A.Client, "NOT_FOUND", access.CanManageCallers),
		nodeRow("Entitlement", w.A.Entitlements[0], "NOT_FOUND", access.CanManageCallers),
		nodeRow("AuditEvent", x.auditIDs(t, A)[0], "NOT_FOUND", access.CanReadAuditEvents),
		{name: "nodes", query: `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, vars: map[string]any{"ids": w.A.Customers},
			// Without the read role, nodes answers like unknown ids: nulls.
			allow: []access.Role{access.CanGetCustomer}, got: nodes, sees: fixed(w.A.Customers...), deniedSees: []uuid.UUID{}},
		public(readRow{name: "banks", query: list("banks"), got: conn("banks"), deniedSees: banks}),
		{name: "customers", query: list("customers"), allow: []access.Role{access.CanGetCustomer}, got: conn("customers"),
			sees: perBank(func(b acBank) []uuid.UUID { return b.Customers }), denied: "FORBIDDEN"},
		{name: "products", query: list("products"), allow: []access.Role{access.CanGetCustomerProduct}, got: conn("products"),
			sees: perBank(func(b acBank) []uuid.UUID { return b.Products }), denied: "FORBIDDEN"},
		{name: "addresses", query: list("addresses"), allow: []access.Role{access.CanGetCustomerAddress}, got: conn("addresses"),
			sees: perBank(func(b acBank) []uuid.UUID { return b.Addresses }), denied: "FORBIDDEN"},
		{name: "taxResidences", query: list("taxResidences"), allow: []access.Role{access.CanGetTaxResidence}, got: conn("taxResidences"),
			sees: perBank(func(b acBank) []uuid.UUID { return b.TaxResidences }), denied: "FORBIDDEN"},
		{name: "socialHandles", query: list("socialHandles"), allow: []access.Role{access.CanGetSocialMediaHandles}, got: conn("socialHandles"),
			sees: perBank(func(b acBank) []uuid.UUID { return b.SocialHandles }), denied: "FORBIDDEN"},
		{name: "customerAttributes", query: list("customerAttributes"),
			allow: []access.Role{access.CanGetCustomerAttributeAtOneBank, access.CanGetCustomer}, got: conn("customerAttributes"),
			sees: perBank(func(b acBank) []uuid.UUID { return b.Attributes }), denied: "FORBIDDEN"},
		{name: "customerMessages", query: list("customerMessages"), allow: []access.Role{access.CanGetCustomerMessages}, got: conn("customerMessages"),
			sees: perBank(func(b acBank) []uuid.UUID { return b.Messages }), denied: "FORBIDDEN"},
		{name: "crmEvents", query: list("crmEvents"), got: conn("crmEvents"),
			sees: perBank(func(b acBank) []uuid.UUID { return b.CrmEvents })},
		{name: "userCustomerLinks", query: list("userCustomerLinks"), allow: []access.Role{access.CanGetUserCustomerLink}, got: conn("userCustomerLinks"),
			sees: perBank(func(b acBank) []uuid.UUID { return b.Links }), denied: "FORBIDDEN"},
		{name: "users", query: list("users"), allow: []access.Role{access.CanGetUserCustomerLink, access.CanManageCallers}, got: conn("users"),
			sees: func(r access.Role, everywhere bool) []uuid.UUID {
				if r == access.CanManageCallers || everywhere {
					return w.Users // every user is linked to a customer somewhere
				}
				return w.A.Users
			}},
		{name: "apiClients", query: list("apiClients"), allow: []access.Role{access.CanManageCallers}, got: conn("apiClients"),
			sees: fixed(w.Clients...), deniedSees: []uuid.UUID{w.Staff}},
		{name: "entitlements", query: list("entitlements"), allow: []access.Role{access.CanManageCallers}, got: conn("entitlements"),
			sees: fixed(allEntitlements...), deniedSees: []uuid.UUID{w.StaffEntitlement}},
		{name: "auditEvents", query: list("auditEvents"), allow: []access.Role{access.CanReadAuditEvents}, got: conn("auditEvents"),
			sees: func(_ access.Role, everywhere bool) []uuid.UUID {
				if everywhere {
					return x.auditIDs(t, uuid.Nil) // with those of no bank (users, clients)
				}
				return x.auditIDs(t, A)
			}, denied: "FORBIDDEN"},
	}
	rowNames := []string{"viewer"}
	for _, r := range rows {
		rowNames = append(rowNames, r.name)
	}
	requireRows(t, "Query", queries, rowNames)
	require.Len(t, x.auditIDs(t, uuid.Nil), 39, "the world's audit trail fits on one page")

	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			t.Run("no viewer: 401", func(t *testing.T) { x.unauthenticated(t, row.query, row.vars) })

			allow := row.allow
			if len(allow) == 0 {
				allow = []access.Role{scopeRole}
			}
			for _, r := range allow {
				t.Run("with "+string(r), func(t *testing.T) {
					d := x.ok(t, acClient("reader", nil, acGrant(r, A)), row.query, row.vars)
					acSame(t, row.sees(r, false), row.got(t, d))
				})
				if access.IsSystem(r) {
					continue
				}
				t.Run("with "+string(access.AtAnyBank(r)), func(t *testing.T) {
					d := x.ok(t, acClient("reader", nil, acAnyBank(r)), row.query, row.vars)
					acSame(t, row.sees(r, true), row.got(t, d))
				})
				t.Run("bound to A with "+string(access.AtAnyBank(r)), func(t *testing.T) {
					d := x.ok(t, acClient("reader", &A, acAnyBank(r)), row.query, row.vars)
					acSame(t, row.sees(r, false), row.got(t, d), "the binding confines an AtAnyBank role to the bank")
				})
			}

			t.Run("without the role", func(t *testing.T) {
				// The seeded staff client, holding every other role
				// everywhere (none at all for rows read by scope).
				v := access.NewViewer(access.KindClient, w.Staff, "staff", nil, nil)
				if len(row.allow) > 0 {
					v = access.NewViewer(access.KindClient, w.Staff, "staff", nil, acAllBut(A, row.allow...))
				}
				switch row.denied {
				case "FORBIDDEN":
					requireForbidden(t, x.refused(t, v, row.query, row.vars), "", row.allow...)
				case "NOT_FOUND":
					requireNotFound(t, x.refused(t, v, row.query, row.vars))
				default:
					acSame(t, row.deniedSees, row.got(t, x.ok(t, v, row.query, row.vars)))
				}
			})
		})
	}

	t.Run("viewer", func(t *testing.T) {
		const q = `{ viewer { kind id name bankID entitlements { roleName bankID } } }`
		x.unauthenticated(t, q, nil)
		type grant struct {
			RoleName string
			BankID   *uuid.UUID
		}
		var got struct {
			Kind, Name   string
			ID, BankID   *uuid.UUID
			Entitlements []grant
		}
		v := access.NewViewer(access.KindClient, w.A.Client, "alpha-client", &A,
			slices.Concat(acAt(A, access.CanGetCustomer), acAnyBank(access.CanGetCustomerProduct)))
		acDecode(t, x.ok(t, v, q, nil)["viewer"], &got)
		require.Equal(t, "client", got.Kind)
		require.Equal(t, "alpha-client", got.Name)
		require.Equal(t, &w.A.Client, got.ID)
		require.Equal(t, &A, got.BankID)
		require.Equal(t, []grant{{"CanGetCustomer", &A}, {"CanGetCustomerProductAtAnyBank", nil}}, got.Entitlements)

		// Without any entitlement, a caller still learns who it is.
		u := access.NewViewer(access.KindUser, w.A.Users[1], "alpha-user", nil, nil)
		got.Entitlements = nil
		acDecode(t, x.ok(t, u, q, nil)["viewer"], &got)
		require.Equal(t, "user", got.Kind)
		require.Equal(t, "alpha-user", got.Name)
		require.Equal(t, &w.A.Users[1], got.ID)
		require.Nil(t, got.BankID)
		require.Equal(t, []grant{}, got.Entitlements)
	})

	t.Run("users see themselves and their own links", func(t *testing.T) {
		shared := access.NewViewer(access.KindUser, w.Shared, "shared", nil, nil)
		acSame(t, []uuid.UUID{w.Shared}, connIDs(t, x.ok(t, shared, list("users"), nil)["users"]))
		acSame(t, []uuid.UUID{w.A.Links[0], w.B.Links[0]}, connIDs(t, x.ok(t, shared, list("userCustomerLinks"), nil)["userCustomerLinks"]),
			"a user sees its own links, at every bank")
		acSame(t, nil, connIDs(t, x.ok(t, shared, list("entitlements"), nil)["entitlements"]))
		acSame(t, nil, connIDs(t, x.ok(t, shared, list("apiClients"), nil)["apiClients"]))
		// With the link role at A: its own links and A's.
		alpha := access.NewViewer(access.KindUser, w.A.Users[1], "alpha-user", nil, acAt(w.B.Bank.ID, access.CanGetUserCustomerLink))
		acSame(t, []uuid.UUID{w.A.Links[1], w.B.Links[0], w.B.Links[1]},
			connIDs(t, x.ok(t, alpha, list("userCustomerLinks"), nil)["userCustomerLinks"]))
		acSame(t, []uuid.UUID{w.Shared, w.A.Users[1], w.B.Users[1]}, connIDs(t, x.ok(t, alpha, list("users"), nil)["users"]))
	})
}

// --- the write matrix -----------------------------------------------------------

// acOp is one prepared mutation.
type acOp struct {
	query string
	vars  map[string]any
	bank  string // the code of the bank a FORBIDDEN names; "" for none
	// check verifies the change was made, through ent.
	check func(t *testing.T, data map[string]json.RawMessage)
}

// mutRow is one mutation (or one set of fields of updateCustomer) and the
// roles that allow it (any one of them).
type mutRow struct {
	name  string // the Mutation field, then /variant where a field has several rows
	allow []access.Role
	// prep makes the records the mutation needs at b, fresh each time.
	prep func(t *testing.T, b *ent.Bank) acOp
}

// roles is a short way to write a role list.
func roles(r ...access.Role) []access.Role { return r }

func TestAccessWriteMatrix(t *testing.T) {
	x := newACEnv(t)
	w := x.seedWorld(t)
	bankA, bankB := w.A.Bank, w.B.Bank
	_, mutations := schemaFields(t, x)
	sys := x.sys

	// Fresh records, made by custgraph itself.
	newCustomer := func(b *ent.Bank) uuid.UUID {
		return x.c.Customer.Create().SetBankID(b.ID).SetLegalName(x.uniq("Fresh")).
			SetEmail(x.uniq("fresh") + "@example.com").SetLabels([]string{"vip"}).SaveX(sys).ID
	}
	newProduct := func(b *ent.Bank) uuid.UUID {
		return x.c.Product.Create().SetCustomerID(newCustomer(b)).SetProductCode(product.ProductCodeWALLET).SaveX(sys).ID
	}
	newUser := func() uuid.UUID { return x.c.User.Create().SetUsername(x.uniq("user")).SaveX(sys).ID }
	newClient := func() uuid.UUID {
		return x.c.APIClient.Create().SetClientID(x.uniq("client")).SetName("App").SetSecretHash(fakeHash).SaveX(sys).ID
	}
	m := func(v ...any) map[string]any {
		out := map[string]any{}
		for i := 0; i+1 < len(v); i += 2 {
			out[v[i].(string)] = v[i+1]
		}
		return out
	}
	const (
		createQ = `mutation($in: Create%[1]sInput!) { create%[1]s(input: $in) { id } }`
		updateQ = `mutation($id: ID!, $in: Update%[1]sInput!) { update%[1]s(id: $id, input: $in) { id } }`
		deleteQ = `mutation($id: ID!) { delete%[1]s(id: $id) }`
	)
	// created checks a create answered with the id of a record that exists
	// and passes check.
	created := func(typ string, exists func(uuid.UUID) bool) func(*testing.T, map[string]json.RawMessage) {
		return func(t *testing.T, d map[string]json.RawMessage) {
			require.True(t, exists(createdID(t, d, "create"+typ)), "the %s exists", typ)
		}
	}
	// updated checks an update answered with id and made the change.
	updated := func(typ string, id uuid.UUID, check func(t *testing.T)) func(*testing.T, map[string]json.RawMessage) {
		return func(t *testing.T, d map[string]json.RawMessage) {
			require.Equal(t, id, createdID(t, d, "update"+typ))
			check(t)
		}
	}
	// deleted checks a delete answered with id and removed the record.
	deleted := func(typ string, id uuid.UUID, exists func(uuid.UUID) bool) func(*testing.T, map[string]json.RawMessage) {
		return func(t *testing.T, d map[string]json.RawMessage) {
			require.Equal(t, `"`+id.String()+`"`, string(d["delete"+typ]))
			require.False(t, exists(id), "the %s is gone", typ)
		}
	}
	customerExists := func(id uuid.UUID) bool { return x.c.Customer.Query().Where(customer.ID(id)).ExistX(sys) }
	addressExists := func(id uuid.UUID) bool { return x.c.Address.Query().Where(address.ID(id)).ExistX(sys) }
	taxExists := func(id uuid.UUID) bool { return x.c.TaxResidence.Query().Where(taxresidence.ID(id)).ExistX(sys) }
	handleExists := func(id uuid.UUID) bool { return x.c.SocialHandle.Query().Where(socialhandle.ID(id)).ExistX(sys) }
	attrExists := func(id uuid.UUID) bool {
		return x.c.CustomerAttribute.Query().Where(customerattribute.ID(id)).ExistX(sys)
	}
	msgExists := func(id uuid.UUID) bool { return x.c.CustomerMessage.Query().Where(customermessage.ID(id)).ExistX(sys) }
	crmExists := func(id uuid.UUID) bool { return x.c.CrmEvent.Query().Where(crmevent.ID(id)).ExistX(sys) }
	userExists := func(id uuid.UUID) bool { return x.c.User.Query().Where(user.ID(id)).ExistX(sys) }
	linkExists := func(id uuid.UUID) bool {
		return x.c.UserCustomerLink.Query().Where(usercustomerlink.ID(id)).ExistX(sys)
	}
	clientExists := func(id uuid.UUID) bool { return x.c.APIClient.Query().Where(apiclient.ID(id)).ExistX(sys) }
	entExists := func(id uuid.UUID) bool { return x.c.Entitlement.Query().Where(entitlement.ID(id)).ExistX(sys) }
	bankExists := func(id uuid.UUID) bool { return x.c.Bank.Query().Where(bank.ID(id)).ExistX(sys) }

	// updateCustomer, one row per set of fields: each needs one of its
	// fields' roles (FieldRoles) or CanUpdateCustomer.
	updCustomer := func(variant string, allow []access.Role, in map[string]any, check func(t *testing.T, c *ent.Customer)) mutRow {
		return mutRow{"updateCustomer/" + variant, allow, func(t *testing.T, b *ent.Bank) acOp {
			id := newCustomer(b)
			return acOp{fmt.Sprintf(updateQ, "Customer"), m("id", id, "in", in), b.Code,
				updated("Customer", id, func(t *testing.T) { check(t, x.c.Customer.GetX(sys, id)) })}
		}}
	}
	// child is the create/update/delete rows of a customer's records.
	child := func(typ string, create, update map[string]any, make func(cust uuid.UUID) uuid.UUID, exists func(uuid.UUID) bool,
		changed func(t *testing.T, id uuid.UUID), createRole, updateRoles, deleteRole []access.Role) []mutRow {
		return []mutRow{
			{"create" + typ, createRole, func(t *testing.T, b *ent.Bank) acOp {
				in := m("customerID", newCustomer(b))
				for k, v := range create {
					in[k] = v
				}
				if typ == "TaxResidence" {
					in["taxNumber"] = x.uniq("tax")
				}
				return acOp{fmt.Sprintf(createQ, typ), m("in", in), b.Code, created(typ, exists)}
			}},
			{"update" + typ, updateRoles, func(t *testing.T, b *ent.Bank) acOp {
				id := make(newCustomer(b))
				return acOp{fmt.Sprintf(updateQ, typ), m("id", id, "in", update), b.Code,
					updated(typ, id, func(t *testing.T) { changed(t, id) })}
			}},
			{"delete" + typ, deleteRole, func(t *testing.T, b *ent.Bank) acOp {
				id := make(newCustomer(b))
				return acOp{fmt.Sprintf(deleteQ, typ), m("id", id), b.Code, deleted(typ, id, exists)}
			}},
		}
	}

	rows := []mutRow{
		{"createBank", roles(access.CanCreateBank), func(t *testing.T, _ *ent.Bank) acOp {
			code := x.uniq("new.bank")
			return acOp{fmt.Sprintf(createQ, "Bank"), m("in", m("code", code, "name", "New bank")), "",
				func(t *testing.T, d map[string]json.RawMessage) {
					require.Equal(t, code, x.c.Bank.GetX(sys, createdID(t, d, "createBank")).Code)
				}}
		}},
		{"updateBank", roles(access.CanUpdateBank), func(t *testing.T, _ *ent.Bank) acOp {
			b := x.c.Bank.Create().SetCode(x.uniq("upd.bank")).SetName("Old name").SaveX(sys)
			return acOp{fmt.Sprintf(updateQ, "Bank"), m("id", b.ID, "in", m("name", "New name")), b.Code,
				updated("Bank", b.ID, func(t *testing.T) { require.Equal(t, "New name", x.c.Bank.GetX(sys, b.ID).Name) })}
		}},
		{"deleteBank", roles(access.CanDeleteBank), func(t *testing.T, _ *ent.Bank) acOp {
			b := x.c.Bank.Create().SetCode(x.uniq("del.bank")).SetName("Empty").SaveX(sys)
			return acOp{fmt.Sprintf(deleteQ, "Bank"), m("id", b.ID), b.Code, deleted("Bank", b.ID, bankExists)}
		}},

		{"createCustomer", roles(access.CanCreateCustomer), func(t *testing.T, b *ent.Bank) acOp {
			name := x.uniq("Created")
			return acOp{fmt.Sprintf(createQ, "Customer"), m("in", m("bankID", b.ID, "legalName", name)), b.Code,
				func(t *testing.T, d map[string]json.RawMessage) {
					c := x.c.Customer.GetX(sys, createdID(t, d, "createCustomer"))
					require.Equal(t, b.ID, c.BankID)
					require.Equal(t, name, c.LegalName)
				}}
		}},
		updCustomer("email", roles(access.CanUpdateCustomerEmail, access.CanUpdateCustomer), m("email", "changed@example.com"),
			func(t *testing.T, c *ent.Customer) { require.Equal(t, "changed@example.com", c.Email) }),
		updCustomer("clearEmail", roles(access.CanUpdateCustomerEmail, access.CanUpdateCustomer), m("clearEmail", true),
			func(t *testing.T, c *ent.Customer) { require.Empty(t, c.Email) }),
		updCustomer("legalName", roles(access.CanUpdateCustomerIdentity, access.CanUpdateCustomer), m("legalName", "Changed Name"),
			func(t *testing.T, c *ent.Customer) { require.Equal(t, "Changed Name", c.LegalName) }),
		updCustomer("labels", roles(access.CanUpdateCustomer), m("labels", []string{"gold"}),
			func(t *testing.T, c *ent.Customer) { require.Equal(t, []string{"gold"}, c.Labels) }),
		updCustomer("appendLabels", roles(access.CanUpdateCustomer), m("appendLabels", []string{"gold"}),
			func(t *testing.T, c *ent.Customer) { require.Equal(t, []string{"vip", "gold"}, c.Labels) }),
		updCustomer("clearLabels", roles(access.CanUpdateCustomer), m("clearLabels", true),
			func(t *testing.T, c *ent.Customer) { require.Empty(t, c.Labels) }),
		updCustomer("customerStatus", roles(access.CanUpdateCustomer), m("customerStatus", "ACTIVE"),
			func(t *testing.T, c *ent.Customer) { require.Equal(t, customer.CustomerStatusACTIVE, c.CustomerStatus) }),
		{"updateCustomer/customerNumber", roles(access.CanUpdateCustomerNumber, access.CanUpdateCustomer), func(t *testing.T, b *ent.Bank) acOp {
			id, number := newCustomer(b), x.uniq("NR")
			return acOp{fmt.Sprintf(updateQ, "Customer"), m("id", id, "in", m("customerNumber", number)), b.Code,
				updated("Customer", id, func(t *testing.T) { require.Equal(t, number, x.c.Customer.GetX(sys, id).CustomerNumber) })}
		}},
		updCustomer("mobilePhoneNumber", roles(access.CanUpdateCustomerMobilePhoneNumber, access.CanUpdateCustomer),
			m("mobilePhoneNumber", "+49 170 1234567"),
			func(t *testing.T, c *ent.Customer) { require.Equal(t, "+49 170 1234567", c.MobilePhoneNumber) }),
		updCustomer("creditLimit", roles(access.CanUpdateCustomerCreditLimit, access.CanUpdateCustomer),
			m("creditLimitCurrency", "EUR", "creditLimitAmount", "1000.50"),
			func(t *testing.T, c *ent.Customer) {
				require.Equal(t, "EUR", c.CreditLimitCurrency)
				require.NotNil(t, c.CreditLimitAmount)
				require.Equal(t, "1000.50", c.CreditLimitAmount.String(), "the scale is kept")
			}),
		updCustomer("creditRating", roles(access.CanUpdateCustomerCreditRatingAndSource, access.CanUpdateCustomer),
			m("creditRating", "AAA", "creditSource", "agency"),
			func(t *testing.T, c *ent.Customer) {
				require.Equal(t, "AAA", c.CreditRating)
				require.Equal(t, "agency", c.CreditSource)
			}),
		updCustomer("branchID", roles(access.CanUpdateCustomerBranch, access.CanUpdateCustomerIdentity, access.CanUpdateCustomer),
			m("branchID", "BR-1"), func(t *testing.T, c *ent.Customer) { require.Equal(t, "BR-1", c.BranchID) }),
		updCustomer("relationshipStatus", roles(access.CanUpdateCustomerData, access.CanUpdateCustomerIdentity, access.CanUpdateCustomer),
			m("relationshipStatus", "married"), func(t *testing.T, c *ent.Customer) { require.Equal(t, "married", c.RelationshipStatus) }),
		{"deleteCustomer", roles(access.CanDeleteCustomer), func(t *testing.T, b *ent.Bank) acOp {
			id := newCustomer(b)
			return acOp{fmt.Sprintf(deleteQ, "Customer"), m("id", id), b.Code, deleted("Customer", id, customerExists)}
		}},

		{"createProduct", roles(access.CanCreateCustomerProduct), func(t *testing.T, b *ent.Bank) acOp {
			c := newCustomer(b)
			return acOp{fmt.Sprintf(createQ, "Product"), m("in", m("customerID", c, "productCode", "WALLET")), b.Code,
				func(t *testing.T, d map[string]json.RawMessage) {
					require.Equal(t, c, x.c.Product.GetX(sys, createdID(t, d, "createProduct")).CustomerID)
				}}
		}},
		{"updateProduct", roles(access.CanUpdateCustomerProduct), func(t *testing.T, b *ent.Bank) acOp {
			id := newProduct(b)
			return acOp{fmt.Sprintf(updateQ, "Product"), m("id", id, "in", m("status", "ACTIVE")), b.Code,
				updated("Product", id, func(t *testing.T) { require.Equal(t, product.StatusACTIVE, x.c.Product.GetX(sys, id).Status) })}
		}},
		{"closeProduct", roles(access.CanUpdateCustomerProduct), func(t *testing.T, b *ent.Bank) acOp {
			id := newProduct(b)
			return acOp{`mutation($id: ID!) { closeProduct(id: $id) { id } }`, m("id", id), b.Code,
				func(t *testing.T, d map[string]json.RawMessage) {
					require.Equal(t, id, createdID(t, d, "closeProduct"))
					require.Equal(t, product.StatusCLOSED, x.c.Product.GetX(sys, id).Status)
				}}
		}},
	}
	rows = append(rows, child("Address", m("city", "Berlin"), m("city", "Hamburg"),
		func(c uuid.UUID) uuid.UUID {
			return x.c.Address.Create().SetCustomerID(c).SetCity("Köln").SaveX(sys).ID
		},
		addressExists, func(t *testing.T, id uuid.UUID) { require.Equal(t, "Hamburg", x.c.Address.GetX(sys, id).City) },
		roles(access.CanCreateCustomerAddress), roles(access.CanCreateCustomerAddress, access.CanCreateCustomer),
		roles(access.CanDeleteCustomerAddress))...)
	rows = append(rows, child("TaxResidence", m("domain", "DE"), m("taxNumber", "changed"),
		func(c uuid.UUID) uuid.UUID {
			return x.c.TaxResidence.Create().SetCustomerID(c).SetDomain("NL").SetTaxNumber(x.uniq("t")).SaveX(sys).ID
		},
		taxExists, func(t *testing.T, id uuid.UUID) {
			require.Equal(t, "changed", x.c.TaxResidence.GetX(sys, id).TaxNumber)
		},
		roles(access.CanCreateTaxResidence), roles(access.CanCreateTaxResidence), roles(access.CanDeleteTaxResidence))...)
	rows = append(rows, child("SocialHandle", m("type", "twitter", "handle", "@new"), m("handle", "@changed"),
		func(c uuid.UUID) uuid.UUID {
			return x.c.SocialHandle.Create().SetCustomerID(c).SetType("twitter").SetHandle("@old").SaveX(sys).ID
		},
		handleExists, func(t *testing.T, id uuid.UUID) { require.Equal(t, "@changed", x.c.SocialHandle.GetX(sys, id).Handle) },
		roles(access.CanAddSocialMediaHandle), roles(access.CanAddSocialMediaHandle), roles(access.CanAddSocialMediaHandle))...)
	rows = append(rows, child("CustomerAttribute", m("name", "AGE", "type", "INTEGER", "value", "42"), m("value", "43"),
		func(c uuid.UUID) uuid.UUID {
			return x.c.CustomerAttribute.Create().SetCustomerID(c).SetName("AGE").SetType("INTEGER").SetValue("41").SaveX(sys).ID
		},
		attrExists, func(t *testing.T, id uuid.UUID) { require.Equal(t, "43", x.c.CustomerAttribute.GetX(sys, id).Value) },
		roles(access.CanCreateCustomerAttributeAtOneBank), roles(access.CanUpdateCustomerAttributeAtOneBank),
		roles(access.CanDeleteCustomerAttributeAtOneBank))...)
	rows = append(rows, child("CustomerMessage", m("message", "Hello"), m("fromPerson", "Tom"),
		func(c uuid.UUID) uuid.UUID {
			return x.c.CustomerMessage.Create().SetCustomerID(c).SetMessage("Hi").SaveX(sys).ID
		},
		msgExists, func(t *testing.T, id uuid.UUID) {
			require.Equal(t, "Tom", x.c.CustomerMessage.GetX(sys, id).FromPerson)
		},
		roles(access.CanCreateCustomerMessage), roles(access.CanCreateCustomerMessage), roles(access.CanCreateCustomerMessage))...)
	rows = append(rows,
		mutRow{"createCrmEvent", roles(access.CanCreateCrmEvent), func(t *testing.T, b *ent.Bank) acOp {
			c := newCustomer(b)
			return acOp{fmt.Sprintf(createQ, "CrmEvent"), m("in", m("bankID", b.ID, "customerID", c, "category", "call")), b.Code,
				func(t *testing.T, d map[string]json.RawMessage) {
					e := x.c.CrmEvent.GetX(sys, createdID(t, d, "createCrmEvent"))
					require.Equal(t, b.ID, e.BankID)
					require.Equal(t, &c, e.CustomerID)
				}}
		}},
		mutRow{"updateCrmEvent", roles(access.CanUpdateCrmEvent), func(t *testing.T, b *ent.Bank) acOp {
			id := x.c.CrmEvent.Create().SetBankID(b.ID).SetCategory("call").SaveX(sys).ID
			return acOp{fmt.Sprintf(updateQ, "CrmEvent"), m("id", id, "in", m("detail", "called back")), b.Code,
				updated("CrmEvent", id, func(t *testing.T) { require.Equal(t, "called back", x.c.CrmEvent.GetX(sys, id).Detail) })}
		}},
		mutRow{"deleteCrmEvent", roles(access.CanDeleteCrmEvent), func(t *testing.T, b *ent.Bank) acOp {
			id := x.c.CrmEvent.Create().SetBankID(b.ID).SetCategory("call").SaveX(sys).ID
			return acOp{fmt.Sprintf(deleteQ, "CrmEvent"), m("id", id), b.Code, deleted("CrmEvent", id, crmExists)}
		}},

		mutRow{"createUser", roles(access.CanManageCallers), func(t *testing.T, _ *ent.Bank) acOp {
			name := x.uniq("new-user")
			return acOp{fmt.Sprintf(createQ, "User"), m("in", m("username", name)), "",
				func(t *testing.T, d map[string]json.RawMessage) {
					require.Equal(t, name, x.c.User.GetX(sys, createdID(t, d, "createUser")).Username)
				}}
		}},
		mutRow{"updateUser", roles(access.CanManageCallers), func(t *testing.T, _ *ent.Bank) acOp {
			id := newUser()
			return acOp{fmt.Sprintf(updateQ, "User"), m("id", id, "in", m("displayName", "Changed")), "",
				updated("User", id, func(t *testing.T) { require.Equal(t, "Changed", x.c.User.GetX(sys, id).DisplayName) })}
		}},
		mutRow{"deleteUser", roles(access.CanManageCallers), func(t *testing.T, _ *ent.Bank) acOp {
			id := newUser()
			return acOp{fmt.Sprintf(deleteQ, "User"), m("id", id), "", deleted("User", id, userExists)}
		}},
		mutRow{"setUserPassword", roles(access.CanManageCallers), func(t *testing.T, _ *ent.Bank) acOp {
			id := newUser()
			return acOp{`mutation($id: ID!) { setUserPassword(id: $id, password: "correct horse battery") { id } }`, m("id", id), "",
				func(t *testing.T, d map[string]json.RawMessage) {
					require.Equal(t, id, createdID(t, d, "setUserPassword"))
					require.True(t, strings.HasPrefix(x.c.User.GetX(sys, id).PasswordHash, "$argon2id$"))
				}}
		}},

		mutRow{"createUserCustomerLink", roles(access.CanCreateUserCustomerLink), func(t *testing.T, b *ent.Bank) acOp {
			u, c := newUser(), newCustomer(b)
			return acOp{fmt.Sprintf(createQ, "UserCustomerLink"), m("in", m("userID", u, "customerID", c)), b.Code,
				func(t *testing.T, d map[string]json.RawMessage) {
					l := x.c.UserCustomerLink.GetX(sys, createdID(t, d, "createUserCustomerLink"))
					require.Equal(t, []uuid.UUID{u, c, b.ID}, []uuid.UUID{l.UserID, l.CustomerID, l.BankID})
				}}
		}},
		mutRow{"updateUserCustomerLink", roles(access.CanCreateUserCustomerLink), func(t *testing.T, b *ent.Bank) acOp {
			id := x.c.UserCustomerLink.Create().SetUserID(newUser()).SetCustomerID(newCustomer(b)).SaveX(sys).ID
			return acOp{fmt.Sprintf(updateQ, "UserCustomerLink"), m("id", id, "in", m("isActive", false)), b.Code,
				updated("UserCustomerLink", id, func(t *testing.T) { require.False(t, x.c.UserCustomerLink.GetX(sys, id).IsActive) })}
		}},
		mutRow{"deleteUserCustomerLink", roles(access.CanDeleteUserCustomerLink), func(t *testing.T, b *ent.Bank) acOp {
			id := x.c.UserCustomerLink.Create().SetUserID(newUser()).SetCustomerID(newCustomer(b)).SaveX(sys).ID
			return acOp{fmt.Sprintf(deleteQ, "UserCustomerLink"), m("id", id), b.Code, deleted("UserCustomerLink", id, linkExists)}
		}},

		mutRow{"createAPIClient", roles(access.CanManageCallers), func(t *testing.T, _ *ent.Bank) acOp {
			cid := x.uniq("new-client")
			return acOp{`mutation($in: CreateAPIClientInput!) { createAPIClient(input: $in) { client { id } clientSecret } }`,
				m("in", m("clientID", cid, "name", "New app")), "",
				func(t *testing.T, d map[string]json.RawMessage) {
					var r struct {
						Client       struct{ ID uuid.UUID }
						ClientSecret string
					}
					acDecode(t, d["createAPIClient"], &r)
					require.NotEmpty(t, r.ClientSecret)
					cl := x.c.APIClient.GetX(sys, r.Client.ID)
					require.Equal(t, cid, cl.ClientID)
					require.True(t, strings.HasPrefix(cl.SecretHash, "$argon2id$"))
				}}
		}},
		mutRow{"updateAPIClient", roles(access.CanManageCallers), func(t *testing.T, _ *ent.Bank) acOp {
			id := newClient()
			return acOp{`mutation($id: ID!, $in: UpdateAPIClientInput!) { updateAPIClient(id: $id, input: $in) { id } }`,
				m("id", id, "in", m("name", "Renamed", "disabled", true)), "",
				updated("APIClient", id, func(t *testing.T) {
					cl := x.c.APIClient.GetX(sys, id)
					require.Equal(t, "Renamed", cl.Name)
					require.True(t, cl.Disabled)
				})}
		}},
		mutRow{"rotateAPIClientSecret", roles(access.CanManageCallers), func(t *testing.T, _ *ent.Bank) acOp {
			id := newClient()
			return acOp{`mutation($id: ID!) { rotateAPIClientSecret(id: $id) { client { id } clientSecret } }`, m("id", id), "",
				func(t *testing.T, d map[string]json.RawMessage) {
					var r struct {
						Client       struct{ ID uuid.UUID }
						ClientSecret string
					}
					acDecode(t, d["rotateAPIClientSecret"], &r)
					require.Equal(t, id, r.Client.ID)
					require.NotEmpty(t, r.ClientSecret)
					h := x.c.APIClient.GetX(sys, id).SecretHash
					require.NotEqual(t, fakeHash, h, "the secret changed")
					require.True(t, strings.HasPrefix(h, "$argon2id$"))
				}}
		}},
		mutRow{"deleteAPIClient", roles(access.CanManageCallers), func(t *testing.T, _ *ent.Bank) acOp {
			id := newClient()
			return acOp{`mutation($id: ID!) { deleteAPIClient(id: $id) }`, m("id", id), "", deleted("APIClient", id, clientExists)}
		}},
		mutRow{"createEntitlement/atBank", roles(access.CanManageCallers), func(t *testing.T, b *ent.Bank) acOp {
			cl := newClient()
			return acOp{fmt.Sprintf(createQ, "Entitlement"), m("in", m("roleName", "CanGetCustomer", "bankID", b.ID, "apiClientID", cl)), b.Code,
				func(t *testing.T, d map[string]json.RawMessage) {
					e := x.c.Entitlement.GetX(sys, createdID(t, d, "createEntitlement"))
					require.Equal(t, "CanGetCustomer", e.RoleName)
					require.Equal(t, &b.ID, e.BankID)
					require.Equal(t, &cl, e.APIClientID)
				}}
		}},
		mutRow{"createEntitlement/systemWide", roles(access.CanManageCallers), func(t *testing.T, _ *ent.Bank) acOp {
			u := newUser()
			return acOp{fmt.Sprintf(createQ, "Entitlement"), m("in", m("roleName", "CanGetCustomerAtAnyBank", "userID", u)), "",
				func(t *testing.T, d map[string]json.RawMessage) {
					e := x.c.Entitlement.GetX(sys, createdID(t, d, "createEntitlement"))
					require.Equal(t, "CanGetCustomerAtAnyBank", e.RoleName)
					require.Nil(t, e.BankID)
					require.Equal(t, &u, e.UserID)
				}}
		}},
		mutRow{"deleteEntitlement/atBank", roles(access.CanManageCallers), func(t *testing.T, b *ent.Bank) acOp {
			id := x.c.Entitlement.Create().SetAPIClientID(newClient()).SetRoleName("CanGetCustomer").SetBankID(b.ID).SaveX(sys).ID
			// (a caller's record: refused by the system role, with no bank)
			return acOp{fmt.Sprintf(deleteQ, "Entitlement"), m("id", id), "", deleted("Entitlement", id, entExists)}
		}},
		mutRow{"deleteEntitlement/systemWide", roles(access.CanManageCallers), func(t *testing.T, _ *ent.Bank) acOp {
			id := x.c.Entitlement.Create().SetUserID(newUser()).SetRoleName("CanCreateBank").SaveX(sys).ID
			return acOp{fmt.Sprintf(deleteQ, "Entitlement"), m("id", id), "", deleted("Entitlement", id, entExists)}
		}},
	)
	names := make([]string, len(rows))
	for i, r := range rows {
		names[i] = r.name
	}
	requireRows(t, "Mutation", mutations, names)

	for _, row := range rows {
		scoped := !access.IsSystem(row.allow[0]) // at a bank: AtAnyBank variants and bindings apply
		t.Run(row.name, func(t *testing.T) {
			t.Run("no viewer: 401", func(t *testing.T) {
				op := row.prep(t, bankA)
				before := x.dump(t)
				x.unauthenticated(t, op.query, op.vars)
				require.Equal(t, before, x.dump(t))
			})
			t.Run("without the role", func(t *testing.T) {
				op := row.prep(t, bankA)
				// Every other role, here and everywhere, and for changes at a
				// bank the role itself at the other bank.
				grants := acAllBut(bankA.ID, row.allow...)
				if scoped {
					grants = append(grants, acAt(bankB.ID, row.allow...)...)
				}
				v := acClient("other-roles", nil, grants)
				before := x.dump(t)
				requireForbidden(t, x.refused(t, v, op.query, op.vars), op.bank, row.allow...)
				require.Equal(t, before, x.dump(t), "a refused change changes nothing and records nothing")
			})
			for _, r := range row.allow {
				t.Run("with "+string(r), func(t *testing.T) {
					op := row.prep(t, bankA)
					v := acClient("writer", nil, acGrant(r, bankA.ID))
					op.check(t, x.ok(t, v, op.query, op.vars))
					requireAudited(t, x, v, bankA.ID, scoped)
				})
			}
			if !scoped {
				return
			}
			anyRole := access.AtAnyBank(row.allow[0])
			t.Run("with "+string(anyRole), func(t *testing.T) {
				op := row.prep(t, bankB)
				v := acClient("writer", nil, acAnyBank(row.allow[0]))
				op.check(t, x.ok(t, v, op.query, op.vars))
				requireAudited(t, x, v, bankB.ID, true)
			})
			t.Run("bound to A with "+string(anyRole), func(t *testing.T) {
				v := acClient("bound", &bankA.ID, acAnyBank(row.allow[0]))
				op := row.prep(t, bankB)
				before := x.dump(t)
				if e := x.refused(t, v, op.query, op.vars); createsAtBank(row.name) {
					// Banks are public: the binding refuses the role at B.
					requireForbidden(t, e, bankB.Code, row.allow[0])
				} else {
					requireNotFound(t, e, bankB.Code)
				}
				require.Equal(t, before, x.dump(t), "another bank's records do not exist for a bound client")
				op = row.prep(t, bankA)
				op.check(t, x.ok(t, v, op.query, op.vars))
			})
		})
	}

	t.Run("updateCustomer needs a role for each field it sets", func(t *testing.T) {
		id := newCustomer(bankA)
		in := m("id", id, "in", m("email", "both@example.com", "legalName", "Both Changed"))
		q := fmt.Sprintf(updateQ, "Customer")
		before := x.dump(t)
		e := x.refused(t, acClient("email-only", nil, acAt(bankA.ID, access.CanUpdateCustomerEmail)), q, in)
		requireForbidden(t, e, bankA.Code, access.CanUpdateCustomerIdentity, access.CanUpdateCustomer)
		require.Equal(t, before, x.dump(t))
		x.ok(t, acClient("email-and-identity", nil, acAt(bankA.ID, access.CanUpdateCustomerEmail, access.CanUpdateCustomerIdentity)), q, in)
		c := x.c.Customer.GetX(sys, id)
		require.Equal(t, []string{"both@example.com", "Both Changed"}, []string{c.Email, c.LegalName})
	})
}

// createsAtBank tells the mutations that name a bank (rather than a record
// of it): banks are public, so they are refused by role, not "not found".
func createsAtBank(name string) bool { return name == "createCustomer" || name == "createCrmEvent" }

// requireAudited checks that v's change was recorded, at bank for a change
// at a bank.
func requireAudited(t *testing.T, x *acEnv, v *access.Viewer, bank uuid.UUID, scoped bool) {
	t.Helper()
	evs := x.c.AuditEvent.Query().Where(auditevent.ActorID(v.ID)).AllX(x.sys)
	require.NotEmpty(t, evs, "every change is audited")
	for _, e := range evs {
		require.Equal(t, auditevent.ActorKindClient, e.ActorKind)
		require.Equal(t, v.Name, e.ActorName)
		if scoped {
			require.Equal(t, &bank, e.BankID, "%s %s", e.Operation, e.EntityType)
		}
	}
}

// --- cross-tenant ---------------------------------------------------------------

func TestAccessCrossTenant(t *testing.T) {
	x := newACEnv(t)
	w := x.seedWorld(t)
	A, B := w.A, w.B
	viewers := []struct {
		name string
		v    *access.Viewer
		self uuid.UUID   // its API client
		ents []uuid.UUID // its entitlements
	}{
		{"every bank role at A", access.NewViewer(access.KindClient, w.Staff, "staff", nil, acEveryBankRole(A.Bank.ID)),
			w.Staff, []uuid.UUID{w.StaffEntitlement}},
		{"bound to A with every AtAnyBank role", access.NewViewer(access.KindClient, A.Client, "alpha-client", &A.Bank.ID,
			acAnyBank(access.BankRoles()...)), A.Client, A.Entitlements},
	}
	for _, vc := range viewers {
		t.Run(vc.name, func(t *testing.T) {
			v := vc.v
			query := func(t *testing.T, q string, vars map[string]any) map[string]json.RawMessage {
				t.Helper()
				return x.ok(t, v, q, vars)
			}

			t.Run("root lists show A only", func(t *testing.T) {
				for field, want := range map[string][]uuid.UUID{
					"banks": {A.Bank.ID, B.Bank.ID}, "customers": A.Customers, "products": A.Products, "addresses": A.Addresses,
					"taxResidences": A.TaxResidences, "socialHandles": A.SocialHandles, "customerAttributes": A.Attributes,
					"customerMessages": A.Messages, "crmEvents": A.CrmEvents, "userCustomerLinks": A.Links, "users": A.Users,
					"apiClients": {vc.self}, "entitlements": vc.ents, "auditEvents": x.auditIDs(t, A.Bank.ID),
				} {
					d := query(t, fmt.Sprintf(`{ %s(first: 100) { totalCount edges { node { id } } } }`, field), nil)
					acSame(t, want, connIDs(t, d[field]), field)
				}
			})

			t.Run("nested edges show A only", func(t *testing.T) {
				const c = `(first: 100) { totalCount edges { node { id } } }`
				var banks struct {
					Edges []struct {
						Node struct {
							ID                   uuid.UUID
							Customers, CrmEvents acConn
						}
					}
				}
				acDecode(t, query(t, `{ banks(first: 10) { edges { node { id customers`+c+` crmEvents`+c+` } } } }`, nil)["banks"], &banks)
				// Both banks are listed (public reference data); B's
				// customers and CRM events are not.
				require.Len(t, banks.Edges, 2)
				require.Equal(t, A.Bank.ID, banks.Edges[0].Node.ID)
				acSame(t, A.Customers, banks.Edges[0].Node.Customers.ids())
				require.Equal(t, len(A.Customers), banks.Edges[0].Node.Customers.TotalCount)
				acSame(t, A.CrmEvents, banks.Edges[0].Node.CrmEvents.ids())
				require.Equal(t, len(A.CrmEvents), banks.Edges[0].Node.CrmEvents.TotalCount)
				require.Equal(t, B.Bank.ID, banks.Edges[1].Node.ID)
				require.Empty(t, banks.Edges[1].Node.Customers.ids())
				require.Zero(t, banks.Edges[1].Node.Customers.TotalCount)
				require.Empty(t, banks.Edges[1].Node.CrmEvents.ids())
				require.Zero(t, banks.Edges[1].Node.CrmEvents.TotalCount)

				// The customer linked to the shared user, who is linked at B too.
				var cu struct {
					ID                                                uuid.UUID
					Bank                                              struct{ ID uuid.UUID }
					Products, Addresses, TaxResidences, SocialHandles acConn
					Attributes, Messages, CrmEvents                   acConn
					UserLinks                                         struct {
						TotalCount int
						Edges      []struct {
							Node struct {
								ID   uuid.UUID
								User struct {
									ID            uuid.UUID
									CustomerLinks struct {
										TotalCount int
										Edges      []struct {
											Node struct {
												ID       uuid.UUID
												BankID   uuid.UUID
												Customer struct{ ID, BankID uuid.UUID }
											}
										}
									}
								}
							}
						}
					}
				}
				for i, want := range []struct{ products, addresses, taxes, handles, attrs, msgs, crm, links []uuid.UUID }{
					{A.Products[:1], A.Addresses, A.TaxResidences, A.SocialHandles, A.Attributes, A.Messages, A.CrmEvents[:1], A.Links[1:]},
					{A.Products[1:], nil, nil, nil, nil, nil, nil, A.Links[:1]},
				} {
					d := query(t, `query($id: ID!) { node(id: $id) { ... on Customer { id bank { id }
						products`+c+` addresses`+c+` taxResidences`+c+` socialHandles`+c+` attributes`+c+` messages`+c+` crmEvents`+c+`
						userLinks(first: 100) { totalCount edges { node { id user { id
							customerLinks(first: 100) { totalCount edges { node { id bankID customer { id bankID } } } } } } } } } } }`,
						map[string]any{"id": A.Customers[i]})
					acDecode(t, d["node"], &cu)
					require.Equal(t, A.Customers[i], cu.ID)
					require.Equal(t, A.Bank.ID, cu.Bank.ID)
					for _, e := range []struct {
						name string
						got  acConn
						want []uuid.UUID
					}{{"products", cu.Products, want.products}, {"addresses", cu.Addresses, want.addresses},
						{"taxResidences", cu.TaxResidences, want.taxes}, {"socialHandles", cu.SocialHandles, want.handles},
						{"attributes", cu.Attributes, want.attrs}, {"messages", cu.Messages, want.msgs}, {"crmEvents", cu.CrmEvents, want.crm}} {
						acSame(t, e.want, e.got.ids(), e.name)
						require.Equal(t, len(e.want), e.got.TotalCount, e.name)
					}
					require.Len(t, cu.UserLinks.Edges, 1)
					require.Equal(t, 1, cu.UserLinks.TotalCount)
					link := cu.UserLinks.Edges[0].Node
					require.Equal(t, want.links[0], link.ID)
					require.Equal(t, 1, link.User.CustomerLinks.TotalCount, "the user's links at B are not shown")
					require.Len(t, link.User.CustomerLinks.Edges, 1)
					l := link.User.CustomerLinks.Edges[0].Node
					require.Equal(t, []uuid.UUID{want.links[0], A.Bank.ID, A.Customers[i], A.Bank.ID}, []uuid.UUID{l.ID, l.BankID, l.Customer.ID, l.Customer.BankID})
				}

				// Upward and sideways edges of A's records.
				var ps struct {
					Edges []struct {
						Node struct {
							ID       uuid.UUID
							Customer struct{ ID, BankID uuid.UUID }
						}
					}
				}
				acDecode(t, query(t, `{ products(first: 100) { edges { node { id customer { id bankID } } } } }`, nil)["products"], &ps)
				require.Len(t, ps.Edges, len(A.Products))
				for _, e := range ps.Edges {
					require.Equal(t, A.Bank.ID, e.Node.Customer.BankID)
				}
				var users struct {
					Edges []struct {
						Node struct {
							ID            uuid.UUID
							CustomerLinks acConn
						}
					}
				}
				acDecode(t, query(t, `{ users(first: 100) { edges { node { id customerLinks`+c+` } } } }`, nil)["users"], &users)
				got := map[uuid.UUID][]uuid.UUID{}
				for _, e := range users.Edges {
					got[e.Node.ID] = e.Node.CustomerLinks.ids()
					require.Equal(t, 1, e.Node.CustomerLinks.TotalCount)
				}
				require.Equal(t, map[uuid.UUID][]uuid.UUID{w.Shared: A.Links[:1], A.Users[1]: A.Links[1:]}, got)
				var crm struct {
					Edges []struct {
						Node struct {
							Bank     struct{ ID uuid.UUID }
							Customer *struct{ ID uuid.UUID }
						}
					}
				}
				acDecode(t, query(t, `{ crmEvents(first: 100) { edges { node { bank { id } customer { id } } } } }`, nil)["crmEvents"], &crm)
				require.Len(t, crm.Edges, 2)
				require.Equal(t, A.Bank.ID, crm.Edges[0].Node.Bank.ID)
				require.Equal(t, A.Customers[0], crm.Edges[0].Node.Customer.ID)
				var cls struct {
					Edges []struct {
						Node struct {
							ID           uuid.UUID
							Entitlements acConn
						}
					}
				}
				acDecode(t, query(t, `{ apiClients(first: 100) { edges { node { id entitlements`+c+` } } } }`, nil)["apiClients"], &cls)
				require.Len(t, cls.Edges, 1)
				acSame(t, vc.ents, cls.Edges[0].Node.Entitlements.ids())
			})

			// Every kind of B's records, with what its answer must not show.
			bRecords := []struct {
				id   uuid.UUID
				what string
			}{
				{B.Customers[0], "customer"}, {B.Products[0], "product"}, {B.Addresses[0], "address"},
				{B.TaxResidences[0], "tax residence"}, {B.SocialHandles[0], "social handle"}, {B.Attributes[0], "attribute"},
				{B.Messages[0], "message"}, {B.CrmEvents[0], "CRM event"}, {B.Links[0], "user link"}, {B.Users[1], "B's user"},
				{B.Client, "B's client"}, {B.Entitlements[0], "B's entitlement"}, {x.auditIDs(t, B.Bank.ID)[0], "B's audit event"},
			}
			leaks := []string{"Bravo", "bravo", B.Bank.Code}

			t.Run("B's bank is public, nothing under it is", func(t *testing.T) {
				var b struct {
					ID                   uuid.UUID
					Code, Name           string
					Customers, CrmEvents acConn
				}
				const c = `(first: 100) { totalCount edges { node { id } } }`
				acDecode(t, query(t, `query($id: ID!) { node(id: $id) { ... on Bank { id code name customers`+c+` crmEvents`+c+` } } }`,
					map[string]any{"id": B.Bank.ID})["node"], &b)
				require.Equal(t, []any{B.Bank.ID, B.Bank.Code, B.Bank.Name}, []any{b.ID, b.Code, b.Name})
				require.Empty(t, b.Customers.ids())
				require.Zero(t, b.Customers.TotalCount)
				require.Empty(t, b.CrmEvents.ids())
				require.Zero(t, b.CrmEvents.TotalCount)
			})

			t.Run("node with B's ids is not found", func(t *testing.T) {
				// Plain, and through a fragment on one type (read first).
				for _, q := range []string{`query($id: ID!) { node(id: $id) { id } }`,
					`query($id: ID!) { node(id: $id) { id ... on Customer { legalName } } }`,
					`query($id: ID!) { node(id: $id) { ... on Product { id } } }`} {
					unknown := uuid.New()
					nobody := x.refused(t, v, q, map[string]any{"id": unknown})
					requireNotFound(t, nobody)
					for _, r := range bRecords {
						e := x.refused(t, v, q, map[string]any{"id": r.id})
						requireNotFound(t, e, leaks...)
						// The same answer as for an id that does not exist.
						require.Equal(t, nobody.Extensions, e.Extensions, r.what)
						require.Equal(t, strings.ReplaceAll(nobody.Message, unknown.String(), "ID"),
							strings.ReplaceAll(e.Message, r.id.String(), "ID"), r.what)
					}
				}
			})

			t.Run("nodes with B's ids among A's resolve them to null", func(t *testing.T) {
				var ids, want []uuid.UUID
				aIDs := []uuid.UUID{A.Customers[0], A.Products[0], A.Addresses[0], A.TaxResidences[0], A.SocialHandles[0],
					A.Attributes[0], A.Messages[0], A.CrmEvents[0], A.Links[0], A.Users[1], vc.self, vc.ents[0], x.auditIDs(t, A.Bank.ID)[0]}
				for i, r := range bRecords {
					if i < len(aIDs) {
						ids, want = append(ids, aIDs[i]), append(want, aIDs[i])
					}
					ids, want = append(ids, r.id), append(want, uuid.Nil)
				}
				ids, want = append(ids, B.Bank.ID), append(want, B.Bank.ID) // banks are public
				var got []*struct{ ID uuid.UUID }
				acDecode(t, query(t, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": ids})["nodes"], &got)
				require.Len(t, got, len(want))
				for i, n := range got {
					if want[i] == uuid.Nil {
						require.Nil(t, n, "B's record at %d is null", i)
					} else {
						require.NotNil(t, n, "A's record at %d", i)
						require.Equal(t, want[i], n.ID)
					}
				}
			})

			t.Run("filters find nothing of B", func(t *testing.T) {
				bID, sh := map[string]any{"b": B.Bank.ID}, map[string]any{"u": w.Shared}
				for _, f := range []struct {
					field, decl, where string
					vars               map[string]any
					want               []uuid.UUID
				}{
					{"customers", "$b: ID", `{bankID: $b}`, bID, nil},
					{"customers", "$ids: [ID!]", `{idIn: $ids}`, map[string]any{"ids": B.Customers}, nil},
					{"customers", "", `{search: "Bravo"}`, nil, nil},
					{"customers", "", `{search: "bravo0@example.com"}`, nil, nil},
					{"customers", "", `{search: "Customer"}`, nil, A.Customers},
					{"customers", "", `{hasLabel: "vip"}`, nil, A.VIP},
					{"customers", "", `{hasAnyLabel: ["vip", "retail"]}`, nil, A.VIP},
					{"customers", "", `{hasAllLabels: ["vip", "retail"]}`, nil, A.VIP[1:]},
					{"customers", "$u: ID", `{hasUserLinksWith: [{userID: $u}]}`, sh, A.Customers[1:2]},
					{"products", "$b: ID", `{hasCustomerWith: [{bankID: $b}]}`, bID, nil},
					{"products", "$ids: [ID!]", `{customerIDIn: $ids}`, map[string]any{"ids": B.Customers}, nil},
					{"addresses", "$b: ID", `{hasCustomerWith: [{bankID: $b}]}`, bID, nil},
					{"crmEvents", "$b: ID", `{bankID: $b}`, bID, nil},
					{"crmEvents", "$b: ID", `{hasCustomerWith: [{bankID: $b}]}`, bID, nil},
					{"userCustomerLinks", "$b: UUID", `{bankID: $b}`, bID, nil},
					{"userCustomerLinks", "$u: ID", `{userID: $u}`, sh, A.Links[:1]},
					{"auditEvents", "$b: UUID", `{bankID: $b}`, bID, nil},
					{"auditEvents", "$ids: [UUID!]", `{entityIDIn: $ids}`, map[string]any{"ids": B.Customers}, nil},
					{"banks", "", `{code: "bank.bravo"}`, nil, []uuid.UUID{B.Bank.ID}}, // banks are public
					{"banks", "$b: ID", `{hasCustomersWith: [{bankID: $b}]}`, bID, nil},
					// Edge predicates reach past the rows the viewer may read:
					// they must not reveal B's records either.
					{"users", "$b: UUID", `{hasCustomerLinksWith: [{bankID: $b}]}`, bID, nil},
					{"users", "", `{hasCustomerLinksWith: [{hasCustomerWith: [{legalNameContains: "Bravo"}]}]}`, nil, nil},
					{"customers", "$b: UUID", `{hasUserLinksWith: [{hasUserWith: [{hasCustomerLinksWith: [{bankID: $b}]}]}]}`, bID, nil},
				} {
					decl := ""
					if f.decl != "" {
						decl = "(" + f.decl + ")"
					}
					q := fmt.Sprintf(`query%s { %s(first: 100, where: %s) { totalCount edges { node { id } } } }`, decl, f.field, f.where)
					t.Run(f.field+" "+f.where, func(t *testing.T) {
						if r := x.post(t, v, q, f.vars); (strings.Contains(f.where, "hasCustomerLinksWith") || strings.Contains(f.where, "hasCustomersWith")) && len(r.Errors) > 0 && r.Data == nil {
							// A schema without this edge predicate leaks nothing either.
							require.Equal(t, "GRAPHQL_VALIDATION_FAILED", r.Errors[0].Extensions["code"], r.Body)
							return
						}
						acSame(t, f.want, connIDs(t, x.ok(t, v, q, f.vars)[f.field]))
					})
				}
			})

			t.Run("mutations of B's records are not found and change nothing", func(t *testing.T) {
				unknown := uuid.New()
				for _, mu := range []struct {
					name, query string
					vars        map[string]any
					unknownVar  string // the variable whose unknown value must give the same answer
				}{
					{"updateCustomer", `mutation($id: ID!) { updateCustomer(id: $id, input: {email: "x@example.com"}) { id } }`, map[string]any{"id": B.Customers[0]}, "id"},
					{"updateCustomer labels", `mutation($id: ID!) { updateCustomer(id: $id, input: {appendLabels: ["x"]}) { id } }`, map[string]any{"id": B.Customers[0]}, "id"},
					{"deleteCustomer", `mutation($id: ID!) { deleteCustomer(id: $id) }`, map[string]any{"id": B.Customers[2]}, "id"},
					{"createProduct", `mutation($c: ID!) { createProduct(input: {customerID: $c, productCode: WALLET}) { id } }`, map[string]any{"c": B.Customers[0]}, "c"},
					{"updateProduct", `mutation($id: ID!) { updateProduct(id: $id, input: {status: ACTIVE}) { id } }`, map[string]any{"id": B.Products[0]}, "id"},
					{"closeProduct", `mutation($id: ID!) { closeProduct(id: $id) { id } }`, map[string]any{"id": B.Products[0]}, "id"},
					{"createAddress", `mutation($c: ID!) { createAddress(input: {customerID: $c, city: "X"}) { id } }`, map[string]any{"c": B.Customers[0]}, "c"},
					{"updateAddress", `mutation($id: ID!) { updateAddress(id: $id, input: {city: "X", isPrimary: true}) { id } }`, map[string]any{"id": B.Addresses[0]}, "id"},
					{"deleteAddress", `mutation($id: ID!) { deleteAddress(id: $id) }`, map[string]any{"id": B.Addresses[0]}, "id"},
					{"createTaxResidence", `mutation($c: ID!) { createTaxResidence(input: {customerID: $c, domain: "DE", taxNumber: "9"}) { id } }`, map[string]any{"c": B.Customers[0]}, "c"},
					{"updateTaxResidence", `mutation($id: ID!) { updateTaxResidence(id: $id, input: {taxNumber: "9"}) { id } }`, map[string]any{"id": B.TaxResidences[0]}, "id"},
					{"deleteTaxResidence", `mutation($id: ID!) { deleteTaxResidence(id: $id) }`, map[string]any{"id": B.TaxResidences[0]}, "id"},
					{"createSocialHandle", `mutation($c: ID!) { createSocialHandle(input: {customerID: $c, type: "x", handle: "@x"}) { id } }`, map[string]any{"c": B.Customers[0]}, "c"},
					{"updateSocialHandle", `mutation($id: ID!) { updateSocialHandle(id: $id, input: {handle: "@x"}) { id } }`, map[string]any{"id": B.SocialHandles[0]}, "id"},
					{"deleteSocialHandle", `mutation($id: ID!) { deleteSocialHandle(id: $id) }`, map[string]any{"id": B.SocialHandles[0]}, "id"},
					{"createCustomerAttribute", `mutation($c: ID!) { createCustomerAttribute(input: {customerID: $c, name: "N", type: STRING, value: "v"}) { id } }`, map[string]any{"c": B.Customers[0]}, "c"},
					{"updateCustomerAttribute", `mutation($id: ID!) { updateCustomerAttribute(id: $id, input: {value: "v"}) { id } }`, map[string]any{"id": B.Attributes[0]}, "id"},
					{"deleteCustomerAttribute", `mutation($id: ID!) { deleteCustomerAttribute(id: $id) }`, map[string]any{"id": B.Attributes[0]}, "id"},
					{"createCustomerMessage", `mutation($c: ID!) { createCustomerMessage(input: {customerID: $c, message: "m"}) { id } }`, map[string]any{"c": B.Customers[0]}, "c"},
					{"updateCustomerMessage", `mutation($id: ID!) { updateCustomerMessage(id: $id, input: {message: "m"}) { id } }`, map[string]any{"id": B.Messages[0]}, "id"},
					{"deleteCustomerMessage", `mutation($id: ID!) { deleteCustomerMessage(id: $id) }`, map[string]any{"id": B.Messages[0]}, "id"},
					{"createCrmEvent at A about B's customer", `mutation($a: ID!, $c: ID!) { createCrmEvent(input: {bankID: $a, customerID: $c}) { id } }`,
						map[string]any{"a": A.Bank.ID, "c": B.Customers[0]}, "c"},
					{"updateCrmEvent", `mutation($id: ID!) { updateCrmEvent(id: $id, input: {detail: "d"}) { id } }`, map[string]any{"id": B.CrmEvents[0]}, "id"},
					{"updateCrmEvent of A to B's customer", `mutation($id: ID!, $c: ID!) { updateCrmEvent(id: $id, input: {customerID: $c}) { id } }`,
						map[string]any{"id": A.CrmEvents[1], "c": B.Customers[0]}, "c"},
					{"deleteCrmEvent", `mutation($id: ID!) { deleteCrmEvent(id: $id) }`, map[string]any{"id": B.CrmEvents[1]}, "id"},
					{"createUserCustomerLink", `mutation($u: ID!, $c: ID!) { createUserCustomerLink(input: {userID: $u, customerID: $c}) { id } }`,
						map[string]any{"u": A.Users[1], "c": B.Customers[1]}, "c"},
					{"updateUserCustomerLink", `mutation($id: ID!) { updateUserCustomerLink(id: $id, input: {isActive: false}) { id } }`, map[string]any{"id": B.Links[0]}, "id"},
					{"deleteUserCustomerLink", `mutation($id: ID!) { deleteUserCustomerLink(id: $id) }`, map[string]any{"id": B.Links[0]}, "id"},
					{"deleteEntitlement", `mutation($id: ID!) { deleteEntitlement(id: $id) }`, map[string]any{"id": B.Entitlements[0]}, "id"},
				} {
					t.Run(mu.name, func(t *testing.T) {
						before := x.dump(t)
						e := x.refused(t, v, mu.query, mu.vars)
						if mu.name == "deleteEntitlement" { // (a caller's record: FORBIDDEN without CanManageCallers, whatever the record)
							requireForbidden(t, e, "", access.CanManageCallers)
						} else {
							requireNotFound(t, e, leaks...)
						}
						require.Equal(t, before, x.dump(t), "B's records are unchanged and no audit event is recorded")
						// The same answer as for a record that does not exist.
						vars := map[string]any{}
						for k, val := range mu.vars {
							vars[k] = val
						}
						vars[mu.unknownVar] = unknown
						e2 := x.refused(t, v, mu.query, vars)
						require.Equal(t, e2.Extensions, e.Extensions)
						require.Equal(t, strings.ReplaceAll(e2.Message, unknown.String(), "ID"),
							strings.ReplaceAll(e.Message, fmt.Sprint(mu.vars[mu.unknownVar]), "ID"))
					})
				}
			})

			t.Run("changes at B itself are refused by role, an unknown bank is not found", func(t *testing.T) {
				unknown := uuid.New()
				for _, mu := range []struct {
					name, query string
					vars        map[string]any
					unknownVar  string
					roles       []access.Role
				}{
					{"createCustomer at B", `mutation($b: ID!) { createCustomer(input: {bankID: $b, legalName: "X"}) { id } }`, map[string]any{"b": B.Bank.ID}, "b",
						roles(access.CanCreateCustomer)},
					{"createCrmEvent at B", `mutation($b: ID!) { createCrmEvent(input: {bankID: $b, category: "c"}) { id } }`, map[string]any{"b": B.Bank.ID}, "b",
						roles(access.CanCreateCrmEvent)},
					{"updateBank", `mutation($id: ID!) { updateBank(id: $id, input: {name: "X"}) { id } }`, map[string]any{"id": B.Bank.ID}, "id",
						roles(access.CanUpdateBank)},
					{"deleteBank", `mutation($id: ID!) { deleteBank(id: $id) }`, map[string]any{"id": B.Bank.ID}, "id", roles(access.CanDeleteBank)},
					{"createEntitlement at B", `mutation($b: ID!, $cl: ID!) { createEntitlement(input: {roleName: "CanGetCustomer", bankID: $b, apiClientID: $cl}) { id } }`,
						map[string]any{"b": B.Bank.ID, "cl": vc.self}, "b", roles(access.CanManageCallers)},
				} {
					t.Run(mu.name, func(t *testing.T) {
						before := x.dump(t)
						requireForbidden(t, x.refused(t, v, mu.query, mu.vars), B.Bank.Code, mu.roles...)
						require.Equal(t, before, x.dump(t), "B is unchanged and no audit event is recorded")
						vars := map[string]any{}
						for k, val := range mu.vars {
							vars[k] = val
						}
						vars[mu.unknownVar] = unknown
						requireNotFound(t, x.refused(t, v, mu.query, vars))
						require.Equal(t, before, x.dump(t))
					})
				}
			})

			t.Run("changes at A still work", func(t *testing.T) {
				d := x.ok(t, v, `mutation($id: ID!) { updateCustomer(id: $id, input: {email: "ok@example.com"}) { id } }`,
					map[string]any{"id": A.Customers[2]})
				require.Equal(t, A.Customers[2], createdID(t, d, "updateCustomer"))
				require.Equal(t, "ok@example.com", x.c.Customer.GetX(x.sys, A.Customers[2]).Email)
				d = x.ok(t, v, `mutation($c: ID!) { createCustomerMessage(input: {customerID: $c, message: "hi"}) { id } }`,
					map[string]any{"c": A.Customers[2]})
				mid := createdID(t, d, "createCustomerMessage")
				require.True(t, x.c.CustomerMessage.Query().Where(customermessage.ID(mid), customermessage.CustomerID(A.Customers[2])).ExistX(x.sys))
				// Deleted again: the next viewer expects A as seeded.
				x.ok(t, v, `mutation($id: ID!) { deleteCustomerMessage(id: $id) }`, map[string]any{"id": mid})
				require.False(t, x.c.CustomerMessage.Query().Where(customermessage.ID(mid)).ExistX(x.sys))
			})
		})
	}
}

// --- the audit trail ------------------------------------------------------------

func TestAccessAuditTrail(t *testing.T) {
	x := newACEnv(t)
	w := x.seedWorld(t)
	A, B := w.A, w.B
	sys := x.sys
	v := access.NewViewer(access.KindClient, A.Client, "alpha-client", &A.Bank.ID,
		acAt(A.Bank.ID, access.CanUpdateCustomer, access.CanCreateCustomerProduct, access.CanDeleteCustomerAddress))
	v.RequestorID = "req-4711"
	v.RequestID = "rid-0001"
	before := len(x.auditIDs(t, uuid.Nil))

	x.ok(t, v, `mutation($id: ID!) { updateCustomer(id: $id, input: {email: "new@example.com", legalName: "New Name"}) { id } }`,
		map[string]any{"id": A.Customers[0]})
	d := x.ok(t, v, `mutation($c: ID!) { createProduct(input: {customerID: $c, productCode: WALLET}) { id } }`,
		map[string]any{"c": A.Customers[2]})
	pid := createdID(t, d, "createProduct")
	x.ok(t, v, `mutation($id: ID!) { deleteAddress(id: $id) }`, map[string]any{"id": A.Addresses[0]})
	require.Len(t, x.auditIDs(t, uuid.Nil), before+3, "one event per change")

	type event struct {
		op     auditevent.Operation
		typ    string
		id     uuid.UUID
		fields []string
	}
	evs := x.c.AuditEvent.Query().Where(auditevent.RequestorID("req-4711")).Order(ent.Asc(auditevent.FieldCreatedAt, auditevent.FieldID)).AllX(sys)
	require.Len(t, evs, 3)
	for i, want := range []event{
		// first_name and last_name follow the legal name (the name mapping).
		{auditevent.OperationUpdate, "Customer", A.Customers[0], []string{"email", "first_name", "last_name", "legal_name"}},
		{auditevent.OperationCreate, "Product", pid, evs[1].Fields},
		{auditevent.OperationDelete, "Address", A.Addresses[0], nil},
	} {
		e := evs[i]
		require.Equal(t, auditevent.ActorKindClient, e.ActorKind)
		require.Equal(t, &A.Client, e.ActorID)
		require.Equal(t, "alpha-client", e.ActorName)
		require.Equal(t, "req-4711", e.RequestorID)
		require.Equal(t, "rid-0001", e.RequestID)
		require.Equal(t, want.op, e.Operation)
		require.Equal(t, want.typ, e.EntityType)
		require.Equal(t, want.id, e.EntityID)
		require.Equal(t, &A.Bank.ID, e.BankID)
		if want.fields == nil {
			require.Empty(t, e.Fields, "a deletion sets no field")
		} else {
			require.Equal(t, want.fields, e.Fields, "%s %s", e.Operation, e.EntityType)
		}
	}
	require.Subset(t, evs[1].Fields, []string{"customer_id", "product_code"})
	require.NotContains(t, evs[1].Fields, "created_at")

	// A user's change names the user.
	u := access.NewViewer(access.KindUser, A.Users[1], "alpha-user", nil, acAt(A.Bank.ID, access.CanCreateCustomerMessage))
	d = x.ok(t, u, `mutation($c: ID!) { createCustomerMessage(input: {customerID: $c, message: "hi"}) { id } }`,
		map[string]any{"c": A.Customers[0]})
	mid := createdID(t, d, "createCustomerMessage")
	ue := x.c.AuditEvent.Query().Where(auditevent.EntityID(mid)).OnlyX(sys)
	require.Equal(t, auditevent.ActorKindUser, ue.ActorKind)
	require.Equal(t, &A.Users[1], ue.ActorID)
	require.Equal(t, "alpha-user", ue.ActorName)
	require.Empty(t, ue.RequestorID)
	require.Equal(t, []string{"customer_id", "message"}, ue.Fields)

	t.Run("auditEvents shows a bank's events to holders of CanReadAuditEvents there", func(t *testing.T) {
		q := `query($w: AuditEventWhereInput) { auditEvents(first: 100, where: $w) { totalCount edges { node {
			id actorKind actorID actorName requestorID operation entityType entityID bankID fields } } } }`
		reader := acClient("auditor", nil, acAt(A.Bank.ID, access.CanReadAuditEvents))
		acSame(t, x.auditIDs(t, A.Bank.ID), connIDs(t, x.ok(t, reader, q, nil)["auditEvents"]))
		var got struct {
			Edges []struct {
				Node struct {
					ActorKind, ActorName, RequestorID, Operation, EntityType string
					ActorID, EntityID, BankID                                uuid.UUID
					Fields                                                   []string
				}
			}
		}
		acDecode(t, x.ok(t, reader, q, map[string]any{"w": map[string]any{"requestorID": "req-4711", "operation": "update"}})["auditEvents"], &got)
		require.Len(t, got.Edges, 1)
		n := got.Edges[0].Node
		require.Equal(t, []string{"client", "alpha-client", "req-4711", "update", "Customer"},
			[]string{n.ActorKind, n.ActorName, n.RequestorID, n.Operation, n.EntityType})
		require.Equal(t, []uuid.UUID{A.Client, A.Customers[0], A.Bank.ID}, []uuid.UUID{n.ActorID, n.EntityID, n.BankID})
		require.Equal(t, []string{"email", "first_name", "last_name", "legal_name"}, n.Fields)

		atB := acClient("auditor-b", nil, acAt(B.Bank.ID, access.CanReadAuditEvents))
		acSame(t, x.auditIDs(t, B.Bank.ID), connIDs(t, x.ok(t, atB, q, nil)["auditEvents"]))
		acSame(t, nil, connIDs(t, x.ok(t, atB, q, map[string]any{"w": map[string]any{"requestorID": "req-4711"}})["auditEvents"]))

		without := acClient("no-auditor", nil, acAllBut(A.Bank.ID, access.CanReadAuditEvents))
		requireForbidden(t, x.refused(t, without, q, nil), "", access.CanReadAuditEvents)
		x.unauthenticated(t, q, nil)
	})

	t.Run("a refused or failed change records nothing", func(t *testing.T) {
		n := len(x.auditIDs(t, uuid.Nil))
		requireForbidden(t, x.refused(t, v, `mutation($id: ID!) { deleteCustomer(id: $id) }`, map[string]any{"id": A.Customers[2]}),
			A.Bank.Code, access.CanDeleteCustomer)
		requireNotFound(t, x.refused(t, v, `mutation($id: ID!) { updateCustomer(id: $id, input: {email: "b@example.com"}) { id } }`,
			map[string]any{"id": B.Customers[0]}))
		e := x.refused(t, v, `mutation($id: ID!) { updateCustomer(id: $id, input: {email: "not an email"}) { id } }`,
			map[string]any{"id": A.Customers[0]})
		require.Equal(t, "BAD_USER_INPUT", e.Extensions["code"])
		require.Len(t, x.auditIDs(t, uuid.Nil), n)
		require.Equal(t, "new@example.com", x.c.Customer.GetX(sys, A.Customers[0]).Email)
	})
}

// TestAccessConfinedAndEmptyChanges covers two holes the matrix found: a
// caller confined to one bank cannot use a system-wide role, whatever its
// entitlements say, and an update that sets nothing still needs the role.
func TestAccessConfinedAndEmptyChanges(t *testing.T) {
	x := newACEnv(t)
	w := x.seedWorld(t)
	a := w.A.Bank.ID
	confined := access.NewViewer(access.KindUser, w.A.Users[1], "alpha-user", &a,
		[]access.Grant{{Role: access.CanManageCallers}, {Role: access.CanCreateBank}})

	e := x.refused(t, confined, `mutation($id: ID!) { rotateAPIClientSecret(id: $id) { clientSecret } }`,
		map[string]any{"id": w.Staff})
	requireForbidden(t, e, "", access.CanManageCallers) // as for any caller who may not manage callers
	e = x.refused(t, confined, `mutation { createAPIClient(input: {clientID: "sneaky", name: "S"}) { clientSecret } }`, nil)
	requireForbidden(t, e, "", access.CanManageCallers)
	e = x.refused(t, confined, `mutation { createBank(input: {code: "x.y", name: "X"}) { id } }`, nil)
	requireForbidden(t, e, "", access.CanCreateBank)
	data := x.ok(t, confined, `{ apiClients { totalCount } users { totalCount } }`, nil)
	require.JSONEq(t, `{"totalCount":0}`, string(data["apiClients"]), "a confined caller lists no clients")
	require.JSONEq(t, `{"totalCount":1}`, string(data["users"]), "a confined user sees only itself")

	before := x.dump(t)
	reader := acClient("reader", nil, acAt(a, access.CanGetCustomer))
	e = x.refused(t, reader, `mutation($id: ID!) { updateCustomer(id: $id, input: {}) { id } }`,
		map[string]any{"id": w.A.Customers[0]})
	requireForbidden(t, e, w.A.Bank.Code, access.CanUpdateCustomer)
	e = x.refused(t, reader, `mutation($id: ID!) { updateCustomer(id: $id, input: {dobOfDependants: []}) { id } }`,
		map[string]any{"id": w.A.Customers[0]})
	requireForbidden(t, e, w.A.Bank.Code, access.CanUpdateCustomerData, access.CanUpdateCustomerIdentity, access.CanUpdateCustomer)
	require.Equal(t, before, x.dump(t), "refused changes change nothing")
}

// TestAccessReviewFindings pins the fixes of the access review: system roles
// reach no customer data, deletions audit what they take with them, a user
// confined to a bank sees its links there only, and an overlong request id
// does not stop a change.
func TestAccessReviewFindings(t *testing.T) {
	x := newACEnv(t)
	w := x.seedWorld(t)
	a := w.A.Bank.ID

	t.Run("a bank administrator sees banks, not their customers' records", func(t *testing.T) {
		v := acClient("bank-admin", nil, []access.Grant{{Role: access.CanCreateBank}})
		d := x.ok(t, v, `{ banks { totalCount } crmEvents { totalCount } }`, nil)
		require.JSONEq(t, `{"totalCount":2}`, string(d["banks"]))
		require.JSONEq(t, `{"totalCount":0}`, string(d["crmEvents"]), "CanCreateBank reaches no bank's CRM events")
		r := x.post(t, v, `{ banks(where: {hasCustomersWith: [{emailContains: "bravo"}]}) { totalCount } }`, nil)
		require.Equal(t, "GRAPHQL_VALIDATION_FAILED", r.Errors[0].Extensions["code"], "no filter through a bank's customers")
	})

	t.Run("a user confined to bank A sees its links at A only", func(t *testing.T) {
		v := access.NewViewer(access.KindUser, w.Shared, "shared", &a, nil)
		acSame(t, w.A.Links[:1], connIDs(t, x.ok(t, v, `{ userCustomerLinks { totalCount edges { node { id } } } }`, nil)["userCustomerLinks"]))
	})

	t.Run("deleting a customer audits the records it takes with it", func(t *testing.T) {
		v := acClient("deleter", nil, acAt(a, access.CanDeleteCustomer))
		v.RequestID = strings.Repeat("r", 300) // a client's X-Request-Id: cut to fit, never refused
		c, ctx := x.c, x.sys
		cu := c.Customer.Create().SetBankID(a).SetLegalName("Leaving").SaveX(ctx).ID
		want := map[string]string{
			"Customer delete":          cu.String(),
			"Address delete":           c.Address.Create().SetCustomerID(cu).SetCity("X").SetCountryCode("DE").SaveX(ctx).ID.String(),
			"TaxResidence delete":      c.TaxResidence.Create().SetCustomerID(cu).SetDomain("DE").SetTaxNumber("t").SaveX(ctx).ID.String(),
			"SocialHandle delete":      c.SocialHandle.Create().SetCustomerID(cu).SetType("x").SetHandle("@x").SaveX(ctx).ID.String(),
			"CustomerAttribute delete": c.CustomerAttribute.Create().SetCustomerID(cu).SetName("N").SetType("STRING").SetValue("v").SaveX(ctx).ID.String(),
			"CustomerMessage delete":   c.CustomerMessage.Create().SetCustomerID(cu).SetMessage("m").SaveX(ctx).ID.String(),
			"UserCustomerLink delete":  c.UserCustomerLink.Create().SetUserID(c.User.Create().SetUsername("leaver").SaveX(ctx).ID).SetCustomerID(cu).SaveX(ctx).ID.String(),
			"CrmEvent update":          c.CrmEvent.Create().SetBankID(a).SetCustomerID(cu).SaveX(ctx).ID.String(),
		}
		x.ok(t, v, `mutation($id: ID!) { deleteCustomer(id: $id) }`, map[string]any{"id": cu})
		got := map[string]string{}
		for _, e := range x.c.AuditEvent.Query().Where(auditevent.ActorName("deleter")).AllX(x.sys) {
			got[e.EntityType+" "+string(e.Operation)] = e.EntityID.String()
			require.Equal(t, a, *e.BankID, e.EntityType)
			require.Len(t, e.RequestID, 200)
		}
		require.Equal(t, want, got)
	})

	t.Run("deleting an API client audits its entitlements", func(t *testing.T) {
		v := acClient("manager", nil, []access.Grant{{Role: access.CanManageCallers}})
		x.ok(t, v, `mutation($id: ID!) { deleteAPIClient(id: $id) }`, map[string]any{"id": w.A.Client})
		n := x.c.AuditEvent.Query().Where(auditevent.ActorName("manager"), auditevent.EntityID(w.A.Entitlements[0]),
			auditevent.OperationEQ(auditevent.OperationDelete)).CountX(x.sys)
		require.Equal(t, 1, n)
	})
}

// TestAccessRoleHeldNowhere checks that a caller holding a change's role at
// no bank is told so (FORBIDDEN, without a bank), with the same answer for
// another bank's record and for one that does not exist.
func TestAccessRoleHeldNowhere(t *testing.T) {
	x := newACEnv(t)
	w := x.seedWorld(t)
	v := acClient("nothing", nil, acAt(w.B.Bank.ID, access.CanGetCustomer))
	unknown := uuid.New()
	for _, mu := range []struct {
		query string
		id    uuid.UUID
		roles []access.Role
	}{
		{`mutation($id: ID!) { updateCustomer(id: $id, input: {email: "x@example.com"}) { id } }`, w.A.Customers[0],
			roles(access.CanUpdateCustomerEmail, access.CanUpdateCustomer)},
		{`mutation($id: ID!) { createProduct(input: {customerID: $id, productCode: WALLET}) { id } }`, w.A.Customers[0],
			roles(access.CanCreateCustomerProduct)},
		{`mutation($id: ID!) { deleteAddress(id: $id) }`, w.A.Addresses[0], roles(access.CanDeleteCustomerAddress)},
	} {
		before := x.dump(t)
		e := x.refused(t, v, mu.query, map[string]any{"id": mu.id})
		requireForbidden(t, e, "", mu.roles...)
		require.Equal(t, e, x.refused(t, v, mu.query, map[string]any{"id": unknown}), "the same answer for an unknown record")
		require.Equal(t, before, x.dump(t))
	}
}

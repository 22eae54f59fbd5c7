package graph

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"entgo.io/ent/dialect"
	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"

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
	"custgraph/ent/schema"
	"custgraph/ent/socialhandle"
	"custgraph/ent/taxresidence"
	"custgraph/ent/user"
	"custgraph/ent/usercustomerlink"
	"custgraph/internal/access"
	"custgraph/internal/apperr"
)

// nodeTables are the tables of every Node type. Ids are plain UUIDs (the
// same ones REST shows), so the type of an id is found by looking it up.
var nodeTables = []string{
	customer.Table, product.Table, address.Table, bank.Table, taxresidence.Table,
	socialhandle.Table, customerattribute.Table, customermessage.Table,
	crmevent.Table, user.Table, usercustomerlink.Table,
	apiclient.Table, entitlement.Table, auditevent.Table,
}

// nodeTypes are the tables of the Node types, by GraphQL type name.
var nodeTypes = map[string]string{
	"Customer": customer.Table, "Product": product.Table, "Address": address.Table, "Bank": bank.Table,
	"TaxResidence": taxresidence.Table, "SocialHandle": socialhandle.Table,
	"CustomerAttribute": customerattribute.Table, "CustomerMessage": customermessage.Table,
	"CrmEvent": crmevent.Table, "User": user.Table, "UserCustomerLink": usercustomerlink.Table,
	"APIClient": apiclient.Table, "Entitlement": entitlement.Table, "AuditEvent": auditevent.Table,
}

// fragmentType is the one type the fragments of the current field's
// selection are on ("" when none or several).
func fragmentType(ctx context.Context) string {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil {
		return ""
	}
	found := ""
	var walk func(ast.SelectionSet, int) bool
	walk = func(set ast.SelectionSet, depth int) bool {
		if depth > 4 {
			return false
		}
		for _, sel := range set {
			var (
				cond string
				sub  ast.SelectionSet
			)
			switch s := sel.(type) {
			case *ast.InlineFragment:
				cond, sub = s.TypeCondition, s.SelectionSet
			case *ast.FragmentSpread:
				if s.Definition == nil {
					return false
				}
				cond, sub = s.Definition.TypeCondition, s.Definition.SelectionSet
			default:
				continue
			}
			switch {
			case cond == "" || cond == "Node":
				if !walk(sub, depth+1) {
					return false
				}
			case found == "" || found == cond:
				found = cond
			default:
				return false
			}
		}
		return true
	}
	if !walk(fc.Field.Selections, 0) {
		return ""
	}
	return found
}

// tablesOf finds the table of each id with one UNION ALL query over the node
// tables, whatever the number of ids. Unknown ids are absent from the result.
func (r *Resolver) tablesOf(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]string, error) {
	if len(ids) == 0 {
		return map[uuid.UUID]string{}, nil
	}
	var (
		b    strings.Builder
		args []any
		n    int
	)
	pg := r.dialectName == dialect.Postgres
	for i, t := range nodeTables {
		if i > 0 {
			b.WriteString(" UNION ALL ")
		}
		fmt.Fprintf(&b, "SELECT id, '%s' FROM %s WHERE id IN (", t, t)
		for j, id := range ids {
			if j > 0 {
				b.WriteString(", ")
			}
			n++
			if pg {
				fmt.Fprintf(&b, "$%d", n)
			} else {
				b.WriteString("?")
			}
			args = append(args, id)
		}
		b.WriteString(")")
	}
	rows, err := r.client.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	found := make(map[uuid.UUID]string, len(ids))
	for rows.Next() {
		var (
			id    uuid.UUID
			table string
		)
		if err := rows.Scan(&id, &table); err != nil {
			return nil, err
		}
		found[id] = table
	}
	return found, rows.Err()
}

// unique drops repeated ids, keeping the first of each.
func unique(ids []uuid.UUID) []uuid.UUID {
	seen := make(map[uuid.UUID]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// node resolves Query.node: one type lookup, then one query for the record.
// When the selection names one type in its fragments (`node(id:) { ... on
// Customer { … } }`, how clients refetch), that type's table is read first
// and the lookup is needed only when the id is not there. Either way the
// record is read by ent's Noder, which knows there is one: its nested
// connections are read with a plain LIMIT, not a limit per parent row.
func (r *Resolver) node(ctx context.Context, id uuid.UUID) (ent.Noder, error) {
	if t, ok := nodeTypes[fragmentType(ctx)]; ok {
		n, err := r.client.Noder(ctx, id, ent.WithFixedNodeType(t))
		switch {
		case err == nil:
			return n, nil
		case !ent.IsNotFound(err) && !refusedItself(err, t), forbidden(err) && t == bank.Table:
			return nil, err
		}
	}
	tables, err := r.tablesOf(ctx, []uuid.UUID{id})
	if err != nil {
		return nil, err
	}
	table, ok := tables[id]
	if !ok {
		return nil, apperr.NotFoundf("id", "no node with id %s", id)
	}
	n, err := r.client.Noder(ctx, id, ent.WithFixedNodeType(table))
	if ent.IsNotFound(err) || refusedItself(err, table) && table != bank.Table {
		// A record the caller may not see: the same answer as no record.
		// (A bank is public: what is refused is what was asked under it,
		// Bank.customers without the role at any bank, and saying so tells
		// nothing the bank list does not.)
		return nil, apperr.NotFoundf("id", "no node with id %s", id)
	}
	return n, err
}

// nodes resolves Query.nodes: one type lookup for all ids, then one query
// per type present. Unknown ids resolve to null, in their place.
func (r *Resolver) nodes(ctx context.Context, ids []uuid.UUID) ([]ent.Noder, error) {
	if len(ids) > MaxPageSize {
		return nil, apperr.Invalid("ids", "at most %d ids at a time, got %d", MaxPageSize, len(ids))
	}
	tables, err := r.tablesOf(ctx, unique(ids))
	if err != nil {
		return nil, err
	}
	byTable := map[string][]uuid.UUID{}
	for _, id := range ids {
		if t, ok := tables[id]; ok {
			byTable[t] = append(byTable[t], id)
		}
	}
	found := make(map[uuid.UUID]ent.Noder, len(ids))
	for t, group := range byTable {
		// Not ent's Noders: it reports each id it cannot load as an error,
		// and an id the caller may not see must look like an unknown one.
		ns, err := r.visible(ctx, t, unique(group))
		if refusedItself(err, t) {
			continue // the caller reads no record of this type: none is visible
		}
		if err != nil {
			return nil, err
		}
		for _, n := range ns {
			found[nodeID(n)] = n
		}
	}
	out := make([]ent.Noder, len(ids))
	for i, id := range ids {
		out[i] = found[id]
	}
	return out, nil
}

// visible loads the records of one table among ids that the caller may see
// (ent's privacy rules narrow the query), with the fields the operation
// selects, in one query.
func (r *Resolver) visible(ctx context.Context, table string, ids []uuid.UUID) ([]ent.Noder, error) {
	c := r.client
	switch table {
	case customer.Table:
		return collect(ctx, c.Customer.Query().Where(customer.IDIn(ids...)), "Customer")
	case product.Table:
		return collect(ctx, c.Product.Query().Where(product.IDIn(ids...)), "Product")
	case address.Table:
		return collect(ctx, c.Address.Query().Where(address.IDIn(ids...)), "Address")
	case bank.Table:
		return collect(ctx, c.Bank.Query().Where(bank.IDIn(ids...)), "Bank")
	case taxresidence.Table:
		return collect(ctx, c.TaxResidence.Query().Where(taxresidence.IDIn(ids...)), "TaxResidence")
	case socialhandle.Table:
		return collect(ctx, c.SocialHandle.Query().Where(socialhandle.IDIn(ids...)), "SocialHandle")
	case customerattribute.Table:
		return collect(ctx, c.CustomerAttribute.Query().Where(customerattribute.IDIn(ids...)), "CustomerAttribute")
	case customermessage.Table:
		return collect(ctx, c.CustomerMessage.Query().Where(customermessage.IDIn(ids...)), "CustomerMessage")
	case crmevent.Table:
		return collect(ctx, c.CrmEvent.Query().Where(crmevent.IDIn(ids...)), "CrmEvent")
	case user.Table:
		return collect(ctx, c.User.Query().Where(user.IDIn(ids...)), "User")
	case usercustomerlink.Table:
		return collect(ctx, c.UserCustomerLink.Query().Where(usercustomerlink.IDIn(ids...)), "UserCustomerLink")
	case apiclient.Table:
		return collect(ctx, c.APIClient.Query().Where(apiclient.IDIn(ids...)), "APIClient")
	case entitlement.Table:
		return collect(ctx, c.Entitlement.Query().Where(entitlement.IDIn(ids...)), "Entitlement")
	case auditevent.Table:
		return collect(ctx, c.AuditEvent.Query().Where(auditevent.IDIn(ids...)), "AuditEvent")
	}
	return nil, fmt.Errorf("nodes: no loader for table %s", table)
}

// collect runs a query with the operation's field collection (eager loads
// of the selected edges) and returns its records as nodes.
func collect[Q interface {
	CollectFields(context.Context, ...string) (Q, error)
	All(context.Context) ([]N, error)
}, N ent.Noder](ctx context.Context, q Q, typ string) ([]ent.Noder, error) {
	q, err := q.CollectFields(ctx, typ, "Node") // fragments on the interface too
	if err != nil {
		return nil, err
	}
	rows, err := q.All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ent.Noder, len(rows))
	for i, n := range rows {
		out[i] = n
	}
	return out, nil
}

// nodeID is the ID field every ent entity has.
func nodeID(n ent.Noder) uuid.UUID {
	return reflect.ValueOf(n).Elem().FieldByName("ID").Interface().(uuid.UUID)
}

// forbidden reports a read the caller holds no role for. node and nodes
// answer it like an unknown id: which ids exist, and of which type, is
// not for a caller who may not read them to learn.
func forbidden(err error) bool {
	e, ok := apperr.As(err)
	return ok && e.Code == apperr.Forbidden
}

// refusedItself tells whether err refuses the records of table themselves
// (FORBIDDEN for want of the table's read role), which node and nodes answer
// as an unknown id, from a refusal of what the selection asks under them
// (products of a customer the caller may read), which they answer as the
// lists do: FORBIDDEN naming the role.
func refusedItself(err error, table string) bool {
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.Forbidden {
		return false
	}
	for typ, t := range nodeTypes {
		if t == table {
			return slices.Equal(access.Missing("", schema.ReadRoles[typ]...).Roles, e.Roles)
		}
	}
	return false
}

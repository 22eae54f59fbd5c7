package graph

import (
	"context"
	"fmt"
	"strings"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"

	"custgraph/ent"
	"custgraph/ent/address"
	"custgraph/ent/bank"
	"custgraph/ent/crmevent"
	"custgraph/ent/customer"
	"custgraph/ent/customerattribute"
	"custgraph/ent/customermessage"
	"custgraph/ent/product"
	"custgraph/ent/socialhandle"
	"custgraph/ent/taxresidence"
	"custgraph/ent/user"
	"custgraph/ent/usercustomerlink"
	"custgraph/internal/apperr"
)

// nodeTables are the tables of every Node type. Ids are plain UUIDs (the
// same ones REST shows), so the type of an id is found by looking it up.
var nodeTables = []string{
	customer.Table, product.Table, address.Table, bank.Table, taxresidence.Table,
	socialhandle.Table, customerattribute.Table, customermessage.Table,
	crmevent.Table, user.Table, usercustomerlink.Table,
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
func (r *Resolver) node(ctx context.Context, id uuid.UUID) (ent.Noder, error) {
	tables, err := r.tablesOf(ctx, []uuid.UUID{id})
	if err != nil {
		return nil, err
	}
	table, ok := tables[id]
	if !ok {
		return nil, apperr.NotFoundf("id", "no node with id %s", id)
	}
	return r.client.Noder(ctx, id, ent.WithFixedNodeType(table))
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
		ns, err := r.client.Noders(ctx, unique(group), ent.WithFixedNodeType(t))
		if err != nil {
			return nil, err
		}
		for i, n := range ns {
			if n != nil {
				found[group[i]] = n
			}
		}
	}
	out := make([]ent.Noder, len(ids))
	for i, id := range ids {
		out[i] = found[id]
	}
	return out, nil
}

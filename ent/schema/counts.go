package schema

import (
	"context"

	"custgraph/ent/schema/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"

	gen "custgraph/ent"
	"custgraph/ent/customercount"
	"custgraph/ent/customersubsetcount"
	"custgraph/internal/access"
)

// CustomerCount holds the number of each bank's customers, so that the
// count of an unfiltered list needs no scan of the customers;
// CustomerSubsetCount the number in each subset a dashboard counts (one
// status, one label), so that a list filtered by only a status or only a
// label needs none either. The rows are written by database triggers on
// customers, in the inserting, updating or deleting transaction
// (internal/store, counters.go), so the counts are exact whoever writes; a
// bank's count is split over a few shards so that concurrent writes do not
// wait on one row. Never exposed over GraphQL. (Two tables, not one with a
// subset column: a replica of the version before the subsets, still
// serving while a new one migrates, sums customer_counts by bank.)
type CustomerCount struct{ ent.Schema }

// CountShards is the number of rows a bank's count is spread over.
const CountShards = 8

// Fields of CustomerCount.
func (CustomerCount) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("bank_id", uuid.UUID{}).Immutable(),
		field.Int("shard").Immutable().Min(0).Max(CountShards - 1),
		field.Int64("n"),
	}
}

// Indexes of CustomerCount.
func (CustomerCount) Indexes() []ent.Index {
	return []ent.Index{index.Fields("bank_id", "shard").Unique()}
}

// Annotations of CustomerCount.
func (CustomerCount) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// CustomerSubsetCount holds the number of a bank's customers in one subset:
// SubsetStatus + a status, or SubsetLabel + a label (see CustomerCount).
type CustomerSubsetCount struct{ ent.Schema }

// The subsets counted: every customer (SubsetAll, in CustomerCount), those
// of one status (SubsetStatus + the status) and those carrying one label
// (SubsetLabel + the label), in CustomerSubsetCount.
const (
	SubsetAll    = ""
	SubsetStatus = "status:"
	SubsetLabel  = "label:"
)

// Fields of CustomerSubsetCount.
func (CustomerSubsetCount) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("bank_id", uuid.UUID{}).Immutable(),
		field.String("subset").Immutable().NotEmpty().
			Comment(`"status:" + a status or "label:" + a label.`),
		field.Int("shard").Immutable().Min(0).Max(CountShards - 1),
		field.Int64("n"),
	}
}

// Indexes of CustomerSubsetCount.
func (CustomerSubsetCount) Indexes() []ent.Index {
	// Subset first: a count is read by subset, of some banks or of all.
	return []ent.Index{index.Fields("subset", "bank_id", "shard").Unique()}
}

// Annotations of CustomerSubsetCount.
func (CustomerSubsetCount) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// CustomerTotal is the number of customers of a subset (SubsetAll, or
// SubsetStatus/SubsetLabel followed by a status or a label) the viewer of ctx
// may read, from the maintained counts: what counting its customer list,
// filtered by that status or label only, would give. ok is false where the
// count must be made by the query itself (a viewer that reads no bank, OBP's
// own-customers and firehose reads).
func CustomerTotal(ctx context.Context, c *gen.Client, subset string) (n int, ok bool, err error) {
	b, ok := countable(ctx)
	if !ok {
		return 0, false, nil
	}
	return sumCounts(ctx, c, b, subset)
}

// BankCustomerTotal is CustomerTotal of all of one bank's customers (ok
// false, to count by query, when the viewer may not read them all).
func BankCustomerTotal(ctx context.Context, c *gen.Client, bank uuid.UUID) (n int, ok bool, err error) {
	return BankSubsetTotal(ctx, c, bank, SubsetAll)
}

// BankSubsetTotal is CustomerTotal of a subset of one bank's customers (ok
// false, to count by query, when the viewer may not read them all).
func BankSubsetTotal(ctx context.Context, c *gen.Client, bank uuid.UUID, subset string) (n int, ok bool, err error) {
	b, ok := countable(ctx)
	if !ok || !b.Contains(bank) {
		return 0, false, nil
	}
	return sumCounts(ctx, c, access.Banks{IDs: []uuid.UUID{bank}}, subset)
}

// countable returns the banks whose customers the viewer reads in full,
// under the same rule as the customers' read rule (policy.go), or false
// where that rule narrows by more than banks.
func countable(ctx context.Context) (access.Banks, bool) {
	v := access.FromContext(ctx)
	if v == nil || firehose(ctx) || ownCustomers(ctx) {
		return access.Banks{}, false
	}
	b := v.BanksWith(ReadRoles[gen.TypeCustomer]...)
	return b, !b.Empty()
}

// sumCounts adds up a subset's counts of banks.
func sumCounts(ctx context.Context, c *gen.Client, b access.Banks, subset string) (int, bool, error) {
	var q interface {
		Int(context.Context) (int, error)
	}
	if subset == SubsetAll {
		cq := c.CustomerCount.Query()
		if !b.All {
			cq.Where(customercount.BankIDIn(b.IDs...))
		}
		q = cq.Modify(func(s *sql.Selector) { s.Select("COALESCE(SUM(" + s.C(customercount.FieldN) + "), 0)") })
	} else {
		sq := c.CustomerSubsetCount.Query().Where(customersubsetcount.Subset(subset))
		if !b.All {
			sq.Where(customersubsetcount.BankIDIn(b.IDs...))
		}
		q = sq.Modify(func(s *sql.Selector) { s.Select("COALESCE(SUM(" + s.C(customersubsetcount.FieldN) + "), 0)") })
	}
	n, err := q.Int(access.System(ctx))
	if err != nil {
		return 0, false, err
	}
	return n, true, nil
}

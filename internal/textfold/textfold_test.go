package textfold_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/stretchr/testify/require"

	"custgraph/internal/testdb"
	"custgraph/internal/textfold"
)

// values holds what the case-insensitive filters must tell apart: case in
// and beyond ASCII, LIKE's wildcards and escape character taken literally.
var values = []string{"Émile Zola", "ÉMILE", "émile", "ärger", "ÄRGER", "100% sure", "100 sure", "a_b", "axb",
	`back\slash`, `backslash`, "Straße", "İstanbul", "plain"}

func TestFoldPredicatesMatchWhatTheyDid(t *testing.T) {
	db, _ := testdb.Open(t)
	ctx := t.Context()
	_, err := db.SQL.ExecContext(ctx, `CREATE TABLE fold_t (id integer PRIMARY KEY, v text)`)
	require.NoError(t, err)
	for i, v := range values {
		q, args := sql.Dialect(db.Dialect).Insert("fold_t").Columns("id", "v").Values(i, v).Query()
		_, err := db.SQL.ExecContext(ctx, q, args...)
		require.NoError(t, err)
	}
	ids := func(p *sql.Predicate) []int {
		t.Helper()
		q, args := sql.Dialect(db.Dialect).Select("id").From(sql.Table("fold_t")).Where(p).OrderBy("id").Query()
		rows, err := db.SQL.QueryContext(ctx, q, args...)
		require.NoError(t, err, q)
		defer rows.Close()
		var got []int
		for rows.Next() {
			var id int
			require.NoError(t, rows.Scan(&id))
			got = append(got, id)
		}
		require.NoError(t, rows.Err())
		return got
	}
	want := func(match func(v string) bool) []int {
		var w []int
		for i, v := range values {
			if match(v) {
				w = append(w, i)
			}
		}
		return w
	}
	for _, s := range []string{"émile", "ÉMILE", "ärger", "%", "0% s", "_", "a_b", `\`, `k\s`, "straße", "plain", "x", "", "istanbul", "İSTANBUL"} {
		got := ids(textfold.ContainsFold(db.Dialect, "v", s))
		require.Equal(t, want(func(v string) bool { return strings.Contains(strings.ToLower(v), strings.ToLower(s)) }), got, "contains %q", s)
		require.Equal(t, ids(sql.ContainsFold("v", s)), got, "contains %q: ent's predicate (ILIKE on PostgreSQL) found other rows", s)
		got = ids(textfold.EqualFold(db.Dialect, "v", s))
		require.Equal(t, want(func(v string) bool { return strings.ToLower(v) == strings.ToLower(s) }), got, "equals %q", s)
		require.Equal(t, ids(sql.EqualFold("v", s)), got, "equals %q: ent's predicate found other rows", s)
	}
}

// TestFoldPatternIsLoweredOncePerStatement: on PostgreSQL the pattern is
// lower-cased once per statement (an InitPlan run once), not for every row
// as ILIKE does, so a long pattern costs its length once, not once per row.
func TestFoldPatternIsLoweredOncePerStatement(t *testing.T) {
	db, _ := testdb.Open(t)
	if db.Dialect != dialect.Postgres {
		t.Skip("PostgreSQL only (TEST_DATABASE_URL): SQLite lowers the pattern in Go")
	}
	ctx := t.Context()
	_, err := db.SQL.ExecContext(ctx, `CREATE TABLE fold_t AS SELECT g AS id, 'name ' || g AS v FROM generate_series(1, 500) g`)
	require.NoError(t, err)
	long := strings.Repeat("%", 4000) + "i"
	for name, p := range map[string]*sql.Predicate{
		"contains": textfold.ContainsFold(db.Dialect, "v", long),
		"equals":   textfold.EqualFold(db.Dialect, "v", long),
	} {
		q, args := sql.Dialect(db.Dialect).Select("id").From(sql.Table("fold_t")).Where(p).Query()
		var plan string
		require.NoError(t, db.SQL.QueryRowContext(ctx, "EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON) "+q, args...).Scan(&plan), q)
		var nodes []struct{ Plan planNode }
		require.NoError(t, json.Unmarshal([]byte(plan), &nodes))
		root := nodes[0].Plan
		require.Equal(t, 500, root.PlanRows+root.RowsRemoved, "%s: rows compared: %s", name, plan)
		i := slices.IndexFunc(root.Plans, func(n planNode) bool { return strings.HasPrefix(n.SubplanName, "InitPlan") })
		require.GreaterOrEqual(t, i, 0, "%s: no InitPlan: %s", name, plan)
		require.Equal(t, 1, root.Plans[i].Loops, "%s: the pattern's lower-casing ran more than once: %s", name, plan)
		require.NotContains(t, root.Filter, "~~*", "%s: ILIKE in the filter", name)
		require.NotContains(t, root.Filter, "like_escape", "%s: the pattern is escaped for every row", name)
		require.NotContains(t, root.Filter, "lower($", "%s: the pattern is lowered for every row", name)
	}
}

type planNode struct {
	SubplanName string     `json:"Subplan Name"`
	Loops       int        `json:"Actual Loops"`
	PlanRows    int        `json:"Actual Rows"`
	RowsRemoved int        `json:"Rows Removed by Filter"`
	Filter      string     `json:"Filter"`
	Plans       []planNode `json:"Plans"`
}

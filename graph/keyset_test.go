package graph_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"custgraph/ent"
	"custgraph/ent/entgql"
	"custgraph/internal/access"
	"custgraph/internal/testdb"
)

// TestCursorWindows walks customers ordered by fields that hold NULLs and
// duplicates, forward and backward in pages of several sizes, and takes
// pages between two cursors in every combination of first/last with
// after/before. Every page must be the slice of the list the Relay spec's
// ApplyCursorsToEdges and first/last make of it, and the list must be the
// order computed here: LAST_NAME sorts as it reads (a NULL reads "", so it
// sorts with ""), LAST_OK_DATE puts NULL where the database does (after
// every date on PostgreSQL, before on SQLite), ties by id.
//
// Before: `first: 3, before: c` answered the 3 rows after c (entgql took
// both cursors as the one travel starts from), and a walk stopped at the
// first cursor taken on a NULL (entgql compared `last_name > NULL`).
func TestCursorWindows(t *testing.T) {
	// A process outside UTC: a cursor's time comes back in its zone, and
	// SQLite compared it as text with the stored UTC times (a walk
	// returned the first row on every page). The zone is the process's,
	// so the test runs again in a child process started with TZ set
	// (setting time.Local here raced, under -race, with the goroutines
	// other tests leave running).
	const zone = "Etc/GMT+5" // UTC-5 (time/tzdata has it where the system has no zoneinfo)
	if os.Getenv("TZ") != zone {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCursorWindows$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "TZ="+zone)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "the test in a process at UTC-5:\n%s", out)
		require.Contains(t, string(out), "--- PASS: TestCursorWindows", "%s", out)
		return
	}
	_, offset := time.Now().Zone()
	require.Equal(t, -5*3600, offset, "the child process's zone")
	e := newEnv(t)
	b := e.seedBank("gh.29.uk")
	names := []string{"Adams", "Baker", "Adams", "Cole"}
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	type row struct {
		id       uuid.UUID
		lastName string     // "" for NULL and for ""
		okDate   *time.Time // nil for NULL
		created  time.Time
	}
	ids := e.seedCustomers(b, 23, func(i int, c *ent.CustomerCreate) {
		switch i % 5 {
		case 0: // NULL, below
		case 1:
			c.SetLastName("")
		default:
			c.SetLastName(names[i%len(names)])
		}
		if i%3 != 0 {
			c.SetLastOkDate(day.AddDate(0, 0, i%4))
		}
	})
	// NULL last names, as a clear or an older version leaves them (the
	// create hook derives one from the legal name).
	for i := 0; i < len(ids); i += 5 {
		_, err := e.db.SQL.Exec(`UPDATE customers SET last_name = NULL WHERE id = $1`, ids[i])
		require.NoError(t, err)
	}
	var nulls, empties int
	require.NoError(t, e.db.SQL.QueryRow(`SELECT COUNT(*) FROM customers WHERE last_name IS NULL`).Scan(&nulls))
	require.NoError(t, e.db.SQL.QueryRow(`SELECT COUNT(*) FROM customers WHERE last_name = ''`).Scan(&empties))
	require.Equal(t, [2]int{5, 5}, [2]int{nulls, empties}, "NULL and empty last names")
	// What the API reads: "" for a NULL last name, nil for a NULL date.
	var rows []row
	for _, id := range ids {
		c := e.client.Customer.GetX(access.System(context.Background()), id)
		rows = append(rows, row{id: id, lastName: c.LastName, okDate: c.LastOkDate, created: c.CreatedAt})
	}
	nullsLast := testdb.Name() == "postgres"

	for _, order := range []struct {
		field, direction string
		less             func(a, b row) int // the order's own comparison, without the id
	}{
		{"LAST_NAME", "ASC", func(a, b row) int { return compareStrings(a.lastName, b.lastName) }},
		{"LAST_NAME", "DESC", func(a, b row) int { return -compareStrings(a.lastName, b.lastName) }},
		{"LAST_OK_DATE", "ASC", func(a, b row) int { return compareDates(a.okDate, b.okDate, nullsLast) }},
		{"LAST_OK_DATE", "DESC", func(a, b row) int { return -compareDates(a.okDate, b.okDate, nullsLast) }},
		// (Not the creation order: two customers created in one millisecond
		// have one created_at, and tie by id.)
		{"CREATED_AT", "DESC", func(a, b row) int { return b.created.Compare(a.created) }},
	} {
		name := order.field + " " + order.direction
		want := slices.Clone(rows)
		slices.SortStableFunc(want, func(a, b row) int {
			if c := order.less(a, b); c != 0 {
				return c
			}
			return bytes.Compare(a.id[:], b.id[:])
		})
		var wantIDs []uuid.UUID
		for _, r := range want {
			wantIDs = append(wantIDs, r.id)
		}

		page := func(args string, kv ...any) ([]uuid.UUID, []string, pageInfo) {
			t.Helper()
			var r struct {
				Customers struct {
					Edges []struct {
						Cursor string
						Node   struct{ ID uuid.UUID }
					}
					PageInfo pageInfo
				}
			}
			q := `query($after: Cursor, $before: Cursor, $order: [CustomerOrder!]) {
				customers(` + args + `, after: $after, before: $before, orderBy: $order) {
					edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage }
				}
			}`
			e.do(q, &r, append([]any{"order", []map[string]string{{"field": order.field, "direction": order.direction}}}, kv...)...)
			var got []uuid.UUID
			var cursors []string
			for _, edge := range r.Customers.Edges {
				got = append(got, edge.Node.ID)
				cursors = append(cursors, edge.Cursor)
			}
			return got, cursors, r.Customers.PageInfo
		}

		// Forward and backward walks see every customer once, in order.
		var cursors []string
		for _, size := range []int{1, 4, 7, 100} {
			var seen []uuid.UUID
			var after any
			for pages := 0; ; pages++ {
				require.Less(t, pages, len(wantIDs)+1, "%s: the forward walk does not end", name)
				got, cs, info := page(fmt.Sprintf("first: %d", size), "after", after)
				seen = append(seen, got...)
				if size == 100 {
					cursors = cs
				}
				if !info.HasNextPage {
					break
				}
				require.NotEmpty(t, cs, "%s: hasNextPage on an empty page", name)
				after = cs[len(cs)-1]
			}
			require.Equal(t, wantIDs, seen, "%s: forward walk, pages of %d", name, size)

			seen = nil
			var before any
			for pages := 0; ; pages++ {
				require.Less(t, pages, len(wantIDs)+1, "%s: the backward walk does not end", name)
				got, cs, info := page(fmt.Sprintf("last: %d", size), "before", before)
				seen = append(slices.Clone(got), seen...)
				if !info.HasPreviousPage {
					break
				}
				require.NotEmpty(t, cs, "%s: hasPreviousPage on an empty page", name)
				before = cs[0]
			}
			require.Equal(t, wantIDs, seen, "%s: backward walk, pages of %d", name, size)
		}

		// Pages between cursors, and from the other end of them.
		n := len(wantIDs)
		for _, w := range [][2]int{{0, n - 1}, {2, 9}, {4, 5}, {5, 5}, {9, 2}, {6, 19}} {
			i, j := w[0], w[1]
			between := []uuid.UUID{}
			if j > i+1 {
				between = wantIDs[i+1 : j]
			}
			ci, cj := cursors[i], cursors[j]
			// pageInfo as the Relay specification computes it: with first
			// (last), whether the rows between the cursors number more
			// than first (last); the other side, whether a cursor closes it.
			for _, c := range []struct {
				args string
				kv   []any
				want []uuid.UUID
				info pageInfo
			}{
				{"first: 100", []any{"after", ci, "before", cj}, between, pageInfo{HasPreviousPage: true}},
				{"last: 100", []any{"after", ci, "before", cj}, between, pageInfo{HasNextPage: true}},
				{"first: 2", []any{"after", ci, "before", cj}, between[:min(2, len(between))],
					pageInfo{HasNextPage: len(between) > 2, HasPreviousPage: true}},
				{"last: 2", []any{"after", ci, "before", cj}, between[max(0, len(between)-2):],
					pageInfo{HasNextPage: true, HasPreviousPage: len(between) > 2}},
				{"first: 3", []any{"before", cj}, wantIDs[:min(3, j)], pageInfo{HasNextPage: j > 3}},
				{"last: 3", []any{"after", ci}, wantIDs[max(i+1, n-3):], pageInfo{HasPreviousPage: n-1-i > 3}},
			} {
				got, _, info := page(c.args, c.kv...)
				if got == nil {
					got = []uuid.UUID{}
				}
				require.Equal(t, c.want, got, "%s: %s between rows %d and %d", name, c.args, i, j)
				require.Equal(t, c.info, info, "%s: %s between rows %d and %d: pageInfo", name, c.args, i, j)
			}
			// Paging forward inside the window ends at its end.
			var seen []uuid.UUID
			after := any(ci)
			for pages := 0; ; pages++ {
				require.Less(t, pages, n+1, "%s: the walk inside the window does not end", name)
				got, cs, info := page("first: 2", "after", after, "before", cj)
				seen = append(seen, got...)
				if !info.HasNextPage {
					break
				}
				after = cs[len(cs)-1]
			}
			require.Equal(t, between, append([]uuid.UUID{}, seen...), "%s: the walk between rows %d and %d", name, i, j)
		}

		// An empty page has a next (previous) page when a row lies past
		// its cursor, not when the list has rows; like any page after
		// (before) a cursor, it has a previous (next) one.
		for _, c := range []struct {
			args, arg string
			at        int
			want      pageInfo
		}{
			{"first: 0", "after", n - 1, pageInfo{HasPreviousPage: true}},
			{"first: 0", "after", n - 2, pageInfo{HasNextPage: true, HasPreviousPage: true}},
			{"last: 0", "before", 0, pageInfo{HasNextPage: true}},
			{"last: 0", "before", 1, pageInfo{HasNextPage: true, HasPreviousPage: true}},
		} {
			_, _, info := page(c.args, c.arg, cursors[c.at])
			require.Equal(t, c.want, info, "%s: %s, %s row %d", name, c.args, c.arg, c.at)
		}
	}
}

func compareStrings(a, b string) int { return bytes.Compare([]byte(a), []byte(b)) }

// compareDates orders two dates, NULL (nil) after every date when
// nullsLast, before every date otherwise.
func compareDates(a, b *time.Time, nullsLast bool) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		if nullsLast {
			return 1
		}
		return -1
	case b == nil:
		if nullsLast {
			return -1
		}
		return 1
	}
	return a.Compare(*b)
}

// TestForeignCursor: a cursor is the client's to send. One taken in
// another order, or made up, is BAD_USER_INPUT naming the argument, on
// both databases (it reached PostgreSQL as a value it refused, INTERNAL,
// and SQLite compared it as another type).
func TestForeignCursor(t *testing.T) {
	e := newEnv(t)
	b := e.seedBank("gh.29.uk")
	e.seedCustomers(b, 3, nil)
	var r struct {
		Customers struct{ PageInfo struct{ EndCursor string } }
	}
	e.do(`{ customers(first: 1, orderBy: [{field: LEGAL_NAME}]) { pageInfo { endCursor } } }`, &r)
	byName := r.Customers.PageInfo.EndCursor
	forge := func(v any) string {
		var buf bytes.Buffer
		ent.Cursor{ID: uuid.New(), Value: v}.MarshalGQL(&buf)
		return strings.Trim(buf.String(), `"`)
	}
	for _, c := range []struct {
		name, args, cursor, field string
	}{
		{"another order's", "first: 1, after: $c", byName, "after"},
		{"another order's, more fields", "last: 1, before: $c, orderBy: [{field: LEGAL_NAME}, {field: EMAIL}]", byName, "before"},
		{"a list in a list", "first: 1, after: $c", forge([]any{[]any{"x"}}), "after"},
		{"a map", "first: 1, before: $c", forge([]any{map[string]any{"a": 1}}), "before"},
		{"a number for a time", "first: 1, after: $c", forge([]any{int64(7)}), "after"},
		{"not a list", "first: 1, after: $c", forge("x"), "after"},
		{"no values", "first: 1, after: $c", forge(nil), "after"},
	} {
		errs := e.fail(`query($c: Cursor) { customers(`+c.args+`) { edges { node { id } } } }`, "c", c.cursor)
		require.Len(t, errs, 1, c.name)
		require.Equal(t, "BAD_USER_INPUT", errs[0].Extensions["code"], "%s: %+v", c.name, errs[0])
		require.Equal(t, c.field, errs[0].Extensions["field"], "%s: %+v", c.name, errs[0])
	}
}

// TestLongestCursorReadsBack: a page ordered by every orderable field of
// customers, each text at its longest, writes a cursor the server reads
// back (a cursor over entgql.MaxCursorLen is refused unread). A field
// repeated anywhere in orderBy is BAD_USER_INPUT: repeats ordered nothing
// more, and 17 alternating terms wrote a cursor of 5,791 characters that
// the server then refused.
func TestLongestCursorReadsBack(t *testing.T) {
	e := newEnv(t)
	b := e.seedBank("gh.29.uk")
	e.seedCustomers(b, 3, func(i int, c *ent.CustomerCreate) {
		c.SetCustomerNumber(strings.Repeat("7", 49) + strconv.Itoa(i)).
			SetLegalName(strings.Repeat("é", 127) + strconv.Itoa(i)).
			SetLastName(strings.Repeat("ß", 127) + strconv.Itoa(i)).
			SetEmail(strings.Repeat("a", 180) + strconv.Itoa(i) + "@example.com").
			SetLastOkDate(time.Date(2026, 1, 1, 0, 0, i, 123456789, time.UTC))
	})
	const order = `orderBy: [{field: LEGAL_NAME}, {field: LAST_NAME}, {field: EMAIL}, {field: CUSTOMER_NUMBER},
		{field: LAST_OK_DATE}, {field: CUSTOMER_STATUS}, {field: UPDATED_AT}, {field: CREATED_AT}]`
	var r struct {
		Customers struct {
			Edges    []struct{ Node struct{ ID string } }
			PageInfo struct{ EndCursor string }
		}
	}
	e.do(`{ customers(first: 1, `+order+`) { edges { node { id } } pageInfo { endCursor } } }`, &r)
	end := r.Customers.PageInfo.EndCursor
	require.NotEmpty(t, end)
	require.LessOrEqual(t, len(end), entgql.MaxCursorLen, "the longest cursor the server writes")
	e.do(`query($c: Cursor) { customers(first: 5, after: $c, `+order+`) { edges { node { id } } pageInfo { endCursor } } }`, &r, "c", end)
	require.Len(t, r.Customers.Edges, 2, "the rest of the list after the cursor")

	errs := e.fail(`{ customers(first: 1, orderBy: [{field: LAST_NAME}, {field: LEGAL_NAME}, {field: LAST_NAME}]) { totalCount } }`)
	require.Len(t, errs, 1)
	require.Equal(t, "BAD_USER_INPUT", errs[0].Extensions["code"], "%+v", errs[0])
	require.Equal(t, "orderBy", errs[0].Extensions["field"], "%+v", errs[0])
}

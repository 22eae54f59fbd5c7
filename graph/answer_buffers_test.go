package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"custgraph/graph"
	"custgraph/internal/access"
	"custgraph/internal/testdb"
)

// TestAnswersSurviveTheirBuffersReuse: an answer's buffer is reused for
// later answers once it has been written (inline.go, releaseAnswer). Many
// clients at once, over real connections, ask for answers of different
// sizes; each must get exactly the answer it got alone.
func TestAnswersSurviveTheirBuffersReuse(t *testing.T) {
	t.Parallel()
	db, _ := testdb.Open(t)
	e := &env{t: t, client: db.Client, db: db}
	b := e.seedBank("gh.1.reuse")
	e.seedCustomers(b, 40, nil)
	h := graph.NewHandler(db.Client, db.Dialect, graph.Options{Limits: graph.DefaultLimits})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(access.System(r.Context())))
	}))
	defer srv.Close()
	post := func(query string) []byte {
		body, _ := json.Marshal(map[string]string{"query": query})
		resp, err := http.Post(srv.URL, "application/json", bytes.NewReader(body))
		if err != nil {
			return []byte(err.Error())
		}
		defer resp.Body.Close()
		got, _ := io.ReadAll(resp.Body)
		return got
	}
	var queries []string
	for _, n := range []int{1, 40, 3, 25, 2, 40} {
		queries = append(queries, fmt.Sprintf(`{ customers(first: %d) { totalCount edges { cursor node { id legalName email createdAt } } } }`, n))
	}
	want := make([][]byte, len(queries))
	for i, q := range queries {
		want[i] = post(q)
		require.Contains(t, string(want[i]), `{"data":{"customers":{"totalCount":40,`)
		require.NotContains(t, string(want[i]), `"errors"`)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 60 {
				k := (g + i) % len(queries)
				if got := post(queries[k]); !bytes.Equal(got, want[k]) {
					t.Errorf("client %d, request %d: got %.200s…, want %.200s…", g, i, got, want[k])
					return
				}
			}
		})
	}
	wg.Wait()
}

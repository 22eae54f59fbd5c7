package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// examples are the README's GraphQL examples, as a person copies them into
// GraphiQL.
type examples struct {
	viewer            string // the first query: { viewer … customers … }
	search            string // "Using the GraphQL API": the customer search sent with curl
	bankID            string // the query that finds a bank's id by its code
	mutation          string // createCustomer, with $bankID
	mutationVars      string // its variables, with the placeholder for the id
	bankIDPlaceholder string
	subscription      string // "Live changes": the changes subscription
}

var (
	fenced   = regexp.MustCompile("(?s)```(graphql|json)\n(.*?)```")
	curlBody = regexp.MustCompile(`(?s)-d '(\{\s*"query".*?\})'`)
)

// readmeExamples reads the examples from ../README.md, failing the test if
// one is missing: the README and the browser test must not drift apart.
func readmeExamples(t *testing.T) examples {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	var ex examples
	for _, m := range fenced.FindAllStringSubmatch(readme, -1) {
		body := strings.TrimSpace(m[2])
		switch {
		case m[1] == "graphql" && strings.HasPrefix(body, "{ viewer"):
			ex.viewer = body
		case m[1] == "graphql" && strings.Contains(body, "banks(where: {code:"):
			ex.bankID = body
		case m[1] == "graphql" && strings.HasPrefix(body, "subscription {"):
			ex.subscription = body
		case m[1] == "graphql" && strings.HasPrefix(body, "mutation ($bankID: ID!)"):
			ex.mutation = body
		case m[1] == "json" && strings.HasPrefix(body, `{"bankID": "<`):
			ex.mutationVars = body
			ex.bankIDPlaceholder = body[strings.Index(body, "<") : strings.Index(body, ">")+1]
		}
	}
	for _, m := range curlBody.FindAllStringSubmatch(readme, -1) {
		var p struct{ Query string }
		if json.Unmarshal([]byte(m[1]), &p) == nil && strings.Contains(p.Query, `search: "tripman"`) {
			ex.search = p.Query
		}
	}
	for name, v := range map[string]string{"viewer": ex.viewer, "search": ex.search, "bank id": ex.bankID,
		"mutation": ex.mutation, "mutation variables": ex.mutationVars, "subscription": ex.subscription} {
		if v == "" {
			t.Fatalf("README.md: the %s example is missing (e2e/readme_test.go looks for it)", name)
		}
	}
	return ex
}

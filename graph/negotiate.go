package graph

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// SubscriptionsStream is the server's first say on a POST that accepts
// Server-Sent Events exactly as much as JSON, as urql's client sends every
// POST (Accept: application/graphql-response+json, application/json,
// text/event-stream, multipart/mixed): such a request gets a stream only
// when its operation is a subscription. A query or a mutation is answered
// as JSON, as the client may also read it; streamed, it was refused
// ("only subscriptions are served over a live connection"), so urql could
// send no mutation at all, and it ran without the request timeout of an
// answer. The body is read here, up to maxBody bytes (within the
// connection's read deadline, before the stream clears it), and given on
// whole; when the operation is not a subscription, text/event-stream is
// taken out of the request's Accept header, which every later step
// (IsLive, the transports) reads. A request that prefers one of the two
// media types, or sends no JSON body this can read, is left as it is.
func SubscriptionsStream(maxBody int64, maxTokens int) func(http.Handler) http.Handler {
	if maxBody <= 0 {
		maxBody = 1 << 20
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && strings.Contains(r.Header.Get("Accept"), mediaEventStream) {
				if _, jsonQ, sseQ := acceptQ(r.Header.Values("Accept")); sseQ > 0 && sseQ == jsonQ {
					body, err := readAhead(r, maxBody)
					if err == nil && int64(len(body)) <= maxBody && !subscription(body, maxTokens) {
						r.Header.Set("Accept", withoutEventStream(r.Header.Values("Accept")))
					}
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// readAhead reads r's body up to max+1 bytes and leaves r's body whole,
// for the handlers after: what was read, then the rest.
func readAhead(r *http.Request, max int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	r.Body = readCloser{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
	return body, err
}

// readCloser reads what was read ahead and the rest, and closes the body.
type readCloser struct {
	io.Reader
	io.Closer
}

// subscription reports whether body is a GraphQL request whose operation
// is a subscription.
func subscription(body []byte, maxTokens int) bool {
	var p struct{ Query, OperationName string }
	if json.Unmarshal(body, &p) != nil || p.Query == "" {
		return false
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, maxTokens)
	if err != nil {
		return false
	}
	op := doc.Operations.ForName(p.OperationName)
	return op != nil && op.Operation == ast.Subscription
}

// withoutEventStream is the media ranges of accept but text/event-stream.
func withoutEventStream(accept []string) string {
	var kept []string
	for _, v := range accept {
		for part := range strings.SplitSeq(v, ",") {
			if mt, _, _ := strings.Cut(strings.TrimSpace(part), ";"); !strings.EqualFold(strings.TrimSpace(mt), mediaEventStream) {
				kept = append(kept, strings.TrimSpace(part))
			}
		}
	}
	return strings.Join(kept, ", ")
}

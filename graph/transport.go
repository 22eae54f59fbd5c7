package graph

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Media types of GraphQL-over-HTTP answers.
const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// overHTTP is the GraphQL-over-HTTP transport for GET and POST
// (https://graphql.github.io/graphql-over-http/draft/), where gqlgen's own
// transports differ from the specification's SHOULDs:
//
//   - the answer's media type follows the Accept header (q-values
//     included): application/graphql-response+json when preferred,
//     application/json when it is preferred, absent, */* or application/*;
//     406 when the header names neither;
//   - a request error (the document does not parse or validate, a variable
//     cannot be coerced, a limit is exceeded: nothing was executed) has no
//     data entry, and is answered 200 as application/json (the status
//     legacy clients expect) or 400 as application/graphql-response+json;
//   - parameters of the wrong JSON type (a query that is not a string,
//     variables that are not an object…) or no query at all are 400 in both.
//
// The checks before it (method, content type, body size, credentials) are
// in guard.
type overHTTP struct{}

var _ graphql.Transport = overHTTP{}

func (overHTTP) Supports(r *http.Request) bool {
	if r.Header.Get("Upgrade") != "" {
		return false
	}
	switch r.Method {
	case http.MethodGet:
		return true
	case http.MethodPost:
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		return err == nil && mt == mediaJSON
	}
	return false
}

func (overHTTP) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	media, ok := responseMediaType(r.Header.Values("Accept"))
	if !ok {
		httpError(w, http.StatusNotAcceptable, "NOT_ACCEPTABLE",
			"this endpoint answers application/graphql-response+json or application/json: accept one of them")
		return
	}
	w.Header().Set("Content-Type", media)
	start := graphql.Now()
	params, perr := readParams(r)
	if perr != "" {
		w.WriteHeader(http.StatusBadRequest)
		writeRequestErrors(w, gqlerror.List{{Message: perr, Extensions: map[string]any{"code": "BAD_REQUEST"}}})
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	ctx := r.Context()
	oc, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, oc), errs)
		if media == mediaGraphQLResponse {
			w.WriteHeader(http.StatusBadRequest)
		}
		writeRequestErrors(w, resp.Errors)
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, oc)
	_, _ = w.Write(appendResponse(nil, responses(ctx)))
}

// appendResponse appends resp's JSON to b as encoding/json would write
// graphql.Response, but copies data as it is: gqlgen wrote it, so it is
// valid, compact JSON already (json.Marshal would scan and compact it
// again, 4% of a page's CPU).
func appendResponse(b []byte, resp *graphql.Response) []byte {
	head, err := json.Marshal(struct {
		Errors gqlerror.List `json:"errors,omitempty"`
	}{resp.Errors})
	if err != nil {
		panic(err) // gqlgen's own answer: always marshals
	}
	tail, err := json.Marshal(struct {
		Label      string         `json:"label,omitempty"`
		Path       ast.Path       `json:"path,omitempty"`
		HasNext    *bool          `json:"hasNext,omitempty"`
		Extensions map[string]any `json:"extensions,omitempty"`
	}{resp.Label, resp.Path, resp.HasNext, resp.Extensions})
	if err != nil {
		panic(err)
	}
	b = slices.Grow(b, len(head)+len(resp.Data)+len(tail)+8)
	b = append(b, head[:len(head)-1]...) // without its }
	if len(head) > 2 {
		b = append(b, ',')
	}
	b = append(b, `"data":`...)
	if resp.Data == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, resp.Data...)
	}
	if len(tail) > 2 {
		b = append(b, ',')
		b = append(b, tail[1:len(tail)-1]...)
	}
	return append(b, '}')
}

// writeRequestErrors writes the answer to a request error: errors only, no
// data entry (GraphQL spec, "Response": an error raised before execution
// begins leaves data out).
func writeRequestErrors(w io.Writer, errs gqlerror.List) {
	_ = json.NewEncoder(w).Encode(struct {
		Errors gqlerror.List `json:"errors"`
	}{errs})
}

// responseMediaType picks the answer's media type from the Accept header
// values: the supported type with the highest q-value (the first listed on
// a tie), where */* and application/* stand for application/json. No
// header means application/json; a header that allows neither type is not
// acceptable.
func responseMediaType(accept []string) (string, bool) {
	if len(accept) == 0 {
		return mediaJSON, true
	}
	best, bestQ := "", 0.0
	for _, v := range accept {
		for part := range strings.SplitSeq(v, ",") {
			mt, ps, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			q := 1.0
			if s, ok := ps["q"]; ok {
				if q, err = strconv.ParseFloat(s, 64); err != nil {
					continue
				}
			}
			switch mt {
			case "*/*", "application/*":
				mt = mediaJSON
			case mediaJSON, mediaGraphQLResponse:
			default:
				continue
			}
			if q > bestQ {
				best, bestQ = mt, q
			}
		}
	}
	return best, best != ""
}

// readParams reads the GraphQL request of a GET (URL parameters) or POST
// (JSON body) and checks the parameters' JSON types; a non-empty string is
// the reason it is a bad request.
func readParams(r *http.Request) (*graphql.RawParams, string) {
	var raw struct {
		Query, OperationName, Variables, Extensions json.RawMessage
	}
	if r.Method == http.MethodGet {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return nil, "the URL's query string could not be parsed"
		}
		str := func(name string) json.RawMessage {
			if !q.Has(name) {
				return nil
			}
			b, _ := json.Marshal(q.Get(name))
			return b
		}
		raw.Query, raw.OperationName = str("query"), str("operationName")
		if q.Has("variables") {
			raw.Variables = json.RawMessage(q.Get("variables"))
		}
		if q.Has("extensions") {
			raw.Extensions = json.RawMessage(q.Get("extensions"))
		}
	} else {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, "the request body could not be read"
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		if err := dec.Decode(&raw); err != nil || dec.More() {
			return nil, "the request body must be one JSON object: {\"query\": \"…\", \"variables\": {…}}"
		}
	}
	p := &graphql.RawParams{}
	if !decodeParam(raw.Query, &p.Query) {
		return nil, "query must be a string"
	}
	if !decodeParam(raw.OperationName, &p.OperationName) {
		return nil, "operationName must be a string"
	}
	if !decodeParam(raw.Variables, &p.Variables) {
		return nil, "variables must be a JSON object"
	}
	if !decodeParam(raw.Extensions, &p.Extensions) {
		return nil, "extensions must be a JSON object"
	}
	if p.Query == "" && p.Extensions["persistedQuery"] == nil {
		return nil, "the request has no query"
	}
	return p, ""
}

// decodeParam decodes one parameter into v (a *string or a *map[string]any);
// absent or null leaves v empty. Numbers stay json.Number, as gqlgen's own
// transports keep them, so that 64-bit integers survive.
func decodeParam(raw json.RawMessage, v any) bool {
	if len(raw) == 0 || string(raw) == "null" {
		return true
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v) == nil && !dec.More()
}

package graph

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"custgraph/ent"
	"custgraph/internal/apperr"
	"custgraph/internal/idempotency"
	"custgraph/internal/refusal"
	"custgraph/internal/store"
)

// Media types of GraphQL-over-HTTP answers.
const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
	mediaEventStream     = "text/event-stream"
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
//     cannot be coerced, one of custgraph's limits (limitCodes) refuses it,
//     an input checked before execution is wrong (BAD_USER_INPUT: a page
//     size, ids, a filter value): nothing was executed) has no data entry,
//     and is answered 200 as application/json (the draft's SHOULD; Apollo
//     Client 3 makes any other status a network error without the
//     errors' codes) or 400 as application/graphql-response+json;
//   - parameters of the wrong JSON type (a query that is not a string,
//     variables that are not an object…) or no query at all are 400 in both;
//   - an answer with an UNAVAILABLE error (the database could not be
//     reached) is 503 with Retry-After in both: an outage, which a client
//     retries later, never a 200 nor a 500;
//   - an answer holds at most maxErrors errors, each message at most
//     maxMessageBytes long (a document with a thousand unknown directives
//     would otherwise answer a thousand errors).
//
// The checks before it (method, content type, body size, credentials) are
// in guard.
type overHTTP struct {
	// maxVariables, when positive, is the most values the variables may
	// hold; more are refused before they are decoded (VARIABLES_TOO_LARGE):
	// decoding JSON into maps costs tens of bytes allocated per byte.
	// documentLimits measures the rest (Limits.MaxVariableCost).
	maxVariables int
	// maxTokens bounds the parse that tells an introspection query.
	maxTokens int
	// introspection keeps the answers to introspection queries: the schema
	// does not change while the process runs, and a full introspection
	// costs about 0.1 s and 780 KB to answer, to anyone, unauthenticated.
	introspection *lru.Cache[[sha256.Size]byte, []byte]
	// client stores the answers of mutations sent with an Idempotency-Key
	// (keyed).
	client *ent.Client
	log    *slog.Logger
}

// newAnswerCache holds the answers to the few introspection queries tools
// send (graphql-js's, GraphiQL's, gqlgen's, codegen's).
func newAnswerCache() *lru.Cache[[sha256.Size]byte, []byte] {
	c, _ := lru.New[[sha256.Size]byte, []byte](32)
	return c
}

// answerKey names an introspection request: its query, operation and
// variables, and the media type it is answered in.
func answerKey(p *graphql.RawParams, media string) [sha256.Size]byte {
	h := sha256.New()
	vars, _ := json.Marshal(p.Variables) // maps marshal in key order
	for _, part := range [][]byte{[]byte(p.Query), []byte(p.OperationName), vars, []byte(media)} {
		h.Write(part)
		h.Write([]byte{0})
	}
	return [sha256.Size]byte(h.Sum(nil))
}

var _ graphql.Transport = overHTTP{}

func (overHTTP) Supports(r *http.Request) bool {
	if r.Header.Get("Upgrade") != "" {
		return false
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead: // (HEAD: a GET whose body net/http drops)
		return true
	case http.MethodPost:
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		return err == nil && mt == mediaJSON
	}
	return false
}

func (t overHTTP) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	media, ok := responseMediaType(r.Header.Values("Accept"))
	if !ok {
		httpError(w, http.StatusNotAcceptable, "NOT_ACCEPTABLE",
			"this endpoint answers application/graphql-response+json or application/json: accept one of them")
		return
	}
	w.Header().Set("Content-Type", media)
	start := graphql.Now()
	var body []byte // the body of a POST with an Idempotency-Key, for its fingerprint
	if r.Method == http.MethodPost && len(r.Header.Values(idempotency.Header)) > 0 {
		body, _ = io.ReadAll(r.Body) // (guard read it already, within the size limit)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	params, perr := readParams(r, t.maxVariables)
	if perr != nil {
		// A body that is not a GraphQL request is 400; variables over the
		// limit are a request error like the others below.
		if code, _ := perr.Extensions["code"].(string); media == mediaGraphQLResponse || !limitCodes[code] {
			w.WriteHeader(http.StatusBadRequest)
		}
		writeRequestErrors(w, gqlerror.List{perr})
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	ctx := r.Context()
	oc, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, oc), errs)
		if media == mediaGraphQLResponse {
			// As application/json every request error is 200 (the
			// GraphQL-over-HTTP draft's SHOULD): Apollo Client 3 turns
			// any other status into a network error and drops the
			// errors' codes.
			w.WriteHeader(http.StatusBadRequest)
		}
		writeRequestErrors(w, capErrors(resp.Errors))
		return
	}
	if (r.Method == http.MethodGet || r.Method == http.MethodHead) && oc.Operation != nil && oc.Operation.Operation != ast.Query {
		// Only here is the operation known for sure: a GET may name it by
		// its persisted hash alone, or pick it by operationName.
		w.Header().Set("Allow", "POST")
		httpError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "only queries may be sent with GET: send "+string(oc.Operation.Operation)+"s with POST")
		return
	}
	var key [sha256.Size]byte
	cacheable := t.introspection != nil && strings.Contains(params.Query, "__schema")
	if cacheable {
		key = answerKey(params, media)
		if b, ok := t.introspection.Get(key); ok { // (only introspection is kept)
			w.Header().Set("Content-Length", strconv.Itoa(len(b)))
			_, _ = w.Write(b)
			return
		}
		cacheable = introspectionOnly(params.Query, t.maxTokens)
	}
	var q *idempotency.Request
	if oc.Operation != nil && oc.Operation.Operation == ast.Mutation && r.Method == http.MethodPost {
		var done bool
		if q, done = t.keyed(w, r, body); done {
			return
		}
		if q != nil {
			defer q.Close()
			ctx = idempotency.NewContext(ctx, q)
		}
	}
	responses, ctx := exec.DispatchOperation(ctx, oc)
	resp := responses(ctx)
	if resp == nil { // (gqlgen's end of a stream; never for a query)
		resp = &graphql.Response{}
	}
	resp.Errors = capErrors(resp.Errors)
	if !cacheable && q == nil && dataOnly(resp) {
		writeData(w, resp.Data) // most answers: written as they are, not copied
		releaseAnswer(resp.Data)
		resp.Data = nil
		return
	}
	b := appendResponse(nil, resp)
	if cacheable && len(resp.Errors) == 0 && len(b) <= maxCachedAnswer {
		t.introspection.Add(key, b)
	}
	if q != nil {
		if t.commit(ctx, w, q, media, resp, b) {
			return
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(b))) // (before any WriteHeader, which sends the headers)
	if unavailable(resp.Errors) {
		// The database could not be reached: an outage, not a fault.
		f := refusal.DatabaseUnavailable()
		refusal.SetRetryAfter(w, f)
		w.WriteHeader(f.Status)
	}
	_, _ = w.Write(b)
}

// dataOnly reports whether resp's JSON is {"data":…} alone: no errors,
// extensions or incremental-delivery entries.
func dataOnly(resp *graphql.Response) bool {
	return len(resp.Errors) == 0 && resp.Label == "" && resp.Path == nil &&
		resp.HasNext == nil && len(resp.Extensions) == 0
}

// writeData writes {"data":data} (what appendResponse writes for a
// dataOnly answer) with its Content-Length, without copying data (a page's
// answer is tens of kilobytes) into another buffer first. The closing brace
// goes into the spare room of data's buffer (responseBuffer leaves some),
// so that data and the brace are one Write: written after a large data,
// the brace alone was one more send on the socket when net/http flushed it
// (a page of customers: 3 sends instead of 2).
func writeData(w http.ResponseWriter, data json.RawMessage) {
	if data == nil {
		data = json.RawMessage("null")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(`{"data":}`)+len(data)))
	_, _ = io.WriteString(w, `{"data":`)
	if cap(data) > len(data) { // (past len: no holder of data sees the brace)
		_, _ = w.Write(append(data, '}'))
		return
	}
	_, _ = w.Write(data)
	_, _ = io.WriteString(w, "}")
}

// keyed begins a mutation sent with an Idempotency-Key
// (internal/idempotency): the whole document is one request, whose
// answer is stored in its transaction. It answers (done) a repeated
// request with the stored answer, and a malformed, in-flight or reused
// key with 400, 409 or 422 (extensions.code IDEMPOTENCY_KEY_INVALID,
// _IN_USE, _REUSED); q is nil for a request without a key.
func (t overHTTP) keyed(w http.ResponseWriter, r *http.Request, body []byte) (q *idempotency.Request, done bool) {
	caller := idempotency.Caller(r.Context())
	key, err := idempotency.ParseKey(r.Header.Values(idempotency.Header))
	if err == nil && (key == "" || caller == "") {
		return nil, false
	}
	var ans *idempotency.Answer
	if err == nil {
		keys := []idempotency.Key{idempotency.IdempotencyKey(caller, key)}
		q, ans, err = idempotency.Begin(r.Context(), t.client, keys, idempotency.Fingerprint(r, body))
	}
	return q, t.answered(r.Context(), w, ans, err)
}

// commit stores the answer b of a keyed mutation with its change (when
// it made one) and commits them; done when it wrote another answer: the
// stored answer of the same request by another replica, or the error of
// the commit.
func (t overHTTP) commit(ctx context.Context, w http.ResponseWriter, q *idempotency.Request, media string, resp *graphql.Response, b []byte) (done bool) {
	if !q.Changed() && len(resp.Errors) > 0 {
		if ans, err := q.Settled(ctx); ans != nil {
			return t.answered(ctx, w, ans, err)
		}
	}
	ans, err := q.Commit(ctx, idempotency.Answer{Status: http.StatusOK, Header: map[string]string{"Content-Type": media}, Body: b})
	if err != nil {
		var kr *idempotency.Refusal
		if !errors.As(err, &kr) {
			// As the transactioner answers a failed commit (INTERNAL
			// logged; UNAVAILABLE noted for the request's log line, 503).
			e := store.Report(ctx, t.log, err, "graphql mutation transaction failed")
			if e.Code == apperr.Unavailable {
				f := refusal.DatabaseUnavailable()
				refusal.SetRetryAfter(w, f)
				w.WriteHeader(f.Status)
			}
			_, _ = w.Write(appendResponse(nil, &graphql.Response{Errors: gqlerror.List{{
				Message: e.Message, Extensions: map[string]any{"code": string(e.Code)},
			}}}))
			return true
		}
	}
	return t.answered(ctx, w, ans, err)
}

// answered writes a stored answer or a refusal, and reports whether it did.
func (t overHTTP) answered(ctx context.Context, w http.ResponseWriter, ans *idempotency.Answer, err error) bool {
	var kr *idempotency.Refusal
	switch {
	case errors.As(err, &kr):
		if kr.Status == http.StatusConflict {
			w.Header().Set("Retry-After", "1")
		}
		httpError(w, kr.Status, kr.Code, kr.Message)
	case err != nil:
		e := store.Report(ctx, t.log, err, "graphql idempotency-key lookup failed")
		status := http.StatusInternalServerError
		switch e.Code {
		case apperr.Timeout:
			status = http.StatusServiceUnavailable
		case apperr.Unavailable:
			f := refusal.DatabaseUnavailable()
			refusal.SetRetryAfter(w, f)
			status = f.Status
		}
		httpError(w, status, string(e.Code), e.Message)
	case ans != nil:
		ans.Write(w)
	default:
		return false
	}
	return true
}

// maxCachedAnswer bounds an introspection answer kept (a full one is about
// 780 KB).
const maxCachedAnswer = 2 << 20

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

// unavailable reports whether an error says the database was unreachable
// (UNAVAILABLE): the answer is then 503 with Retry-After, in both media
// types, with the errors (and whatever data was read) as its body.
func unavailable(errs gqlerror.List) bool {
	for _, e := range errs {
		if code, _ := e.Extensions["code"].(string); code == string(apperr.Unavailable) {
			return true
		}
	}
	return false
}

// The bounds of an answer's errors.
const (
	maxErrors       = 20
	maxMessageBytes = 1000
)

// capErrors keeps the first maxErrors errors, with their messages cut to
// maxMessageBytes (a message may quote a name of the document), and says
// how many were left out in one more error, TOO_MANY_ERRORS.
func capErrors(errs gqlerror.List) gqlerror.List {
	n := min(len(errs), maxErrors)
	if n == len(errs) && !slices.ContainsFunc(errs, func(e *gqlerror.Error) bool { return len(e.Message) > maxMessageBytes }) {
		return errs
	}
	out := make(gqlerror.List, 0, n+1)
	for _, e := range errs[:n] {
		if len(e.Message) > maxMessageBytes {
			c := *e // gqlgen's value, maybe shared: not changed in place
			cut := maxMessageBytes
			for cut > 0 && !utf8.RuneStart(c.Message[cut]) {
				cut--
			}
			c.Message = c.Message[:cut] + "…"
			e = &c
		}
		out = append(out, e)
	}
	if len(errs) > n {
		out = append(out, &gqlerror.Error{
			Message:    fmt.Sprintf("%d more errors were left out: an answer holds at most %d", len(errs)-n, maxErrors),
			Extensions: map[string]any{"code": "TOO_MANY_ERRORS"},
		})
	}
	return out
}

// responseMediaType picks the answer's media type from the Accept header
// values: the supported type with the highest q-value (the first listed on
// a tie), where */* and application/* stand for application/json. No
// header means application/json; a header that allows neither type is not
// acceptable.
func responseMediaType(accept []string) (string, bool) {
	best, _, _ := acceptQ(accept)
	return best, best != ""
}

// acceptQ reads Accept: the JSON media type it prefers ("" for none) and
// its weight, and the weight of text/event-stream (0 when not accepted).
func acceptQ(accept []string) (json string, jsonQ, sseQ float64) {
	if len(accept) == 0 {
		return mediaJSON, 1, 0
	}
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
			case mediaEventStream:
				sseQ = max(sseQ, q)
				continue
			default:
				continue
			}
			if q > jsonQ {
				json, jsonQ = mt, q
			}
		}
	}
	return json, jsonQ, sseQ
}

// readParams reads the GraphQL request of a GET (URL parameters) or POST
// (JSON body) and checks the parameters' JSON types and the number of
// values of the variables (at most maxVariables when positive); an error
// makes it a bad request.
func readParams(r *http.Request, maxVariables int) (*graphql.RawParams, *gqlerror.Error) {
	p, msg := decodeParams(r, maxVariables)
	switch {
	case msg == tooManyVariables:
		return nil, limitErr("VARIABLES_TOO_LARGE", "the variables hold more than %d values", maxVariables)
	case msg != "":
		return nil, &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": "BAD_REQUEST"}}
	}
	return p, nil
}

const tooManyVariables = "too many variables"

// maxExtensionValues bounds the values of a request's extensions, counted
// before they are decoded, as the variables are: the server reads only
// persistedQuery (four values), and clients send a few more (Apollo's
// clientLibrary). A body of a million of them, sent without a token, was
// decoded in full into maps: eight at a time took a server from 119 to
// 844 MB.
const maxExtensionValues = 100

var tooManyExtensions = fmt.Sprintf("extensions must hold at most %d values (persistedQuery needs 4)", maxExtensionValues)

const invalidUTF8 = "the request must be UTF-8 text (a byte sequence that is not UTF-8 was found)"

// decodeParams is readParams; a non-empty string is the reason the request
// is bad.
func decodeParams(r *http.Request, maxVariables int) (*graphql.RawParams, string) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return nil, "the URL's query string could not be parsed"
		}
		for _, name := range [...]string{"query", "operationName", "variables", "extensions"} {
			if !utf8.ValidString(q.Get(name)) {
				return nil, invalidUTF8
			}
		}
		str := func(name string) json.RawMessage {
			if !q.Has(name) {
				return nil
			}
			b, _ := json.Marshal(q.Get(name))
			return b
		}
		raw := rawParams{Query: str("query"), OperationName: str("operationName")}
		if q.Has("variables") {
			raw.Variables = json.RawMessage(q.Get("variables"))
		}
		if q.Has("extensions") {
			raw.Extensions = json.RawMessage(q.Get("extensions"))
		}
		return decodeRaw(&raw, maxVariables)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, "the request body could not be read"
	}
	if !utf8.Valid(body) {
		// encoding/json would read each bad byte as U+FFFD, stored as
		// such; the REST doors refuse the same body (RFC 8259: JSON is
		// UTF-8).
		return nil, invalidUTF8
	}
	return decodeBody(body, maxVariables, true)
}

// rawParams are a request's parameters, each the JSON text it was sent as.
type rawParams struct {
	Query, OperationName, Variables, Extensions json.RawMessage
}

// decodeBody is decodeParams for a POST's body. json.Unmarshal, not a
// Decoder: it reads the body in place (a Decoder copies it into a buffer
// of its own) and refuses anything after the object, as a Decoder's More
// would. With onePass (always, but in the test that compares both ways) the
// usual body is read in one pass: the query's text, most of the body, is
// unquoted as it is read instead of kept raw and decoded again (Q2's body
// was scanned four times, 5% of its server CPU). A body this cannot read
// (not JSON, or a parameter of the wrong type) is read again as
// rawParams, which tells the client which parameter is wrong.
func decodeBody(body []byte, maxVariables int, onePass bool) (*graphql.RawParams, string) {
	if onePass {
		var usual struct {
			Query, OperationName  string
			Variables, Extensions json.RawMessage
		}
		if json.Unmarshal(body, &usual) == nil {
			if maxVariables > 0 && jsonValueBound(usual.Variables) > maxVariables {
				return nil, tooManyVariables
			}
			return decodeObjects(&graphql.RawParams{Query: usual.Query, OperationName: usual.OperationName},
				usual.Variables, usual.Extensions)
		}
	}
	var raw rawParams
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, "the request body must be one JSON object: {\"query\": \"…\", \"variables\": {…}}"
	}
	return decodeRaw(&raw, maxVariables)
}

// decodeRaw checks and decodes raw's parameters, in this order: the number
// of variables, then each parameter's JSON type.
func decodeRaw(raw *rawParams, maxVariables int) (*graphql.RawParams, string) {
	if maxVariables > 0 && jsonValueBound(raw.Variables) > maxVariables {
		return nil, tooManyVariables
	}
	p := &graphql.RawParams{}
	if !decodeParam(raw.Query, &p.Query) {
		return nil, "query must be a string"
	}
	if !decodeParam(raw.OperationName, &p.OperationName) {
		return nil, "operationName must be a string"
	}
	return decodeObjects(p, raw.Variables, raw.Extensions)
}

// decodeObjects is the end of decodeParams, once the variables are
// counted: it decodes the variables and extensions into p and checks that
// p asks something.
func decodeObjects(p *graphql.RawParams, variables, extensions json.RawMessage) (*graphql.RawParams, string) {
	if !decodeParam(variables, &p.Variables) {
		return nil, "variables must be a JSON object"
	}
	if jsonValueBound(extensions) > maxExtensionValues {
		return nil, tooManyExtensions
	}
	if !decodeParam(extensions, &p.Extensions) {
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
	if s, ok := v.(*string); ok {
		return json.Unmarshal(raw, s) == nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v) == nil && !dec.More()
}

// jsonValueBound is an upper bound of the number of values in the JSON text b
// (every value but the first follows a comma or opens an object or list),
// counted in one pass over the bytes, without decoding.
func jsonValueBound(b []byte) int {
	n, inString, escaped := 1, false, false
	for _, c := range b {
		switch {
		case escaped:
			escaped = false
		case inString:
			switch c {
			case '\\':
				escaped = true
			case '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == ',' || c == '{' || c == '[':
			n++
		}
	}
	return n
}

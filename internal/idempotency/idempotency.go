// Package idempotency makes retried mutations safe on every door: the
// Idempotency-Key request header (draft-ietf-httpapi-idempotency-key-header)
// on the REST families' mutating routes and on GraphQL mutations over HTTP,
// and the Tradevest-style Requestor-ID replays (rest-compat §5.6).
//
// A keyed request's answer (status, the headers that describe it, body) is
// stored as a RequestReplay in the transaction of the change it answers:
// the door's transaction is not committed when its work ends, but when its
// answer is known (Request.Commit), together with the answer. So a replay
// exists exactly when the change does: a create whose commit succeeded but
// whose answer was lost is answered again on retry, never done twice, and
// a refused or failed request stores nothing (it is refused again, or done
// when retried).
//
// Keys are the caller's own (two callers may use the same key). The same
// caller, key and request fingerprint (method, path, body) within TTL get
// the stored answer; the same key with another fingerprint is refused 422
// (IDEMPOTENCY_KEY_REUSED); a request arriving while the first with its
// key is still in flight on this server is refused 409
// (IDEMPOTENCY_KEY_IN_USE, Retry-After: 1), as the draft's §2.6 asks,
// rather than held: a held request would keep a connection (and on
// SQLite the writer's place) waiting for another's work. Across replicas
// the table is the source of truth: the replay's unique key makes the
// later of two concurrent commits fail, and that request answers the
// winner's stored answer instead (its own work is rolled back).
package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"custgraph/ent"
	"custgraph/ent/requestreplay"
	"custgraph/ent/schema"
	"custgraph/internal/access"
	"custgraph/internal/refusal"
)

// Header is the request header that names a request for its retries.
const Header = "Idempotency-Key"

// ReplayedHeader marks an answer that is the stored answer of an earlier
// request (true), not the result of doing the work now.
const ReplayedHeader = "Idempotent-Replayed"

// TTL is how long an answer is kept: a key reused later is a new request.
const TTL = 24 * time.Hour

// MaxKeyLen is the longest key accepted, in bytes (printable ASCII).
const MaxKeyLen = 255

// purgeBatch bounds the expired replays each keyed request deletes: each
// stores at most two, so the table keeps pace with TTL.
const purgeBatch = 16

// The codes of refused keyed requests (GraphQL's extensions.code; the REST
// families carry them in their own error formats).
const (
	CodeInvalid = "IDEMPOTENCY_KEY_INVALID" // 400: the header is malformed
	CodeInUse   = "IDEMPOTENCY_KEY_IN_USE"  // 409: the first request with the key is still in flight
	CodeReused  = "IDEMPOTENCY_KEY_REUSED"  // 422: the key was used for another request
)

// Refusal is a keyed request refused before any work: a malformed key
// (400), a key in flight (409) or reused for another request (422).
type Refusal struct {
	Status  int
	Code    string
	Message string
}

func (e *Refusal) Error() string { return e.Message }

func invalid(format string, args ...any) *Refusal {
	return &Refusal{Status: http.StatusBadRequest, Code: CodeInvalid, Message: fmt.Sprintf(format, args...)}
}

// ParseKey reads the Idempotency-Key header's values: "" when there is
// none. The key is the draft's sf-string ("…", with \" and \\ escapes) or,
// as most clients send it, the bare text; either way 1 to MaxKeyLen
// printable ASCII characters, given once.
func ParseKey(vals []string) (string, error) {
	switch len(vals) {
	case 0:
		return "", nil
	case 1:
	default:
		return "", invalid("give the Idempotency-Key header once")
	}
	v := strings.Trim(vals[0], " \t")
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		var b strings.Builder
		inner := v[1 : len(v)-1]
		for i := 0; i < len(inner); i++ {
			c := inner[i]
			switch {
			case c == '\\':
				if i+1 == len(inner) || (inner[i+1] != '"' && inner[i+1] != '\\') {
					return "", invalid("the Idempotency-Key header is not a valid string: a backslash escapes only \" or \\")
				}
				i++
				b.WriteByte(inner[i])
			case c == '"':
				return "", invalid("the Idempotency-Key header is not a valid string: escape \" inside quotes")
			default:
				b.WriteByte(c)
			}
		}
		v = b.String()
	}
	if v == "" {
		return "", invalid("the Idempotency-Key header is empty")
	}
	if len(v) > MaxKeyLen {
		return "", invalid("the Idempotency-Key header is longer than %d characters", MaxKeyLen)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return "", invalid("the Idempotency-Key header must be printable ASCII (a UUID is a good key)")
		}
	}
	return v, nil
}

// Fingerprint names a request's content: SHA-256 of its method, path (with
// its query) and body.
func Fingerprint(r *http.Request, body []byte) string {
	h := sha256.New()
	for _, part := range []string{r.Method, r.URL.EscapedPath(), r.URL.RawQuery} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// Key is one name of a request under which its answer is stored.
type Key struct {
	id        string // RequestReplay.key: SHA-256 (hex), unique across callers
	requestor string // the Requestor-ID of a Tradevest replay
	// wait: a concurrent request with the same key waits for the first
	// and answers its answer (Requestor-ID) instead of being refused 409
	// (Idempotency-Key).
	wait bool
}

// IdempotencyKey is the key of an Idempotency-Key header value of caller.
func IdempotencyKey(caller, key string) Key {
	h := sha256.New()
	for _, part := range []string{"Idempotency-Key", caller, key} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return Key{id: hex.EncodeToString(h.Sum(nil))}
}

// RequestorKey is the key of a Tradevest request with a Requestor-ID:
// SHA-256 of the caller, Requestor-ID, method, path and body, so another
// body under the same Requestor-ID is another request (rest-compat §5.6).
func RequestorKey(caller, requestor string, r *http.Request, body []byte) Key {
	h := sha256.New()
	for _, part := range []string{caller, requestor, r.Method, r.URL.EscapedPath()} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	h.Write(body)
	return Key{id: hex.EncodeToString(h.Sum(nil)), requestor: requestor, wait: true}
}

// Answer is a stored answer: status, the headers that describe the body
// (Content-Type, Location), body.
type Answer struct {
	Status int
	Header map[string]string
	Body   []byte
}

// replayedHeaders are the answer's headers kept with it; the others (the
// request id, security headers, Correlation-Id) belong to each answer.
var replayedHeaders = []string{"Content-Type", "Location"}

// Write writes the stored answer, marked as replayed.
func (a *Answer) Write(w http.ResponseWriter) {
	for k, v := range a.Header {
		w.Header().Set(k, v)
	}
	w.Header().Set(ReplayedHeader, "true")
	w.WriteHeader(a.Status)
	if len(a.Body) > 0 {
		_, _ = w.Write(a.Body)
	}
}

func answerOf(rec *ent.RequestReplay) *Answer {
	return &Answer{Status: rec.Status, Header: rec.Headers, Body: rec.Response}
}

// --- requests in flight on this server ----------------------------------------

// InFlight holds the keys of the requests being served by one server; a
// closed channel frees its key.
type InFlight struct {
	mu   sync.Mutex
	keys map[string]chan struct{}
}

// NewInFlight returns an empty set of keys in flight.
func NewInFlight() *InFlight { return &InFlight{keys: map[string]chan struct{}{}} }

// process is the keys in flight in this process, shared by its doors.
var process = NewInFlight()

// acquire takes key k for a request: when another request holds it,
// refuses 409 or (k.wait) waits until it is free.
func (f *InFlight) acquire(ctx context.Context, k Key) error {
	for {
		f.mu.Lock()
		held, busy := f.keys[k.id]
		if !busy {
			f.keys[k.id] = make(chan struct{})
			f.mu.Unlock()
			return nil
		}
		f.mu.Unlock()
		if !k.wait {
			return &Refusal{Status: http.StatusConflict, Code: CodeInUse,
				Message: "a request with this Idempotency-Key is still being processed: retry it later"}
		}
		select {
		case <-held:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (f *InFlight) release(k Key) {
	f.mu.Lock()
	if ch, ok := f.keys[k.id]; ok {
		close(ch)
		delete(f.keys, k.id)
	}
	f.mu.Unlock()
}

// --- a keyed request -----------------------------------------------------------

// Request is a keyed request being served: its keys are held (in flight)
// until Close, and the transaction of its change stays open until Commit
// stores the answer with it.
type Request struct {
	inFlight    *InFlight
	client      *ent.Client
	caller      string
	keys        []Key
	fingerprint string
	expired     []string // ids of expired replays of these keys, deleted with the new one
	tx          *ent.Tx  // the change's transaction, its commit deferred
	closed      bool
}

// Caller names the viewer of ctx in its replays ("" when none).
func Caller(ctx context.Context) string {
	v := access.FromContext(ctx)
	if v == nil {
		return ""
	}
	return schema.ReplayCaller(v)
}

// Begin starts a keyed request of the caller of ctx (keys: the
// Idempotency-Key's first, if any). It returns the stored answer when the
// request was answered before (the caller writes it; nothing is to be
// done), a *Refusal when the key is in flight or was used for another
// request, or the Request to serve, which the caller must Close.
func Begin(ctx context.Context, client *ent.Client, keys []Key, fingerprint string) (*Request, *Answer, error) {
	return begin(ctx, process, client, keys, fingerprint)
}

func begin(ctx context.Context, f *InFlight, client *ent.Client, keys []Key, fingerprint string) (*Request, *Answer, error) {
	q := &Request{inFlight: f, client: client, caller: Caller(ctx), fingerprint: fingerprint}
	for _, k := range keys {
		if err := f.acquire(ctx, k); err != nil {
			q.Close()
			return nil, nil, err
		}
		q.keys = append(q.keys, k)
	}
	ans, err := q.lookup(ctx)
	if err != nil || ans != nil {
		q.Close()
		return nil, ans, err
	}
	return q, nil, nil
}

// lookup finds the stored answer of the request's keys (the first key's
// first): nil when there is none, a *Refusal when a key was used with
// another fingerprint. Expired replays are not answered; their ids are
// kept to be deleted with the new replay (their key is unique).
func (q *Request) lookup(ctx context.Context) (*Answer, error) {
	ids := make([]string, len(q.keys))
	for i, k := range q.keys {
		ids[i] = k.id
	}
	recs, err := q.client.RequestReplay.Query().Where(requestreplay.KeyIn(ids...)).All(ctx)
	if err != nil {
		return nil, err
	}
	q.expired = q.expired[:0]
	cutoff := time.Now().Add(-TTL)
	for _, k := range q.keys {
		for _, rec := range recs {
			if rec.Key != k.id {
				continue
			}
			if rec.CreatedAt.Before(cutoff) {
				q.expired = append(q.expired, rec.Key)
				continue
			}
			if rec.Fingerprint != "" && rec.Fingerprint != q.fingerprint {
				return nil, &Refusal{Status: http.StatusUnprocessableEntity, Code: CodeReused,
					Message: "this Idempotency-Key was used for another request (method, path or body); use a new key for a new request"}
			}
			return answerOf(rec), nil
		}
	}
	return nil, nil
}

// Settled is the answer stored under the request's keys since Begin (by
// another replica's request: this server held the keys), nil when none.
// For a request whose own work failed: a concurrent duplicate's work may
// have made it fail (a unique value taken, a state changed).
func (q *Request) Settled(ctx context.Context) (*Answer, error) {
	if ctx.Err() != nil {
		return nil, nil
	}
	ans, err := q.lookup(ctx)
	var refusal *Refusal
	if errors.As(err, &refusal) {
		return nil, nil // another request's answer: this one's failure stands
	}
	return ans, err
}

// InTx runs fn in the request's transaction, opened by the first call;
// its commit waits for Commit. When fn fails the transaction is rolled
// back (everything the request wrote is undone) and fn's error returned.
func (q *Request) InTx(ctx context.Context, fn func(tx *ent.Client) error) error {
	if q.tx == nil {
		tx, err := q.client.Tx(ctx)
		if err != nil {
			return err
		}
		q.tx = tx
	}
	if err := fn(q.tx.Client()); err != nil {
		return errors.Join(err, q.rollback())
	}
	return nil
}

// OpenTx is entgql's TxOpener for the request: the transaction is the
// request's, and committing it (GraphQL's transactioner, when the
// mutation succeeded) is left to Commit.
func (q *Request) OpenTx(ctx context.Context) (context.Context, driver.Tx, error) {
	if q.tx == nil {
		tx, err := q.client.Tx(ctx)
		if err != nil {
			return nil, nil, err
		}
		q.tx = tx
	}
	ctx = ent.NewTxContext(ctx, q.tx)
	ctx = ent.NewContext(ctx, q.tx.Client())
	return ctx, deferredTx{q}, nil
}

// deferredTx is the request's transaction as entgql sees it.
type deferredTx struct{ q *Request }

func (deferredTx) Commit() error     { return nil } // Commit does it, with the answer
func (t deferredTx) Rollback() error { return t.q.rollback() }

func (q *Request) rollback() error {
	if q.tx == nil {
		return nil
	}
	err := q.tx.Rollback()
	q.tx = nil
	return err
}

// Changed reports whether the request's work succeeded in a transaction
// that awaits Commit.
func (q *Request) Changed() bool { return q.tx != nil }

// Commit stores ans as the answer of the request in its transaction and
// commits it. A request that changed nothing (no transaction, or one
// rolled back: refused or failed) stores nothing: it returns nil, nil and
// ans is the answer. When another request with the same key committed
// first (another replica), this one's work is rolled back and its answer
// (or, for another fingerprint, a *Refusal) is returned instead. An error
// is a failure to store and commit: nothing was stored (unless the commit
// landed although the database reported a failure: then a retry is
// answered the stored answer).
func (q *Request) Commit(ctx context.Context, ans Answer) (*Answer, error) {
	if q.tx == nil {
		return nil, nil
	}
	tx := q.tx.Client()
	if err := q.store(ctx, tx, ans); err != nil {
		_ = q.rollback()
		if ent.IsConstraintError(err) {
			// Another replica stored an answer of this key first.
			if won, lerr := q.lookup(ctx); lerr != nil || won != nil {
				return won, lerr
			}
		}
		return nil, err
	}
	etx := q.tx
	q.tx = nil
	return nil, etx.Commit()
}

func (q *Request) store(ctx context.Context, tx *ent.Client, ans Answer) error {
	sys := access.System(ctx)
	cutoff := time.Now().Add(-TTL)
	// Bounded work: at most purgeBatch of anyone's expired replays, and
	// the expired replays of this request's keys.
	old, err := tx.RequestReplay.Query().Where(requestreplay.CreatedAtLT(cutoff)).
		Order(requestreplay.ByCreatedAt()).Limit(purgeBatch).IDs(sys)
	if err != nil {
		return err
	}
	if len(old) > 0 || len(q.expired) > 0 {
		if _, err := tx.RequestReplay.Delete().Where(requestreplay.CreatedAtLT(cutoff),
			requestreplay.Or(requestreplay.IDIn(old...), requestreplay.KeyIn(q.expired...))).Exec(sys); err != nil {
			return err
		}
	}
	header := map[string]string{}
	for _, k := range replayedHeaders {
		if v := ans.Header[k]; v != "" {
			header[k] = v
		}
	}
	creates := make([]*ent.RequestReplayCreate, len(q.keys))
	for i, k := range q.keys {
		c := tx.RequestReplay.Create().SetCaller(q.caller).SetKey(k.id).SetFingerprint(q.fingerprint).
			SetStatus(ans.Status).SetHeaders(header)
		if k.requestor != "" {
			c.SetRequestorID(k.requestor)
		}
		if len(ans.Body) > 0 {
			c.SetResponse(ans.Body)
		}
		creates[i] = c
	}
	return tx.RequestReplay.CreateBulk(creates...).Exec(ctx)
}

// Close ends the request: an uncommitted transaction is rolled back and
// its keys are freed for the next request.
func (q *Request) Close() {
	if q.closed {
		return
	}
	q.closed = true
	_ = q.rollback()
	for _, k := range q.keys {
		q.inFlight.release(k)
	}
}

type ctxKey struct{}

// NewContext returns ctx carrying the keyed request q: restcore.InTx and
// GraphQL's transactioner then run the change in q's transaction.
func NewContext(ctx context.Context, q *Request) context.Context {
	return context.WithValue(ctx, ctxKey{}, q)
}

// FromContext returns the keyed request of ctx, nil when none.
func FromContext(ctx context.Context) *Request {
	q, _ := ctx.Value(ctxKey{}).(*Request)
	return q
}

// TxOpener opens GraphQL mutations' transactions: the keyed request's,
// when ctx carries one, or a new one of client.
type TxOpener struct{ Client *ent.Client }

// OpenTx implements entgql.TxOpener.
func (o TxOpener) OpenTx(ctx context.Context) (context.Context, driver.Tx, error) {
	if q := FromContext(ctx); q != nil {
		return q.OpenTx(ctx)
	}
	return o.Client.OpenTx(ctx)
}

// --- the REST families' doors --------------------------------------------------

// Door makes a REST family's mutating routes (POST, PUT, PATCH, DELETE)
// keyed: Middleware, after authentication.
type Door struct {
	Client       *ent.Client
	MaxBodyBytes int64 // a larger body is not keyed (the route refuses it)
	// Refuse answers a *Refusal in the family's error format.
	Refuse func(w http.ResponseWriter, r *http.Request, e *Refusal)
	// Fail answers an error of looking up or storing an answer (the
	// family's 500, or 503 when the database is away).
	Fail func(w http.ResponseWriter, r *http.Request, err error)
	// Extra, when set, gives one more key of a request (Tradevest's
	// Requestor-ID), nil when it has none.
	Extra func(r *http.Request, caller string, body []byte) *Key
	// InFlight is the set of keys in flight the door shares (nil: the
	// process's, shared by every door; tests give replicas their own).
	InFlight *InFlight
}

// Mutating reports whether method is one whose requests are keyed.
func Mutating(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// Middleware serves a keyed mutating request: the stored answer when it
// was answered before; otherwise the route, whose transaction
// (restcore.InTx) is committed with the route's answer. Other requests
// (reads, requests without a key, anonymous callers, bodies above
// MaxBodyBytes) go to the route as they are.
func (d Door) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !Mutating(r.Method) {
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		caller := Caller(ctx)
		vals := r.Header.Values(Header)
		if caller == "" || (len(vals) == 0 && d.Extra == nil) {
			next.ServeHTTP(w, r)
			return
		}
		key, err := ParseKey(vals)
		if err != nil {
			d.Refuse(w, r, err.(*Refusal))
			return
		}
		body, ok, timedOut := readBody(r, d.MaxBodyBytes)
		if timedOut {
			// The body did not arrive before the read deadline, which is
			// after the request's own: the route could not even look up
			// its bank with the expired context (a 503 or OBP-50000).
			refusal.Write(w, r, refusal.BodyTimeout())
			return
		}
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		var keys []Key
		if key != "" {
			keys = append(keys, IdempotencyKey(caller, key))
		}
		if d.Extra != nil {
			if k := d.Extra(r, caller, body); k != nil {
				keys = append(keys, *k)
			}
		}
		if len(keys) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		inFlight := d.InFlight
		if inFlight == nil {
			inFlight = process
		}
		q, ans, err := begin(ctx, inFlight, d.Client, keys, Fingerprint(r, body))
		if d.answered(w, r, ans, err) {
			return
		}
		defer q.Close()
		rec := &recorder{header: w.Header().Clone(), status: http.StatusOK}
		next.ServeHTTP(rec, r.WithContext(NewContext(ctx, q)))
		mine := Answer{Status: rec.status, Header: map[string]string{}, Body: rec.body.Bytes()}
		for _, k := range replayedHeaders {
			if v := rec.header.Get(k); v != "" {
				mine.Header[k] = v
			}
		}
		if !q.Changed() && rec.status >= 400 {
			// Refused, or failed: when that is because another replica
			// did the same request meanwhile, its answer is the answer.
			if ans, err := q.Settled(ctx); ans != nil && d.answered(w, r, ans, err) {
				return
			}
		}
		ans, err = q.Commit(ctx, mine)
		if d.answered(w, r, ans, err) {
			return
		}
		rec.flush(w)
	})
}

// answered writes a stored answer or an error, and reports whether it did.
func (d Door) answered(w http.ResponseWriter, r *http.Request, ans *Answer, err error) bool {
	var refusal *Refusal
	switch {
	case errors.As(err, &refusal):
		if refusal.Status == http.StatusConflict {
			w.Header().Set("Retry-After", "1")
		}
		d.Refuse(w, r, refusal)
	case err != nil:
		d.Fail(w, r, err)
	case ans != nil:
		ans.Write(w)
	default:
		return false
	}
	return true
}

// readBody reads r's body (at most limit bytes) and puts it back for the
// route; false when it is larger (the route refuses it as it is).
func readBody(r *http.Request, limit int64) (body []byte, ok, timedOut bool) {
	if limit <= 0 {
		limit = 1 << 20
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	r.Body = readCloser{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
	var netErr net.Error
	return body, err == nil && int64(len(body)) <= limit, errors.As(err, &netErr) && netErr.Timeout()
}

// readCloser reads the bytes read ahead, then what is left of the body.
type readCloser struct {
	io.Reader
	rest io.Closer
}

func (rc readCloser) Close() error { return rc.rest.Close() }

// recorder keeps a route's answer until it is stored.
type recorder struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (rec *recorder) Header() http.Header { return rec.header }

func (rec *recorder) WriteHeader(status int) {
	if !rec.wrote {
		rec.status, rec.wrote = status, true
	}
}

func (rec *recorder) Write(b []byte) (int, error) {
	rec.WriteHeader(http.StatusOK)
	return rec.body.Write(b)
}

func (rec *recorder) flush(w http.ResponseWriter) {
	h := w.Header()
	for k := range h {
		if _, ok := rec.header[k]; !ok {
			delete(h, k)
		}
	}
	for k, v := range rec.header {
		h[k] = v
	}
	w.WriteHeader(rec.status)
	_, _ = w.Write(rec.body.Bytes())
}

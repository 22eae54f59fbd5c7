// Package refusal answers the requests custgraph does not serve, whatever
// door they came through, in that door's own error format: a caller over
// its rate limit or its concurrency bound (429), a body too large (413),
// of the wrong media type (415) or not sent in time (408), the database
// unreachable (503).
//
// Each door (GraphQL, each REST family, the OAuth token endpoint, OBP's
// DirectLogin) declares its Writer once, with Door, at the top of its
// routes; whatever refuses a request below it (the rate limiter, the
// concurrency limiter, authentication, a handler) calls Write, which sets
// Retry-After and hands the Refusal to the door's Writer. Without a door,
// Write answers a plain JSON body {"error": "…", "message": "…"}.
package refusal

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"custgraph/internal/apperr"
)

// The codes of refusals (GraphQL's extensions.code; the REST families
// translate them).
const (
	RateLimited          = "RATE_LIMITED"
	TooManyConcurrent    = "TOO_MANY_CONCURRENT_REQUESTS"
	TooLarge             = "REQUEST_TOO_LARGE"
	UnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
	Unavailable          = string(apperr.Unavailable)
	NotImplemented       = "NOT_IMPLEMENTED"
	RequestTimeout       = "REQUEST_TIMEOUT"
)

// UnavailableRetryAfter is the Retry-After of an outage's 503: long enough
// for a restarting database, short enough that clients come back soon.
const UnavailableRetryAfter = 5 * time.Second

// Refusal is one refused request.
type Refusal struct {
	Status  int    // 408, 413, 415, 429, 501 or 503
	Code    string // one of the codes above
	Message string // for people: what was refused, and what to do
	// RetryAfter, when positive, is sent as Retry-After (whole seconds,
	// rounded up, at least 1).
	RetryAfter time.Duration
}

// RateLimitedAfter is the refusal of a caller over its rate limit.
func RateLimitedAfter(d time.Duration) *Refusal {
	return &Refusal{Status: http.StatusTooManyRequests, Code: RateLimited, RetryAfter: d,
		Message: fmt.Sprintf("too many requests; retry after %d seconds", Seconds(d))}
}

// TooManyConcurrentAfter is the refusal of a caller with too many requests
// in flight (or of any caller, when the server has too many).
func TooManyConcurrentAfter(d time.Duration) *Refusal {
	return &Refusal{Status: http.StatusTooManyRequests, Code: TooManyConcurrent, RetryAfter: d,
		Message: fmt.Sprintf("too many requests at once; retry after %d seconds", Seconds(d))}
}

// BodyTooLarge is the refusal of a body above limit bytes.
func BodyTooLarge(limit int64) *Refusal {
	return &Refusal{Status: http.StatusRequestEntityTooLarge, Code: TooLarge,
		Message: fmt.Sprintf("the body is larger than %d bytes", limit)}
}

// WrongMediaType is the refusal of a body of another media type than want.
func WrongMediaType(want string) *Refusal {
	return &Refusal{Status: http.StatusUnsupportedMediaType, Code: UnsupportedMediaType,
		Message: "the body must be " + want + " (Content-Type: " + want + ")"}
}

// BodyTimeout is the refusal of a request whose body did not arrive before
// the server's read deadline (408).
func BodyTimeout() *Refusal {
	return &Refusal{Status: http.StatusRequestTimeout, Code: RequestTimeout, Message: "the body did not arrive in time"}
}

// MethodNotImplemented is the refusal of a request method no route serves
// (501; answered before routing, so in the plain format of no door).
func MethodNotImplemented(method string) *Refusal {
	return &Refusal{Status: http.StatusNotImplemented, Code: NotImplemented,
		Message: fmt.Sprintf("the method %q is not implemented here", method)}
}

// DatabaseUnavailable is the answer of a request the database could not
// serve (apperr.Unavailable).
func DatabaseUnavailable() *Refusal {
	return &Refusal{Status: http.StatusServiceUnavailable, Code: Unavailable, RetryAfter: UnavailableRetryAfter,
		Message: "the database is unavailable: retry later"}
}

// DatabaseUnavailableBecause is DatabaseUnavailable with the message the
// store gave the failure (apperr.Unavailable's): a transaction rolled back
// for a concurrent one's sake says so ("…: retry it"), as GraphQL's answer
// does.
func DatabaseUnavailableBecause(message string) *Refusal {
	f := DatabaseUnavailable()
	if message != "" {
		f.Message = message
	}
	return f
}

// Seconds is d as Retry-After's delay-seconds: rounded up, at least 1.
func Seconds(d time.Duration) int { return max(1, int((d+time.Second-1)/time.Second)) }

// Writer writes a refusal in one door's format. Retry-After is set already.
type Writer func(w http.ResponseWriter, r *http.Request, f *Refusal)

type doorKey struct{}

// Door makes write the writer of every refusal of the requests below it.
func Door(write Writer) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), doorKey{}, write)))
		})
	}
}

// Write answers f in the format of r's door: Retry-After first, then the
// door's body (a plain JSON body where no Door was declared).
func Write(w http.ResponseWriter, r *http.Request, f *Refusal) {
	SetRetryAfter(w, f)
	if write, ok := r.Context().Value(doorKey{}).(Writer); ok {
		write(w, r, f)
		return
	}
	Plain(w, r, f)
}

// SetRetryAfter sets f's Retry-After header, if it has one.
func SetRetryAfter(w http.ResponseWriter, f *Refusal) {
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(Seconds(f.RetryAfter)))
	}
}

// Plain is the Writer of requests outside every door:
// {"error": "rate_limited", "message": "…"}.
func Plain(w http.ResponseWriter, _ *http.Request, f *Refusal) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": strings.ToLower(f.Code), "message": f.Message})
}

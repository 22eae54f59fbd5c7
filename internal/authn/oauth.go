package authn

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"custgraph/ent"
	"custgraph/internal/apperr"
	"custgraph/internal/observe"
	"custgraph/internal/refusal"
	"custgraph/internal/store"
)

// The paths where custgraph serves the endpoints of this package; the
// discovery document names the token endpoint and the JWK Set by them.
const (
	TokenPath           = "/oauth/token"
	JWKSPath            = "/.well-known/jwks.json"
	DiscoveryPath       = "/.well-known/oauth-authorization-server" // RFC 8414
	OpenIDDiscoveryPath = "/.well-known/openid-configuration"       // the same document, where OpenID clients look
	DirectLoginPath     = "/my/logins/direct"
)

// maxFormBody bounds the body of a token request.
const maxFormBody = 64 << 10

// oauthError is an error answer of the token endpoint (RFC 6749 §5.2).
type oauthError struct {
	status      int
	Code        string `json:"error"`
	Description string `json:"error_description"`
	basic       bool   // the client authenticated with HTTP Basic: challenge it
	retryAfter  time.Duration
}

func oauthFail(status int, code, format string, args ...any) *oauthError {
	return &oauthError{status: status, Code: code, Description: fmt.Sprintf(format, args...)}
}

// badRequest is an invalid_request error.
func badRequest(format string, args ...any) *oauthError {
	return oauthFail(http.StatusBadRequest, "invalid_request", format, args...)
}

// badClient is an invalid_client error: client authentication failed.
func badClient(basic bool, description string) *oauthError {
	e := oauthFail(http.StatusUnauthorized, "invalid_client", "%s", description)
	e.basic = basic
	return e
}

// retryLater is the answer to an account locked by failed attempts
// (throttle.go): 429 with Retry-After.
func retryLater(d time.Duration) *oauthError {
	e := oauthFail(http.StatusTooManyRequests, "invalid_client",
		"too many failed attempts for this client: try again in %d s", retrySeconds(d))
	e.retryAfter = d
	return e
}

// oauthRefusal is a refusal in RFC 6749's error format (§5.2): a body too
// large (413) or not a form (415) is invalid_request; too many requests
// (429) and the database unreachable (503) are temporarily_unavailable
// (RFC 6749 §4.1.2.1's code for a server that cannot handle the request
// now), each with Retry-After.
func oauthRefusal(f *refusal.Refusal) *oauthError {
	code := "invalid_request"
	if f.Status == http.StatusTooManyRequests || f.Status >= 500 {
		code = "temporarily_unavailable"
	}
	e := oauthFail(f.Status, code, "%s", f.Message)
	e.retryAfter = f.RetryAfter
	return e
}

// WriteOAuthRefusal is the token endpoint's refusal.Writer (the rate and
// concurrency limits in front of it): RFC 6749's error body.
func WriteOAuthRefusal(w http.ResponseWriter, _ *http.Request, f *refusal.Refusal) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, f.Status, oauthRefusal(f))
}

// retrySeconds is d in whole seconds, rounded up, at least 1.
func retrySeconds(d time.Duration) int { return max(1, int((d+time.Second-1)/time.Second)) }

// tokenResponse is the token endpoint's success answer (RFC 6749 §5.1).
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

// TokenHandler serves POST /oauth/token: the OAuth 2.0 client-credentials
// grant (RFC 6749 §4.4). The client authenticates with HTTP Basic
// (client_secret_basic, id and secret form-urlencoded first, §2.3.1) or
// with client_id and client_secret in the form body (client_secret_post);
// parameters in the URL are ignored. custgraph defines no scopes: a
// non-empty scope parameter is refused with invalid_scope rather than
// silently ignored, so that a client never believes it got a narrower
// token than it did.
func (s *Service) TokenHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
		var resp tokenResponse
		cl, e := s.clientGrant(w, r)
		if e == nil {
			var err error
			if resp.AccessToken, resp.ExpiresIn, err = s.Issue(ClientSubject(cl)); err != nil {
				e = oauthFail(http.StatusInternalServerError, "server_error", "the token could not be issued")
				if store.Report(r.Context(), s.log, err, "issuing a token", "client_id", cl.ClientID).Code == apperr.Unavailable {
					e = oauthRefusal(refusal.DatabaseUnavailable())
				}
			}
		}
		if e != nil {
			switch {
			case e.status == http.StatusMethodNotAllowed:
				h.Set("Allow", http.MethodPost)
			case e.basic:
				h.Set("WWW-Authenticate", `Basic realm="`+realm+`"`)
			}
			if e.retryAfter > 0 {
				h.Set("Retry-After", strconv.Itoa(retrySeconds(e.retryAfter)))
			}
			writeJSON(w, e.status, e)
			return
		}
		resp.TokenType = "Bearer"
		writeJSON(w, http.StatusOK, resp)
	})
}

// clientGrant checks a token request and authenticates its client.
func (s *Service) clientGrant(w http.ResponseWriter, r *http.Request) (*ent.APIClient, *oauthError) {
	if r.Method != http.MethodPost {
		return nil, oauthFail(http.StatusMethodNotAllowed, "invalid_request", "the token endpoint takes POST")
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, oauthRefusal(refusal.WrongMediaType("application/x-www-form-urlencoded"))
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBody))
	if tooLarge := new(http.MaxBytesError); errors.As(err, &tooLarge) {
		return nil, oauthRefusal(refusal.BodyTooLarge(maxFormBody))
	}
	if err != nil {
		return nil, badRequest("the body is unreadable")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, badRequest("the body is not a valid form")
	}
	for k, v := range form {
		if len(v) > 1 {
			return nil, badRequest("the parameter %q is repeated", k)
		}
	}
	// Parameters sent without a value count as omitted (RFC 6749 §3.2).
	switch grant := form.Get("grant_type"); grant {
	case "client_credentials":
	case "":
		return nil, badRequest("grant_type is missing")
	default:
		return nil, oauthFail(http.StatusBadRequest, "unsupported_grant_type", "the only grant type is client_credentials")
	}
	if form.Get("scope") != "" {
		return nil, oauthFail(http.StatusBadRequest, "invalid_scope", "custgraph defines no scopes: omit the scope parameter")
	}
	id, secret, basic, e := clientCredentials(r.Header, form)
	if e != nil {
		return nil, e
	}
	ctx := r.Context()
	unexpected := func(what string, err error) *oauthError {
		// The database unreachable, or too slow to answer before the
		// request's time ran out: the client may retry (503), as at every
		// other door; only a fault of the server is a 500.
		if e := store.Report(ctx, s.log, err, what, "client_id", accountName(id)); e.Code == apperr.Unavailable || e.Code == apperr.Timeout {
			return oauthRefusal(refusal.DatabaseUnavailable())
		}
		return oauthFail(http.StatusInternalServerError, "server_error", "the client could not be authenticated")
	}
	account := clientAccount(id)
	wait, recorded, err := s.throttle.wait(ctx, account)
	switch {
	case err != nil:
		return nil, unexpected("reading the client's failed attempts", err)
	case wait > 0:
		observe.FromContext(ctx).AuthFailed(observe.AuthLocked)
		s.log.InfoContext(ctx, "client authentication refused: too many failed attempts", "client_id", accountName(id))
		return nil, retryLater(wait)
	}
	cl, err := s.consumer(ctx, id)
	if err != nil && !ent.IsNotFound(err) {
		return nil, unexpected("loading a client", err)
	}
	hash := ""
	if cl != nil {
		hash = cl.SecretHash
	}
	// One hash computation whether the client exists or not.
	if ok := CheckSecret(secret, hash); !ok || cl.Disabled {
		lock, err := s.throttle.failed(ctx, account)
		if err != nil {
			return nil, unexpected("counting a failed attempt", err)
		}
		observe.FromContext(ctx).AuthFailed(observe.AuthInvalidClient)
		s.log.InfoContext(ctx, "client authentication failed", "client_id", accountName(id),
			"known", cl != nil, "secret_ok", ok, "locked_for", lock)
		return nil, badClient(basic, "client authentication failed")
	}
	if recorded {
		if err := s.throttle.succeeded(ctx, account); err != nil {
			return nil, unexpected("clearing the client's failed attempts", err)
		}
	}
	return cl, nil
}

// clientCredentials returns the client's id and secret, from the HTTP
// Basic credentials or from the form, and whether they came by Basic.
func clientCredentials(h http.Header, form url.Values) (id, secret string, basic bool, e *oauthError) {
	authz := h.Values(headerAuthorization)
	formID, formSecret := form.Get("client_id"), form.Get("client_secret")
	switch {
	case len(authz) > 1:
		return "", "", false, badRequest("repeated Authorization header")
	case len(authz) == 0 && (formID == "" || formSecret == ""):
		return "", "", false, badClient(false, "client authentication is required: HTTP Basic, or client_id and client_secret")
	case len(authz) == 0:
		return formID, formSecret, false, nil
	}
	scheme, cred, _ := strings.Cut(strings.TrimSpace(authz[0]), " ")
	if !strings.EqualFold(scheme, "Basic") {
		return "", "", false, badClient(false, "unsupported client authentication method: use HTTP Basic or client_secret_post")
	}
	if formSecret != "" {
		return "", "", true, badRequest("use one client authentication method, not both HTTP Basic and client_secret")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	user, pass, ok := strings.Cut(string(raw), ":")
	if err == nil && ok {
		id, err = url.QueryUnescape(user)
	}
	if err == nil && ok {
		secret, err = url.QueryUnescape(pass)
	}
	switch {
	case err != nil || !ok || id == "":
		return "", "", true, badClient(true, "malformed HTTP Basic credentials")
	case formID != "" && formID != id:
		return "", "", true, badRequest("client_id differs from the HTTP Basic credentials")
	}
	return id, secret, true, nil
}

// JWKSHandler serves GET /.well-known/jwks.json: the public keys that
// verify custgraph's tokens (RFC 7517), the signing key first. With keys
// in the database, it reloads them first (at most every ten seconds), so
// that a key another replica made is published.
func (s *Service) JWKSHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !readOnly(w, r) {
			return
		}
		if err := s.keys.refresh(r.Context()); err != nil {
			s.log.WarnContext(r.Context(), "reloading the signing keys failed", "err", err)
		}
		keys := s.keys.current()
		set := struct {
			Keys []publicJWK `json:"keys"`
		}{Keys: make([]publicJWK, len(keys))}
		for i, k := range keys {
			set.Keys[i] = k.jwk
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		writeJSON(w, http.StatusOK, set)
	})
}

// metadata is the discovery document (RFC 8414 §2).
type metadata struct {
	Issuer            string   `json:"issuer"`
	TokenEndpoint     string   `json:"token_endpoint"`
	JWKSURI           string   `json:"jwks_uri"`
	ResponseTypes     []string `json:"response_types_supported"` // none: there is no authorization endpoint
	GrantTypes        []string `json:"grant_types_supported"`
	TokenEndpointAuth []string `json:"token_endpoint_auth_methods_supported"`
}

// DiscoveryHandler serves the authorization server metadata (RFC 8414),
// at DiscoveryPath and OpenIDDiscoveryPath: the configured issuer, and
// URLs built on Config.PublicURL, never on the request's Host or
// X-Forwarded-* headers (which any client can set, and a cache in front
// would then serve to everyone). Without a PublicURL there is no document
// (404).
func (s *Service) DiscoveryHandler() http.Handler {
	base := strings.TrimSuffix(s.cfg.PublicURL, "/")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !readOnly(w, r) {
			return
		}
		if base == "" {
			writeJSON(w, http.StatusNotFound, map[string]string{
				"error": "not_found", "error_description": "no public URL is configured (--public-url)"})
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		writeJSON(w, http.StatusOK, metadata{
			Issuer:            s.cfg.Issuer,
			TokenEndpoint:     base + TokenPath,
			JWKSURI:           base + JWKSPath,
			ResponseTypes:     []string{},
			GrantTypes:        []string{"client_credentials"},
			TokenEndpointAuth: []string{"client_secret_basic", "client_secret_post"},
		})
	})
}

// readOnly answers 405 to a request that is not GET or HEAD.
func readOnly(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

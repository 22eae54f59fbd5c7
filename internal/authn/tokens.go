package authn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"golang.org/x/time/rate"

	"custgraph/ent"
	"custgraph/ent/apiclient"
	"custgraph/ent/predicate"
	"custgraph/ent/user"
	"custgraph/internal/access"
	"custgraph/internal/apperr"
	"custgraph/internal/notify"
	"custgraph/internal/observe"
	"custgraph/internal/store"
)

// Config configures a Service. The zero value is usable: custgraph's own
// tokens, signed with keys kept in the database.
type Config struct {
	// Issuer is the iss of custgraph's tokens; default "custgraph".
	Issuer string
	// Audience is the aud of custgraph's tokens, which every token it
	// accepts must carry; default "custgraph".
	Audience string
	// TokenTTL is the lifetime of the tokens custgraph issues; default 15
	// minutes.
	TokenTTL time.Duration
	// KeyFiles are PEM files of EC P-256 private keys. The first signs; all
	// verify and are published. Empty: the keys are kept in the database.
	KeyFiles []string
	// External, when set, also accepts the tokens of an OpenID Connect
	// provider.
	External *External
	// PublicURL is custgraph's external base URL (e.g.
	// https://api.example.com), on which the discovery document builds its
	// URLs; empty: no discovery document.
	PublicURL string
	// Now is the clock; default time.Now. Tests set it.
	Now func() time.Time
	// Logger logs refused credentials and failures; default slog.Default().
	Logger *slog.Logger
	// CheckTimeout bounds the check of a request's credentials (Middleware),
	// which may load the caller from the database: the request's own
	// timeout starts after it. 0: no bound but the request's context.
	CheckTimeout time.Duration
	// Hub signals committed changes of callers (store.DB.Hub). With it,
	// verified tokens and loaded callers are cached (cache.go); without it,
	// every request loads its caller.
	Hub *notify.Hub
}

// External is an OpenID Connect provider whose access tokens custgraph
// accepts. A token's sub must be some User's external_subject or, failing
// that, some APIClient's.
type External struct {
	// Issuer is the iss of the provider's tokens, exactly.
	Issuer string
	// Audience is the aud the provider's tokens must carry (custgraph's
	// identifier at the provider). Required: without it, a token the
	// provider issued to any other application would be accepted.
	Audience string
	// JWKSURL is the URL of the provider's JWK Set.
	JWKSURL string
	// RefreshInterval is how often the JWK Set is fetched again; default
	// one hour. A token signed with an unknown kid fetches it at once, at
	// most every 30 seconds (the provider rotated its keys).
	RefreshInterval time.Duration
}

const (
	defaultName = "custgraph" // default issuer and audience
	defaultTTL  = 15 * time.Minute
	// leeway is the clock skew tolerated on exp, nbf and iat.
	leeway = 30 * time.Second
	// maxTokenLen refuses absurdly long tokens before parsing them.
	maxTokenLen = 16 << 10
	// externalRefreshMin is the least time between two fetches of the
	// external JWK Set caused by unknown kids; externalRefreshWait bounds
	// how long such a fetch (and the wait for it) may take.
	externalRefreshMin  = 30 * time.Second
	externalRefreshWait = 10 * time.Second
	// realm is the realm of the WWW-Authenticate challenges.
	realm = "custgraph"
)

// externalAlgs are the algorithms accepted from the external issuer: the
// asymmetric ones providers use. HMAC and "none" are never accepted.
var externalAlgs = []string{"RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"}

// Service issues and verifies tokens and serves the token endpoints. It is
// safe for concurrent use.
type Service struct {
	cfg  Config
	db   *ent.Client
	keys *keyring
	own  *jwt.Parser // custgraph's tokens
	ext  *jwt.Parser // the external issuer's tokens; nil when none
	jwks keyfunc.Keyfunc
	log  *slog.Logger
	// cache keeps verified tokens and loaded callers (cache.go); nil
	// without a Hub.
	cache *cache
	// throttle slows down the guessing of secrets (throttle.go).
	throttle *throttle
}

// New returns a service. It reads the key files or loads (and, the first
// time, creates) the database's signing key, and fetches the external
// issuer's JWK Set when one is configured; ctx bounds that start-up work
// and the lifetime of the background refresh of the external JWK Set, so
// pass the server's context, not a start-up timeout's.
func New(ctx context.Context, db *ent.Client, cfg Config) (*Service, error) {
	if cfg.Issuer == "" {
		cfg.Issuer = defaultName
	}
	if cfg.Audience == "" {
		cfg.Audience = defaultName
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = defaultTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.PublicURL != "" {
		u, err := url.Parse(cfg.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("authn: the public URL %q must be an absolute http(s) URL without query or fragment", cfg.PublicURL)
		}
	}
	if cfg.External != nil {
		x := *cfg.External // a copy the caller cannot change
		switch {
		case x.Issuer == "" || x.Audience == "" || x.JWKSURL == "":
			return nil, errors.New("authn: the external issuer needs Issuer, Audience and JWKSURL")
		case x.Issuer == cfg.Issuer:
			return nil, fmt.Errorf("authn: the external issuer cannot be custgraph's own issuer %q", x.Issuer)
		}
		cfg.External = &x
	}
	keys, err := newKeyring(ctx, db, cfg.KeyFiles, cfg.Now, cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("authn: %w", err)
	}
	s := &Service{
		cfg: cfg, db: db, keys: keys, log: cfg.Logger,
		own:      newParser(cfg.Now, []string{ownAlg}, cfg.Issuer, cfg.Audience),
		throttle: &throttle{db: db, now: cfg.Now},
	}
	if cfg.Hub != nil {
		s.cache = newCache(cfg.Hub, cfg.Now)
	}
	if x := cfg.External; x != nil {
		if s.jwks, err = newJWKS(ctx, *x, cfg.Logger); err != nil {
			return nil, fmt.Errorf("authn: the external issuer's keys: %w", err)
		}
		s.ext = newParser(cfg.Now, externalAlgs, x.Issuer, x.Audience)
	}
	return s, nil
}

// newParser returns a strict JWT parser: only algs, the issuer and audience
// required and checked, expiry required, iat not in the future.
func newParser(now func() time.Time, algs []string, iss, aud string) *jwt.Parser {
	return jwt.NewParser(jwt.WithValidMethods(algs), jwt.WithIssuer(iss), jwt.WithAudience(aud),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(leeway), jwt.WithTimeFunc(now))
}

// newJWKS returns the external issuer's keys, fetched now (a failure is
// logged, and the fetch retried on the first token), refreshed every
// RefreshInterval in the background and on an unknown kid.
func newJWKS(ctx context.Context, x External, log *slog.Logger) (keyfunc.Keyfunc, error) {
	if x.RefreshInterval <= 0 {
		x.RefreshInterval = time.Hour
	}
	return keyfunc.NewDefaultOverrideCtx(ctx, []string{x.JWKSURL}, keyfunc.Override{
		RefreshInterval:   x.RefreshInterval,
		RefreshUnknownKID: rate.NewLimiter(rate.Every(externalRefreshMin), 1),
		RateLimitWaitMax:  externalRefreshWait,
		RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
			return func(ctx context.Context, err error) {
				log.WarnContext(ctx, "fetching the external issuer's JWK Set failed", "url", u, "err", err)
			}
		},
	})
}

// ownClaims are the claims of custgraph's tokens.
type ownClaims struct {
	jwt.RegisteredClaims
	// Kind is the kind of caller: "client" or "user".
	Kind access.Kind `json:"cgk"`
	// AZP (authorized party) is, in a user's token, the client_id of the
	// client the user logged in through.
	AZP string `json:"azp,omitempty"`
	// CallerID is the caller's id (a client's sub is its client_id, which
	// a deleted and re-created client shares with its predecessor).
	CallerID uuid.UUID `json:"cid"`
	// Generation is the caller's credential_generation when the token was
	// issued: a new secret or password moves it on, and the token dies.
	Generation int `json:"cgg"`
}

// Subject is whom a token is issued to.
type Subject struct {
	Kind       access.Kind
	ID         uuid.UUID // the APIClient's or User's id
	ClientID   string    // a client's client_id
	Consumer   string    // for a user, the client_id of the client it logged in through
	Generation int       // the caller's credential_generation
}

// ClientSubject is the subject of a token for cl.
func ClientSubject(cl *ent.APIClient) Subject {
	return Subject{Kind: access.KindClient, ID: cl.ID, ClientID: cl.ClientID, Generation: cl.CredentialGeneration}
}

// UserSubject is the subject of a token for u, logged in through the
// client whose client_id is consumer.
func UserSubject(u *ent.User, consumer string) Subject {
	return Subject{Kind: access.KindUser, ID: u.ID, Consumer: consumer, Generation: u.CredentialGeneration}
}

// Issue returns a token for a caller. expiresIn is the token's lifetime in
// seconds. Issue does not check that the caller exists: its callers have.
func (s *Service) Issue(sub Subject) (token string, expiresIn int, err error) {
	subject, azp := sub.ClientID, ""
	if sub.Kind == access.KindUser {
		subject, azp = sub.ID.String(), sub.Consumer
	}
	valid := sub.ID != uuid.Nil && sub.Generation >= 0 &&
		(sub.Kind == access.KindClient && sub.ClientID != "" && sub.Consumer == "" ||
			sub.Kind == access.KindUser && sub.Consumer != "" && sub.ClientID == "")
	if !valid {
		return "", 0, fmt.Errorf("authn: cannot issue a token for %+v", sub)
	}
	now := s.cfg.Now()
	t := jwt.NewWithClaims(jwt.SigningMethodES256, ownClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.cfg.Issuer,
			Subject:   subject,
			Audience:  jwt.ClaimStrings{s.cfg.Audience},
			ExpiresAt: jwt.NewNumericDate(now.Add(s.cfg.TokenTTL)),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        uuid.NewString(),
		},
		Kind:       sub.Kind,
		AZP:        azp,
		CallerID:   sub.ID,
		Generation: sub.Generation,
	})
	key := s.keys.signer()
	t.Header["kid"] = key.kid()
	if token, err = t.SignedString(key.priv); err != nil {
		return "", 0, fmt.Errorf("authn: signing a token: %w", err)
	}
	return token, int(s.cfg.TokenTTL / time.Second), nil
}

// The RFC 6750 error codes of an AuthError.
const (
	CodeInvalidRequest = "invalid_request" // malformed credentials: several, empty, unparsable
	CodeInvalidToken   = "invalid_token"   // a token that is expired, forged, not ours, or whose caller is gone
)

// AuthError refuses a request's credentials. Its Error is Description, a
// message safe to show the caller; the cause, for the logs and tests, is
// in its chain (Unwrap).
type AuthError struct {
	Code        string // CodeInvalidToken or CodeInvalidRequest
	Description string
	cause       error
}

func (e *AuthError) Error() string { return e.Description }

// Unwrap returns the cause of the refusal.
func (e *AuthError) Unwrap() error { return e.cause }

func invalidToken(description string, cause error) *AuthError {
	return &AuthError{Code: CodeInvalidToken, Description: description, cause: cause}
}

func invalidRequest(description string) *AuthError {
	return &AuthError{Code: CodeInvalidRequest, Description: description}
}

// errUnavailable is returned instead of an error that is not the caller's
// doing (the database failing), which is logged.
var errUnavailable = &apperr.Error{Code: apperr.Internal, Message: "the credentials could not be checked"}

// errTooSlow: the database did not answer the check of the credentials in
// time. The doors answer it as they answer the database being unreachable
// (503, Retry-After).
var errTooSlow = &apperr.Error{Code: apperr.Unavailable, Message: "the database did not answer in time: retry later"}

// errNoCaller is the cause of refusing a token whose caller does not exist.
var errNoCaller = errors.New("no such caller")

// tokenError describes why the JWT library refused a token.
func tokenError(err error) *AuthError {
	d := "the access token is invalid"
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		d = "malformed access token"
	case errors.Is(err, jwt.ErrTokenUnverifiable): // the keyfunc found no key
		d = "the access token's signing key is unknown"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		d = "the access token's signature is invalid"
	case errors.Is(err, jwt.ErrTokenExpired):
		d = "the access token has expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		d = "the access token is not valid yet"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		d = "the access token is meant for another audience"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		d = "the access token lacks a required claim"
	}
	return invalidToken(d, err)
}

// Verify checks a token and returns its caller's viewer, loaded from the
// database. A refused token gives an *AuthError; any other error is the
// server's (it has been logged).
func (s *Service) Verify(ctx context.Context, token string) (*access.Viewer, error) {
	v, err := s.verify(ctx, token)
	if err != nil {
		return nil, s.failed(ctx, err)
	}
	return v, nil
}

// failed logs err: a refusal for the security log, any other error as the
// server's failure, which it replaces with errUnavailable (or, when the
// database could not be reached, with an UNAVAILABLE *apperr.Error).
func (s *Service) failed(ctx context.Context, err error) error {
	var ae *AuthError
	if errors.As(err, &ae) {
		observe.FromContext(ctx).AuthFailed(ae.Code) // invalid_token, invalid_request
		s.log.InfoContext(ctx, "credentials refused", "reason", ae.Description, "cause", ae.cause,
			"request_id", middleware.GetReqID(ctx))
		return ae
	}
	// INTERNAL is logged; the database being unreachable is noted for the
	// request's one log line and answered 503 by the door.
	switch e := store.Report(ctx, s.log, err, "checking credentials failed", "request_id", middleware.GetReqID(ctx)); e.Code {
	case apperr.Unavailable:
		return e
	case apperr.Timeout: // (CheckTimeout, or the request's: a lock held, a stalled connection)
		return errTooSlow
	}
	return errUnavailable
}

func (s *Service) verify(ctx context.Context, raw string) (*access.Viewer, error) {
	if len(raw) > maxTokenLen {
		return nil, invalidToken("malformed access token", fmt.Errorf("%d bytes long", len(raw)))
	}
	// A token of ours this replica verified already is not parsed again: its
	// claims are cached (by the token's hash) until it expires.
	if c, ok := s.cache.token(raw); ok {
		return s.ownViewer(ctx, c)
	}
	// The unverified issuer only chooses the keys and rules to check with.
	var peek jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(raw, &peek); err != nil {
		return nil, tokenError(err)
	}
	switch {
	case peek.Issuer == s.cfg.Issuer:
		return s.verifyOwn(ctx, raw)
	case s.ext != nil && peek.Issuer == s.cfg.External.Issuer:
		return s.verifyExternal(ctx, raw)
	}
	return nil, invalidToken("unknown token issuer", fmt.Errorf("iss %q", peek.Issuer))
}

func (s *Service) verifyOwn(ctx context.Context, raw string) (*access.Viewer, error) {
	var c ownClaims
	var failure error // the database failing while looking for the key
	_, err := s.own.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		pub, err := s.keys.publicKey(ctx, kid)
		if err != nil {
			if !errors.Is(err, errUnknownKey) {
				failure = err
			}
			return nil, err
		}
		return pub, nil
	})
	switch {
	case failure != nil:
		return nil, failure
	case err != nil:
		return nil, tokenError(err)
	}
	s.cache.keepToken(raw, c)
	return s.ownViewer(ctx, c)
}

// ownViewer is the caller of a verified token of ours, as of now (the
// caller cache, evicted on every replica by every change of a caller).
func (s *Service) ownViewer(ctx context.Context, c ownClaims) (*access.Viewer, error) {
	var (
		e   *callerEntry
		err error
	)
	what := "client"
	switch {
	case c.CallerID == uuid.Nil: // tokens of custgraph before credential generations
		return nil, invalidToken("the access token is invalid", errors.New("no cid"))
	case c.Kind == access.KindClient && c.AZP == "":
		e, err = s.cache.caller(callerKey{kind: access.KindClient, by: "client_id", subject: c.Subject},
			func() (*callerEntry, error) { return s.loadClient(ctx, apiclient.ClientID(c.Subject)) })
	case c.Kind == access.KindUser && c.AZP != "" && c.Subject == c.CallerID.String():
		what = "user"
		e, err = s.cache.caller(callerKey{kind: access.KindUser, by: "id", subject: c.Subject, consumer: c.AZP},
			func() (*callerEntry, error) { return s.loadUser(ctx, user.ID(c.CallerID), c.AZP) })
	default:
		return nil, invalidToken("the access token is invalid", fmt.Errorf("cgk %q, sub %q, azp %q, cid %s", c.Kind, c.Subject, c.AZP, c.CallerID))
	}
	if err != nil {
		return nil, err
	}
	switch {
	case e.viewer.ID != c.CallerID:
		// The client was deleted, and another made under its client_id.
		return nil, invalidToken("the token's "+what+" does not exist", fmt.Errorf("cid %s, now %s", c.CallerID, e.viewer.ID))
	case e.generation != c.Generation:
		return nil, invalidToken("the access token was revoked: the "+what+"'s credentials changed",
			fmt.Errorf("generation %d, now %d", c.Generation, e.generation))
	case e.disabled != "":
		return nil, invalidToken("the token's "+e.disabled+" is disabled", nil)
	}
	return e.viewer.Copy(), nil
}

// verifyExternal checks a token of the external issuer, whose sub names a
// user or, failing that, an API client by its external_subject.
func (s *Service) verifyExternal(ctx context.Context, raw string) (*access.Viewer, error) {
	var c jwt.RegisteredClaims
	if cached, ok := s.cache.token(raw); ok {
		c = cached.RegisteredClaims
	} else {
		if _, err := s.ext.ParseWithClaims(raw, &c, s.jwks.KeyfuncCtx(ctx)); err != nil {
			return nil, tokenError(err)
		}
		if c.Subject == "" {
			return nil, tokenError(jwt.ErrTokenRequiredClaimMissing)
		}
		s.cache.keepToken(raw, ownClaims{RegisteredClaims: c})
	}
	if !possibleText(c.Subject, maxSubjectLen) {
		return nil, invalidToken("the token's subject is not a custgraph caller", fmt.Errorf("impossible subject (%d bytes)", len(c.Subject)))
	}
	e, err := s.cache.caller(callerKey{by: "external", subject: c.Subject}, func() (*callerEntry, error) {
		e, err := s.loadUser(ctx, user.ExternalSubject(c.Subject), "")
		if errors.Is(err, errNoCaller) {
			e, err = s.loadClient(ctx, apiclient.ExternalSubject(c.Subject))
		}
		return e, err
	})
	if errors.Is(err, errNoCaller) {
		return nil, invalidToken("the token's subject is not a custgraph caller", fmt.Errorf("unknown subject %q", c.Subject))
	}
	if err != nil {
		return nil, err
	}
	if e.disabled != "" {
		return nil, invalidToken("the token's "+e.disabled+" is disabled", nil)
	}
	return e.viewer.Copy(), nil
}

// checkCaller turns the error of loading a caller into a refusal (what is
// the kind of caller) or the server's failure.
func checkCaller(what string, err error) error {
	switch {
	case ent.IsNotFound(err):
		return invalidToken("the token's "+what+" does not exist", errNoCaller)
	case err != nil:
		return fmt.Errorf("loading the token's %s: %w", what, err)
	}
	return nil
}

// loadClient loads an API client and its entitlements (two queries).
func (s *Service) loadClient(ctx context.Context, where predicate.APIClient) (*callerEntry, error) {
	cl, err := s.db.APIClient.Query().Where(where).WithEntitlements().Only(access.System(ctx))
	if err := checkCaller("client", err); err != nil {
		return nil, err
	}
	e := &callerEntry{
		viewer:     access.NewViewer(access.KindClient, cl.ID, cl.ClientID, cl.BankID, grants(cl.Edges.Entitlements)),
		generation: cl.CredentialGeneration,
		deps:       []uuid.UUID{cl.ID},
	}
	if cl.Disabled {
		e.disabled = "client"
	}
	return e, nil
}

// loadUser loads a user and its entitlements (two queries) and, when it
// logged in through a client (consumer, its client_id), that client (one
// more), whose binding to a bank binds the user and whose being disabled
// disables the user's token.
func (s *Service) loadUser(ctx context.Context, where predicate.User, consumer string) (*callerEntry, error) {
	var (
		bank     *uuid.UUID
		deps     []uuid.UUID
		disabled string
	)
	if consumer != "" {
		cl, err := s.consumer(ctx, consumer)
		if err := checkCaller("client", err); err != nil {
			return nil, err
		}
		bank, deps = cl.BankID, []uuid.UUID{cl.ID}
		if cl.Disabled {
			disabled = "client"
		}
	}
	u, err := s.db.User.Query().Where(where).WithEntitlements().Only(access.System(ctx))
	if err := checkCaller("user", err); err != nil {
		return nil, err
	}
	if u.Disabled {
		disabled = "user"
	}
	return &callerEntry{
		viewer:     access.NewViewer(access.KindUser, u.ID, u.Username, bank, grants(u.Edges.Entitlements)),
		generation: u.CredentialGeneration,
		disabled:   disabled,
		deps:       append(deps, u.ID),
	}, nil
}

// errImpossibleName is the answer of a look-up by a name no caller can
// have (possibleName, throttle.go): not found, without asking the
// database, which may refuse the name.
var errImpossibleName = fmt.Errorf("authn: no caller can have this name: %w", &ent.NotFoundError{})

// consumer loads the API client whose client_id is clientID.
func (s *Service) consumer(ctx context.Context, clientID string) (*ent.APIClient, error) {
	if !possibleName(clientID) {
		return nil, errImpossibleName
	}
	return s.db.APIClient.Query().Where(apiclient.ClientID(clientID)).Only(access.System(ctx))
}

// userNamed loads the user whose username is username.
func (s *Service) userNamed(ctx context.Context, username string) (*ent.User, error) {
	if !possibleName(username) {
		return nil, errImpossibleName
	}
	return s.db.User.Query().Where(user.Username(username)).Only(access.System(ctx))
}

func grants(es []*ent.Entitlement) []access.Grant {
	out := make([]access.Grant, 0, len(es))
	for _, e := range es {
		g := access.Grant{Role: access.Role(e.RoleName)}
		if e.BankID != nil {
			g.Bank = *e.BankID
		}
		out = append(out, g)
	}
	return out
}

// Request headers.
const (
	headerAuthorization = "Authorization"
	headerDirectLogin   = "DirectLogin" // OBP's own header: DirectLogin: token="…"
	headerRequestorID   = "Requestor-ID"
)

// Authenticate returns the viewer of a request's credentials: nil and no
// error when the request carries none (an Authorization header of another
// scheme, or DirectLogin login parameters, count as none); an *AuthError
// when they are refused; any other error is the server's failure (it has
// been logged; answer 500). The viewer gets the request's Requestor-ID
// header and request id (chi's middleware.RequestID).
func (s *Service) Authenticate(r *http.Request) (*access.Viewer, error) {
	ctx := r.Context()
	token, err := credential(r.Header)
	if err != nil {
		return nil, s.failed(ctx, err)
	}
	if token == "" {
		return nil, nil
	}
	v, err := s.Verify(ctx, token)
	if err != nil {
		return nil, err
	}
	v.RequestorID = r.Header.Get(headerRequestorID)
	v.RequestID = middleware.GetReqID(ctx)
	return v, nil
}

// authenticateInTime is Authenticate within the CheckTimeout: the caller
// it loads (a caller new to this replica, or every caller while the
// replica's listener is down) is bounded like the rest of the request,
// which the request timeout after this middleware does not cover.
func (s *Service) authenticateInTime(r *http.Request) (*access.Viewer, error) {
	if s.cfg.CheckTimeout <= 0 {
		return s.Authenticate(r)
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.CheckTimeout)
	defer cancel()
	return s.Authenticate(r.WithContext(ctx))
}

// credential finds the access token of a request: "Authorization: Bearer
// <t>", "Authorization: DirectLogin token=<t>" or "DirectLogin: token=<t>".
// It returns "" when there is none, and an error when the request presents
// several or an empty one (RFC 6750 §2: one method only).
func credential(h http.Header) (string, error) {
	authz, dl := h.Values(headerAuthorization), h.Values(headerDirectLogin)
	if len(authz) > 1 || len(dl) > 1 {
		return "", invalidRequest("repeated Authorization or DirectLogin header")
	}
	var tokens []string
	add := func(params string) error {
		p, err := parseParams(params)
		if err != nil {
			return invalidRequest("malformed DirectLogin parameters")
		}
		if t, ok := p["token"]; ok {
			tokens = append(tokens, t)
		}
		return nil
	}
	for _, v := range authz {
		scheme, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
		switch {
		case strings.EqualFold(scheme, "Bearer"):
			tokens = append(tokens, strings.TrimSpace(rest))
		case strings.EqualFold(scheme, "DirectLogin"):
			if err := add(rest); err != nil {
				return "", err
			}
		}
	}
	for _, v := range dl {
		if err := add(trimScheme(v)); err != nil {
			return "", err
		}
	}
	switch {
	case len(tokens) == 0:
		return "", nil
	case len(tokens) > 1:
		return "", invalidRequest("more than one access token")
	case tokens[0] == "":
		return "", invalidRequest("empty access token")
	}
	return tokens[0], nil
}

// trimScheme removes a "DirectLogin " prefix some clients repeat in the
// DirectLogin header.
func trimScheme(v string) string {
	v = strings.TrimSpace(v)
	if scheme, rest, ok := strings.Cut(v, " "); ok && strings.EqualFold(scheme, "DirectLogin") {
		return rest
	}
	return v
}

// Challenge sets the WWW-Authenticate headers of a 401 answer: the Bearer
// challenge, with the RFC 6750 error and description when err is an
// *AuthError, and, as OBP does, the DirectLogin one.
func (s *Service) Challenge(w http.ResponseWriter, err error) {
	bearer := `Bearer realm="` + realm + `"`
	var ae *AuthError
	if errors.As(err, &ae) {
		bearer += `, error="` + ae.Code + `", error_description="` + headerSafe(ae.Description) + `"`
	}
	w.Header().Add("WWW-Authenticate", bearer)
	w.Header().Add("WWW-Authenticate", `DirectLogin realm="`+realm+`"`)
}

// headerSafe keeps the characters RFC 6750 allows in error_description.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, s)
}

// Middleware authenticates each request (see Authenticate). Valid
// credentials put their viewer in the request's context (access.NewContext);
// a request without credentials goes on unchanged, anonymous (what an
// anonymous caller may do is the handler's business); refused credentials,
// or a failure to check them, go to onError instead of the handler. onError
// must answer: 401 for an *AuthError (Challenge sets its headers), 503 for
// an UNAVAILABLE *apperr.Error (the database unreachable), 500 otherwise.
func (s *Service) Middleware(onError func(w http.ResponseWriter, r *http.Request, err error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			v, err := s.authenticateInTime(r)
			switch {
			case err != nil:
				onError(w, r, err)
			case v == nil:
				next.ServeHTTP(w, r)
			default:
				observe.FromContext(r.Context()).SetCaller(string(v.Kind), v.Name) // for the request's log lines
				next.ServeHTTP(w, r.WithContext(access.NewContext(r.Context(), v)))
			}
		})
	}
}

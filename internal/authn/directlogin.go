package authn

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"custgraph/ent"
	"custgraph/internal/apperr"
	"custgraph/internal/observe"
	"custgraph/internal/refusal"
	"custgraph/internal/store"
)

// OBP's messages (obp-api, code/api/util/ErrorMessages.scala).
const (
	obpMissingParameters  = "OBP-20002: These DirectLogin parameters are missing: "
	obpInvalidCredentials = "OBP-20004: Invalid login credentials. Check username/password."
	obpInvalidConsumerKey = "OBP-20008: Invalid Consumer Key."
	obpInvalidParameters  = "OBP-20012: Invalid direct login parameters"
	obpLocked             = "OBP-20009: The account has been locked, please contact Administrator! Too many failed attempts: try again in "
	obpUnexpected         = "OBP-50015: The server encountered an unexpected condition which prevented it from fulfilling the request."
	obpUnavailable        = "OBP-50019: Cannot connect to the OBP database." // as rest/obp answers an outage
)

// obpError is OBP's error body; Code is the HTTP status.
type obpError struct {
	Code       int    `json:"code"`
	Message    string `json:"message"`
	retryAfter time.Duration
}

// DirectLoginHandler serves OBP's POST /my/logins/direct. The parameters
// username, password and consumer_key (an API client's client_id) come in
// the header "DirectLogin: username=…, password=…, consumer_key=…" or
// "Authorization: DirectLogin username=…, …"; values may be quoted. The
// answer is 201 {"token": "<jwt>"}, a user token naming the client as azp,
// or an OBP error: 400 OBP-20002 (missing parameters, listed) or OBP-20012
// (unparsable ones), 401 OBP-20008 (unknown or disabled client) or
// OBP-20004 (wrong username or password, disabled user, user without a
// password).
func (s *Service) DirectLoginHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		token, e := s.directLogin(r)
		if e != nil {
			switch e.Code {
			case http.StatusMethodNotAllowed:
				h.Set("Allow", http.MethodPost)
			case http.StatusUnauthorized:
				h.Set("WWW-Authenticate", `DirectLogin realm="`+realm+`"`)
			}
			if e.retryAfter > 0 {
				h.Set("Retry-After", strconv.Itoa(retrySeconds(e.retryAfter)))
			}
			writeJSON(w, e.Code, e)
			return
		}
		writeJSON(w, http.StatusCreated, struct {
			Token string `json:"token"`
		}{token})
	})
}

func (s *Service) directLogin(r *http.Request) (string, *obpError) {
	if r.Method != http.MethodPost {
		return "", &obpError{Code: http.StatusMethodNotAllowed, Message: "Method Not Allowed: DirectLogin takes POST"}
	}
	p, err := loginParams(r.Header)
	if err != nil {
		return "", &obpError{Code: http.StatusBadRequest, Message: obpInvalidParameters}
	}
	var missing []string
	for _, k := range []string{"username", "password", "consumer_key"} {
		if p[k] == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return "", &obpError{Code: http.StatusBadRequest, Message: obpMissingParameters + strings.Join(missing, ", ")}
	}
	ctx := r.Context()
	unexpected := func(what string, err error) *obpError {
		if c := store.Report(ctx, s.log, err, "DirectLogin: "+what).Code; c == apperr.Unavailable || c == apperr.Timeout { // (as oauth.go)
			return &obpError{Code: http.StatusServiceUnavailable, retryAfter: refusal.UnavailableRetryAfter,
				Message: obpUnavailable + " The database is unavailable: retry later."}
		}
		return &obpError{Code: http.StatusInternalServerError, Message: obpUnexpected}
	}
	consumer, err := s.consumer(ctx, p["consumer_key"])
	switch {
	case ent.IsNotFound(err) || err == nil && consumer.Disabled:
		observe.FromContext(ctx).AuthFailed(observe.AuthInvalidLogin)
		s.log.InfoContext(ctx, "DirectLogin refused: unknown or disabled consumer", "consumer_key", accountName(p["consumer_key"]))
		return "", &obpError{Code: http.StatusUnauthorized, Message: obpInvalidConsumerKey}
	case err != nil:
		return "", unexpected("loading the consumer", err)
	}
	account := userAccount(p["username"])
	wait, recorded, err := s.throttle.wait(ctx, account)
	switch {
	case err != nil:
		return "", unexpected("reading the user's failed attempts", err)
	case wait > 0:
		observe.FromContext(ctx).AuthFailed(observe.AuthLocked)
		s.log.InfoContext(ctx, "DirectLogin refused: too many failed attempts", "username", accountName(p["username"]))
		return "", &obpError{Code: http.StatusTooManyRequests, retryAfter: wait,
			Message: obpLocked + strconv.Itoa(retrySeconds(wait)) + " s"}
	}
	u, err := s.userNamed(ctx, p["username"])
	if err != nil && !ent.IsNotFound(err) {
		return "", unexpected("loading the user", err)
	}
	hash := ""
	if u != nil {
		hash = u.PasswordHash
	}
	// One hash computation whether the user exists or not.
	if ok := CheckSecret(p["password"], hash); !ok || u.Disabled {
		lock, err := s.throttle.failed(ctx, account)
		if err != nil {
			return "", unexpected("counting a failed attempt", err)
		}
		observe.FromContext(ctx).AuthFailed(observe.AuthInvalidLogin)
		s.log.InfoContext(ctx, "DirectLogin refused: invalid credentials", "username", accountName(p["username"]),
			"known", u != nil, "password_ok", ok, "locked_for", lock)
		return "", &obpError{Code: http.StatusUnauthorized, Message: obpInvalidCredentials}
	}
	if recorded {
		if err := s.throttle.succeeded(ctx, account); err != nil {
			return "", unexpected("clearing the user's failed attempts", err)
		}
	}
	token, _, err := s.Issue(UserSubject(u, consumer.ClientID))
	if err != nil {
		return "", unexpected("issuing a token", err)
	}
	return token, nil
}

// loginParams returns the DirectLogin parameters of a request, from the
// DirectLogin header or an Authorization header of the DirectLogin scheme
// (not both); none when there are none.
func loginParams(h http.Header) (map[string]string, error) {
	var sources []string
	for _, v := range h.Values(headerAuthorization) {
		if scheme, rest, _ := strings.Cut(strings.TrimSpace(v), " "); strings.EqualFold(scheme, "DirectLogin") {
			sources = append(sources, rest)
		}
	}
	for _, v := range h.Values(headerDirectLogin) {
		sources = append(sources, trimScheme(v))
	}
	switch len(sources) {
	case 0:
		return map[string]string{}, nil
	case 1:
		return parseParams(sources[0])
	}
	return nil, errors.New("more than one set of DirectLogin parameters")
}

// parseParams parses DirectLogin parameters: name=value pairs separated by
// commas, with optional spaces around; a value is quoted ("…", in which \"
// and \\ stand for " and \; any other backslash is itself) or runs to the
// next comma. A repeated name is an error.
func parseParams(s string) (map[string]string, error) {
	out := map[string]string{}
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return out, nil
		}
		name, rest, ok := strings.Cut(s, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t,\"") {
			return nil, errors.New("malformed DirectLogin parameter")
		}
		var value string
		if rest = strings.TrimLeft(rest, " \t"); strings.HasPrefix(rest, `"`) {
			var err error
			if value, rest, err = unquote(rest[1:]); err != nil {
				return nil, err
			}
			if rest = strings.TrimLeft(rest, " \t"); rest != "" && rest[0] != ',' {
				return nil, fmt.Errorf("DirectLogin parameter %s: text after the quoted value", name)
			}
		} else {
			value, rest, _ = strings.Cut(rest, ",")
			value = strings.TrimSpace(value)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("DirectLogin parameter %s is repeated", name)
		}
		out[name] = value
		s = rest
	}
}

// unquote reads a quoted value up to its closing quote; s follows the
// opening one. It returns the value and what follows the closing quote.
func unquote(s string) (value, rest string, err error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return b.String(), s[i+1:], nil
		case c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\'):
			i++
			b.WriteByte(s[i])
		default:
			b.WriteByte(c)
		}
	}
	return "", "", errors.New("unterminated quoted DirectLogin value")
}

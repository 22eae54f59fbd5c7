package rest_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/stretchr/testify/require"

	"custgraph/internal/admin"
	"custgraph/rest"
)

// The tests in this file check what a partner needs to bootstrap a client
// from the served document alone: where the server is, how to get a token
// (the OAuth 2.0 client-credentials scheme and its token URL, DirectLogin
// as OBP clients send it, the two token operations), and, on every
// operation, the answers a client must handle (429 and 503 with
// Retry-After, in the family's error format; Idempotency-Key on every
// change). The linter run on the served document is e2e's TestOpenAPILint.

// jsonDoc is a decoded OpenAPI document.
type jsonDoc map[string]any

func decodeDoc(t *testing.T, b []byte) jsonDoc {
	t.Helper()
	var d jsonDoc
	require.NoError(t, json.Unmarshal(b, &d))
	return d
}

// at returns the value at a JSON pointer ("#/components/…").
func (d jsonDoc) at(t *testing.T, pointer string) any {
	t.Helper()
	var v any = map[string]any(d)
	for _, part := range strings.Split(strings.TrimPrefix(pointer, "#/"), "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		if a, ok := v.([]any); ok {
			i, err := strconv.Atoi(part)
			require.True(t, err == nil && i >= 0 && i < len(a), "%s: no item %q", pointer, part)
			v = a[i]
			continue
		}
		m, ok := v.(map[string]any)
		require.True(t, ok, "%s: %q is not in an object", pointer, part)
		v, ok = m[part]
		require.True(t, ok, "%s: no %q", pointer, part)
	}
	return v
}

// obj is the object v, its $ref followed.
func (d jsonDoc) obj(t *testing.T, v any) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	require.True(t, ok, "%v is not an object", v)
	if ref, ok := m["$ref"].(string); ok {
		return d.obj(t, d.at(t, ref))
	}
	return m
}

// str is the string at pointer.
func (d jsonDoc) str(t *testing.T, pointer string) string {
	t.Helper()
	s, ok := d.at(t, pointer).(string)
	require.True(t, ok, "%s is not a string", pointer)
	return s
}

// TestOpenAPIBootstrap checks the document's server, security schemes,
// license and contact, with and without a public URL, and validates the
// document served with one.
func TestOpenAPIBootstrap(t *testing.T) {
	relative, err := rest.OpenAPI()
	require.NoError(t, err)
	public, err := rest.OpenAPIFor("https://api.bank.example/custgraph/")
	require.NoError(t, err)

	for _, c := range []struct {
		name, server, tokenURL string
		doc                    []byte
	}{
		{"no public URL", "/", "/oauth/token", relative},
		{"--public-url https://api.bank.example/custgraph/", "https://api.bank.example/custgraph", "https://api.bank.example/custgraph/oauth/token", public},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := decodeDoc(t, c.doc)
			servers, ok := d["servers"].([]any)
			require.True(t, ok)
			require.Len(t, servers, 1)
			require.Equal(t, c.server, d.str(t, "#/servers/0/url"))

			require.Equal(t, "oauth2", d.str(t, "#/components/securitySchemes/oauth2/type"))
			require.Equal(t, c.tokenURL, d.str(t, "#/components/securitySchemes/oauth2/flows/clientCredentials/tokenUrl"))
			require.Empty(t, d.at(t, "#/components/securitySchemes/oauth2/flows/clientCredentials/scopes"))
			// DirectLogin as OBP clients send it: Authorization:
			// DirectLogin token="…".
			require.Equal(t, "apiKey", d.str(t, "#/components/securitySchemes/directLogin/type"))
			require.Equal(t, "header", d.str(t, "#/components/securitySchemes/directLogin/in"))
			require.Equal(t, "Authorization", d.str(t, "#/components/securitySchemes/directLogin/name"))
			require.Contains(t, d.str(t, "#/components/securitySchemes/directLogin/description"), `Authorization: DirectLogin token="`)
			require.Equal(t, "http", d.str(t, "#/components/securitySchemes/bearer/type"))
			require.Equal(t, "bearer", d.str(t, "#/components/securitySchemes/bearer/scheme"))
			require.Equal(t, "basic", d.str(t, "#/components/securitySchemes/clientBasic/scheme"))

			require.NotEmpty(t, d.str(t, "#/info/license/name"))
			require.NotEmpty(t, d.str(t, "#/info/license/identifier"))
			require.NotEmpty(t, d.str(t, "#/info/contact/name"))
		})
	}

	// The document with a public URL is a valid OpenAPI 3.1 document too.
	doc, err := libopenapi.NewDocument(public)
	require.NoError(t, err)
	v, errs := validator.NewValidator(doc)
	require.Empty(t, errs)
	ok, verrs := v.ValidateDocument()
	for _, e := range verrs {
		t.Errorf("OpenAPI document with a public URL: %s", e.Error())
	}
	require.True(t, ok)
}

// notMutating are the operations sent with POST that change nothing: no
// Idempotency-Key (the token endpoints issue a new token each time; the
// customer-number lookup is a read).
var notMutating = []string{"oauthToken", "obpDirectLogin", "obpGetCustomerByCustomerNumber"}

// TestOpenAPIEveryOperation checks every operation's contract: an
// operationId and declared tags, security, every response with a
// description and every error with its JSON error schema, 429 and 503
// with Retry-After, and on every change the Idempotency-Key header with
// its 400, 409 and 422.
func TestOpenAPIEveryOperation(t *testing.T) {
	b, err := rest.OpenAPI()
	require.NoError(t, err)
	d := decodeDoc(t, b)
	var tags []string
	for _, tag := range d.at(t, "#/tags").([]any) {
		tags = append(tags, tag.(map[string]any)["name"].(string))
	}
	operations, withKey := 0, 0
	for p, item := range d.at(t, "#/paths").(map[string]any) {
		for method, o := range item.(map[string]any) {
			route := strings.ToUpper(method) + " " + p
			op := d.obj(t, o)
			operations++
			id, _ := op["operationId"].(string)
			require.NotEmpty(t, id, route)
			opTags, _ := op["tags"].([]any)
			require.NotEmpty(t, opTags, "%s has no tag", route)
			for _, tag := range opTags {
				require.Contains(t, tags, tag, "%s: tag %v is not declared", route, tag)
			}
			require.Contains(t, op, "security", "%s: say who may call it", route)

			responses := op["responses"].(map[string]any)
			for status, r := range responses {
				resp := d.obj(t, r)
				require.NotEmpty(t, resp["description"], "%s %s has no description", route, status)
				if status[0] < '4' {
					continue
				}
				content, _ := resp["content"].(map[string]any)
				require.Contains(t, content, "application/json", "%s %s: an error has a JSON body", route, status)
				schema := content["application/json"].(map[string]any)["schema"].(map[string]any)
				ref, _ := schema["$ref"].(string)
				require.Contains(t, []string{
					"#/components/schemas/BsaiError",
					"#/components/schemas/TvErrorMessage",
					"#/components/schemas/ObpCustError",
					"#/components/schemas/OAuthError",
				}, ref, "%s %s: an error has its family's error schema", route, status)
			}
			for status, required := range map[string]bool{"429": true, "503": false} {
				require.Contains(t, responses, status, route)
				headers, _ := d.obj(t, responses[status])["headers"].(map[string]any)
				require.Contains(t, headers, "Retry-After", "%s %s", route, status)
				h := d.obj(t, headers["Retry-After"])
				got, _ := h["required"].(bool)
				require.Equal(t, required, got, "%s %s: Retry-After required", route, status)
				require.Equal(t, "integer", d.obj(t, h["schema"])["type"], "%s %s: Retry-After is delay-seconds", route, status)
			}

			var params []string
			list, _ := op["parameters"].([]any)
			for _, prm := range list {
				prm := d.obj(t, prm)
				params = append(params, prm["in"].(string)+" "+prm["name"].(string))
			}
			if method == "get" || slices.Contains(notMutating, id) {
				require.NotContains(t, params, "header Idempotency-Key", route)
				continue
			}
			withKey++
			require.Contains(t, params, "header Idempotency-Key", "%s changes data: it takes an Idempotency-Key", route)
			for _, status := range []string{"400", "409", "422"} {
				require.Contains(t, responses, status, "%s: the Idempotency-Key's %s", route, status)
			}
			inProgress, _ := d.obj(t, responses["409"])["headers"].(map[string]any)
			require.Contains(t, inProgress, "Retry-After", "%s 409: a key in progress says when to retry", route)
			for status, r := range responses {
				if status[0] == '2' {
					headers, _ := d.obj(t, r)["headers"].(map[string]any)
					require.Contains(t, headers, "Idempotent-Replayed", "%s %s: a replayed answer is marked", route, status)
				}
			}
		}
	}
	require.Equal(t, 53, operations, "operations described (the 50 REST routes, the change feed and the two token endpoints)")
	require.Equal(t, 26, withKey, "operations with an Idempotency-Key")

	key := d.obj(t, d.at(t, "#/components/parameters/IdempotencyKey"))
	require.Equal(t, "Idempotency-Key", key["name"])
	require.Equal(t, false, key["required"])
	for _, want := range []string{"24 hours", "422", "409", "400", "Idempotent-Replayed"} {
		require.Contains(t, key["description"], want)
	}
}

// TestOpenAPITokenEndpoints sends the token endpoints the requests a
// client generated from the document sends, and their usual mistakes; the
// requests are checked against the document, and every answer is (by
// env.send, as every REST answer).
func TestOpenAPITokenEndpoints(t *testing.T) {
	e := newEnv(t)
	v, err := openAPIValidator()
	require.NoError(t, err)
	id, secret := "client-"+uuid.NewString()[:8], "secret-"+uuid.NewString()
	_, _, err = admin.CreateClient(e.sys, e.db.Client, admin.ClientInput{ClientID: id, Name: id, Secret: secret})
	require.NoError(t, err)
	u, err := e.db.Client.User.Create().SetUsername("openapi.user").Save(e.sys)
	require.NoError(t, err)

	token := func(form url.Values, basic string, contentType string) reply {
		req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth/token", strings.NewReader(form.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", contentType)
		if basic != "" {
			req.Header.Set("Authorization", "Basic "+basic)
		}
		return e.send(t, req)
	}
	form := "application/x-www-form-urlencoded"
	basic := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id) + ":" + url.QueryEscape(secret)))

	// The two documented ways to authenticate the client.
	for name, res := range map[string]reply{
		"HTTP Basic":         token(url.Values{"grant_type": {"client_credentials"}}, basic, form),
		"client_secret_post": token(url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}, "", form),
	} {
		require.Equal(t, http.StatusOK, res.status, "%s: %s", name, res.body)
		require.Equal(t, "no-store", res.header.Get("Cache-Control"), name)
		var tok struct {
			AccessToken string `json:"access_token"`
			TokenType   string `json:"token_type"`
			ExpiresIn   int    `json:"expires_in"`
		}
		res.decode(t, &tok)
		require.Equal(t, "Bearer", tok.TokenType)
		require.Positive(t, tok.ExpiresIn)
		// The token works as the bearer scheme says.
		got := e.call(t, http.MethodGet, "/obp/v3.1.0/users/current", "Bearer "+tok.AccessToken, nil)
		require.Equal(t, http.StatusOK, got.status, "%s", got.body)
	}

	// Its documented errors (RFC 6749 §5.2), each checked against the
	// document by send.
	for _, c := range []struct {
		name   string
		form   url.Values
		basic  string
		ctype  string
		status []int
		code   string
	}{
		{"no grant_type", url.Values{"client_id": {id}, "client_secret": {secret}}, "", form, []int{400}, "invalid_request"},
		{"another grant", url.Values{"grant_type": {"password"}}, basic, form, []int{400}, "unsupported_grant_type"},
		{"a scope", url.Values{"grant_type": {"client_credentials"}, "scope": {"customers"}}, basic, form, []int{400}, "invalid_scope"},
		{"no credentials", url.Values{"grant_type": {"client_credentials"}}, "", form, []int{401}, "invalid_client"},
		{"a wrong secret", url.Values{"grant_type": {"client_credentials"}}, base64.StdEncoding.EncodeToString([]byte(id + ":nope")), form, []int{401}, "invalid_client"},
		{"JSON", nil, basic, "application/json", []int{400, 415}, "invalid_request"},
	} {
		res := token(c.form, c.basic, c.ctype)
		require.Contains(t, c.status, res.status, "%s: %s", c.name, res.body)
		require.Equal(t, c.code, res.object(t)["error"], c.name)
		if c.basic != "" && res.status == http.StatusUnauthorized {
			require.Equal(t, `Basic realm="custgraph"`, res.header.Get("WWW-Authenticate"), c.name)
		}
	}

	// DirectLogin, with the parameters in the documented DirectLogin
	// header: the request is what the document describes.
	_, err = admin.SetPassword(e.sys, e.db.Client, u.ID, "pw-openapi-long-enough")
	require.NoError(t, err)
	login := func(header, value string) reply {
		req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/my/logins/direct", nil)
		require.NoError(t, err)
		req.Header.Set(header, value)
		if header == "DirectLogin" {
			ok, errs := v.ValidateHttpRequest(req)
			for _, e := range errs {
				t.Errorf("DirectLogin request: %s", e.Error())
			}
			require.True(t, ok)
		}
		return e.send(t, req)
	}
	params := `username="openapi.user", password="pw-openapi-long-enough", consumer_key="` + id + `"`
	for _, header := range []string{"DirectLogin", "Authorization"} {
		value := params
		if header == "Authorization" {
			value = "DirectLogin " + params
		}
		res := login(header, value)
		require.Equal(t, http.StatusCreated, res.status, "%s: %s", header, res.body)
		var tok struct {
			Token string `json:"token"`
		}
		res.decode(t, &tok)
		// The directLogin scheme: Authorization: DirectLogin token="…".
		got := e.call(t, http.MethodGet, "/obp/v3.1.0/users/current", `DirectLogin token="`+tok.Token+`"`, nil)
		require.Equal(t, http.StatusOK, got.status, "%s", got.body)
	}
	for _, c := range []struct {
		value  string
		status int
		prefix string
	}{
		{`username="openapi.user", password="pw-openapi-long-enough"`, 400, "OBP-20002"},
		{`username="openapi.user", password="pw-openapi-long-enough", consumer_key="nobody"`, 401, "OBP-20008"},
		{`username="openapi.user", password="wrong", consumer_key="` + id + `"`, 401, "OBP-20004"},
	} {
		res := login("DirectLogin", c.value)
		require.Equal(t, c.status, res.status, "%s", res.body)
		m := res.object(t)
		require.Equal(t, float64(c.status), m["code"])
		require.True(t, strings.HasPrefix(m["message"].(string), c.prefix), "%s", res.body)
		if c.status == http.StatusUnauthorized {
			require.Equal(t, `DirectLogin realm="custgraph"`, res.header.Get("WWW-Authenticate"))
		}
	}
}

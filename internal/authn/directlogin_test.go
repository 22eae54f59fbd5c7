package authn_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"custgraph/internal/access"
	"custgraph/internal/authn"
	"custgraph/internal/store"
)

// login calls DirectLogin with the given header lines (name, value, …).
func login(s *authn.Service, method string, headers ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, authn.DirectLoginPath, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	s.DirectLoginHandler().ServeHTTP(w, r)
	return w
}

func TestDirectLogin(t *testing.T) {
	f := newFixture(t)
	s := f.service(authn.Config{})
	bank := f.bank("gh.29.uk")
	obp := f.client("obp-app", &bank)
	f.client("free-app", nil)
	alice := f.user("alice")
	g1 := f.grant(nil, &alice.ID, access.CanGetCustomer, &bank)
	g2 := f.grant(nil, &alice.ID, access.CanCreateBank, nil)

	// A consumer bound to a bank binds the user to it.
	w := login(s, http.MethodPost, "DirectLogin", `username="alice", password="`+testPassword+`", consumer_key="obp-app"`)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	assert.Equal(t, "application/json; charset=utf-8", w.Header().Get("Content-Type"))
	body := decode[map[string]string](t, w)
	require.Len(t, body, 1, w.Body.String())
	token := body["token"]

	header, claims := inspect(t, token)
	assert.Equal(t, "ES256", header["alg"])
	assert.Equal(t, alice.ID.String(), claims["sub"])
	assert.Equal(t, "obp-app", claims["azp"])
	assert.Equal(t, "user", claims["cgk"])
	assert.Equal(t, float64(900), claims["exp"].(float64)-claims["iat"].(float64))

	for _, h := range [][]string{
		{"Authorization", `DirectLogin token="` + token + `"`},
		{"DirectLogin", `token="` + token + `"`},
		{"Authorization", "Bearer " + token},
	} {
		// One query for the consumer, two for the user and its entitlements.
		ctx, count := store.WithCounter(context.Background())
		v, err := s.Authenticate(request(h...).WithContext(ctx))
		require.NoError(t, err, h)
		sameViewer(t, v, access.KindUser, alice.ID, "alice", &bank, g1, g2)
		assert.Equal(t, int64(3), count.N())
	}

	// Through an unbound consumer, with the parameters unquoted in the Authorization header.
	w = login(s, http.MethodPost, "Authorization", "DirectLogin username=alice,password="+testPassword+",consumer_key=free-app")
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	v, err := s.Verify(context.Background(), decode[map[string]string](t, w)["token"])
	require.NoError(t, err)
	sameViewer(t, v, access.KindUser, alice.ID, "alice", nil, g1, g2)

	// Quotes and backslashes in a quoted password.
	odd := `pa"ss\word, "quoted"`
	hash, err := authn.HashSecret(odd)
	require.NoError(t, err)
	dave := f.db.Client.User.Create().SetUsername("dave").SetPasswordHash(hash).SaveX(f.ctx)
	w = login(s, http.MethodPost, "DirectLogin", `username="dave",password="pa\"ss\\word, \"quoted\"",consumer_key="free-app"`)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	_, claims = inspect(t, decode[map[string]string](t, w)["token"])
	assert.Equal(t, dave.ID.String(), claims["sub"])

	// The token dies with its consumer or its user.
	f.db.Client.APIClient.UpdateOne(obp).SetDisabled(true).ExecX(f.ctx)
	_, err = s.Verify(context.Background(), token)
	refused(t, err, authn.CodeInvalidToken, "the token's client is disabled")
	f.db.Client.APIClient.UpdateOne(obp).SetDisabled(false).ExecX(f.ctx)
	f.db.Client.User.UpdateOne(alice).SetDisabled(true).ExecX(f.ctx)
	_, err = s.Verify(context.Background(), token)
	refused(t, err, authn.CodeInvalidToken, "the token's user is disabled")
	f.db.Client.User.DeleteOne(alice).ExecX(f.ctx)
	_, err = s.Verify(context.Background(), token)
	refused(t, err, authn.CodeInvalidToken, "the token's user does not exist")
	forged, _, err := s.Issue(authn.Subject{Kind: access.KindUser, ID: uuid.New(), Consumer: "nobody-app"})
	require.NoError(t, err)
	_, err = s.Verify(context.Background(), forged)
	refused(t, err, authn.CodeInvalidToken, "the token's client does not exist")
}

func TestDirectLoginErrors(t *testing.T) {
	f := newFixture(t)
	s := f.service(authn.Config{})
	f.client("obp-app", nil)
	off := f.client("off-app", nil)
	f.db.Client.APIClient.UpdateOne(off).SetDisabled(true).ExecX(f.ctx)
	f.user("alice")
	bob := f.user("bob")
	f.db.Client.User.UpdateOne(bob).SetDisabled(true).ExecX(f.ctx)
	f.db.Client.User.Create().SetUsername("carol").ExecX(f.ctx) // no password: logs in elsewhere

	params := func(user, password, consumer string) string {
		return `username="` + user + `", password="` + password + `", consumer_key="` + consumer + `"`
	}
	const (
		credentials = "OBP-20004: Invalid login credentials. Check username/password."
		consumerKey = "OBP-20008: Invalid Consumer Key."
		invalid     = "OBP-20012: Invalid direct login parameters"
		missing     = "OBP-20002: These DirectLogin parameters are missing: "
	)
	for _, tc := range []struct {
		name    string
		method  string
		headers []string
		status  int
		message string
	}{
		{"GET", http.MethodGet, []string{"DirectLogin", params("alice", testPassword, "obp-app")}, 405,
			"Method Not Allowed: DirectLogin takes POST"},
		{"no header", http.MethodPost, nil, 400, missing + "username, password, consumer_key"},
		{"bearer header only", http.MethodPost, []string{"Authorization", "Bearer abc"}, 400, missing + "username, password, consumer_key"},
		{"no password", http.MethodPost, []string{"DirectLogin", `username="alice", consumer_key="obp-app"`}, 400, missing + "password"},
		{"empty values", http.MethodPost, []string{"DirectLogin", params("", "", "obp-app")}, 400, missing + "username, password"},
		{"unterminated quote", http.MethodPost, []string{"DirectLogin", `username="alice, password="x", consumer_key="obp-app`}, 400, invalid},
		{"repeated parameter", http.MethodPost, []string{"DirectLogin", params("alice", testPassword, "obp-app") + `, username="bob"`}, 400, invalid},
		{"no value", http.MethodPost, []string{"DirectLogin", `username, password="x", consumer_key="obp-app"`}, 400, invalid},
		{"both headers", http.MethodPost, []string{"DirectLogin", params("alice", testPassword, "obp-app"),
			"Authorization", "DirectLogin " + params("alice", testPassword, "obp-app")}, 400, invalid},
		{"unknown consumer", http.MethodPost, []string{"DirectLogin", params("alice", testPassword, "nobody-app")}, 401, consumerKey},
		{"disabled consumer", http.MethodPost, []string{"DirectLogin", params("alice", testPassword, "off-app")}, 401, consumerKey},
		{"wrong password", http.MethodPost, []string{"DirectLogin", params("alice", testPassword+"!", "obp-app")}, 401, credentials},
		{"unknown user", http.MethodPost, []string{"DirectLogin", params("zed", testPassword, "obp-app")}, 401, credentials},
		{"disabled user", http.MethodPost, []string{"DirectLogin", params("bob", testPassword, "obp-app")}, 401, credentials},
		{"user without a password", http.MethodPost, []string{"DirectLogin", params("carol", testPassword, "obp-app")}, 401, credentials},
		{"username differing in case", http.MethodPost, []string{"DirectLogin", params("Alice", testPassword, "obp-app")}, 401, credentials},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := login(s, tc.method, tc.headers...)
			require.Equal(t, tc.status, w.Code, w.Body.String())
			assert.Equal(t, map[string]any{"code": float64(tc.status), "message": tc.message}, decode[map[string]any](t, w))
			assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
			challenge, allow := "", ""
			switch tc.status {
			case http.StatusUnauthorized:
				challenge = `DirectLogin realm="custgraph"`
			case http.StatusMethodNotAllowed:
				allow = http.MethodPost
			}
			assert.Equal(t, challenge, w.Header().Get("WWW-Authenticate"))
			assert.Equal(t, allow, w.Header().Get("Allow"))
		})
	}
}

package authn_test

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"custgraph/ent/apiclient"
	"custgraph/ent/loginfailure"
	"custgraph/ent/user"
	"custgraph/internal/authn"
)

// A name no client or user can have — longer than the schema allows, not
// valid UTF-8, or holding a NUL (which PostgreSQL refuses in text) — is an
// unknown caller: refused as one, counted by the throttle, and never sent
// to the database.

// impossibleNames are client ids and usernames no caller can have.
var impossibleNames = map[string]string{
	"one byte too long":   strings.Repeat("q", authn.MaxNameLen+1),
	"60 multibyte":        strings.Repeat("é", 60), // (names are ASCII: 120 bytes)
	"past the throttle's": strings.Repeat("q", 400),
	"1000 characters":     strings.Repeat("q", 1000),
	"1000 multibyte":      strings.Repeat("é", 1000),
	"NUL":                 "a\x00b",
	"invalid UTF-8":       "a\xffb",
	"truncated UTF-8":     "ab\xc3",
}

func TestTokenEndpointImpossibleClientIDs(t *testing.T) {
	f := newFixture(t)
	s := f.service(authn.Config{})
	longest := strings.Repeat("c", authn.MaxNameLen)
	f.client(longest, nil)
	const grant = "grant_type=client_credentials"
	failed := `{"error":"invalid_client","error_description":"client authentication failed"}`

	for name, id := range impossibleNames {
		t.Run(name, func(t *testing.T) {
			checks := authn.SecretChecks()
			w, _ := countingPost(s, basic(id, testSecret))
			require.Equal(t, http.StatusUnauthorized, w.Code, w.Body.String())
			assert.JSONEq(t, failed, w.Body.String())
			assert.Equal(t, `Basic realm="custgraph"`, w.Header().Get("WWW-Authenticate"))

			w = postToken(s, http.MethodPost, form, grant+"&client_id="+url.QueryEscape(id)+"&client_secret=x", "")
			require.Equal(t, http.StatusUnauthorized, w.Code, w.Body.String())
			assert.JSONEq(t, failed, w.Body.String())
			assert.Empty(t, w.Header().Get("WWW-Authenticate"))
			assert.Equal(t, int64(2), authn.SecretChecks()-checks, "one argon2id computation each, as for an unknown client")

			// Counted like any unknown client: the sixth failure in a row locks.
			for range 4 {
				w, _ = countingPost(s, basic(id, "guess"))
				require.Equal(t, http.StatusUnauthorized, w.Code, w.Body.String())
			}
			w, n := countingPost(s, basic(id, testSecret))
			require.Equal(t, http.StatusTooManyRequests, w.Code, w.Body.String())
			assert.JSONEq(t, `{"error":"invalid_client","error_description":"too many failed attempts for this client: try again in 1 s"}`, w.Body.String())
			assert.Equal(t, "1", w.Header().Get("Retry-After"))
			assert.EqualValues(t, 1, n, "a locked account costs one statement and no hash")
		})
	}

	// The repros as sent: curl -u "$(printf 'q%.0s' {1..1000}):x", and
	// client_id=x%00y or x%ffy in the form.
	for _, body := range []string{grant + "&client_id=x%00y&client_secret=x", grant + "&client_id=x%ffy&client_secret=x"} {
		w := postToken(s, http.MethodPost, form, body, "")
		require.Equal(t, http.StatusUnauthorized, w.Code, w.Body.String())
		assert.JSONEq(t, failed, w.Body.String())
	}

	// Each impossible name has a count of its own (the key derives from the
	// whole name), so locking one does not lock another.
	other := strings.Repeat("q", 999) + "r"
	w, _ := countingPost(s, basic(other, testSecret))
	require.Equal(t, http.StatusUnauthorized, w.Code, w.Body.String())

	// The longest client_id the schema allows still authenticates.
	w, _ = countingPost(s, basic(longest, testSecret))
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
}

func TestDirectLoginImpossibleNames(t *testing.T) {
	f := newFixture(t)
	s := f.service(authn.Config{})
	f.client("obp-app", nil)
	longest := strings.Repeat("u", authn.MaxNameLen)
	f.user(longest)
	params := func(user, password, consumer string) string {
		return `username="` + user + `", password="` + password + `", consumer_key="` + consumer + `"`
	}
	const (
		credentials = `{"code":401,"message":"OBP-20004: Invalid login credentials. Check username/password."}`
		consumerKey = `{"code":401,"message":"OBP-20008: Invalid Consumer Key."}`
	)

	for name, username := range impossibleNames {
		t.Run(name, func(t *testing.T) {
			checks := authn.SecretChecks()
			for _, h := range [][]string{
				{"DirectLogin", params(username, testPassword, "obp-app")},
				{"Authorization", "DirectLogin " + params(username, testPassword, "obp-app")},
			} {
				w := login(s, http.MethodPost, h...)
				require.Equal(t, http.StatusUnauthorized, w.Code, w.Body.String())
				assert.JSONEq(t, credentials, w.Body.String())
				assert.Equal(t, `DirectLogin realm="custgraph"`, w.Header().Get("WWW-Authenticate"))
			}
			assert.Equal(t, int64(2), authn.SecretChecks()-checks, "one argon2id computation each, as for an unknown user")

			// An impossible consumer key is an unknown one (no hash: as for
			// any unknown consumer).
			w := login(s, http.MethodPost, "DirectLogin", params(longest, testPassword, username))
			require.Equal(t, http.StatusUnauthorized, w.Code, w.Body.String())
			assert.JSONEq(t, consumerKey, w.Body.String())

			// Counted like any unknown user: the sixth failure in a row locks.
			for range 4 {
				w = login(s, http.MethodPost, "DirectLogin", params(username, "guess", "obp-app"))
				require.Equal(t, http.StatusUnauthorized, w.Code, w.Body.String())
			}
			w = login(s, http.MethodPost, "DirectLogin", params(username, testPassword, "obp-app"))
			require.Equal(t, http.StatusTooManyRequests, w.Code, w.Body.String())
			assert.JSONEq(t, `{"code":429,"message":"OBP-20009: The account has been locked, please contact Administrator! Too many failed attempts: try again in 1 s"}`, w.Body.String())
			assert.Equal(t, "1", w.Header().Get("Retry-After"))
		})
	}

	// The longest username the schema allows still logs in.
	w := login(s, http.MethodPost, "DirectLogin", params(longest, testPassword, "obp-app"))
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
}

// TestThrottleKeys: a name some caller could have is its own key; any other
// is named by its SHA-256, so that its key is storable whatever the name.
func TestThrottleKeys(t *testing.T) {
	// MaxNameLen is the schema's longest client_id and username.
	longest := strings.Repeat("a", authn.MaxNameLen)
	for field, validate := range map[string]func(string) error{
		"client_id": apiclient.ClientIDValidator, "username": user.UsernameValidator,
	} {
		assert.NoError(t, validate(longest), field)
		assert.Error(t, validate(longest+"a"), field)
	}

	for _, name := range []string{"acme-app", "jane.doe@bank.test", longest, "Not A Client", "ünïcode"} {
		assert.Equal(t, "client:"+name, authn.ClientAccount(name))
		assert.Equal(t, "user:"+name, authn.UserAccount(name))
		assert.NoError(t, loginfailure.AccountValidator(authn.ClientAccount(name)))
	}
	for desc, name := range impossibleNames {
		sum := sha256.Sum256([]byte(name))
		want := "sha256:" + hex.EncodeToString(sum[:])
		assert.Equal(t, "client:"+want, authn.ClientAccount(name), desc)
		assert.Equal(t, "user:"+want, authn.UserAccount(name), desc)
		assert.NoError(t, loginfailure.AccountValidator(authn.ClientAccount(name)), desc)
	}
}

// TestRefusedNamesAreLoggedByTheirKey: a refusal's log line names the
// caller as the throttle's account does: by its name when a caller could
// have it, else by the name's SHA-256. A stranger's 60 KiB client_id or
// username is not copied into the log on every attempt.
func TestRefusedNamesAreLoggedByTheirKey(t *testing.T) {
	f := newFixture(t)
	var logged strings.Builder
	s := f.service(authn.Config{Logger: slog.New(slog.NewJSONHandler(&logged, nil))})
	f.client("obp-app", nil)
	huge := strings.Repeat("q", 60<<10)
	sum := sha256.Sum256([]byte(huge))
	key := "sha256:" + hex.EncodeToString(sum[:])

	w := postToken(s, http.MethodPost, form, "grant_type=client_credentials&client_id="+huge+"&client_secret=x", "")
	require.Equal(t, http.StatusUnauthorized, w.Code, w.Body.String())
	w = login(s, http.MethodPost, "DirectLogin", `username="`+huge+`", password="x", consumer_key="obp-app"`)
	require.Equal(t, http.StatusUnauthorized, w.Code, w.Body.String())
	w = login(s, http.MethodPost, "DirectLogin", `username="alice", password="x", consumer_key="`+huge+`"`)
	require.Equal(t, http.StatusUnauthorized, w.Code, w.Body.String())
	w = postToken(s, http.MethodPost, form, "grant_type=client_credentials&client_id=nobody&client_secret=x", "")
	require.Equal(t, http.StatusUnauthorized, w.Code, w.Body.String())

	out := logged.String()
	assert.NotContains(t, out, strings.Repeat("q", 200))
	assert.Less(t, len(out), 4<<10, "four refusals' lines")
	for _, want := range []string{`"client_id":"` + key + `"`, `"username":"` + key + `"`, `"consumer_key":"` + key + `"`, `"client_id":"nobody"`} {
		assert.Contains(t, out, want)
	}
}

package authn

import "net/http"

// Token returns the access token a request presents (as Authenticate
// finds it), or "" when it presents none or a malformed one: live
// connections (GraphQL subscriptions) keep it to check their caller again
// with Verify before each delivery.
func Token(r *http.Request) string {
	t, err := credential(r.Header)
	if err != nil {
		return ""
	}
	return t
}

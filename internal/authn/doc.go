// Package authn says who a request comes from: it issues custgraph's access
// tokens, verifies the tokens a request carries, and turns them into the
// access.Viewer that ent's privacy layer checks. It knows nothing of roles
// beyond copying a caller's entitlements into its viewer.
//
// # Callers and credentials
//
//   - An API client (ent APIClient, OBP's consumer) gets a token from
//     POST /oauth/token with its client_id and secret: the OAuth 2.0
//     client-credentials grant (RFC 6749 §4.4), authenticated by
//     client_secret_basic or client_secret_post (TokenHandler).
//   - A user logs in with OBP's DirectLogin, POST /my/logins/direct with
//     username, password and the consumer_key of the client it uses
//     (DirectLoginHandler). Its token names the user (sub) and that client
//     (azp); a client bound to a bank binds the user's viewer to that bank.
//   - Optionally, an external OpenID Connect provider's tokens are accepted
//     (Config.External): their sub must be a User's or an APIClient's
//     external_subject.
//
// A request presents its token as "Authorization: Bearer <token>" or, as
// OBP clients do, "Authorization: DirectLogin token=<token>" or
// "DirectLogin: token=<token>" (Authenticate, Middleware).
//
// # Tokens
//
// custgraph's tokens are ES256 JWTs (RFC 7519) carrying iss, aud, sub, exp,
// iat, nbf, jti, cgk ("client" or "user") and, for users, azp. They are
// short-lived (Config.TokenTTL, 15 minutes by default) and never stored:
// there is nothing to revoke but the caller itself. Every request loads the
// caller and its entitlements from the database (two queries for a client,
// three for a user) and nothing about callers is cached in memory, so that
// disabling a caller or revoking an entitlement takes effect on the next
// request of every replica.
//
// # Keys
//
// The keys that sign tokens are EC P-256 keys named by their RFC 7638 JWK
// thumbprint (the kid). They come either from PEM files (Config.KeyFiles:
// the first signs, all verify and are published, so a key is rotated by
// adding it second, moving it first once every verifier has it, and
// dropping the old one after the token lifetime), or, when no file is
// configured, from the database's SigningKey table, so that every replica
// shares them: the first replica to start creates one; should several race,
// they all sign with the oldest row and verify with every row. A token
// whose kid is unknown makes the service reload the table (at most once
// every ten seconds) before it is refused. The public keys are served at
// /.well-known/jwks.json (JWKSHandler).
//
// Verification is strict: the algorithm must be ES256 for custgraph's
// tokens (a listed asymmetric algorithm for the external issuer's), and the
// issuer, audience and expiry are required and checked, with 30 seconds of
// leeway for clock skew. The unverified iss only chooses which keys to try.
//
// # Secrets
//
// Client secrets and passwords are stored as argon2id hashes (HashSecret).
// Checking one (CheckSecret) always costs one hash computation, also for
// unknown callers, so that response times do not reveal which client ids
// and usernames exist; at most a few hashes are computed at a time, which
// bounds the memory a flood of login attempts can take.
package authn

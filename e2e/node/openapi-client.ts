// A partner's first client of custgraph's REST routes, bootstrapped from the
// served OpenAPI document alone: types generated from it by
// openapi-typescript (./api.ts, written next to this file by the test, as in
// the README), requests made by openapi-fetch. The TypeScript compiler checks
// every call below against the generated types (strict), then node runs it
// against the server: usage: node openapi-client.js <document URL>.
// It prints one JSON line of what it saw; e2e/openapi_test.go
// (TestOpenAPIClient) checks it.
import createClient from "openapi-fetch";
import type { components, paths } from "./api.js";

declare const process: { argv: string[]; exitCode?: number };

// The demo partner (go run . --demo) and the demo OBP user: test fixtures.
const partner = { id: "demo-partner-gh", secret: "demo-partner-gh-secret-not-for-production" };
const banker = { username: "demo.banker", password: "demo-banker-password", consumer: "demo-obp-consumer" };

function fail(what: string, res: Response, body: unknown): never {
  throw new Error(`${what}: ${res.status} ${JSON.stringify(body)}`);
}

const docURL = process.argv[2];
// 1. Where the server is, and where tokens come from: the document's
// servers and its oauth2 scheme (both may be relative to the document).
const doc = await (await fetch(docURL)).json();
const server = new URL(doc.servers[0].url, docURL).href.replace(/\/$/, "");
const tokenUrl = new URL(doc.components.securitySchemes.oauth2.flows.clientCredentials.tokenUrl, server + "/").href;

const api = createClient<paths>({ baseUrl: server });

// 2. An access token: OAuth 2.0 client credentials, as the oauth2 scheme
// says, through the documented operation (oauthToken).
const basic = btoa(`${encodeURIComponent(partner.id)}:${encodeURIComponent(partner.secret)}`);
const form: components["schemas"]["OAuthTokenRequest"] = { grant_type: "client_credentials" };
const tok = await api.POST("/oauth/token", {
  body: form,
  bodySerializer: (b: components["schemas"]["OAuthTokenRequest"]) => new URLSearchParams(b).toString(),
  headers: { "Content-Type": "application/x-www-form-urlencoded", Authorization: `Basic ${basic}` },
});
if (!tok.data) fail("POST /oauth/token", tok.response, tok.error);
if (tok.response.url !== tokenUrl) throw new Error(`the token came from ${tok.response.url}, the oauth2 scheme says ${tokenUrl}`);
const bearer = { Authorization: `${tok.data.token_type} ${tok.data.access_token}` };

// 3. The bankingservice.ai routes with it: a page of customers, then a
// new customer, with an Idempotency-Key as the document offers.
const page = await api.GET("/v1/profiles/{profileId}/customers", {
  params: { path: { profileId: "gh.29.uk" }, query: { size: 5 } },
  headers: bearer,
});
if (!page.data) fail("GET customers", page.response, page.error);
const created = await api.POST("/v1/profiles/{profileId}/customers", {
  params: { path: { profileId: "gh.29.uk" }, header: { "Idempotency-Key": `"${crypto.randomUUID()}"` } },
  body: { first_name: "Ada", last_name: "Client", email: "ada.client@example.com" },
  headers: bearer,
});
if (!created.data) fail("POST customers", created.response, created.error);

// 4. A user: OBP DirectLogin (obpDirectLogin) with the documented
// DirectLogin header, then the token as the directLogin scheme says.
const login = await api.POST("/my/logins/direct", {
  params: {
    header: {
      DirectLogin: `username="${banker.username}", password="${banker.password}", consumer_key="${banker.consumer}"`,
    },
  },
});
if (!login.data) fail("POST /my/logins/direct", login.response, login.error);
const me = await api.GET("/obp/v3.1.0/users/current", {
  headers: { Authorization: `DirectLogin token="${login.data.token}"` },
});
if (!me.data) fail("GET /obp/v3.1.0/users/current", me.response, me.error);

// 5. A documented error, typed as the family's error body.
const missing = await api.GET("/v1/profiles/{profileId}/customers/{customerId}", {
  params: { path: { profileId: "gh.29.uk", customerId: "00000000-0000-0000-0000-000000000000" } },
  headers: bearer,
});
const notFound: components["schemas"]["BsaiError"] | undefined = missing.error;

console.log(
  JSON.stringify({
    server,
    tokenUrl,
    tokenType: tok.data.token_type,
    customers: page.data.count,
    pageSize: page.data.data.length,
    created: created.data.first_name + " " + created.data.last_name,
    createdStatus: created.response.status,
    loginStatus: login.response.status,
    username: me.data.username,
    notFound: [missing.response.status, notFound?.error],
  }),
);

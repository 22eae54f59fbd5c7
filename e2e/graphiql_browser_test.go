package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

const testTimeout = 3 * time.Minute // server start + browser session

// The README's demo callers (internal/demo): the test signs in as they would.
const (
	demoClientID     = "demo-partner-gh"
	demoClientSecret = "demo-partner-gh-secret-not-for-production"
	demoUser         = "demo.banker"
	demoUserPassword = "demo-banker-password"
	demoConsumerKey  = "demo-obp-consumer"
)

// Selectors of GraphiQL 4.1.2's page and of custgraph's sign-in panel
// (internal/graphiql/assets/custgraph-graphiql.js). The tools section under
// the query editor holds both the variables and the headers editor, the
// inactive one hidden.
const (
	queryEditor     = `.graphiql-query-editor .CodeMirror`
	responseEditor  = `.graphiql-response .CodeMirror`
	variablesTab    = `.graphiql-editor-tools button[data-name="variables"]`
	variablesEditor = `section.graphiql-editor-tool[aria-label="Variables"] .graphiql-editor:not(.hidden) .CodeMirror`
	executeButton   = `.graphiql-execute-button`
	docsButton      = `.graphiql-sidebar button[aria-label="Show Documentation Explorer"]`
	docsSearch      = `input[data-cy="doc-explorer-input"]`
	docsTitle       = `.graphiql-doc-explorer-title`
	explorerButton  = `.graphiql-sidebar button[aria-label="Show GraphiQL Explorer"]`
	signInButton    = `.graphiql-sidebar button[aria-label="Show Sign in"]`
	signInPanel     = `.custgraph-signin`
	badge           = `.custgraph-badge`
)

// TestGraphiQLBrowser follows the README in a real browser, on a server
// with the demo data and 20-second tokens, with no network beyond
// loopback: on first open the docs, the schema search and autocomplete work
// without signing in; a query run before signing in is refused; the person
// signs in in the panel with the demo partner's id and secret, sees who is
// signed in, runs the README's queries and its mutation; the token is
// renewed before it expires and is never stored; the explorer renders the
// schema; signing out, and signing in again as a user through DirectLogin,
// work.
func TestGraphiQLBrowser(t *testing.T) {
	chromium := findChromium(t)
	bin := buildBinary(t)
	examples := readmeExamples(t)

	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	p := launch(t, ctx, bin, "--database-url", filepath.Join(t.TempDir(), "e2e.db"),
		"--demo", "--customers", "20", "--token-ttl", "20s")

	// Browser, with a fresh profile. Host resolution is mapped to NOTFOUND for everything but
	// loopback, so even a stray request cannot leave the machine; it would
	// still show up in the recorded requests and fail the test.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(profileDir(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"),
		chromedp.WindowSize(1400, 900),
	)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	// chromedp's own log (incl. cdproto decode errors for event fields newer
	// than its protocol tables, which are harmless here) is shown on failure.
	var cdpLog syncBuffer
	logf := func(format string, args ...any) { fmt.Fprintf(&cdpLog, format+"\n", args...) }
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithLogf(logf))
	defer bcancel()
	defer func() {
		if t.Failed() {
			t.Logf("chromedp log:\n%s", cdpLog.String())
		}
	}()

	// The first Run starts the browser and binds its lifetime to its context,
	// so start it on bctx, not on the shorter UI contexts below.
	if err := chromedp.Run(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	reqs := recordNetwork(bctx)
	step := func(name string, actions ...chromedp.Action) {
		t.Helper()
		sctx, scancel := context.WithTimeout(bctx, 45*time.Second)
		defer scancel()
		if err := chromedp.Run(sctx, actions...); err != nil {
			var body string
			_ = chromedp.Run(bctx, chromedp.Evaluate(`document.body.innerText`, &body))
			screenshot(t, bctx)
			reqs.log(t)
			var opts string
			_ = chromedp.Run(bctx, chromedp.Evaluate(`JSON.stringify([...document.querySelectorAll('[data-cy="doc-explorer-option"]')].map(e => e.outerHTML.slice(0, 300)))`, &opts))
			t.Fatalf("%s: %v\noptions: %s\npage text:\n%s", name, err, opts, body[:min(len(body), 3000)])
		}
	}
	defer screenshot(t, bctx)

	// First open: the sign-in panel is shown, nobody is signed in.
	step("open GraphiQL",
		chromedp.Navigate(p.base+"/"),
		chromedp.WaitVisible(queryEditor, chromedp.ByQuery),
		chromedp.WaitVisible(signInPanel, chromedp.ByQuery),
		waitText(badge, "Not signed in"),
	)

	// Docs and schema search, before signing in: the introspection GraphiQL
	// sent on opening was answered.
	step("docs: search for a type",
		chromedp.Click(docsButton, chromedp.ByQuery),
		chromedp.WaitVisible(`.graphiql-doc-explorer-root-type`, chromedp.ByQuery),
		chromedp.Click(docsSearch, chromedp.ByQuery),
		chromedp.SendKeys(docsSearch, "CustomerWhereInput", chromedp.ByQuery),
		// The search lists the type first; Enter picks it.
		waitText(`[data-cy="doc-explorer-option"]`, "CustomerWhereInput"),
		chromedp.SendKeys(docsSearch, kb.Enter, chromedp.ByQuery),
		waitText(docsTitle, "CustomerWhereInput"),
		waitText(`.graphiql-doc-explorer-content`, "hasLabel"),
	)

	// Autocomplete: the hints for "{ cust" come from the schema.
	var hints string
	step("autocomplete",
		setEditor(queryEditor, "{ cust"),
		chromedp.Evaluate(fmt.Sprintf(`(() => { const cm = document.querySelector(%q).CodeMirror; cm.focus(); cm.setCursor(cm.lineCount(), 0); cm.showHint({completeSingle: false}); })()`, queryEditor), nil),
		chromedp.Poll(`(() => { const h = document.querySelector('.CodeMirror-hints'); return h && h.innerText.includes('customers') ? h.innerText : false; })()`,
			&hints, chromedp.WithPollingTimeout(20*time.Second)),
	)
	t.Logf("autocomplete for \"{ cust\": %q", hints)

	// Before signing in, data is refused.
	var anonymous string
	step("a query before signing in", setEditor(queryEditor, examples.viewer), runQuery(&anonymous))
	var refused gqlReply
	decodeReply(t, anonymous, &refused)
	if len(refused.Errors) == 0 || refused.Errors[0].Extensions.Code != "UNAUTHENTICATED" || refused.Data != nil {
		t.Fatalf("before signing in: want an UNAUTHENTICATED error and no data, got\n%s", anonymous)
	}

	// Sign in as the demo partner, in the panel.
	step("sign in as an API client",
		chromedp.Click(signInButton, chromedp.ByQuery),
		chromedp.WaitVisible(`input[name="client_id"]`, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="client_id"]`, demoClientID, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="client_secret"]`, demoClientSecret, chromedp.ByQuery),
		chromedp.Click(`.custgraph-submit`, chromedp.ByQuery),
		waitText(`.custgraph-who`, "Signed in as "+demoClientID+" (client)"),
		waitText(`.custgraph-bank`, "gh.29.uk"),
		waitText(badge, demoClientID),
	)

	// The README's queries, as written.
	var viewer string
	step("the README's first query", setEditor(queryEditor, examples.viewer), runQuery(&viewer))
	var vr gqlReply
	decodeReply(t, viewer, &vr)
	if len(vr.Errors) > 0 || vr.Data["viewer"] == nil || !strings.Contains(viewer, `"name": "`+demoClientID+`"`) {
		t.Fatalf("README's first query: want the demo partner's viewer and customers, got\n%s", viewer)
	}
	var search string
	step("the README's customer search", setEditor(queryEditor, examples.search), runQuery(&search))
	if !strings.Contains(search, `"legalName": "Eveline Tripman"`) || strings.Contains(search, `"errors"`) {
		t.Fatalf("README's customer search: want Eveline Tripman, got\n%s", search)
	}
	var bank string
	step("the README's bank id query", setEditor(queryEditor, examples.bankID), runQuery(&bank))
	var br struct {
		Data struct {
			Banks struct {
				Edges []struct{ Node struct{ ID, Code string } }
			}
		}
	}
	decodeReply(t, bank, &br)
	if len(br.Data.Banks.Edges) != 1 || br.Data.Banks.Edges[0].Node.Code != "gh.29.uk" {
		t.Fatalf("README's bank query: want bank gh.29.uk, got\n%s", bank)
	}
	vars := strings.Replace(examples.mutationVars, examples.bankIDPlaceholder, br.Data.Banks.Edges[0].Node.ID, 1)
	var created string
	step("the README's mutation",
		setEditor(queryEditor, examples.mutation),
		chromedp.Click(variablesTab, chromedp.ByQuery),
		chromedp.WaitVisible(variablesEditor, chromedp.ByQuery),
		setEditor(variablesEditor, vars),
		runQuery(&created),
	)
	if !strings.Contains(created, `"legalName": "John Doe"`) || strings.Contains(created, `"errors"`) {
		t.Fatalf("README's mutation: want John Doe created, got\n%s", created)
	}

	// The README's subscription runs in GraphiQL (over WebSocket): a change
	// made meanwhile through the API shows in the response pane. It starts
	// "from now", so the change is made again until one shows.
	step("the README's subscription starts",
		setEditor(variablesEditor, ""),
		setEditor(queryEditor, examples.subscription),
		setEditor(responseEditor, ""),
		chromedp.Click(executeButton, chromedp.ByQuery),
	)
	var live string
	for i := 0; live == ""; i++ {
		if i == 10 {
			var shown string
			_ = chromedp.Run(bctx, chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%q).CodeMirror.getValue()`, responseEditor), &shown))
			reqs.log(t)
			t.Fatalf("the subscription showed none of the changes made; the response pane shows\n%s", shown)
		}
		name := fmt.Sprintf("Live Change %d", i)
		createCustomerHTTP(t, p.base, partnerToken(t, p.base), br.Data.Banks.Edges[0].Node.ID, name) // 20 s tokens
		sctx, scancel := context.WithTimeout(bctx, 3*time.Second)
		_ = chromedp.Run(sctx, chromedp.Poll(fmt.Sprintf(`(() => {
			const t = document.querySelector(%q).CodeMirror.getValue();
			return t.includes(%q) ? t : false; })()`, responseEditor, name), &live))
		scancel()
	}
	if !strings.Contains(live, `"op": "CREATE"`) || !strings.Contains(live, `"entityType": "Customer"`) {
		t.Fatalf("the subscription's change: want a Customer CREATE, got\n%s", live)
	}
	step("the subscription stops", chromedp.Click(executeButton, chromedp.ByQuery))

	// The token is renewed before it expires (20 s tokens: after 16 s), and
	// requests after the renewal carry the new one.
	step("the token is renewed",
		chromedp.Poll(`document.querySelectorAll('.custgraph-who').length === 1 && window.performance.getEntriesByType('resource').filter(e => e.name.endsWith('/oauth/token')).length >= 2`,
			nil, chromedp.WithPollingTimeout(40*time.Second)),
	)
	var afterRenewal string
	step("a query after the renewal", setEditor(variablesEditor, ""), setEditor(queryEditor, examples.viewer), runQuery(&afterRenewal))
	if !strings.Contains(afterRenewal, `"name": "`+demoClientID+`"`) {
		t.Fatalf("after the renewal: want the demo partner's viewer, got\n%s", afterRenewal)
	}

	// Nothing of the token is stored: not in localStorage, sessionStorage,
	// cookies or the headers editor.
	var stored string
	step("storage", chromedp.Evaluate(`JSON.stringify({local: Object.entries(localStorage), session: Object.entries(sessionStorage), cookies: document.cookie})`, &stored))
	for _, secret := range []string{"eyJ", "Bearer", demoClientSecret} {
		if strings.Contains(stored, secret) {
			t.Fatalf("the browser's storage holds %q: %s", secret, stored)
		}
	}

	// The explorer lists the schema's root fields.
	step("explorer",
		chromedp.Click(explorerButton, chromedp.ByQuery),
		waitText(`.graphiql-explorer-root`, "customers"),
		waitText(`.graphiql-explorer-root`, "viewer"),
	)

	// Sign out: refused again; then sign in as a user with DirectLogin.
	var signedOut string
	step("sign out",
		chromedp.Click(badge, chromedp.ByQuery),
		chromedp.Click(`.custgraph-signout`, chromedp.ByQuery),
		waitText(badge, "Not signed in"),
		setEditor(queryEditor, examples.viewer), runQuery(&signedOut),
	)
	if !strings.Contains(signedOut, "UNAUTHENTICATED") {
		t.Fatalf("after signing out: want UNAUTHENTICATED, got\n%s", signedOut)
	}
	var asUser string
	step("sign in as a user (DirectLogin)",
		chromedp.Click(`.custgraph-tab[data-mode="user"]`, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="username"]`, demoUser, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="password"]`, demoUserPassword, chromedp.ByQuery),
		chromedp.SendKeys(`input[name="consumer_key"]`, demoConsumerKey, chromedp.ByQuery),
		chromedp.Click(`.custgraph-submit`, chromedp.ByQuery),
		waitText(`.custgraph-who`, "Signed in as "+demoUser+" (user)"),
		setEditor(queryEditor, examples.viewer), runQuery(&asUser),
	)
	if !strings.Contains(asUser, `"kind": "user"`) || !strings.Contains(asUser, `"totalCount"`) {
		t.Fatalf("as demo.banker: want a user viewer and customers, got\n%s", asUser)
	}

	reqs.log(t)
	reqs.check(t)
	// The two runs without credentials, and only they, were refused.
	if n := reqs.unauthorizedQueries(); n != 2 {
		t.Errorf("%d requests to /query answered 401, want 2 (before signing in, after signing out)", n)
	}
}

// gqlReply is a rendered GraphQL response.
type gqlReply struct {
	Data   map[string]any `json:"data"`
	Errors []struct {
		Extensions struct {
			Code string `json:"code"`
		} `json:"extensions"`
	} `json:"errors"`
}

func decodeReply(t *testing.T, text string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(text), v); err != nil {
		t.Fatalf("rendered response is not JSON: %v\n%s", err, text)
	}
}

// screenshot saves the page to CUSTGRAPH_E2E_SCREENSHOT, when set.
func screenshot(t *testing.T, ctx context.Context) {
	shot := os.Getenv("CUSTGRAPH_E2E_SCREENSHOT")
	if shot == "" {
		return
	}
	var png []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)); err == nil {
		_ = os.WriteFile(shot, png, 0o644)
	}
}

// waitText waits until the element at selector contains text.
func waitText(selector, text string) chromedp.Action {
	return chromedp.Poll(fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.innerText.includes(%q); })()`, selector, text),
		nil, chromedp.WithPollingTimeout(30*time.Second))
}

// setEditor replaces the text of the CodeMirror editor at selector, as
// pasting into it would.
func setEditor(selector, text string) chromedp.Action {
	return chromedp.Evaluate(fmt.Sprintf(`document.querySelector(%q).CodeMirror.setValue(%q)`, selector, text), nil)
}

// runQuery clicks the execute button and stores the response GraphiQL then
// renders. It empties the response editor first, so that what it waits for
// is this run's response, not the previous one.
func runQuery(response *string) chromedp.Tasks {
	return chromedp.Tasks{
		setEditor(responseEditor, ""),
		chromedp.Click(executeButton, chromedp.ByQuery),
		chromedp.Poll(fmt.Sprintf(`(() => {
			const cm = document.querySelector(%q);
			const text = cm ? cm.CodeMirror.getValue() : '';
			return text !== '' ? text : false;
		})()`, responseEditor), response, chromedp.WithPollingTimeout(30*time.Second)),
	}
}

// partnerToken gets the demo partner's access token.
func partnerToken(t *testing.T, base string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/oauth/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(demoClientID, demoClientSecret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("demo partner token: %v", err)
	}
	return tok.AccessToken
}

// createCustomerHTTP creates a customer through GraphQL, outside the browser.
func createCustomerHTTP(t *testing.T, base, token, bankID, name string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"query":     `mutation($b: ID!, $n: String!) { createCustomer(input: {bankID: $b, legalName: $n}) { id } }`,
		"variables": map[string]any{"b": bankID, "n": name},
	})
	req, _ := http.NewRequest(http.MethodPost, base+"/query", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("creating %s: HTTP %d", name, res.StatusCode)
	}
}

// findChromium returns the browser path, or skips (fails when
// CUSTGRAPH_REQUIRE_BROWSER=1) if it is missing.
func findChromium(t *testing.T) string {
	path := os.Getenv("CHROMIUM_PATH")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		msg := fmt.Sprintf("chromium not found at %s (run scripts/install-browser.sh or set CHROMIUM_PATH): %v", path, err)
		if os.Getenv("CUSTGRAPH_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg + "; CUSTGRAPH_REQUIRE_BROWSER=1 requires it")
		}
		t.Skip(msg)
	}
	return path
}

// profileDir returns a fresh Chromium profile directory, removed after the
// test. Not t.TempDir: Chromium's helper processes may still write to it for
// a moment after the browser exits, so removal is retried.
func profileDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "custgraph-e2e-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; os.RemoveAll(dir) != nil && i < 50; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	})
	return dir
}

// netLog records the requests the page makes.
type netLog struct {
	mu     sync.Mutex
	urls   map[network.RequestID]string
	all    []string
	failed []string
	// unauthorized are the requests to /query answered 401, which is the
	// server's answer to a query run without credentials, not a failure.
	unauthorized []string
	// exceptions are uncaught page errors, logged for diagnosis.
	exceptions []string
}

func recordNetwork(ctx context.Context) *netLog {
	n := &netLog{urls: map[network.RequestID]string{}}
	chromedp.ListenTarget(ctx, func(ev any) {
		n.mu.Lock()
		defer n.mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			n.urls[e.RequestID] = e.Request.URL
			n.all = append(n.all, e.Request.Method+" "+e.Request.URL)
		case *network.EventResponseReceived:
			switch u, _ := url.Parse(e.Response.URL); {
			case e.Response.Status == http.StatusUnauthorized && u != nil && u.Path == "/query":
				n.unauthorized = append(n.unauthorized, e.Response.URL)
			case e.Response.Status >= 400:
				n.failed = append(n.failed, fmt.Sprintf("%s: HTTP %d", e.Response.URL, e.Response.Status))
			}
		case *network.EventLoadingFailed:
			n.failed = append(n.failed, fmt.Sprintf("%s: %s", n.urls[e.RequestID], e.ErrorText))
		case *runtime.EventExceptionThrown:
			n.exceptions = append(n.exceptions, e.ExceptionDetails.Error())
		}
	})
	return n
}

// log writes the recorded requests and page exceptions to the test log.
func (n *netLog) log(t *testing.T) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var b strings.Builder
	for _, r := range n.all {
		if len(r) > 120 {
			r = r[:120] + "…"
		}
		b.WriteString("\n  " + r)
	}
	t.Logf("page requests (%d):%s", len(n.all), b.String())
	for _, u := range n.unauthorized {
		t.Logf("answered 401 (no credentials): %s", u)
	}
	for _, e := range n.exceptions {
		t.Logf("page exception: %s", e)
	}
}

// check asserts that every request stayed on loopback and that no asset or
// query request failed (a 401 from /query is counted by
// unauthorizedQueries instead).
func (n *netLog) check(t *testing.T) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.all) == 0 {
		t.Error("no page requests recorded")
	}
	for _, r := range n.all {
		raw := r[strings.IndexByte(r, ' ')+1:]
		u, err := url.Parse(raw)
		switch {
		case err != nil:
			t.Errorf("unparsable request URL %q: %v", raw, err)
		case u.Scheme == "data" || u.Scheme == "blob":
			// in-page, no network
		case u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost":
			t.Errorf("request left loopback: %s", r)
		}
	}
	for _, f := range n.failed {
		if strings.Contains(f, "/graphiql/assets/") || strings.Contains(f, "/query") {
			t.Errorf("failed request: %s", f)
		} else {
			t.Logf("failed request (ignored): %s", f)
		}
	}
}

// unauthorizedQueries is the number of requests to /query answered 401.
func (n *netLog) unauthorizedQueries() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.unauthorized)
}

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

const (
	query       = `{ banks(first: 5) { totalCount } }`
	testTimeout = 2 * time.Minute // server start + browser session
)

// Selectors of GraphiQL 4.1.2's page. The tools section under the query
// editor holds both the variables and the headers editor; it is labelled
// after the active tab, and the inactive editor is hidden.
const (
	queryEditor    = `.graphiql-query-editor .CodeMirror`
	responseEditor = `.graphiql-response .CodeMirror`
	executeButton  = `.graphiql-execute-button`
	headersTab     = `.graphiql-editor-tools button[data-name="headers"]`
	headersEditor  = `section.graphiql-editor-tool[aria-label="Headers"] .graphiql-editor:not(.hidden) .CodeMirror`
)

// TestGraphiQLBrowser follows the README in a real browser: a query run
// without credentials is refused, and the same query runs once the
// administrator's "Authorization: Bearer" header is pasted into the Headers
// tab. No request may leave loopback.
func TestGraphiQLBrowser(t *testing.T) {
	chromium := findChromium(t)
	bin := buildBinary(t)

	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	p := startServer(t, ctx, bin)
	headers := fmt.Sprintf(`{"Authorization": "Bearer %s"}`, p.accessToken(t))

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
		chromedp.WindowSize(1280, 800),
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
	// so start it on bctx, not on the shorter UI context below.
	if err := chromedp.Run(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	reqs := recordNetwork(bctx)

	// The UI flow gets its own deadline so that on failure the browser is
	// still alive for the diagnostics below.
	uictx, uicancel := context.WithTimeout(bctx, 60*time.Second)
	defer uicancel()
	var anonymous, authorized string
	err := chromedp.Run(uictx,
		chromedp.Navigate(p.base+"/"),
		chromedp.WaitVisible(queryEditor, chromedp.ByQuery),
		setEditor(queryEditor, query),
		runQuery(&anonymous),
		chromedp.Click(headersTab, chromedp.ByQuery),
		chromedp.WaitVisible(headersEditor, chromedp.ByQuery),
		setEditor(headersEditor, headers),
		runQuery(&authorized),
	)
	if shot := os.Getenv("CUSTGRAPH_E2E_SCREENSHOT"); shot != "" {
		var png []byte
		if serr := chromedp.Run(bctx, chromedp.FullScreenshot(&png, 100)); serr == nil {
			_ = os.WriteFile(shot, png, 0o644)
		}
	}
	if err != nil {
		var body string
		_ = chromedp.Run(bctx, chromedp.Evaluate(`document.body.innerText`, &body))
		reqs.log(t)
		reqs.check(t)
		t.Fatalf("browser: %v\nresponse without the header:\n%s\npage text:\n%s", err, anonymous, body)
	}

	// Without the header: refused, and nothing of the data.
	var refused struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Extensions struct {
				Code string `json:"code"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal([]byte(anonymous), &refused); err != nil {
		t.Fatalf("rendered response without the header is not JSON: %v\n%s", err, anonymous)
	}
	if len(refused.Errors) == 0 || refused.Errors[0].Extensions.Code != "UNAUTHENTICATED" ||
		(len(refused.Data) > 0 && string(refused.Data) != "null") {
		t.Fatalf("rendered response without the header: want an UNAUTHENTICATED error and no data, got\n%s", anonymous)
	}
	t.Logf("rendered response without the header:\n%s", anonymous)

	// With the header: the answer.
	var result banksReply
	if err := json.Unmarshal([]byte(authorized), &result); err != nil {
		t.Fatalf("rendered response with the header is not JSON: %v\n%s", err, authorized)
	}
	if tc := result.Data.Banks.TotalCount; tc == nil || *tc != 0 || len(result.Errors) > 0 {
		t.Fatalf("rendered response with the header: want totalCount 0 and no errors, got\n%s", authorized)
	}
	t.Logf("rendered response with the header:\n%s", authorized)

	reqs.log(t)
	reqs.check(t)
	// The run without the header, and only it: the page's own introspection
	// is open to anonymous callers.
	if n := reqs.unauthorizedQueries(); n != 1 {
		t.Errorf("%d requests to /query answered 401, want 1 (the run without the header)", n)
	}
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

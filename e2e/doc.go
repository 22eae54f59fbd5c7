// Package e2e holds end-to-end tests that drive the real custgraph binary.
//
// TestGraphiQLBrowser builds the binary, starts it on a free loopback port
// with an embedded SQLite database, and drives headless Chromium (Debian's
// /usr/bin/chromium, installed by scripts/install-browser.sh; override with
// CHROMIUM_PATH) through the GraphiQL page: it runs a query, reads the
// rendered result and checks that no request left loopback. Without Chromium
// the test skips, unless CUSTGRAPH_REQUIRE_BROWSER=1 (set by CI) makes that a
// failure. CUSTGRAPH_E2E_SCREENSHOT=file.png saves a screenshot of the page.
package e2e

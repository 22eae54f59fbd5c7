package server

import (
	"net/http"
	"sync/atomic"
)

// closeWhileDraining answers "Connection: close" to every request once
// draining is set (after SIGTERM), so that each client stops reusing its
// keep-alive connection as soon as it gets an answer, and net/http closes
// the connection after writing it. A connection closed that way cannot
// race a request: the client knows not to send another one on it. Closing
// an idle keep-alive connection from the server side (what
// http.Server.Shutdown and SetKeepAlivesEnabled(false) do) does race: a
// request the client is writing at that instant meets a reset or an EOF.
// By the end of the drain period every connection that carried a request
// has been closed this way, and only connections idle for the whole period
// are left for Shutdown to close.
func closeWhileDraining(draining *atomic.Bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if draining == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if draining.Load() {
				w.Header().Set("Connection", "close")
			}
			next.ServeHTTP(w, r)
		})
	}
}

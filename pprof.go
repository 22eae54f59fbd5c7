//go:build pprof

// Profiling for benchmarks only. The ordinary build has no profiler; a build
// with `go build -tags pprof` serves net/http/pprof when
// CUSTGRAPH_PPROF_ADDR names a loopback address (127.0.0.1:6060), on a
// listener of its own, never on the API's. bench/peer/run.sh (PROFILE=1)
// uses it.
package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
)

func init() {
	addr := os.Getenv("CUSTGRAPH_PPROF_ADDR")
	if addr == "" {
		return
	}
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
		fmt.Fprintf(os.Stderr, "custgraph: CUSTGRAPH_PPROF_ADDR %q is not a loopback host:port; profiler not started\n", addr)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "custgraph: profiler: %v\n", err)
		return
	}
	fmt.Fprintf(os.Stderr, "custgraph: profiler on http://%s/debug/pprof/\n", ln.Addr())
	go func() { _ = http.Serve(ln, mux) }()
}

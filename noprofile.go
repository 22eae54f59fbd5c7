//go:build !pprof

package main

import "runtime"

// The ordinary build serves no profiles (pprof.go, built with -tags pprof,
// is the only profiler), so nobody can read the heap profile. Go samples one
// allocation per 512 KiB for it all the same, walking the allocating
// goroutine's stack each time (about one walk every two nested pages under
// load, reading the binary's pc tables) and keeping the samples in 1–2 MiB
// of tables of its own. Sampling nothing costs nothing: set here, before
// main runs, as the runtime's documentation asks. The start-up line
// `custgraph listening` says what is in effect (heap_profile_rate).
func init() { runtime.MemProfileRate = 0 }

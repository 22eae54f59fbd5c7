// Package gcpolicy sets the Go garbage collector's defaults for serving:
// a higher GOGC once start-up is over, and a memory limit taken from the
// container's, so that the collector runs less often without the process
// outgrowing its container.
//
// Why: a request allocates its rows, its response and the GraphQL
// machinery's values, nearly all garbage when it ends, while the heap that
// stays live is small (about 9 MB serving 100,000 customers). With Go's
// default GOGC=100 the collector then ran every ~9 MB allocated, some 55
// times a second under load, and marking plus allocation assists were a
// fifth of the server's CPU on a nested page (bench/peer profiles).
// Collections cost about the same whatever the heap grew to, so letting the
// heap grow to 5× the live data (GOGC=400) cuts their number by 2.5 and
// their CPU with it; the price is memory (see the README, "Memory").
//
// The environment wins: GOGC and GOMEMLIMIT, when set, are the runtime's
// and left alone (AUTOMEMLIMIT=off skips the container limit too).
package gcpolicy

import (
	"log/slog"
	"math"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// DefaultPercent is GOGC once serving, unless GOGC is set.
const DefaultPercent = 400

// ContainerRatio is the share of the container's memory limit given to Go
// as GOMEMLIMIT (the rest: the binary's pages, C and kernel buffers).
const ContainerRatio = 0.9

// Policy is what Apply and Serving decided, for the start-up log line.
type Policy struct {
	Percent     int    // GOGC while serving
	PercentFrom string // "GOGC" or "default"
	Limit       int64  // GOMEMLIMIT in bytes; math.MaxInt64: none
	LimitFrom   string // "GOMEMLIMIT", "container", or "none"
	// HeapProfileRate is runtime.MemProfileRate: bytes allocated per heap
	// profile sample, 0 for none (the ordinary build: see noprofile.go).
	HeapProfileRate int
}

// Limit sets GOMEMLIMIT to ContainerRatio of the container's memory limit
// (cgroup v1 or v2) unless GOMEMLIMIT is set; no limit outside a container
// with one. Call it first thing: the limit bounds start-up too.
func Limit(log *slog.Logger) (limit int64, from string) {
	return limitFrom(log, memlimit.FromCgroup)
}

func limitFrom(log *slog.Logger, container memlimit.Provider) (limit int64, from string) {
	if v := os.Getenv("GOMEMLIMIT"); v != "" {
		return debug.SetMemoryLimit(-1), "GOMEMLIMIT"
	}
	limit, err := memlimit.Set(memlimit.WithRatio(ContainerRatio), memlimit.WithProvider(container))
	if err != nil {
		log.Warn("gc policy: reading the container's memory limit failed; no memory limit", "err", err)
		return debug.SetMemoryLimit(-1), "none"
	}
	if limit == math.MaxInt64 {
		return limit, "none"
	}
	return limit, "container"
}

// Serving is called once start-up is over (migrations checked, bootstrap
// done): it collects once, so that start-up's transient objects (migration
// planning, the schema) do not set the first heap goal, then raises GOGC to
// DefaultPercent unless GOGC is set.
func Serving(limit int64, limitFrom string) Policy {
	p := Policy{Limit: limit, LimitFrom: limitFrom, PercentFrom: "GOGC", HeapProfileRate: runtime.MemProfileRate}
	runtime.GC()
	if os.Getenv("GOGC") != "" {
		p.Percent = debug.SetGCPercent(-1)
		debug.SetGCPercent(p.Percent)
		return p
	}
	debug.SetGCPercent(DefaultPercent)
	p.Percent, p.PercentFrom = DefaultPercent, "default"
	return p
}

// LogAttrs are the policy's attributes for the start-up log line.
func (p Policy) LogAttrs() []any {
	limit := any(p.Limit)
	if p.LimitFrom == "none" {
		limit = "none"
	}
	return []any{"gogc", p.Percent, "gogc_from", p.PercentFrom, "memory_limit", limit, "memory_limit_from", p.LimitFrom,
		"heap_profile_rate", p.HeapProfileRate}
}

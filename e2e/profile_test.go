package e2e

import (
	"regexp"
	"testing"
)

// TestOrdinaryBuildSamplesNoHeapProfile: the ordinary build has no profiler
// (only `-tags pprof` builds serve one), so it samples nothing for a heap
// profile (noprofile.go). Its start-up line says so, beside the collector's
// settings (Go's default is 524288).
func TestOrdinaryBuildSamplesNoHeapProfile(t *testing.T) {
	t.Parallel()
	p := startServer(t, t.Context(), buildBinary(t))
	line := p.logLine(t, `msg="custgraph listening"`)
	m := regexp.MustCompile(` heap_profile_rate=(\d+)`).FindStringSubmatch(line)
	if m == nil || m[1] != "0" {
		t.Fatalf("start-up line: want heap_profile_rate=0\n%s", line)
	}
}

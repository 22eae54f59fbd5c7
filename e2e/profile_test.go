package e2e

import (
	"regexp"
	"strings"
	"testing"
)

// TestOrdinaryBuildSamplesNoHeapProfile: the ordinary build has no profiler
// (only `-tags pprof` builds serve one), so it samples nothing for a heap
// profile (noprofile.go). Its start-up line says so, beside the collector's
// settings (Go's default is 524288).
func TestOrdinaryBuildSamplesNoHeapProfile(t *testing.T) {
	t.Parallel()
	p := startServer(t, t.Context(), buildBinary(t))
	var line string
	for _, l := range strings.Split(p.stderr.String(), "\n") {
		if strings.Contains(l, `msg="custgraph listening"`) {
			line = l
		}
	}
	if line == "" {
		t.Fatalf("no start-up line in the log:\n%s", p.stderr.String())
	}
	m := regexp.MustCompile(` heap_profile_rate=(\d+)`).FindStringSubmatch(line)
	if m == nil || m[1] != "0" {
		t.Fatalf("start-up line: want heap_profile_rate=0\n%s", line)
	}
}

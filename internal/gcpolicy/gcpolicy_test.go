package gcpolicy

import (
	"errors"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"testing"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// restore puts the runtime's settings back after a test changed them.
func restore(t *testing.T) {
	percent, limit := debug.SetGCPercent(-1), debug.SetMemoryLimit(-1)
	debug.SetGCPercent(percent)
	t.Cleanup(func() { debug.SetGCPercent(percent); debug.SetMemoryLimit(limit) })
}

func TestServingRaisesGOGCUnlessSet(t *testing.T) {
	restore(t)
	t.Setenv("GOGC", "")
	debug.SetGCPercent(100)
	p := Serving(math.MaxInt64, "none")
	if p.Percent != DefaultPercent || p.PercentFrom != "default" || debug.SetGCPercent(-1) != DefaultPercent {
		t.Fatalf("GOGC unset: policy %+v, runtime %d; want %d from default", p, debug.SetGCPercent(-1), DefaultPercent)
	}

	t.Setenv("GOGC", "150")
	debug.SetGCPercent(150) // what the runtime read from GOGC=150 at start
	p = Serving(math.MaxInt64, "none")
	if p.Percent != 150 || p.PercentFrom != "GOGC" || debug.SetGCPercent(-1) != 150 {
		t.Fatalf("GOGC=150: policy %+v, runtime %d; want 150 kept", p, debug.SetGCPercent(-1))
	}
}

func TestLimitFollowsTheContainer(t *testing.T) {
	restore(t)
	log := slog.New(slog.DiscardHandler)
	t.Setenv("GOMEMLIMIT", "")
	t.Setenv("AUTOMEMLIMIT", "") // restored at the end; unset meanwhile
	os.Unsetenv("AUTOMEMLIMIT")

	limit, from := limitFrom(log, memlimit.Limit(1<<30)) // a container of 1 GiB
	ratio := ContainerRatio
	if want := int64(float64(1<<30) * ratio); from != "container" || limit != want || debug.SetMemoryLimit(-1) != want {
		t.Fatalf("1 GiB container: limit %d from %s (runtime %d), want %d from container", limit, from, debug.SetMemoryLimit(-1), want)
	}

	debug.SetMemoryLimit(math.MaxInt64)
	limit, from = limitFrom(log, func() (uint64, error) { return 0, memlimit.ErrNoLimit })
	if from != "none" || limit != math.MaxInt64 {
		t.Fatalf("no container limit: %d from %s, want none", limit, from)
	}

	limit, from = limitFrom(log, func() (uint64, error) { return 0, errors.New("no cgroup here") })
	if from != "none" || limit != math.MaxInt64 {
		t.Fatalf("unreadable cgroup: %d from %s, want none", limit, from)
	}

	t.Setenv("GOMEMLIMIT", "200MiB")
	debug.SetMemoryLimit(200 << 20) // what the runtime read at start
	limit, from = limitFrom(log, memlimit.Limit(1<<30))
	if from != "GOMEMLIMIT" || limit != 200<<20 || debug.SetMemoryLimit(-1) != 200<<20 {
		t.Fatalf("GOMEMLIMIT=200MiB: %d from %s, want it kept", limit, from)
	}
}

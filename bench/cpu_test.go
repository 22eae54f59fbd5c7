//go:build unix

package bench

import (
	"syscall"
	"time"
)

// cpuNow is the CPU time the process has used so far, user and system, of
// all its threads: the benchmarks report it per request (cpu-ns/op), a
// figure that, unlike ns/op, other processes on the machine barely move.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

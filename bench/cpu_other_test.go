//go:build !unix

package bench

import "time"

// cpuNow is not measured here: cpu-ns/op reads 0.
func cpuNow() time.Duration { return 0 }

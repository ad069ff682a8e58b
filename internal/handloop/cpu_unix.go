//go:build unix

package handloop

import (
	"fmt"
	"syscall"
	"time"
)

// ProcessCPU returns the CPU time the process has used so far, user and
// system, over all its threads (getrusage(RUSAGE_SELF)): [Measure]'s
// default meter of cores.
func ProcessCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("handloop: getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

//go:build !unix

package compare

import (
	"errors"
	"time"
)

// processCPU is unavailable where there is no getrusage: the Nexmark
// table's cores and per-core figures are then left out (zero).
func processCPU() (time.Duration, error) {
	return 0, errors.New("compare: process CPU time needs getrusage (a unix system)")
}

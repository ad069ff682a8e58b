//go:build !unix

package handloop

import (
	"errors"
	"time"
)

// ProcessCPU is unavailable where there is no getrusage: [Measure] then
// leaves every cell's cores at zero.
func ProcessCPU() (time.Duration, error) {
	return 0, errors.New("handloop: process CPU time needs getrusage (a unix system)")
}

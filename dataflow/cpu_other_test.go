//go:build !unix

package dataflow_test

import "time"

// processCPU is not measured on this system: benchmarks report no CPU time.
func processCPU() time.Duration { return 0 }

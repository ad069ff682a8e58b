//go:build invariants

package invariants

import "fmt"

// Enabled reports whether the build has the invariants tag, which turns on
// the expensive assertions.
const Enabled = true

// Assertf panics with the formatted message when cond is false.
func Assertf(cond bool, format string, args ...any) {
	if !cond {
		panic(fmt.Sprintf("invariant violated: "+format, args...))
	}
}

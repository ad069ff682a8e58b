//go:build invariants

package invariants

import "fmt"

// Enabled reports whether the build has the tag `invariants`. It is a
// constant, so `if invariants.Enabled { ... }` costs nothing without the tag.
const Enabled = true

// Assertf panics with "invariant violated: " followed by the formatted
// message when cond is false. With the tag off it does nothing; see the
// package doc for what the caller still pays.
func Assertf(cond bool, format string, args ...any) {
	if !cond {
		panic("invariant violated: " + fmt.Sprintf(format, args...))
	}
}

//go:build !invariants

package invariants

// Enabled reports whether the build has the invariants tag, which turns on
// the expensive assertions.
const Enabled = false

// Assertf does nothing without the invariants tag.
func Assertf(cond bool, format string, args ...any) {}

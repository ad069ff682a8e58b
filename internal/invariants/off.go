//go:build !invariants

package invariants

// Enabled reports whether the build has the tag `invariants`. It is a
// constant, so `if invariants.Enabled { ... }` costs nothing without the tag.
const Enabled = false

// Assertf panics with "invariant violated: " followed by the formatted
// message when cond is false, but only with the tag `invariants`. Without it
// the function is empty and inlined away; the caller still evaluates cond
// and args (see the package doc), so wrap costly checks in
// `if invariants.Enabled`.
func Assertf(cond bool, format string, args ...any) {}

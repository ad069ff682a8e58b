//go:build !race

package datasets

// raceEnabled: the race detector changes allocation counts and speed.
const raceEnabled = false

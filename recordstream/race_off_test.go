//go:build !race

package recordstream

// raceEnabled is set under the race detector, which slows tuples ~10x.
const raceEnabled = false

package dataflow

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortDueMatchesCompareWinStates checks that sortDue's prefix-integer
// shortcut orders due windows exactly as compareWinStates does, on keys
// that share long prefixes, are prefixes of one another, hold zero bytes,
// or are empty, with starts and ends that tie and differ.
func TestSortDueMatchesCompareWinStates(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 4))
	alphabet := []byte{0, 1, 'a', 'b', 0xff}
	for trial := range 300 {
		prefix := []string{"", "card-", "user-00000", "\x00\x00"}[trial%4]
		n := 2 + rng.IntN(60)
		due := make([]dueWindow, n)
		for i := range due {
			k := []byte(prefix)
			for range rng.IntN(12) {
				k = append(k, alphabet[rng.IntN(len(alphabet))])
			}
			start := Time(rng.IntN(3))
			ws := &winState{ks: &keyState{key: string(k)}, w: Window{Start: start, End: start + Time(1+rng.IntN(2))}}
			due[i] = dueWindow{w: ws.w, key: ws.ks.key, ws: ws}
		}
		want := make([]*winState, n)
		for i, d := range due {
			want[i] = d.ws
		}
		slices.SortFunc(want, compareWinStates)
		sortDue(due)
		for i, d := range due {
			if compareWinStates(d.ws, want[i]) != 0 {
				t.Fatalf("trial %d: sortDue put %v %q at %d, compareWinStates %v %q", trial, d.w, d.key, i, want[i].w, want[i].ks.key)
			}
		}
	}
}

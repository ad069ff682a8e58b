package dataflow_test

import (
	"flag"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

// The rules every evaluator shares (dataflow.Reference, the WindowOperator
// and microbatch): floor division for window assignment, the session-merge
// rule and the explode tokenizer, each against a naive definition.

var rulesSeed = flag.Uint64("rules.seed", 1, "seed of the random inputs of the shared-rule property tests")

// bigFloorDiv is floor(a/b) computed exactly: big.Int's Div is Euclidean
// (the remainder is never negative), which is the floor for b > 0; for
// b < 0, floor(a/b) = floor(-a/-b).
func bigFloorDiv(a, b int64) *big.Int {
	x, y := big.NewInt(a), big.NewInt(b)
	if b < 0 {
		x.Neg(x)
		y.Neg(y)
	}
	return new(big.Int).Div(x, y)
}

// checkFloor checks FloorDiv(a, b) against big.Int, and for b > 0
// FloorMod(a, b) with a == FloorDiv*b + FloorMod and 0 <= FloorMod < b.
func checkFloor(t *testing.T, a, b int64) {
	t.Helper()
	if b == 0 || (a == math.MinInt64 && b == -1) { // division by zero; the documented overflow
		return
	}
	q := dataflow.FloorDiv(a, b)
	require.Equal(t, bigFloorDiv(a, b).String(), big.NewInt(q).String(), "FloorDiv(%d, %d)", a, b)
	if b < 0 {
		return
	}
	m := dataflow.FloorMod(a, b)
	require.True(t, 0 <= m && m < b, "FloorMod(%d, %d) = %d, want in [0, %d)", a, b, m, b)
	want := new(big.Int).Mod(big.NewInt(a), big.NewInt(b)) // Euclidean = floor for b > 0
	require.Equal(t, want.String(), big.NewInt(m).String(), "FloorMod(%d, %d)", a, b)
	sum := new(big.Int).Mul(big.NewInt(q), big.NewInt(b))
	sum.Add(sum, big.NewInt(m))
	require.Equal(t, big.NewInt(a).String(), sum.String(), "FloorDiv(%d, %d)*%d + FloorMod = %d", a, b, b, a)
}

func TestFloorDivMod(t *testing.T) {
	tests := []struct {
		a, b     int64
		div, mod int64 // mod is checked for b > 0 only
	}{
		{0, 10, 0, 0},
		{7, 10, 0, 7},
		{10, 10, 1, 0},
		{-1, 10, -1, 9}, // Go's / and % give 0 and -1
		{-10, 10, -1, 0},
		{-11, 10, -2, 9},
		{-1_700_000_000_123, 1000, -1_700_000_001, 877}, // a negative time in ms, per second
		{1_700_000_000_123_456_789, 1e6, 1_700_000_000_123, 456_789},
		{-1, 1e6, -1, 999_999}, // an ingest time 1 ns before the epoch is in ms -1
		{math.MinInt64, 10, math.MinInt64/10 - 1, 2},
		{math.MaxInt64, 10, math.MaxInt64 / 10, 7},
		{7, -10, -1, 0},
		{-7, -10, 0, 0},
		{-10, -10, 1, 0},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.div, dataflow.FloorDiv(tc.a, tc.b), "FloorDiv(%d, %d)", tc.a, tc.b)
		if tc.b > 0 {
			assert.Equal(t, tc.mod, dataflow.FloorMod(tc.a, tc.b), "FloorMod(%d, %d)", tc.a, tc.b)
		}
		checkFloor(t, tc.a, tc.b)
	}
}

// TestFloorDivModRandom compares with big.Int on random operands of every
// magnitude, both signs, and divisors shaped like window sizes.
func TestFloorDivModRandom(t *testing.T) {
	t.Logf("seed %d (-rules.seed)", *rulesSeed)
	r := rand.New(rand.NewPCG(*rulesSeed, 11))
	// A random value of random bit length, so small and huge ones are
	// both common.
	num := func() int64 {
		v := int64(r.Uint64() >> r.UintN(64))
		if r.IntN(2) == 0 {
			v = -v
		}
		return v
	}
	for range 20_000 {
		a, b := num(), num()
		checkFloor(t, a, b)
		checkFloor(t, a, max(1, b%(1<<24))) // window sizes and periods: positive, at most hours
	}
}

func FuzzFloorDivMod(f *testing.F) {
	f.Add(int64(-1), int64(10))                 // just before the epoch: window -1
	f.Add(int64(-10), int64(10))                // on a negative boundary
	f.Add(int64(1_700_000_000_123), int64(7))   // a real time, a period not dividing it
	f.Add(int64(math.MinInt64), int64(3))       // the most negative time
	f.Add(int64(math.MaxInt64), int64(-2))      // a negative divisor
	f.Add(int64(-5_000_000_001), int64(1e6))    // ns to ms before the epoch
	f.Add(int64(math.MinInt64), int64(-1))      // overflows, as Go's / does (not checked)
	f.Add(int64(123), int64(math.MinInt64))     // the most negative divisor
	f.Add(int64(-123), int64(math.MaxInt64))    // the largest divisor
	f.Add(int64(math.MinInt64+1), int64(1<<62)) // large both
	f.Fuzz(func(t *testing.T, a, b int64) {
		checkFloor(t, a, b)
	})
}

func TestMergeSession(t *testing.T) {
	tests := []struct {
		name   string
		a, b   dataflow.Window
		merged dataflow.Window
		ok     bool
	}{
		{"overlap", w(0, 10), w(5, 15), w(0, 15), true},
		{"contained", w(0, 30), w(5, 15), w(0, 30), true},
		{"same", w(3, 13), w(3, 13), w(3, 13), true},
		{"one-ms-overlap", w(0, 10), w(9, 19), w(0, 19), true},
		{"touching", w(0, 10), w(10, 20), w(0, 10), false}, // an event exactly gap later: a new session (I3)
		{"apart", w(0, 10), w(25, 35), w(0, 10), false},
		{"negative", w(-25, -15), w(-16, -6), w(-25, -6), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := dataflow.MergeSession(tc.a, tc.b)
			assert.Equal(t, tc.ok, ok, "MergeSession(%v, %v) merges", tc.a, tc.b)
			assert.Equal(t, tc.merged, got, "MergeSession(%v, %v)", tc.a, tc.b)
			// The rule is symmetric in whether and into what sessions merge.
			back, okBack := dataflow.MergeSession(tc.b, tc.a)
			assert.Equal(t, ok, okBack, "MergeSession(%v, %v) merges", tc.b, tc.a)
			if ok {
				assert.Equal(t, got, back, "MergeSession(%v, %v)", tc.b, tc.a)
			}
		})
	}
}

// TestMergeSessionsRandom: merging proto-sessions pairwise by MergeSession
// in any order until nothing merges gives MergeSessions' list, which covers
// every point of the proto-sessions and nothing else.
func TestMergeSessionsRandom(t *testing.T) {
	t.Logf("seed %d (-rules.seed)", *rulesSeed)
	r := rand.New(rand.NewPCG(*rulesSeed, 12))
	for range 500 {
		gap := 1 + r.Int64N(20)
		n := 1 + r.IntN(12)
		in := make([]dataflow.Window, n)
		for i := range in {
			s := r.Int64N(200) - 100
			in[i] = w(s, s+gap)
		}
		// Naive: merge any mergeable pair until none is left.
		naive := append([]dataflow.Window(nil), in...)
		for merged := true; merged; {
			merged = false
			for i := 0; i < len(naive) && !merged; i++ {
				for j := i + 1; j < len(naive); j++ {
					if m, ok := dataflow.MergeSession(naive[i], naive[j]); ok {
						naive[i] = m
						naive = append(naive[:j], naive[j+1:]...)
						merged = true
						break
					}
				}
			}
		}
		got := dataflow.MergeSessions(append([]dataflow.Window(nil), in...))
		assert.ElementsMatch(t, naive, got, "MergeSessions(%v) with gap %d", in, gap)
		for i := 1; i < len(got); i++ {
			_, ok := dataflow.MergeSession(got[i-1], got[i])
			require.False(t, ok, "MergeSessions(%v) = %v leaves %v and %v mergeable", in, got, got[i-1], got[i])
			require.Less(t, got[i-1].Start, got[i].Start, "MergeSessions(%v) = %v is sorted by start", in, got)
		}
	}
}

// naiveTokens is the tokenizer's definition: fields between ASCII white
// space, kept when they start with prefix.
func naiveTokens(s, prefix string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(c rune) bool { return c < 0x80 && strings.ContainsRune(" \t\n\v\f\r", c) }) {
		if strings.HasPrefix(f, prefix) {
			out = append(out, f)
		}
	}
	return out
}

func TestAppendTokens(t *testing.T) {
	tests := []struct {
		name, s, prefix string
		want            []string
	}{
		{"empty", "", "#", nil},
		{"only-space", " \t\n\v\f\r ", "", nil},
		{"hashtags", "go #go is #fun", "#", []string{"#go", "#fun"}},
		{"repeats-kept", "#a #b #a", "#", []string{"#a", "#b", "#a"}},
		{"punctuation-kept", "#go, #go!", "#", []string{"#go,", "#go!"}},
		{"every-token", "  to be\tor\nnot ", "", []string{"to", "be", "or", "not"}},
		{"all-ascii-spaces", "a\tb\nc\vd\fe\rf g", "", []string{"a", "b", "c", "d", "e", "f", "g"}},
		{"unicode-space-not-split", "#a\u00a0#b #c\u2003", "#", []string{"#a\u00a0#b", "#c\u2003"}},
		{"prefix-alone", "# #x", "#", []string{"#", "#x"}},
		{"no-match", "a b c", "#", nil},
		{"longer-prefix", "#go #golang #g", "#go", []string{"#go", "#golang"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := dataflow.AppendTokens(nil, tc.s, tc.prefix)
			assert.Equal(t, tc.want, got, "AppendTokens(nil, %q, %q)", tc.s, tc.prefix)
			assert.Equal(t, naiveTokens(tc.s, tc.prefix), got, "AppendTokens(nil, %q, %q) against the naive split", tc.s, tc.prefix)
		})
	}
	// It appends: what dst holds stays.
	assert.Equal(t, []string{"x", "#a"}, dataflow.AppendTokens([]string{"x"}, "#a b", "#"))
}

func TestAppendTokensAllocs(t *testing.T) {
	text := "RT @weir: streaming is a superset of batch #dataflow #spark #storm #flink #go"
	dst := make([]string, 0, 8)
	allocs := testing.AllocsPerRun(1000, func() {
		dst = dataflow.AppendTokens(dst[:0], text, "#")
	})
	assert.Zero(t, allocs, "AppendTokens into a reused slice allocates")
	require.Len(t, dst, 5)
}

func FuzzAppendTokens(f *testing.F) {
	f.Add("#a #b #a", "#")           // repeats
	f.Add("  lead and trail  ", "")  // every token, spaces at both ends
	f.Add("#go,\t#go\r\n#GO", "#go") // punctuation, case, mixed spaces
	f.Add("x\u00a0y\u2003#z", "#")   // Unicode spaces do not split
	f.Add("\xff#\xfe #\x80", "#")    // invalid UTF-8 is bytes like any other
	f.Add("", "")                    // nothing
	f.Fuzz(func(t *testing.T, s, prefix string) {
		got := dataflow.AppendTokens(nil, s, prefix)
		require.Equal(t, naiveTokens(s, prefix), got, "AppendTokens(nil, %q, %q)", s, prefix)
	})
}

func TestRecordRefString(t *testing.T) {
	assert.Equal(t, "partition 3 offset 17", dataflow.RecordRef{Partition: 3, Offset: 17}.String())
	assert.Equal(t, "partition 0 offset 0", fmt.Sprint(dataflow.RecordRef{}))
}

func ExampleAppendTokens() {
	var tags []string // reused across records: no allocation once it is large enough
	for _, tweet := range []string{"#go is #fun", "no tags here", "#a #b #a"} {
		tags = dataflow.AppendTokens(tags[:0], tweet, "#")
		fmt.Printf("%q\n", tags)
	}
	// Output:
	// ["#go" "#fun"]
	// []
	// ["#a" "#b" "#a"]
}

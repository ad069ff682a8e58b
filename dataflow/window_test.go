package dataflow_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weirlab/weir/dataflow"
)

func w(s, e int64) dataflow.Window {
	return dataflow.Window{Start: dataflow.Time(s), End: dataflow.Time(e)}
}

func TestAssignBoundaries(t *testing.T) {
	fixed10 := dataflow.WindowFn{Kind: dataflow.WindowFixed, Size: 10, Period: 10}
	fixed10off3 := dataflow.WindowFn{Kind: dataflow.WindowFixed, Size: 10, Period: 10, Offset: 3}
	slide10by5 := dataflow.WindowFn{Kind: dataflow.WindowSliding, Size: 10, Period: 5}
	slide10by4 := dataflow.WindowFn{Kind: dataflow.WindowSliding, Size: 10, Period: 4}
	slide10by4off1 := dataflow.WindowFn{Kind: dataflow.WindowSliding, Size: 10, Period: 4, Offset: 1}
	hop3by5 := dataflow.WindowFn{Kind: dataflow.WindowSliding, Size: 3, Period: 5}
	tests := []struct {
		name string
		fn   dataflow.WindowFn
		t    int64
		want []dataflow.Window
	}{
		{"fixed/zero", fixed10, 0, []dataflow.Window{w(0, 10)}},
		{"fixed/inside", fixed10, 7, []dataflow.Window{w(0, 10)}},
		{"fixed/last-ms", fixed10, 9, []dataflow.Window{w(0, 10)}},
		{"fixed/at-boundary", fixed10, 10, []dataflow.Window{w(10, 20)}},
		{"fixed/negative", fixed10, -1, []dataflow.Window{w(-10, 0)}},
		{"fixed/negative-boundary", fixed10, -10, []dataflow.Window{w(-10, 0)}},
		{"fixed/negative-inside", fixed10, -11, []dataflow.Window{w(-20, -10)}},
		{"fixed-offset/before-offset", fixed10off3, 2, []dataflow.Window{w(-7, 3)}},
		{"fixed-offset/at-offset", fixed10off3, 3, []dataflow.Window{w(3, 13)}},
		{"fixed-offset/last-ms", fixed10off3, 12, []dataflow.Window{w(3, 13)}},
		{"fixed-offset/negative", fixed10off3, -8, []dataflow.Window{w(-17, -7)}},
		{"sliding-multiple/boundary", slide10by5, 10, []dataflow.Window{w(10, 20), w(5, 15)}},
		{"sliding-multiple/inside", slide10by5, 7, []dataflow.Window{w(5, 15), w(0, 10)}},
		{"sliding-multiple/last-ms", slide10by5, 14, []dataflow.Window{w(10, 20), w(5, 15)}},
		{"sliding-multiple/negative", slide10by5, -1, []dataflow.Window{w(-5, 5), w(-10, 0)}},
		{"sliding-not-multiple/zero", slide10by4, 0, []dataflow.Window{w(0, 10), w(-4, 6), w(-8, 2)}},
		{"sliding-not-multiple/two-windows", slide10by4, 2, []dataflow.Window{w(0, 10), w(-4, 6)}},
		{"sliding-not-multiple/boundary", slide10by4, 8, []dataflow.Window{w(8, 18), w(4, 14), w(0, 10)}},
		{"sliding-not-multiple/negative", slide10by4, -3, []dataflow.Window{w(-4, 6), w(-8, 2), w(-12, -2)}},
		{"sliding-offset", slide10by4off1, 1, []dataflow.Window{w(1, 11), w(-3, 7), w(-7, 3)}},
		{"sliding-offset/before", slide10by4off1, 0, []dataflow.Window{w(-3, 7), w(-7, 3)}},
		{"hopping-gap/in", hop3by5, 7, []dataflow.Window{w(5, 8)}},
		{"hopping-gap/between", hop3by5, 8, nil},
		{"hopping-gap/negative", hop3by5, -3, []dataflow.Window{w(-5, -2)}},
		{"session", dataflow.WindowFn{Kind: dataflow.WindowSession, Gap: 5}, -2, []dataflow.Window{w(-2, 3)}},
		{"global", dataflow.GlobalWindows(), 42, []dataflow.Window{dataflow.GlobalWindow}},
		{"none", dataflow.WindowFn{}, 42, []dataflow.Window{dataflow.GlobalWindow}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, tc.fn.Validate())
			got := tc.fn.Assign(nil, dataflow.Time(tc.t))
			assert.Equal(t, tc.want, got, "%v.Assign(%d)", tc.fn, tc.t)
			assert.LessOrEqual(t, len(got), tc.fn.MaxWindowsPerElement(), "%v: more windows than MaxWindowsPerElement", tc.fn)
			for _, win := range got {
				assert.True(t, win.Contains(dataflow.Time(tc.t)), "%v does not contain %d", win, tc.t)
			}
		})
	}
}

func TestAssignConstructors(t *testing.T) {
	fn := dataflow.FixedWindows(time.Minute).WithOffset(10 * time.Second)
	require.NoError(t, fn.Validate())
	assert.Equal(t, []dataflow.Window{w(-50_000, 10_000)}, fn.Assign(nil, 0))
	s := dataflow.SlidingWindows(time.Hour, 15*time.Minute)
	assert.Equal(t, 4, s.MaxWindowsPerElement())
	assert.Len(t, s.Assign(nil, 123_456_789), 4)
}

func TestAssignCount(t *testing.T) {
	tumbling := dataflow.CountWindows(3, 3)
	sliding := dataflow.CountWindows(4, 2)
	tests := []struct {
		name string
		fn   dataflow.WindowFn
		n    int64
		want []dataflow.Window
	}{
		{"tumbling/first", tumbling, 0, []dataflow.Window{w(0, 3)}},
		{"tumbling/last-of-first", tumbling, 2, []dataflow.Window{w(0, 3)}},
		{"tumbling/first-of-second", tumbling, 3, []dataflow.Window{w(3, 6)}},
		{"sliding/first", sliding, 0, []dataflow.Window{w(0, 4)}},
		{"sliding/second-window-start", sliding, 2, []dataflow.Window{w(2, 6), w(0, 4)}},
		{"sliding/in-two", sliding, 3, []dataflow.Window{w(2, 6), w(0, 4)}},
		{"sliding/leaves-first", sliding, 4, []dataflow.Window{w(4, 8), w(2, 6)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.fn.AssignCount(nil, tc.n), "%v.AssignCount(%d)", tc.fn, tc.n)
		})
	}
}

func TestMergeSessions(t *testing.T) {
	const gap = 10
	sess := func(ts ...int64) []dataflow.Window {
		ws := make([]dataflow.Window, len(ts))
		for i, x := range ts {
			ws[i] = w(x, x+gap)
		}
		return dataflow.MergeSessions(ws)
	}
	tests := []struct {
		name string
		ts   []int64
		want []dataflow.Window
	}{
		{"one", []int64{5}, []dataflow.Window{w(5, 15)}},
		{"exactly-gap-later-starts-new", []int64{0, 10}, []dataflow.Window{w(0, 10), w(10, 20)}},
		{"gap-minus-one-later-merges", []int64{0, 9}, []dataflow.Window{w(0, 19)}},
		{"out-of-order-bridge", []int64{20, 0, 9, 18}, []dataflow.Window{w(0, 30)}},
		{"negative-times", []int64{-25, -16, 0}, []dataflow.Window{w(-25, -6), w(0, 10)}},
		{"same-time", []int64{3, 3, 3}, []dataflow.Window{w(3, 13)}},
		{"three-sessions", []int64{0, 30, 5, 60, 69}, []dataflow.Window{w(0, 15), w(30, 40), w(60, 79)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, sess(tc.ts...), "sessions of %v with gap %d", tc.ts, gap)
		})
	}
}

func TestWindowValidate(t *testing.T) {
	bad := []dataflow.WindowFn{
		{Kind: dataflow.WindowFixed, Size: 0, Period: 0},
		{Kind: dataflow.WindowFixed, Size: 10, Period: 5},
		{Kind: dataflow.WindowFixed, Size: 10, Period: 10, Offset: 10},
		{Kind: dataflow.WindowSliding, Size: 10, Period: 0},
		{Kind: dataflow.WindowSliding, Size: 10, Period: 5, Offset: -1},
		{Kind: dataflow.WindowSession},
		{Kind: dataflow.WindowCount, Size: 3},
		{Kind: 42},
	}
	for _, fn := range bad {
		assert.Error(t, fn.Validate(), "%v (%+v) should not validate", fn, fn)
	}
}

func TestWindowMethods(t *testing.T) {
	a, b := w(0, 10), w(10, 20)
	assert.False(t, a.Overlaps(b), "touching windows do not overlap (I3)")
	assert.True(t, a.Overlaps(w(9, 12)))
	assert.Equal(t, w(0, 20), a.Span(b))
	assert.Equal(t, dataflow.Time(9), a.MaxTimestamp())
	assert.Equal(t, "[0, 10)", a.String())
	assert.Equal(t, "[global)", dataflow.GlobalWindow.String())
}

// bruteAssign lists, by brute force, every aligned window of fn containing t:
// starts s = offset + k*period with s <= t < s+size, latest first.
func bruteAssign(fn dataflow.WindowFn, t int64) []dataflow.Window {
	// The latest aligned start at or before t, found by stepping from an
	// aligned start below t.
	s := fn.Offset
	for s > t {
		s -= fn.Period * ((s-t)/fn.Period + 1)
	}
	for s+fn.Period <= t {
		s += fn.Period * ((t - s) / fn.Period)
	}
	var out []dataflow.Window
	for ; s > t-fn.Size; s -= fn.Period {
		out = append(out, w(s, s+fn.Size))
	}
	return out
}

func FuzzAssignWindows(f *testing.F) {
	// Seeds: kind (0 fixed, 1 sliding), size, period, offset, t.
	f.Add(uint8(0), int64(10), int64(10), int64(0), int64(0))     // t at the epoch boundary
	f.Add(uint8(0), int64(10), int64(10), int64(3), int64(-8))    // negative t with offset
	f.Add(uint8(0), int64(60_000), int64(0), int64(0), int64(-1)) // just before the epoch
	f.Add(uint8(1), int64(10), int64(5), int64(0), int64(-10))    // negative boundary, size a multiple
	f.Add(uint8(1), int64(10), int64(4), int64(1), int64(1))      // size not a multiple, at offset
	f.Add(uint8(1), int64(3), int64(5), int64(0), int64(8))       // hopping windows with gaps
	f.Add(uint8(1), int64(3600_000), int64(60_000), int64(59_999), int64(1_700_000_000_000))
	f.Fuzz(func(t *testing.T, kind uint8, size, period, offset, ts int64) {
		// Keep to realistic ranges: times within ±2^50 ms (±35,000 years),
		// sizes up to 2^24 ms and at most 64 windows per element.
		if size <= 0 || size > 1<<24 || ts < -(1<<50) || ts > 1<<50 {
			t.Skip()
		}
		fn := dataflow.WindowFn{Kind: dataflow.WindowFixed, Size: size, Period: size}
		if kind%2 == 1 {
			if period <= 0 || period > 1<<24 || size/period > 64 {
				t.Skip()
			}
			fn = dataflow.WindowFn{Kind: dataflow.WindowSliding, Size: size, Period: period}
		}
		if offset < 0 {
			offset = -offset
		}
		if offset < 0 {
			offset = 0
		}
		fn.Offset = offset % fn.Period
		require.NoError(t, fn.Validate())
		got := fn.Assign(nil, dataflow.Time(ts))
		want := bruteAssign(fn, ts)
		require.Equal(t, want, got, "%+v.Assign(%d)", fn, ts)
		require.LessOrEqual(t, len(got), fn.MaxWindowsPerElement())
		for _, win := range got {
			require.True(t, win.Contains(dataflow.Time(ts)))
			require.Zero(t, ((int64(win.Start)-fn.Offset)%fn.Period+fn.Period)%fn.Period, "start %v not aligned", win)
		}
	})
}

func TestAssignAllocs(t *testing.T) {
	for _, fn := range []dataflow.WindowFn{
		dataflow.FixedWindows(10 * time.Second),
		dataflow.SlidingWindows(time.Minute, 10*time.Second),
		dataflow.SlidingWindows(time.Minute, 7*time.Second).WithOffset(3 * time.Second),
	} {
		dst := make([]dataflow.Window, 0, fn.MaxWindowsPerElement())
		ts := dataflow.Time(1_700_000_000_123)
		allocs := testing.AllocsPerRun(1000, func() {
			dst = fn.Assign(dst[:0], ts)
			ts += 997
		})
		assert.Zero(t, allocs, "%v.Assign allocates", fn)
	}
}

func ExampleWindowFn_Assign() {
	fn := dataflow.SlidingWindows(10*time.Second, 5*time.Second)
	for _, win := range fn.Assign(nil, 12_000) {
		fmt.Println(win)
	}
	// Output:
	// [10000, 20000)
	// [5000, 15000)
}
